//! The I/O worker thread: the only place a guest run in worker mode blocks,
//! and the home of the stuck-tick watchdog.
//!
//! ```text
//!   host thread                                  worker thread ("asyncio-guest-io")
//!   ───────────                                  ─────────────────────────────────
//!   tick: process events, run callbacks
//!   nothing ready ──arm(timeout, job)──────────▶ wake from condvar
//!   return to the host loop                      poller.wait(timeout)   (no GIL held)
//!   ... host handles GUI events ...                 │
//!   host code calls loop.call_soon() ──wake()──▶    │ (wait returns early)
//!                                                store events, state = HostTurn
//!   ◀──────────── run_sync_soon_threadsafe(tick) ─ job.deliver()  (attaches briefly)
//!   tick: take the stored events, ...            park on the condvar
//! ```
//!
//! In host-watch mode (see [`crate::handoff`]) the host watches the poller's
//! descriptor itself and no wait happens here; `wake()` then only makes that
//! descriptor readable.
//!
//! The thread is started on demand: by the first [`IoWorker::arm`], or by a
//! tick ([`IoWorker::tick_started`]) while a watchdog is set. It exits by itself
//! after [`IDLE_EXIT`] with nothing to do (no wait handed to it, and no
//! watchdog, or one parked because the host watches an idle guest), so an idle
//! guest in host-watch mode has no thread of its own.
//!
//! The worker never touches Python objects except inside [`Deliver::deliver`]
//! and the watchdog's probe, and never holds its mutex while it needs the
//! interpreter, so the host thread may take the mutex while attached without
//! any lock-order inversion. Callers that may *wait* for the worker (close,
//! disarm) must detach first.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::handoff::{Handoff, HandoffError, State, WaitMode};
use crate::poller::{IoPoller, Ready};

/// How long the thread stays with nothing to do before it exits.
pub(crate) const IDLE_EXIT: Duration = Duration::from_secs(1);

/// What the worker does once a wait has returned: hand the chain back to the host.
pub(crate) trait Deliver: Send + 'static {
    /// Returns false if the hand-off failed (the host's hook raised, or the
    /// interpreter is shutting down): the chain is then broken, and the worker
    /// stops probing the host.
    fn deliver(self: Box<Self>) -> bool;
}

/// The stuck-tick watchdog (see [`IoWorker::set_watchdog`]).
pub(crate) struct Watchdog {
    /// A tick that has not reached its next `select()` for this long is suspect.
    pub(crate) threshold: Duration,
    /// Posts the probe to the host (from the worker thread).
    pub(crate) probe: Arc<dyn Fn() + Send + Sync>,
}

/// Why [`IoWorker::arm`] failed.
#[derive(Debug)]
pub(crate) enum ArmError {
    /// The hand-off refused (already armed, or closed).
    Handoff(HandoffError),
    /// The OS would not start the worker thread.
    Spawn(io::Error),
}

impl std::fmt::Display for ArmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ArmError::Handoff(e) => e.fmt(f),
            ArmError::Spawn(e) => write!(f, "cannot start the I/O worker thread: {e}"),
        }
    }
}

impl std::error::Error for ArmError {}

/// Event counts, exported under these names by the selector's `stats()`.
#[derive(Default)]
pub(crate) struct Counters {
    /// Waits handed to the worker (each one is a thread hop back to the host).
    pub(crate) worker_waits: AtomicU64,
    /// Wakeups that interrupted a pending wait (worker or host watch).
    pub(crate) wakeups: AtomicU64,
    /// Waits the worker restarted because the interest set changed during them.
    pub(crate) rewaits: AtomicU64,
}

struct Inner {
    handoff: Handoff,
    timeout: Option<Duration>,
    job: Option<Box<dyn Deliver>>,
    /// Events of the last wait, taken by the next tick.
    result: Vec<Ready>,
    /// A failed wait; the next tick raises it so it reaches `done_callback`.
    error: Option<io::Error>,
    /// The current (or last) thread; joined before the next one starts.
    thread: Option<JoinHandle<()>>,
    /// Test hook: make the next wait fail with this OS error number.
    inject_error: Option<i32>,
    watchdog: Option<Watchdog>,
    /// The worker is inside `poller.wait` (between taking an armed job and
    /// handing the chain back).
    in_wait: bool,
    /// A source was registered, changed or removed during the current wait:
    /// unless something else ended it, the wait starts again with the new set.
    interest_changed: bool,
}

struct Shared {
    /// The process that started the thread: after `fork`, the child has a copy
    /// of this state but not the thread, and must not wait for it or wake it
    /// (the poller's descriptors are shared with the parent).
    pid: AtomicU32,
    inner: Mutex<Inner>,
    cond: Condvar,
    poller: Arc<IoPoller>,
    counters: Counters,
    /// Bumped by the host at every guest-mode `select()`, i.e. once per loop
    /// iteration; the watchdog reads it to tell a tick that is stuck.
    progress: AtomicU64,
    /// Mirrors `State::HostWatch`, so that a tick's start costs one atomic
    /// operation unless a host watch has to be taken back.
    host_watching: AtomicBool,
    /// A watchdog is set, so a tick needs the thread.
    watchdog_set: AtomicBool,
    /// The thread exists and has not decided to exit. Written under the mutex.
    running: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding this lock can only come from a bug in this file;
        // the state is still consistent enough to shut down, so do not poison-fail.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn forked(&self) -> bool {
        self.pid.load(Ordering::Relaxed) != std::process::id()
    }

    /// Wait on the condvar while `condition` holds, at most `wait`.
    /// Returns the guard and whether `condition` still holds (timed out).
    fn wait_while<'a>(
        &self,
        g: MutexGuard<'a, Inner>,
        wait: Duration,
        mut condition: impl FnMut(&mut Inner) -> bool,
    ) -> (MutexGuard<'a, Inner>, bool) {
        let (mut g, _) = self
            .cond
            .wait_timeout_while(g, wait, |inner| condition(inner))
            .unwrap_or_else(|e| e.into_inner());
        let still = condition(&mut g);
        (g, still)
    }

    /// Close the hand-off and wait (bounded) for the thread to leave.
    /// Returns true when the thread is gone.
    fn shutdown(&self, wait: Duration) -> bool {
        if self.forked() {
            return true; // a forked child: the thread is not here
        }
        let mut g = self.lock();
        if g.handoff.close() {
            let _ = self.poller.notify();
        }
        self.cond.notify_all();
        let (_g, still_running) = self.wait_while(g, wait, |_| self.running.load(Ordering::SeqCst));
        !still_running
    }
}

/// All live workers, so that interpreter exit can stop them before Python is
/// finalized (a thread that attaches during finalization hangs or dies).
static REGISTRY: Mutex<Vec<Weak<Shared>>> = Mutex::new(Vec::new());

/// Stop every worker of this process. Returns how many did not stop in time.
pub(crate) fn shutdown_all(wait: Duration) -> usize {
    let workers: Vec<Arc<Shared>> = {
        let mut reg = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
        reg.retain(|w| w.strong_count() > 0);
        reg.iter().filter_map(Weak::upgrade).collect()
    };
    workers.iter().filter(|s| !s.shutdown(wait)).count()
}

/// The hand-off, the wait results and the (lazily started) worker thread of
/// one selector. Cloning gives another handle to the same worker.
#[derive(Clone)]
pub(crate) struct IoWorker {
    shared: Arc<Shared>,
}

impl IoWorker {
    /// A worker for `poller`, holding the chain on the host's side. No thread
    /// is started until one is needed.
    pub(crate) fn new(poller: Arc<IoPoller>) -> Self {
        let shared = Arc::new(Shared {
            pid: AtomicU32::new(std::process::id()),
            inner: Mutex::new(Inner {
                handoff: Handoff::new(),
                timeout: None,
                job: None,
                result: Vec::new(),
                error: None,
                thread: None,
                inject_error: None,
                watchdog: None,
                in_wait: false,
                interest_changed: false,
            }),
            cond: Condvar::new(),
            poller,
            counters: Counters::default(),
            progress: AtomicU64::new(0),
            host_watching: AtomicBool::new(false),
            watchdog_set: AtomicBool::new(false),
            running: AtomicBool::new(false),
        });
        {
            let mut reg = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
            // Forget workers that are gone, so the registry stays as small as
            // the number of live selectors.
            reg.retain(|w| w.strong_count() > 0);
            reg.push(Arc::downgrade(&shared));
        }
        IoWorker { shared }
    }

    /// The event counts.
    pub(crate) fn counters(&self) -> &Counters {
        &self.shared.counters
    }

    /// The hand-off's current state.
    pub(crate) fn state(&self) -> State {
        self.shared.lock().handoff.state()
    }

    /// True while a worker thread exists.
    pub(crate) fn thread_running(&self) -> bool {
        self.shared.running.load(Ordering::SeqCst) && !self.shared.forked()
    }

    /// Start the thread unless it runs. Called with the lock held.
    fn ensure_thread(&self, g: &mut MutexGuard<'_, Inner>) -> io::Result<()> {
        let shared = &self.shared;
        if shared.forked() {
            // A forked child inherited the parent's bookkeeping but not its
            // thread: forget both (joining a thread of another process is wrong).
            std::mem::forget(g.thread.take());
            shared.running.store(false, Ordering::SeqCst);
            shared.pid.store(std::process::id(), Ordering::Relaxed);
        }
        if shared.running.load(Ordering::SeqCst) {
            return Ok(());
        }
        if let Some(old) = g.thread.take() {
            // It decided to exit under this lock and touches nothing shared since.
            let _ = old.join();
        }
        let for_thread = Arc::clone(shared);
        let handle = thread::Builder::new()
            .name("asyncio-guest-io".into())
            .spawn(move || worker_main(&for_thread))?;
        shared.running.store(true, Ordering::SeqCst);
        g.thread = Some(handle);
        Ok(())
    }

    /// Host thread: hand the blocking wait to the worker, starting its thread
    /// if needed. `job` runs on the worker once the wait returns (readiness,
    /// timeout, wakeup or error).
    pub(crate) fn arm(
        &self,
        timeout: Option<Duration>,
        job: Box<dyn Deliver>,
    ) -> Result<(), ArmError> {
        let mut g = self.shared.lock();
        g.handoff.arm().map_err(ArmError::Handoff)?;
        if let Err(e) = self.ensure_thread(&mut g) {
            let _ = g.handoff.wait_finished();
            return Err(ArmError::Spawn(e));
        }
        g.timeout = timeout;
        g.job = Some(job);
        g.interest_changed = false;
        self.shared
            .counters
            .worker_waits
            .fetch_add(1, Ordering::Relaxed);
        self.shared.cond.notify_all();
        Ok(())
    }

    /// Host thread: the host's watch of the poller's descriptor now carries
    /// the idle guest's wait (host-watch mode). Until the next tick, the
    /// watchdog sleeps (nothing can be stuck) and [`IoWorker::wake`] makes the
    /// descriptor readable.
    pub(crate) fn arm_host_watch(&self) -> Result<(), HandoffError> {
        self.shared.lock().handoff.watch()?;
        self.shared.host_watching.store(true, Ordering::Release);
        Ok(())
    }

    /// Host thread, when a run ends: a host watch still pending is over.
    pub(crate) fn end_host_watch(&self) {
        self.shared.lock().handoff.take_back();
        self.shared.host_watching.store(false, Ordering::Release);
    }

    /// Host thread: a loop iteration has started (one guest-mode `select()`).
    /// Takes back a host watch, restarts the watchdog's clock, and starts the
    /// thread when a watchdog is set and none runs. Cheap: one atomic add and
    /// two loads unless there is something to do.
    pub(crate) fn tick_started(&self) -> io::Result<()> {
        let shared = &self.shared;
        shared.progress.fetch_add(1, Ordering::SeqCst);
        let was_watching = shared.host_watching.swap(false, Ordering::AcqRel);
        let needs_thread = shared.watchdog_set.load(Ordering::Acquire) && !self.thread_running();
        if was_watching || needs_thread {
            let mut g = shared.lock();
            g.handoff.take_back();
            if needs_thread && g.watchdog.is_some() && !g.handoff.is_closed() {
                self.ensure_thread(&mut g)?;
            }
            // Wake the watchdog so it starts timing this busy stretch.
            shared.cond.notify_all();
        }
        Ok(())
    }

    /// Host thread: new work appeared that the idle guest's wait does not know
    /// about (a callback, an earlier timer, a stop request). Interrupts that
    /// wait, whichever mode carries it: the worker's wait returns, or the
    /// host's watched descriptor becomes readable. A no-op while the host holds
    /// the chain (a tick will see the work anyway) and after the first call per
    /// wait. Returns whether the poller was interrupted.
    pub(crate) fn wake(&self) -> io::Result<bool> {
        let must_notify = self.shared.lock().handoff.request_wakeup();
        if must_notify {
            self.shared.counters.wakeups.fetch_add(1, Ordering::Relaxed);
            self.shared.poller.notify()?;
        }
        Ok(must_notify)
    }

    /// Any thread, after a source was registered, modified or removed: if the
    /// worker is waiting (or about to), make it wait again with the new
    /// interest set. epoll and kqueue apply the change to a wait in progress;
    /// IOCP's AFD polls may not until the wait ends, so this is done everywhere.
    pub(crate) fn interest_changed(&self) -> io::Result<()> {
        let mut g = self.shared.lock();
        if matches!(g.handoff.state(), State::WorkerTurn { notified: false }) && !g.interest_changed
        {
            g.interest_changed = true;
            drop(g);
            self.shared.poller.notify()?;
        }
        Ok(())
    }

    /// Host thread, when a run ends while the chain is handed off (the host loop
    /// was interrupted or stopped): take a worker's job back *undelivered* (the
    /// host may be gone, so its hook must not be called), end the wait, and
    /// wait (bounded) until the worker has let go, so the selector can be
    /// armed again; or end a host watch. Returns whether the chain came back in
    /// time, and the job, which the caller drops (attached, for a Python job).
    /// Call detached.
    pub(crate) fn disarm(&self, wait: Duration) -> (bool, Option<Box<dyn Deliver>>) {
        let mut g = self.shared.lock();
        match g.handoff.wait_mode() {
            None => return (true, None),
            Some(WaitMode::HostWatch) => {
                g.handoff.take_back();
                self.shared.host_watching.store(false, Ordering::Release);
                return (true, None);
            }
            Some(WaitMode::Worker) => {}
        }
        let job = g.job.take();
        if !g.in_wait {
            // Armed but not yet picked up: the worker will now never start this wait.
            let _ = g.handoff.wait_finished();
            return (true, job);
        }
        g.handoff.request_wakeup();
        let _ = self.shared.poller.notify();
        let (_g, still_waiting) = self.shared.wait_while(g, wait, |inner| {
            matches!(inner.handoff.state(), State::WorkerTurn { .. })
        });
        (!still_waiting, job)
    }

    /// Watch for a tick that stops making progress while the host holds the
    /// chain. The usual cause is a guest task that called a blocking host
    /// function running a nested host loop (`dialog.exec()`): the host keeps
    /// running, the guest is frozen inside the tick. When the progress counter
    /// has not moved for `threshold`, the worker calls `probe` once; the probe
    /// (posted to the host) tells whether it ran *inside* the tick, i.e. from a
    /// nested host loop, and reports it. The thread starts at the next tick.
    pub(crate) fn set_watchdog(&self, watchdog: Option<Watchdog>) {
        let old = {
            let mut g = self.shared.lock();
            self.shared
                .watchdog_set
                .store(watchdog.is_some(), Ordering::Release);
            std::mem::replace(&mut g.watchdog, watchdog)
        };
        self.shared.cond.notify_all();
        // Dropped outside the lock: the probe may own Python objects.
        drop(old);
    }

    /// Test hook: the next wait fails with OS error `errno` instead of waiting.
    pub(crate) fn inject_wait_error(&self, errno: i32) {
        self.shared.lock().inject_error = Some(errno);
    }

    /// Host thread, at the start of a tick: what the last wait produced.
    pub(crate) fn take_result(&self, into: &mut Vec<Ready>) -> Option<io::Error> {
        let mut g = self.shared.lock();
        into.append(&mut g.result);
        g.error.take()
    }

    /// Stop the thread for good (the selector is closing). Call detached.
    /// Returns false if it did not exit within `wait` (it is then left detached
    /// and exits on its own when its current call returns).
    pub(crate) fn close(&self, wait: Duration) -> bool {
        if self.shared.forked() {
            // A forked child: the thread only exists in the parent.
            std::mem::forget(self.shared.lock().thread.take());
            return true;
        }
        let gone = self.shared.shutdown(wait);
        let handle = self.shared.lock().thread.take();
        if let Some(handle) = handle {
            if gone {
                let _ = handle.join();
            }
        }
        gone
    }
}

/// The watchdog's view of the host's progress: the last progress value seen,
/// since when, and whether that value was already probed (one probe per
/// stuck tick).
struct StuckTickClock {
    progress: u64,
    since: Instant,
    probed: bool,
}

impl StuckTickClock {
    fn new() -> Self {
        StuckTickClock {
            progress: u64::MAX,
            since: Instant::now(),
            probed: false,
        }
    }

    /// Record `progress` at `now`; true when the tick is stuck for `threshold`
    /// and was not probed yet.
    fn must_probe(&mut self, progress: u64, now: Instant, threshold: Duration) -> bool {
        if progress != self.progress {
            *self = StuckTickClock {
                progress,
                since: now,
                probed: false,
            };
            false
        } else if !self.probed && now - self.since >= threshold {
            self.probed = true;
            true
        } else {
            false
        }
    }
}

fn worker_main(shared: &Shared) {
    let mut events = IoPoller::new_events();
    let mut ready = Vec::new();
    let mut clock = StuckTickClock::new();
    let mut g = shared.lock();
    loop {
        if g.handoff.is_closed() {
            return exit(shared, g);
        }
        if matches!(g.handoff.state(), State::WorkerTurn { .. }) && g.job.is_some() {
            g = match wait_for_io(shared, g, &mut events, &mut ready) {
                Some(g) => g,
                None => return,
            };
            continue;
        }
        let watchdog_threshold = match g.watchdog.as_ref() {
            Some(w) if g.handoff.wait_mode() != Some(WaitMode::HostWatch) => Some(w.threshold),
            _ => None,
        };
        let Some(threshold) = watchdog_threshold else {
            // Nothing to do: exit after IDLE_EXIT unless something arrives.
            let progress = shared.progress.load(Ordering::SeqCst);
            let idle = |inner: &mut Inner| {
                !inner.handoff.is_closed()
                    && inner.job.is_none()
                    && (inner.watchdog.is_none()
                        || inner.handoff.wait_mode() == Some(WaitMode::HostWatch))
            };
            let (g2, still_idle) = shared.wait_while(g, IDLE_EXIT, idle);
            g = g2;
            if still_idle {
                // Decide under the lock, and look at the progress counter after
                // saying so: a tick that started meanwhile either sees
                // `running == false` and starts a new thread, or is seen here.
                shared.running.store(false, Ordering::SeqCst);
                if shared.progress.load(Ordering::SeqCst) == progress {
                    return exit(shared, g);
                }
                shared.running.store(true, Ordering::SeqCst);
            }
            continue;
        };
        g = shared
            .cond
            .wait_timeout(g, threshold / 2)
            .unwrap_or_else(|e| e.into_inner())
            .0;
        let progress = shared.progress.load(Ordering::Relaxed);
        if clock.must_probe(progress, Instant::now(), threshold)
            && g.handoff.state() == State::HostTurn
        {
            if let Some(probe) = g.watchdog.as_ref().map(|w| Arc::clone(&w.probe)) {
                // The probe attaches to the interpreter: never hold the mutex meanwhile.
                drop(g);
                probe();
                drop(probe);
                g = shared.lock();
            }
        }
    }
}

/// One handed-off wait, from taking the job to delivering it. Returns the
/// relocked guard, or `None` when the worker has exited (closed meanwhile).
fn wait_for_io<'a>(
    shared: &'a Shared,
    mut g: MutexGuard<'a, Inner>,
    events: &mut polling::Events,
    ready: &mut Vec<Ready>,
) -> Option<MutexGuard<'a, Inner>> {
    g.in_wait = true;
    let deadline = g.timeout.map(|t| Instant::now() + t);
    let mut injected = g.inject_error.take();
    drop(g);
    let outcome = loop {
        let timeout = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let outcome = match injected.take() {
            Some(errno) => Err(io::Error::from_raw_os_error(errno)),
            None => shared.poller.wait(events, timeout, ready),
        };
        let mut g = shared.lock();
        if g.handoff.is_closed() {
            g.in_wait = false;
            exit(shared, g);
            return None;
        }
        // The interest set changed, nothing is ready, nobody asked for a wakeup
        // and time is left: the wait is not over, it just has to see the new set.
        let rewait = std::mem::take(&mut g.interest_changed)
            && outcome.is_ok()
            && ready.is_empty()
            && g.handoff.state() == (State::WorkerTurn { notified: false })
            && deadline.is_none_or(|d| Instant::now() < d);
        if !rewait {
            break (g, outcome);
        }
        shared.counters.rewaits.fetch_add(1, Ordering::Relaxed);
    };
    let (mut g, outcome) = outcome;
    g.in_wait = false;
    g.result.append(ready);
    if let Err(e) = outcome {
        g.error = Some(e);
    }
    // The chain goes back to the host *before* it is posted, so that a tick
    // which runs the moment it is posted may already arm the next wait.
    let _ = g.handoff.wait_finished();
    shared.cond.notify_all();
    let job = g.job.take();
    drop(g);
    if let Some(job) = job {
        if !job.deliver() {
            // The host cannot take posts from this thread (gone, or its hook
            // is broken): the run is over. Do not keep calling that hook.
            let old = {
                let mut g = shared.lock();
                shared.watchdog_set.store(false, Ordering::Release);
                g.watchdog.take()
            };
            drop(old);
        }
    }
    Some(shared.lock())
}

fn exit(shared: &Shared, mut g: MutexGuard<'_, Inner>) {
    let job = g.job.take();
    shared.running.store(false, Ordering::SeqCst);
    shared.cond.notify_all();
    drop(g);
    // Dropped outside the lock: dropping a Python object may run arbitrary code.
    drop(job);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{mpsc, RwLock, RwLockReadGuard};

    struct Send1(mpsc::Sender<()>);
    impl Deliver for Send1 {
        fn deliver(self: Box<Self>) -> bool {
            self.0.send(()).is_ok()
        }
    }

    /// `shutdown_all` closes every worker of the process, those of the tests running beside
    /// it included: a test that owns a worker holds this lock shared, the one test that calls
    /// `shutdown_all` holds it exclusively.
    static PROCESS_WIDE: RwLock<()> = RwLock::new(());

    /// A test's worker, with its shared hold on `PROCESS_WIDE` for as long as it lives.
    struct TestWorker {
        worker: IoWorker,
        _hold: RwLockReadGuard<'static, ()>,
    }

    impl std::ops::Deref for TestWorker {
        type Target = IoWorker;
        fn deref(&self) -> &IoWorker {
            &self.worker
        }
    }

    fn new_worker() -> IoWorker {
        IoWorker::new(Arc::new(IoPoller::new().unwrap()))
    }

    fn worker() -> TestWorker {
        TestWorker {
            _hold: PROCESS_WIDE.read().unwrap_or_else(|e| e.into_inner()),
            worker: new_worker(),
        }
    }

    /// Hand `w` a wait without a timeout and give the worker time to enter it.
    fn arm_without_timeout(w: &IoWorker) -> mpsc::Receiver<()> {
        let (tx, rx) = mpsc::channel();
        w.arm(None, Box::new(Send1(tx))).unwrap();
        thread::sleep(Duration::from_millis(20));
        rx
    }

    /// Poll `condition` every few milliseconds for up to 10 s.
    fn eventually(mut condition: impl FnMut() -> bool) -> bool {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if condition() {
                return true;
            }
            thread::sleep(Duration::from_millis(5));
        }
        false
    }

    #[test]
    fn timeout_delivers_once_and_returns_the_chain() {
        let w = worker();
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
    fn second_hand_off_while_handed_off_is_refused() {
        let w = worker();
        let (tx, _rx) = mpsc::channel();
        w.arm(None, Box::new(Send1(tx.clone()))).unwrap();
        assert!(matches!(
            w.arm(None, Box::new(Send1(tx))),
            Err(ArmError::Handoff(HandoffError::AlreadyArmed))
        ));
        assert_eq!(w.arm_host_watch(), Err(HandoffError::AlreadyArmed));
        assert!(w.close(Duration::from_secs(5)));
    }

    #[test]
    fn wake_from_another_thread_ends_an_infinite_wait() {
        let w = worker();
        let rx = arm_without_timeout(&w);
        assert!(w.wake().unwrap());
        assert!(!w.wake().unwrap(), "second wakeup must be coalesced");
        rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(w.counters().wakeups.load(Ordering::Relaxed), 1);
        assert!(w.close(Duration::from_secs(5)));
    }

    /// Host-watch mode needs no thread: handing the wait to the host, waking
    /// it (the poller's descriptor becomes readable) and taking it back at the
    /// next tick all happen on the calling thread.
    #[test]
    fn host_watch_mode_starts_no_thread_and_wakes_the_poller() {
        let w = worker();
        w.arm_host_watch().unwrap();
        assert_eq!(w.state(), State::HostWatch { notified: false });
        assert!(w.wake().unwrap());
        assert!(!w.wake().unwrap(), "coalesced");
        // The notify is visible to whoever waits on the poller (here: us).
        let mut events = IoPoller::new_events();
        let mut out = Vec::new();
        let start = Instant::now();
        w.shared
            .poller
            .wait(&mut events, Some(Duration::from_secs(5)), &mut out)
            .unwrap();
        assert!(start.elapsed() < Duration::from_secs(4), "notify was lost");
        w.tick_started().unwrap();
        assert_eq!(w.state(), State::HostTurn);
        assert!(!w.wake().unwrap(), "no wakeup during a tick");
        assert!(!w.thread_running());
        assert!(w.close(Duration::from_secs(5)));
    }

    #[test]
    fn close_interrupts_an_infinite_wait_and_joins() {
        let w = worker();
        let rx = arm_without_timeout(&w);
        let t = Instant::now();
        assert!(w.close(Duration::from_secs(5)));
        assert!(t.elapsed() < Duration::from_secs(2));
        assert!(!w.thread_running());
        assert!(rx.try_recv().is_err(), "a closed worker must not deliver");
    }

    #[test]
    fn shutdown_all_closes_every_worker_of_the_process() {
        let _exclusive = PROCESS_WIDE.write().unwrap_or_else(|e| e.into_inner());
        let w = new_worker();
        let rx = arm_without_timeout(&w);
        assert_eq!(shutdown_all(Duration::from_secs(5)), 0);
        assert!(!w.thread_running());
        assert!(rx.try_recv().is_err(), "a closed worker must not deliver");
    }

    #[test]
    fn watchdog_starts_its_thread_at_a_tick_and_probes_once_per_stuck_tick() {
        let w = worker();
        let (tx, rx) = mpsc::channel::<()>();
        let tx = Mutex::new(tx);
        w.set_watchdog(Some(Watchdog {
            threshold: Duration::from_millis(40),
            probe: Arc::new(move || {
                let _ = tx.lock().unwrap().send(());
            }),
        }));
        assert!(!w.thread_running(), "setting a watchdog starts no thread");
        w.tick_started().unwrap();
        assert!(w.thread_running());
        // No progress: exactly one probe, however long it stays stuck.
        rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(rx.recv_timeout(Duration::from_millis(200)).is_err());
        // Progress, then stuck again: one more probe.
        w.tick_started().unwrap();
        rx.recv_timeout(Duration::from_secs(5)).unwrap();
        // The host carries an idle guest's wait: no probe, however long.
        w.arm_host_watch().unwrap();
        assert!(rx.recv_timeout(Duration::from_millis(200)).is_err());
        w.tick_started().unwrap(); // takes the watch back
        rx.recv_timeout(Duration::from_secs(5)).unwrap();
        // Steady progress: no probe.
        for _ in 0..20 {
            w.tick_started().unwrap();
            thread::sleep(Duration::from_millis(10));
        }
        w.set_watchdog(None);
        assert!(rx.recv_timeout(Duration::from_millis(100)).is_err());
        assert!(w.close(Duration::from_secs(5)));
    }

    /// With nothing to do, the thread exits by itself; the next need starts a new one.
    #[test]
    fn an_idle_thread_exits_and_comes_back_on_demand() {
        let w = worker();
        let (tx, rx) = mpsc::channel();
        w.arm(Some(Duration::ZERO), Box::new(Send1(tx))).unwrap();
        rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(eventually(|| !w.thread_running()), "idle thread stayed");
        let (tx, rx) = mpsc::channel();
        w.arm(Some(Duration::ZERO), Box::new(Send1(tx))).unwrap();
        assert!(w.thread_running());
        rx.recv_timeout(Duration::from_secs(5)).unwrap();
        // A parked watchdog (host watch) counts as nothing to do, too.
        w.set_watchdog(Some(Watchdog {
            threshold: Duration::from_secs(60),
            probe: Arc::new(|| {}),
        }));
        w.tick_started().unwrap();
        w.arm_host_watch().unwrap();
        assert!(eventually(|| !w.thread_running()), "parked thread stayed");
        w.tick_started().unwrap();
        assert!(w.thread_running(), "a tick with a watchdog restarts it");
        assert!(w.close(Duration::from_secs(5)));
    }

    #[test]
    fn disarm_takes_the_chain_back_from_an_infinite_wait_or_a_host_watch() {
        let w = worker();
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
        let (let_go, _job) = w.disarm(Duration::from_secs(5));
        assert!(let_go);
        w.arm_host_watch().unwrap();
        assert!(w.disarm(Duration::from_secs(5)).0);
        assert_eq!(w.state(), State::HostTurn);
        assert!(w.close(Duration::from_secs(5)));
    }

    /// A registration made from another thread while the worker waits makes
    /// it wait again with the new interest set instead of delivering an empty
    /// result (IOCP would otherwise not see it until the wait ends).
    #[test]
    fn an_interest_change_during_a_wait_restarts_it() {
        use std::io::Write;
        let poller = Arc::new(IoPoller::new().unwrap());
        let w = IoWorker::new(Arc::clone(&poller));
        let (mut a, b) = crate::poller::tests::socket_pair();
        let (tx, rx) = mpsc::channel();
        w.arm(None, Box::new(Send1(tx))).unwrap();
        assert!(eventually(|| w.shared.lock().in_wait));
        let other = {
            let (w, poller) = (w.clone(), Arc::clone(&poller));
            let source = crate::poller::tests::raw(&b);
            thread::spawn(move || {
                poller.add(source, 9, true, false).unwrap();
                w.interest_changed().unwrap();
            })
        };
        other.join().unwrap();
        assert!(
            eventually(|| w.counters().rewaits.load(Ordering::Relaxed) == 1),
            "the wait did not restart"
        );
        assert!(rx.try_recv().is_err(), "an empty wait was delivered");
        a.write_all(b"!").unwrap();
        rx.recv_timeout(Duration::from_secs(5)).unwrap();
        let mut got = Vec::new();
        assert!(w.take_result(&mut got).is_none());
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].token, 9);
        poller.delete(crate::poller::tests::raw(&b)).unwrap();
        assert!(w.close(Duration::from_secs(5)));
    }

    /// Two threads at once: the host arms and receives, another thread requests
    /// wakeups and reports interest changes at random moments (as host
    /// callbacks would). Every arm must be delivered exactly once, whatever the
    /// interleaving, and the worker must never be armed twice.
    #[test]
    fn concurrent_wakeups_never_lose_or_duplicate_a_delivery() {
        let w = worker();
        let stop = Arc::new(AtomicBool::new(false));
        let waker = {
            let (w, stop) = (w.clone(), Arc::clone(&stop));
            thread::spawn(move || {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    if n.is_multiple_of(3) {
                        let _ = w.interest_changed();
                    } else {
                        let _ = w.wake();
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
            // Mix timeouts: short, zero, longer.
            let timeout = match i % 3 {
                0 => Some(Duration::from_millis(2)),
                1 => Some(Duration::ZERO),
                _ => Some(Duration::from_millis(50)),
            };
            w.arm(timeout, Box::new(Send1(tx))).expect("armed twice");
            rx.recv_timeout(Duration::from_secs(5))
                .expect("delivery lost");
            assert!(rx.try_recv().is_err(), "delivered twice");
            // The state flips to HostTurn before delivery; spin until visible.
            while w.state() != State::HostTurn {
                thread::yield_now();
            }
        }
        stop.store(true, Ordering::Relaxed);
        waker.join().unwrap();
        assert!(w.close(Duration::from_secs(5)));
    }

    /// Many hand-offs in a row, host and worker on different threads: every arm
    /// produces exactly one delivery, in order.
    #[test]
    fn ping_pong_many_times() {
        let w = worker();
        for _ in 0..500 {
            let (tx, rx) = mpsc::channel();
            w.arm(Some(Duration::ZERO), Box::new(Send1(tx))).unwrap();
            rx.recv_timeout(Duration::from_secs(5)).unwrap();
            while w.state() != State::HostTurn {
                thread::yield_now();
            }
        }
        assert_eq!(w.counters().worker_waits.load(Ordering::Relaxed), 500);
        assert!(w.close(Duration::from_secs(5)));
    }
}
