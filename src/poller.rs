//! A small, safe-to-share wrapper over the `polling` crate (epoll / kqueue / IOCP).
//!
//! asyncio's selector loop relies on *level-triggered* readiness: a reader
//! callback reads once and expects to be called again while data remains.
//! `polling` offers level mode on epoll, kqueue and IOCP; where a platform only
//! has one-shot mode we re-arm every delivered source after each `wait`, which
//! gives the same observable behaviour because the guest never waits again
//! before the host has processed the previous events.
//!
//! Every registration carries a *token* that is unique for the life of the
//! selector (never reused, unlike fd numbers). An event whose token no longer
//! matches the fd's current registration is stale: it belongs to a source that
//! was unregistered, or closed and replaced by a new one with the same number,
//! between the wait and the tick. The selector drops those.

use std::io;
use std::num::NonZeroUsize;
use std::time::Duration;

use polling::{Event, Events, PollMode, Poller};

/// What a registration names: a file descriptor (Unix) or a socket (Windows).
#[cfg(unix)]
pub(crate) type RawSource = std::os::unix::io::RawFd;
/// What a registration names: a file descriptor (Unix) or a socket (Windows).
#[cfg(windows)]
pub(crate) type RawSource = std::os::windows::io::RawSocket;

/// One readiness report, copied out of the poller so it can cross threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ready {
    /// The token the source was registered with.
    pub(crate) token: usize,
    /// The source is readable (or has an error or hang-up to report).
    pub(crate) readable: bool,
    /// The source is writable (or has an error or hang-up to report).
    pub(crate) writable: bool,
}

/// The OS poller in the mode asyncio needs (level-triggered where possible).
pub(crate) struct IoPoller {
    poller: Poller,
    mode: PollMode,
}

/// Capacity of one wait's event buffer. More ready sources than this are simply
/// reported by the next wait (level mode keeps them ready).
const EVENTS_PER_WAIT: usize = 1024;

impl IoPoller {
    /// A new OS poller (one epoll / kqueue / IOCP instance).
    pub(crate) fn new() -> io::Result<Self> {
        let poller = Poller::new()?;
        let mode = if poller.supports_level() {
            PollMode::Level
        } else {
            PollMode::Oneshot
        };
        Ok(IoPoller { poller, mode })
    }

    /// An event buffer sized for one wait.
    pub(crate) fn new_events() -> Events {
        Events::with_capacity(NonZeroUsize::new(EVENTS_PER_WAIT).unwrap())
    }

    fn interest(token: usize, readable: bool, writable: bool) -> Event {
        Event::new(token, readable, writable)
    }

    /// Start watching `source`. The caller (the selector) guarantees it calls
    /// [`IoPoller::delete`] when the registration ends; if the OS object is closed
    /// first, the kernel drops it (epoll/kqueue) or the next wait reports it, and
    /// stale events are filtered by token.
    ///
    /// A source that was closed before it was deleted may still be in
    /// `polling`'s own bookkeeping (its kqueue backend keeps a set of
    /// descriptors, and the delete of a closed one fails with `EBADF`). When a
    /// new source then gets the same number, `polling` reports `AlreadyExists`;
    /// the registration is then made by `modify`, which replaces the stale
    /// interest, as the stock `KqueueSelector` does.
    pub(crate) fn add(
        &self,
        source: RawSource,
        token: usize,
        readable: bool,
        writable: bool,
    ) -> io::Result<()> {
        // SAFETY: `polling` requires that the source outlive its registration or
        // be deleted before it is closed. asyncio unregisters before closing in
        // all of its own code; when user code closes first, epoll/kqueue/AFD
        // forget the source themselves, and any event already queued for it is
        // dropped by the token check. No memory safety depends on the source.
        let added = unsafe {
            self.poller
                .add_with_mode(source, Self::interest(token, readable, writable), self.mode)
        };
        match added {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                self.modify(source, token, readable, writable)
            }
            other => other,
        }
    }

    /// Change the token and interest of a registered source.
    pub(crate) fn modify(
        &self,
        source: RawSource,
        token: usize,
        readable: bool,
        writable: bool,
    ) -> io::Result<()> {
        let borrowed = borrow(source);
        self.poller.modify_with_mode(
            borrowed,
            Self::interest(token, readable, writable),
            self.mode,
        )
    }

    /// Stop watching `source`. A source that is already closed (`EBADF`) or
    /// unknown (`ENOENT`) is not watched any more either: both count as done.
    pub(crate) fn delete(&self, source: RawSource) -> io::Result<()> {
        match self.poller.delete(borrow(source)) {
            Err(e) if is_gone(&e) => Ok(()),
            other => other,
        }
    }

    /// Block until readiness, a notify, or the timeout. Interrupted waits (EINTR)
    /// count as an empty wait: the caller goes back to Python, which runs signal
    /// handlers, and that is exactly what a signal should cause.
    pub(crate) fn wait(
        &self,
        events: &mut Events,
        timeout: Option<Duration>,
        out: &mut Vec<Ready>,
    ) -> io::Result<()> {
        events.clear();
        match self.poller.wait(events, timeout) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
        out.extend(events.iter().map(|ev| Ready {
            token: ev.key,
            readable: ev.readable,
            writable: ev.writable,
        }));
        Ok(())
    }

    /// A non-blocking poll, for the host thread between loop iterations.
    ///
    /// On Linux, `polling`'s zero-timeout `wait` costs five system calls (it
    /// re-arms its timerfd and its notify eventfd every time), and the host
    /// polls once per loop iteration. So there we issue one `epoll_wait(0)` on
    /// `polling`'s own epoll descriptor. Its internal sources (the notifier and
    /// the timer, key `usize::MAX`) are one-shot: if one of them shows up, the
    /// raw result is discarded and `polling`'s own `wait` runs instead, which
    /// clears and re-arms them; level-triggered sources are simply reported
    /// again. Elsewhere this is `wait(Some(0))`. Only valid when no other
    /// thread is waiting (the hand-off guarantees it).
    pub(crate) fn poll_now(&self, events: &mut Events, out: &mut Vec<Ready>) -> io::Result<()> {
        #[cfg(target_os = "linux")]
        {
            if self.mode == PollMode::Level {
                if let Some(()) = self.raw_epoll_poll(out)? {
                    return Ok(());
                }
            }
        }
        self.wait(events, Some(Duration::ZERO), out)
    }

    /// Returns `Some(())` when the raw poll is complete, `None` when `polling`'s
    /// own wait must run (one of its internal sources fired).
    #[cfg(target_os = "linux")]
    fn raw_epoll_poll(&self, out: &mut Vec<Ready>) -> io::Result<Option<()>> {
        use std::os::unix::io::AsRawFd;
        const INTERNAL_KEY: u64 = usize::MAX as u64;
        const BATCH: usize = 256;
        let mut buf = [libc::epoll_event { events: 0, u64: 0 }; BATCH];
        // SAFETY: `buf` is a valid, writable array of BATCH epoll_event structs,
        // and the epoll descriptor is owned by `self.poller`, alive for the call.
        let n =
            unsafe { libc::epoll_wait(self.poller.as_raw_fd(), buf.as_mut_ptr(), BATCH as i32, 0) };
        if n < 0 {
            let err = io::Error::last_os_error();
            return if err.kind() == io::ErrorKind::Interrupted {
                Ok(Some(()))
            } else {
                Err(err)
            };
        }
        let start = out.len();
        for ev in &buf[..n as usize] {
            let (bits, key) = (ev.events, ev.u64);
            if key == INTERNAL_KEY {
                out.truncate(start);
                return Ok(None);
            }
            // The same mapping as `polling`'s own epoll backend.
            let err = bits & (libc::EPOLLERR | libc::EPOLLHUP) as u32 != 0;
            out.push(Ready {
                token: key as usize,
                readable: err || bits & (libc::EPOLLIN | libc::EPOLLPRI) as u32 != 0,
                writable: err || bits & libc::EPOLLOUT as u32 != 0,
            });
        }
        Ok(Some(()))
    }

    /// Wake the current (or the next) `wait` from any thread. Coalesced by `polling`.
    pub(crate) fn notify(&self) -> io::Result<()> {
        self.poller.notify()
    }

    /// The OS poller's own descriptor (epoll / kqueue), readable whenever a
    /// registered source is ready or after `notify`. Hosts that can watch a
    /// descriptor on their own thread use it instead of the worker thread.
    #[cfg(unix)]
    pub(crate) fn raw_fd(&self) -> RawSource {
        use std::os::unix::io::AsRawFd;
        self.poller.as_raw_fd()
    }

    /// True where the OS only offers one-shot mode: every delivered source must
    /// be re-armed after each wait.
    pub(crate) fn is_oneshot(&self) -> bool {
        self.mode == PollMode::Oneshot
    }
}

/// The error of a delete whose source is already gone.
fn is_gone(err: &io::Error) -> bool {
    if err.kind() == io::ErrorKind::NotFound {
        return true;
    }
    #[cfg(unix)]
    {
        err.raw_os_error() == Some(libc::EBADF)
    }
    #[cfg(not(unix))]
    {
        false
    }
}

#[cfg(unix)]
fn borrow(source: RawSource) -> std::os::unix::io::BorrowedFd<'static> {
    // SAFETY: only used for the duration of one modify/delete call, which does not
    // keep the borrow; an fd that is already closed makes the syscall fail with
    // EBADF/ENOENT, which callers handle.
    unsafe { std::os::unix::io::BorrowedFd::borrow_raw(source) }
}

#[cfg(windows)]
fn borrow(source: RawSource) -> std::os::windows::io::BorrowedSocket<'static> {
    // SAFETY: as on Unix: a transient borrow for one call; an invalid socket makes
    // the call fail, which callers handle.
    unsafe { std::os::windows::io::BorrowedSocket::borrow_raw(source) }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;
    use std::net::{TcpListener, TcpStream};
    use std::sync::Arc;
    use std::thread;
    use std::time::Instant;

    /// A connected pair of TCP sockets on the loopback interface: the kind of
    /// source every backend (IOCP included) supports.
    pub(crate) fn socket_pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let a = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (b, _) = listener.accept().unwrap();
        a.set_nodelay(true).unwrap();
        (a, b)
    }

    /// The raw source of a socket, as the selector registers it.
    pub(crate) fn raw(socket: &TcpStream) -> RawSource {
        #[cfg(unix)]
        {
            std::os::unix::io::AsRawFd::as_raw_fd(socket)
        }
        #[cfg(windows)]
        {
            std::os::windows::io::AsRawSocket::as_raw_socket(socket)
        }
    }

    /// A thread that waits on `p` until something is reported (at most 5 s).
    fn spawn_waiter(p: &Arc<IoPoller>) -> thread::JoinHandle<Vec<Ready>> {
        let p = Arc::clone(p);
        thread::spawn(move || {
            let mut ev = IoPoller::new_events();
            let mut out = Vec::new();
            let start = Instant::now();
            while out.is_empty() && start.elapsed() < Duration::from_secs(5) {
                p.wait(&mut ev, Some(Duration::from_secs(5)), &mut out)
                    .unwrap();
            }
            out
        })
    }

    /// Wait (bounded) until `token` is reported, so zero-timeout polls that
    /// follow see data that is in flight on the loopback interface.
    fn wait_for(p: &IoPoller, token: usize) {
        let mut ev = IoPoller::new_events();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            let mut out = Vec::new();
            p.wait(&mut ev, Some(Duration::from_secs(5)), &mut out)
                .unwrap();
            if out.iter().any(|r| r.token == token) {
                return;
            }
        }
        panic!("token {token} never became ready");
    }

    #[test]
    fn level_triggered_readiness_repeats_until_drained() {
        let p = IoPoller::new().unwrap();
        let (mut a, b) = socket_pair();
        p.add(raw(&b), 7, true, false).unwrap();
        a.write_all(b"xyz").unwrap();
        let mut ev = IoPoller::new_events();
        for _ in 0..3 {
            let mut out = Vec::new();
            p.wait(&mut ev, Some(Duration::from_secs(5)), &mut out)
                .unwrap();
            assert_eq!(
                out,
                vec![Ready {
                    token: 7,
                    readable: true,
                    writable: false
                }]
            );
            if p.is_oneshot() {
                p.modify(raw(&b), 7, true, false).unwrap();
            }
        }
        p.delete(raw(&b)).unwrap();
    }

    /// The property guest mode depends on: registrations made on one thread while
    /// another thread is blocked in `wait` take effect in that very wait (the
    /// worker also restarts its wait on an interest change, for backends where
    /// this does not hold).
    #[test]
    fn registration_from_another_thread_reaches_a_blocked_wait() {
        let p = Arc::new(IoPoller::new().unwrap());
        let (mut a, b) = socket_pair();
        a.write_all(b"!").unwrap();
        let waiter = spawn_waiter(&p);
        thread::sleep(Duration::from_millis(50));
        p.add(raw(&b), 11, true, false).unwrap();
        let out = waiter.join().unwrap();
        assert_eq!(out[0].token, 11);
        p.delete(raw(&b)).unwrap();
    }

    #[test]
    fn modify_from_another_thread_reaches_a_blocked_wait() {
        let p = Arc::new(IoPoller::new().unwrap());
        let (_a, b) = socket_pair();
        // Registered for nothing we will get, then switched to writable (always true).
        p.add(raw(&b), 3, true, false).unwrap();
        let waiter = spawn_waiter(&p);
        thread::sleep(Duration::from_millis(50));
        p.modify(raw(&b), 3, false, true).unwrap();
        let out = waiter.join().unwrap();
        assert_eq!(
            out,
            vec![Ready {
                token: 3,
                readable: false,
                writable: true
            }]
        );
        p.delete(raw(&b)).unwrap();
    }

    /// A socket closed before it is deleted, then a new socket with the same
    /// number: the delete counts as done and the new registration works, with
    /// its own token (kqueue would otherwise refuse it with `AlreadyExists`).
    /// Unix only: there a new descriptor takes the lowest free number.
    #[test]
    #[cfg(unix)]
    fn close_before_delete_then_reuse_of_the_number() {
        let p = IoPoller::new().unwrap();
        let (first_peer, first) = socket_pair();
        let number = raw(&first);
        p.add(number, 1, true, false).unwrap();
        drop(first);
        drop(first_peer);
        p.delete(number)
            .expect("deleting a closed source counts as done");
        // Find a new socket that reuses the number (the lowest free one on Unix).
        let mut keep = Vec::new();
        let (mut peer, reused) = loop {
            let (peer, sock) = socket_pair();
            if raw(&sock) == number || raw(&peer) == number {
                break if raw(&sock) == number {
                    (peer, sock)
                } else {
                    (sock, peer)
                };
            }
            assert!(keep.len() < 64, "the number was never reused");
            keep.push((peer, sock));
        };
        p.add(raw(&reused), 2, true, false).unwrap();
        peer.write_all(b"!").unwrap();
        wait_for(&p, 2);
        p.delete(raw(&reused)).unwrap();
    }

    /// `add` of a source that is still registered replaces its registration
    /// (the `AlreadyExists` path), new token included.
    #[test]
    fn adding_a_registered_source_again_replaces_its_interest() {
        let p = IoPoller::new().unwrap();
        let (mut a, b) = socket_pair();
        p.add(raw(&b), 1, false, true).unwrap();
        p.add(raw(&b), 2, true, false).unwrap();
        a.write_all(b"!").unwrap();
        wait_for(&p, 2);
        let mut ev = IoPoller::new_events();
        let mut out = Vec::new();
        p.wait(&mut ev, Some(Duration::ZERO), &mut out).unwrap();
        assert!(out.iter().all(|r| r.token == 2 && !r.writable), "{out:?}");
        p.delete(raw(&b)).unwrap();
    }

    /// What the host-watch mode relies on: the poller fd itself is readable
    /// when a source is ready and after notify, and a zero-timeout wait clears it.
    #[test]
    #[cfg(target_os = "linux")]
    fn the_poller_fd_itself_signals_readiness_and_notify() {
        fn readable(fd: RawSource) -> bool {
            let mut pfd = libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd struct, count 1, zero timeout.
            unsafe { libc::poll(&mut pfd, 1, 0) == 1 && pfd.revents & libc::POLLIN != 0 }
        }
        let p = IoPoller::new().unwrap();
        let mut ev = IoPoller::new_events();
        assert!(!readable(p.raw_fd()));
        p.notify().unwrap();
        assert!(readable(p.raw_fd()));
        let mut out = Vec::new();
        p.wait(&mut ev, Some(Duration::ZERO), &mut out).unwrap();
        assert!(out.is_empty() && !readable(p.raw_fd()));
        let (mut a, b) = socket_pair();
        p.add(raw(&b), 5, true, false).unwrap();
        a.write_all(b"!").unwrap();
        wait_for(&p, 5);
        assert!(readable(p.raw_fd()));
        p.delete(raw(&b)).unwrap();
    }

    /// The raw fast path and `polling`'s own wait agree, including after a
    /// notify (the internal source forces the slow path, which re-arms it).
    #[test]
    fn poll_now_matches_wait_and_survives_notify() {
        let p = IoPoller::new().unwrap();
        let mut ev = IoPoller::new_events();
        let (mut a, b) = socket_pair();
        let (_c, d) = socket_pair();
        p.add(raw(&b), 1, true, false).unwrap();
        p.add(raw(&d), 2, false, true).unwrap();
        a.write_all(b"x").unwrap();
        wait_for(&p, 1);
        for round in 0..3 {
            if round == 1 {
                p.notify().unwrap();
            }
            let mut fast = Vec::new();
            p.poll_now(&mut ev, &mut fast).unwrap();
            let mut slow = Vec::new();
            p.wait(&mut ev, Some(Duration::ZERO), &mut slow).unwrap();
            fast.sort_by_key(|r| r.token);
            slow.sort_by_key(|r| r.token);
            assert_eq!(fast, slow, "round {round}");
            assert_eq!(fast.len(), 2);
            if p.is_oneshot() {
                p.modify(raw(&b), 1, true, false).unwrap();
                p.modify(raw(&d), 2, false, true).unwrap();
            }
        }
        // Notify still works after the fast path consumed nothing of it.
        p.notify().unwrap();
        let mut out = Vec::new();
        let t = Instant::now();
        p.delete(raw(&b)).unwrap();
        p.delete(raw(&d)).unwrap();
        p.wait(&mut ev, Some(Duration::from_secs(5)), &mut out)
            .unwrap();
        assert!(t.elapsed() < Duration::from_secs(4), "notify was lost");
    }

    #[test]
    fn notify_wakes_a_blocked_wait_from_another_thread() {
        let p = Arc::new(IoPoller::new().unwrap());
        let waiter = {
            let p = Arc::clone(&p);
            thread::spawn(move || {
                let mut ev = IoPoller::new_events();
                let mut out = Vec::new();
                let start = Instant::now();
                p.wait(&mut ev, None, &mut out).unwrap();
                (out, start.elapsed())
            })
        };
        thread::sleep(Duration::from_millis(50));
        p.notify().unwrap();
        let (out, took) = waiter.join().unwrap();
        assert!(out.is_empty());
        assert!(took < Duration::from_secs(5));
    }
}
