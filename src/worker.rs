//! The I/O worker thread: the only place a guest run ever blocks.
//!
//! ```text
//!   host thread                                  worker thread ("asyncio-guest-io")
//!   ───────────                                  ─────────────────────────────────
//!   tick: process events, run callbacks
//!   nothing ready ──arm(timeout, job)──────────▶ wake from condvar
//!   return to the host loop                      poller.wait(timeout)   (no GIL held)
//!   ... host handles GUI events ...                 │
//!   host code calls loop.call_soon() ──notify──▶    │ (wait returns early)
//!                                                store events, state = HostTurn
//!   ◀──────────── run_sync_soon_threadsafe(tick) ─ job.deliver()  (takes the GIL briefly)
//!   tick: take the stored events, ...            park on the condvar
//! ```
//!
//! The worker never touches Python objects except inside `Deliver::deliver`, and
//! never holds its mutex while it needs the GIL, so the host thread may take the
//! mutex while holding the GIL without any lock-order inversion. Callers that may
//! *wait* for the worker (close) must release the GIL first.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::handoff::{Handoff, HandoffError, State};
use crate::poller::{IoPoller, Ready};

/// What the worker does once a wait has returned: hand the chain back to the host.
pub trait Deliver: Send + 'static {
    /// Returns false if the hand-off failed (the host's hook raised): the
    /// chain is then broken, and the worker stops probing the host.
    fn deliver(self: Box<Self>) -> bool;
}

/// The stuck-tick watchdog (see [`IoWorker::set_watchdog`]).
pub struct Watchdog {
    /// A tick that has not reached its next `select()` for this long is suspect.
    pub threshold: Duration,
    /// Posts the probe to the host (from the worker thread).
    pub probe: Arc<dyn Fn() + Send + Sync>,
}

struct Inner {
    handoff: Handoff,
    timeout: Option<Duration>,
    job: Option<Box<dyn Deliver>>,
    /// Events of the last wait, taken by the next tick.
    result: Vec<Ready>,
    /// A failed wait; the next tick raises it so it reaches `done_callback`.
    error: Option<io::Error>,
    alive: bool,
    /// Test hook: make the next wait fail with this OS error number.
    inject_error: Option<i32>,
    watchdog: Option<Watchdog>,
    /// The worker is inside `poller.wait` (between taking an armed job and
    /// handing the chain back).
    in_wait: bool,
}

#[derive(Default)]
pub struct Counters {
    /// Waits the worker performed (each one is a thread hop back to the host).
    pub waits: AtomicU64,
    /// Wakeups the host forced while the worker was blocked.
    pub notifies: AtomicU64,
}

pub struct Shared {
    /// The process that started the thread: after `fork`, the child has a copy
    /// of this state but not the thread, and must not wait for it or wake it
    /// (the poller's descriptors are shared with the parent).
    pid: std::sync::atomic::AtomicU32,
    inner: Mutex<Inner>,
    cond: Condvar,
    poller: Arc<IoPoller>,
    pub counters: Counters,
    /// Bumped by the host at every guest-mode `select()`, i.e. once per loop
    /// iteration; the watchdog reads it to tell a tick that is stuck.
    progress: AtomicU64,
    /// The guest is idle with the *host* watching the poller (thread-free
    /// mode): nothing can be stuck, so the watchdog sleeps without a timeout
    /// (an idle guest causes zero wakeups). The next iteration clears it.
    watchdog_parked: std::sync::atomic::AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding this lock can only come from a bug in this file;
        // the state is still consistent enough to shut down, so do not poison-fail.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Close the hand-off and wait (bounded) for the thread to leave.
    /// Returns true when the thread is gone.
    fn shutdown(&self, wait: Duration) -> bool {
        if self.pid.load(Ordering::Relaxed) != std::process::id() {
            return true; // a forked child: the thread is not here
        }
        let mut g = self.lock();
        if g.handoff.close() {
            let _ = self.poller.notify();
        }
        self.cond.notify_all();
        let deadline = Instant::now() + wait;
        while g.alive {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            g = self
                .cond
                .wait_timeout(g, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }
}

/// All live workers, so that interpreter exit can stop them before Python is
/// finalized (a thread that takes the GIL during finalization hangs or dies).
static REGISTRY: Mutex<Vec<Weak<Shared>>> = Mutex::new(Vec::new());

/// Stop every worker of this process. Returns how many did not stop in time.
pub fn shutdown_all(wait: Duration) -> usize {
    let workers: Vec<Arc<Shared>> = {
        let mut reg = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
        reg.retain(|w| w.strong_count() > 0);
        reg.iter().filter_map(Weak::upgrade).collect()
    };
    workers.iter().filter(|s| !s.shutdown(wait)).count()
}

pub struct IoWorker {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl IoWorker {
    pub fn new(poller: Arc<IoPoller>) -> Self {
        let shared = Arc::new(Shared {
            pid: std::sync::atomic::AtomicU32::new(std::process::id()),
            inner: Mutex::new(Inner {
                handoff: Handoff::new(),
                timeout: None,
                job: None,
                result: Vec::new(),
                error: None,
                alive: false,
                inject_error: None,
                watchdog: None,
                in_wait: false,
            }),
            cond: Condvar::new(),
            poller,
            counters: Counters::default(),
            progress: AtomicU64::new(0),
            watchdog_parked: std::sync::atomic::AtomicBool::new(false),
        });
        IoWorker {
            shared,
            thread: None,
        }
    }

    pub fn counters(&self) -> &Counters {
        &self.shared.counters
    }

    pub fn state(&self) -> State {
        self.shared.lock().handoff.state()
    }

    /// Host thread: hand the blocking wait to the worker. `job` runs on the worker
    /// once the wait returns (readiness, timeout, notify or error).
    pub fn arm(
        &mut self,
        timeout: Option<Duration>,
        job: Box<dyn Deliver>,
    ) -> Result<(), HandoffError> {
        if self.thread.is_none() && !self.shared.lock().handoff.is_closed() {
            self.spawn().map_err(|_| HandoffError::Closed)?;
        }
        let mut g = self.shared.lock();
        g.handoff.arm()?;
        g.timeout = timeout;
        g.job = Some(job);
        self.shared.cond.notify_all();
        Ok(())
    }

    fn spawn(&mut self) -> io::Result<()> {
        let shared = Arc::clone(&self.shared);
        shared.pid.store(std::process::id(), Ordering::Relaxed);
        shared.lock().alive = true;
        let handle = thread::Builder::new()
            .name("asyncio-guest-io".into())
            .spawn(move || worker_main(&shared));
        match handle {
            Ok(h) => {
                let mut reg = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
                // Forget workers that are gone, so the registry stays as small as
                // the number of live loops.
                reg.retain(|w| w.strong_count() > 0);
                reg.push(Arc::downgrade(&self.shared));
                drop(reg);
                self.thread = Some(h);
                Ok(())
            }
            Err(e) => {
                self.shared.lock().alive = false;
                Err(e)
            }
        }
    }

    /// Host thread: new work appeared; make a blocked wait return now.
    /// Cheap when nothing is pending or a wakeup is already on its way.
    pub fn request_wakeup(&self) -> io::Result<bool> {
        let must_notify = self.shared.lock().handoff.request_wakeup();
        if must_notify {
            self.shared
                .counters
                .notifies
                .fetch_add(1, Ordering::Relaxed);
            self.shared.poller.notify()?;
        }
        Ok(must_notify)
    }

    /// Host thread, when a run ends while the worker still holds the chain (the
    /// host loop was interrupted or stopped): take the job back *undelivered*
    /// (the host may be gone, so its hook must not be called), end the wait,
    /// and wait (bounded) until the worker has let go, so the selector can be
    /// armed again. Returns whether it let go in time, and the job, which the
    /// caller drops (with the GIL, for a Python job). Call without the GIL.
    pub fn disarm(&self, wait: Duration) -> (bool, Option<Box<dyn Deliver>>) {
        let mut g = self.shared.lock();
        if !matches!(g.handoff.state(), State::WorkerTurn { .. }) {
            return (true, None);
        }
        let job = g.job.take();
        if !g.in_wait {
            // Armed but not yet picked up: the worker will now never start this wait.
            let _ = g.handoff.wait_finished();
            return (true, job);
        }
        g.handoff.request_wakeup();
        let _ = self.shared.poller.notify();
        let deadline = Instant::now() + wait;
        while matches!(g.handoff.state(), State::WorkerTurn { .. }) {
            let now = Instant::now();
            if now >= deadline {
                return (false, job);
            }
            g = self
                .shared
                .cond
                .wait_timeout(g, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        (true, job)
    }

    /// Host thread: one more loop iteration has started (cheap: one atomic add).
    pub fn note_progress(&self) {
        self.shared.progress.fetch_add(1, Ordering::Relaxed);
        if self.shared.watchdog_parked.swap(false, Ordering::AcqRel) {
            // Wake the watchdog so it starts timing this busy stretch again.
            let _g = self.shared.lock();
            self.shared.cond.notify_all();
        }
    }

    /// Host thread: the guest is now idle, its wait carried by the host itself
    /// (thread-free mode). Until the next iteration, the watchdog sleeps.
    pub fn park_watchdog(&self) {
        self.shared.watchdog_parked.store(true, Ordering::Release);
    }

    /// Watch for a tick that stops making progress while the host holds the
    /// chain. The usual cause is a guest task that called a blocking host
    /// function running a nested host loop (`dialog.exec()`): the host keeps
    /// running, the guest is frozen inside the tick. When the progress counter
    /// has not moved for `threshold`, the worker calls `probe` once; the probe
    /// (posted to the host) tells whether it ran *inside* the tick, i.e. from a
    /// nested host loop, and reports it. Without a watchdog the parked worker
    /// sleeps with no timeout.
    pub fn set_watchdog(&mut self, watchdog: Option<Watchdog>) -> io::Result<()> {
        if self.thread.is_none() && watchdog.is_some() && !self.shared.lock().handoff.is_closed() {
            self.spawn()?;
        }
        let old = {
            let mut g = self.shared.lock();
            std::mem::replace(&mut g.watchdog, watchdog)
        };
        self.shared.cond.notify_all();
        drop(old);
        Ok(())
    }

    /// Test hook: the next wait fails with OS error `errno` instead of waiting.
    pub fn inject_wait_error(&self, errno: i32) {
        self.shared.lock().inject_error = Some(errno);
    }

    /// Host thread, at the start of a tick: what the last wait produced.
    pub fn take_result(&self, into: &mut Vec<Ready>) -> Option<io::Error> {
        let mut g = self.shared.lock();
        into.append(&mut g.result);
        g.error.take()
    }

    /// Stop the thread. Must be called without the GIL held (see module docs).
    /// Returns false if it did not exit within `wait` (it is then left detached
    /// and exits on its own when its current call returns).
    pub fn close(&mut self, wait: Duration) -> bool {
        if self.thread.is_some() && self.shared.pid.load(Ordering::Relaxed) != std::process::id() {
            // A forked child: the thread only exists in the parent. Forget the
            // handle (joining or detaching a thread of another process is wrong).
            std::mem::forget(self.thread.take());
            return true;
        }
        let gone = self.shared.shutdown(wait);
        if let Some(handle) = self.thread.take() {
            if gone {
                let _ = handle.join();
            }
        }
        gone
    }
}

impl Drop for IoWorker {
    fn drop(&mut self) {
        if self.thread.is_some() {
            // Only reached when the owner was dropped without close(): make the
            // thread exit but do not block a destructor on it.
            self.close(Duration::ZERO);
        }
    }
}

fn worker_main(shared: &Shared) {
    let mut events = IoPoller::new_events();
    let mut ready = Vec::new();
    // Watchdog bookkeeping: the last progress value seen, since when, and
    // whether that value was already probed (one probe per stuck tick).
    let mut seen = (u64::MAX, Instant::now(), false);
    loop {
        let (timeout, injected) = {
            let mut g = shared.lock();
            loop {
                if g.handoff.is_closed() {
                    return exit(shared, g);
                }
                if matches!(g.handoff.state(), State::WorkerTurn { .. }) && g.job.is_some() {
                    g.in_wait = true;
                    break (g.timeout, g.inject_error.take());
                }
                let threshold = match g.watchdog.as_ref() {
                    Some(w) if !shared.watchdog_parked.load(Ordering::Acquire) => w.threshold,
                    _ => {
                        g = shared.cond.wait(g).unwrap_or_else(|e| e.into_inner());
                        continue;
                    }
                };
                g = shared
                    .cond
                    .wait_timeout(g, threshold / 2)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
                let now = Instant::now();
                let progress = shared.progress.load(Ordering::Relaxed);
                if progress != seen.0 {
                    seen = (progress, now, false);
                } else if !seen.2
                    && now - seen.1 >= threshold
                    && g.handoff.state() == State::HostTurn
                {
                    seen.2 = true;
                    if let Some(probe) = g.watchdog.as_ref().map(|w| Arc::clone(&w.probe)) {
                        // The probe takes the GIL: never hold the mutex meanwhile.
                        drop(g);
                        probe();
                        drop(probe);
                        g = shared.lock();
                    }
                }
            }
        };
        shared.counters.waits.fetch_add(1, Ordering::Relaxed);
        let outcome = match injected {
            Some(errno) => Err(io::Error::from_raw_os_error(errno)),
            None => shared.poller.wait(&mut events, timeout, &mut ready),
        };
        let job = {
            let mut g = shared.lock();
            g.in_wait = false;
            if g.handoff.is_closed() {
                return exit(shared, g);
            }
            g.result.append(&mut ready);
            if let Err(e) = outcome {
                g.error = Some(e);
            }
            // The chain goes back to the host *before* it is posted, so that a tick
            // which runs the moment it is posted may already arm the next wait.
            let _ = g.handoff.wait_finished();
            shared.cond.notify_all();
            g.job.take()
        };
        if let Some(job) = job {
            if !job.deliver() {
                // The host cannot take posts from this thread (gone, or its hook
                // is broken): the run is over. Do not keep calling that hook.
                let old = shared.lock().watchdog.take();
                drop(old);
            }
        }
    }
}

fn exit(shared: &Shared, mut g: MutexGuard<'_, Inner>) {
    let job = g.job.take();
    g.alive = false;
    shared.cond.notify_all();
    drop(g);
    // Dropped outside the lock: dropping a Python object may run arbitrary code.
    drop(job);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    struct Send1(mpsc::Sender<()>);
    impl Deliver for Send1 {
        fn deliver(self: Box<Self>) -> bool {
            self.0.send(()).is_ok()
        }
    }

    fn worker() -> IoWorker {
        IoWorker::new(Arc::new(IoPoller::new().unwrap()))
    }

    #[test]
    fn timeout_delivers_once_and_returns_the_chain() {
        let mut w = worker();
        let (tx, rx) = mpsc::channel();
        w.arm(Some(Duration::from_millis(10)), Box::new(Send1(tx)))
            .unwrap();
        rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(
            rx.recv_timeout(Duration::from_millis(50)).is_err(),
            "delivered twice"
        );
        assert_eq!(w.state(), State::HostTurn);
        assert!(w.close(Duration::from_secs(5)));
    }

    #[test]
    fn second_arm_while_waiting_is_refused() {
        let mut w = worker();
        let (tx, _rx) = mpsc::channel();
        w.arm(None, Box::new(Send1(tx.clone()))).unwrap();
        assert_eq!(
            w.arm(None, Box::new(Send1(tx))).err(),
            Some(HandoffError::AlreadyArmed)
        );
        assert!(w.close(Duration::from_secs(5)));
    }

    #[test]
    fn wakeup_from_another_thread_ends_an_infinite_wait() {
        let mut w = worker();
        let (tx, rx) = mpsc::channel();
        w.arm(None, Box::new(Send1(tx))).unwrap();
        thread::sleep(Duration::from_millis(20));
        assert!(w.request_wakeup().unwrap());
        assert!(
            !w.request_wakeup().unwrap(),
            "second wakeup must be coalesced"
        );
        rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(w.counters().notifies.load(Ordering::Relaxed), 1);
        assert!(w.close(Duration::from_secs(5)));
    }

    #[test]
    fn close_interrupts_an_infinite_wait_and_joins() {
        let mut w = worker();
        let (tx, rx) = mpsc::channel();
        w.arm(None, Box::new(Send1(tx))).unwrap();
        thread::sleep(Duration::from_millis(20));
        let t = Instant::now();
        assert!(w.close(Duration::from_secs(5)));
        assert!(t.elapsed() < Duration::from_secs(2));
        assert!(rx.try_recv().is_err(), "a closed worker must not deliver");
        assert!(shutdown_all(Duration::from_secs(1)) == 0);
    }

    #[test]
    fn watchdog_probes_once_per_stuck_tick() {
        let mut w = worker();
        let (tx, rx) = mpsc::channel::<()>();
        let tx = Mutex::new(tx);
        w.set_watchdog(Some(Watchdog {
            threshold: Duration::from_millis(40),
            probe: Arc::new(move || {
                let _ = tx.lock().unwrap().send(());
            }),
        }))
        .unwrap();
        // No progress: exactly one probe, however long it stays stuck.
        rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(rx.recv_timeout(Duration::from_millis(200)).is_err());
        // Progress, then stuck again: one more probe.
        w.note_progress();
        rx.recv_timeout(Duration::from_secs(5)).unwrap();
        // Parked (the host carries an idle guest's wait): no probe, however long.
        w.park_watchdog();
        assert!(rx.recv_timeout(Duration::from_millis(200)).is_err());
        w.note_progress(); // unparks
        rx.recv_timeout(Duration::from_secs(5)).unwrap();
        // Steady progress: no probe.
        for _ in 0..20 {
            w.note_progress();
            thread::sleep(Duration::from_millis(10));
        }
        w.set_watchdog(None).unwrap();
        assert!(rx.recv_timeout(Duration::from_millis(100)).is_err());
        assert!(w.close(Duration::from_secs(5)));
    }

    #[test]
    fn disarm_takes_the_chain_back_from_an_infinite_wait() {
        let mut w = worker();
        let (tx, rx) = mpsc::channel();
        w.arm(None, Box::new(Send1(tx))).unwrap();
        let (let_go, job) = w.disarm(Duration::from_secs(5));
        assert!(let_go);
        assert!(job.is_some(), "the job comes back undelivered");
        assert_eq!(w.state(), State::HostTurn);
        assert!(
            rx.recv_timeout(Duration::from_millis(100)).is_err(),
            "a disarmed job was delivered"
        );
        let (tx, _rx) = mpsc::channel();
        w.arm(None, Box::new(Send1(tx)))
            .expect("re-arming after disarm");
        assert!(w.close(Duration::from_secs(5)));
    }

    /// Two threads at once: the host arms and receives, another thread requests
    /// wakeups at random moments (as host callbacks would). Every arm must be
    /// delivered exactly once, whatever the interleaving, and the worker must
    /// never be armed twice.
    #[test]
    fn concurrent_wakeups_never_lose_or_duplicate_a_delivery() {
        use std::sync::atomic::AtomicBool;
        let w = Arc::new(Mutex::new(worker()));
        let stop = Arc::new(AtomicBool::new(false));
        let waker = {
            let (w, stop) = (Arc::clone(&w), Arc::clone(&stop));
            thread::spawn(move || {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    // try_lock: the host thread holds the worker while arming.
                    if let Ok(w) = w.try_lock() {
                        let _ = w.request_wakeup();
                    }
                    n += 1;
                    if n.is_multiple_of(7) {
                        thread::sleep(Duration::from_micros(50));
                    }
                }
            })
        };
        for i in 0..2000u64 {
            let (tx, rx) = mpsc::channel();
            // Mix timeouts: none (only a wakeup ends it), zero, short.
            let timeout = match i % 3 {
                0 => Some(Duration::from_millis(2)),
                1 => Some(Duration::ZERO),
                _ => Some(Duration::from_millis(50)),
            };
            w.lock()
                .unwrap()
                .arm(timeout, Box::new(Send1(tx)))
                .expect("armed twice");
            rx.recv_timeout(Duration::from_secs(5))
                .expect("delivery lost");
            assert!(rx.try_recv().is_err(), "delivered twice");
        }
        stop.store(true, Ordering::Relaxed);
        waker.join().unwrap();
        assert!(w.lock().unwrap().close(Duration::from_secs(5)));
    }

    /// Many hand-offs in a row, host and worker on different threads: every arm
    /// produces exactly one delivery, in order.
    #[test]
    fn ping_pong_many_times() {
        let mut w = worker();
        for _ in 0..500 {
            let (tx, rx) = mpsc::channel();
            w.arm(Some(Duration::ZERO), Box::new(Send1(tx))).unwrap();
            rx.recv_timeout(Duration::from_secs(5)).unwrap();
            // The state flips to HostTurn before delivery; spin until visible.
            while w.state() != State::HostTurn {
                thread::yield_now();
            }
        }
        assert_eq!(w.counters().waits.load(Ordering::Relaxed), 500);
        assert!(w.close(Duration::from_secs(5)));
    }
}
