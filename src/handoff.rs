//! The hand-off state machine: who holds the guest's "chain" right now.
//!
//! A guest run is one chain of links. At any moment exactly one link is in
//! flight, and it is in exactly one of three places. Between ticks the idle
//! guest's wait is carried either by the worker thread (worker mode) or by
//! the host itself, watching the poller's descriptor (host-watch mode, also
//! called thread-free mode):
//!
//! ```text
//!                  arm(timeout)                  wait returned
//!      ┌─────────────────────────▶ WorkerTurn ─────────────────────┐
//!      │                     (the worker thread is blocked         │
//!      │                      in the OS poller)                    ▼
//!   HostTurn                                                    HostTurn
//!   (a tick is queued on                                        (the worker posts
//!    the host, or running)                                       the next tick)
//!      │                  watch()                 take_back()      ▲
//!      └─────────────────────────▶ HostWatch ──────────────────────┘
//!                            (the host's fd watch holds the    (the watch fired: the
//!                             link; no thread is involved)      tick it started runs)
//! ```
//!
//! In both waiting states, [`Handoff::request_wakeup`] says when new work needs
//! the poller to be interrupted: once per wait (`notified`), further requests
//! are free. In worker mode that ends the worker's wait; in host-watch mode it
//! makes the watched descriptor readable. `close()` moves any state to
//! `Closed`, which is terminal. The machine is pure (no threads, no I/O) so its
//! transitions can be property-tested; the worker holds it under a mutex and
//! performs the side effects the transitions ask for.

use std::fmt;

/// Where the guest's single link is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    /// The host owns the chain: a tick is queued on the host or running.
    /// The worker thread must not touch the poller.
    HostTurn,
    /// The host handed the blocking wait to the worker. `notified` records that a
    /// wakeup was already sent, so repeated requests cost nothing.
    WorkerTurn {
        /// A poller notify was sent for this wait.
        notified: bool,
    },
    /// The host's own watch of the poller's descriptor carries the idle guest's
    /// wait; the worker thread (if any) is not involved.
    HostWatch {
        /// A poller notify was sent for this watch.
        notified: bool,
    },
    /// The selector was closed. Terminal.
    Closed,
}

/// Which of the two waiting places a state is (see [`State`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WaitMode {
    /// The worker thread waits in the OS poller.
    Worker,
    /// The host watches the poller's descriptor.
    HostWatch,
}

/// A transition the current state does not allow; the state is left unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HandoffError {
    /// A hand-off while the chain is already handed off: two links would exist.
    AlreadyArmed,
    /// Any transition after `close`.
    Closed,
    /// The worker reported a finished wait it was never given.
    NotArmed,
}

impl fmt::Display for HandoffError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandoffError::AlreadyArmed => f.write_str(
                "the guest's wait is already handed off: only one guest link may be in flight",
            ),
            HandoffError::Closed => f.write_str("the selector is closed"),
            HandoffError::NotArmed => {
                f.write_str("the I/O worker finished a wait it was not given")
            }
        }
    }
}

impl std::error::Error for HandoffError {}

/// The state machine itself; see the module documentation.
#[derive(Debug)]
pub(crate) struct Handoff {
    state: State,
}

impl Default for Handoff {
    fn default() -> Self {
        Self::new()
    }
}

impl Handoff {
    /// A new chain, held by the host.
    pub(crate) const fn new() -> Self {
        Handoff {
            state: State::HostTurn,
        }
    }

    /// The current state.
    pub(crate) fn state(&self) -> State {
        self.state
    }

    /// Where the idle guest's wait is carried, or `None` while the host holds
    /// the chain (or after close).
    pub(crate) fn wait_mode(&self) -> Option<WaitMode> {
        match self.state {
            State::WorkerTurn { .. } => Some(WaitMode::Worker),
            State::HostWatch { .. } => Some(WaitMode::HostWatch),
            State::HostTurn | State::Closed => None,
        }
    }

    fn hand_off(&mut self, to: State) -> Result<(), HandoffError> {
        match self.state {
            State::HostTurn => {
                self.state = to;
                Ok(())
            }
            State::WorkerTurn { .. } | State::HostWatch { .. } => Err(HandoffError::AlreadyArmed),
            State::Closed => Err(HandoffError::Closed),
        }
    }

    /// Host thread: hand the wait to the worker.
    pub(crate) fn arm(&mut self) -> Result<(), HandoffError> {
        self.hand_off(State::WorkerTurn { notified: false })
    }

    /// Host thread: the host's watch of the poller's descriptor now carries the wait.
    pub(crate) fn watch(&mut self) -> Result<(), HandoffError> {
        self.hand_off(State::HostWatch { notified: false })
    }

    /// Host thread: new work appeared that the pending wait does not know about.
    /// Returns true when the caller must interrupt the poller (at most once per
    /// wait, in either mode).
    pub(crate) fn request_wakeup(&mut self) -> bool {
        match self.state {
            State::WorkerTurn { notified: false } => {
                self.state = State::WorkerTurn { notified: true };
                true
            }
            State::HostWatch { notified: false } => {
                self.state = State::HostWatch { notified: true };
                true
            }
            _ => false,
        }
    }

    /// Worker thread: the wait returned; the chain goes back to the host.
    pub(crate) fn wait_finished(&mut self) -> Result<(), HandoffError> {
        match self.state {
            State::WorkerTurn { .. } => {
                self.state = State::HostTurn;
                Ok(())
            }
            State::HostTurn | State::HostWatch { .. } => Err(HandoffError::NotArmed),
            State::Closed => Err(HandoffError::Closed),
        }
    }

    /// Host thread, when a tick starts: a host watch is over. Returns true when
    /// one was (every other state is left alone: a tick never ends a worker's wait).
    pub(crate) fn take_back(&mut self) -> bool {
        if matches!(self.state, State::HostWatch { .. }) {
            self.state = State::HostTurn;
            true
        } else {
            false
        }
    }

    /// Any thread: shut down. Returns true when the worker may be waiting and the
    /// caller must interrupt the poller so the worker can see the close.
    pub(crate) fn close(&mut self) -> bool {
        let worker_waiting = matches!(self.state, State::WorkerTurn { .. });
        self.state = State::Closed;
        worker_waiting
    }

    /// True after [`Handoff::close`].
    pub(crate) fn is_closed(&self) -> bool {
        self.state == State::Closed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Copy, Debug)]
    enum Op {
        Arm,
        Watch,
        Wake,
        Finish,
        TakeBack,
        Close,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            Just(Op::Arm),
            Just(Op::Watch),
            Just(Op::Wake),
            Just(Op::Finish),
            Just(Op::TakeBack),
            Just(Op::Close)
        ]
    }

    /// The model: where the single link is.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum Holder {
        Host,
        Worker,
        HostWatch,
    }

    proptest! {
        /// Against a reference model, in both wait modes: one link in flight, at
        /// most one notify per wait, only the worker finishes a worker wait and
        /// only a tick takes back a host watch, close terminal, and every refused
        /// transition leaves the state alone.
        #[test]
        fn transitions_match_the_model(ops in proptest::collection::vec(op(), 0..300)) {
            let mut h = Handoff::new();
            let mut holder = Holder::Host;
            let mut notified = false;
            let mut closed = false;
            for op in ops {
                let before = h.state();
                match op {
                    Op::Arm | Op::Watch => {
                        let r = if matches!(op, Op::Arm) { h.arm() } else { h.watch() };
                        if closed {
                            prop_assert_eq!(r, Err(HandoffError::Closed));
                        } else if holder != Holder::Host {
                            prop_assert_eq!(r, Err(HandoffError::AlreadyArmed));
                        } else {
                            prop_assert!(r.is_ok());
                            holder = if matches!(op, Op::Arm) { Holder::Worker } else { Holder::HostWatch };
                            notified = false;
                        }
                    }
                    Op::Wake => {
                        let must_notify = h.request_wakeup();
                        let expect = !closed && holder != Holder::Host && !notified;
                        prop_assert_eq!(must_notify, expect);
                        if expect { notified = true; }
                    }
                    Op::Finish => {
                        let r = h.wait_finished();
                        if closed {
                            prop_assert_eq!(r, Err(HandoffError::Closed));
                        } else if holder != Holder::Worker {
                            prop_assert_eq!(r, Err(HandoffError::NotArmed));
                        } else {
                            prop_assert!(r.is_ok());
                            holder = Holder::Host;
                        }
                    }
                    Op::TakeBack => {
                        let ended = h.take_back();
                        prop_assert_eq!(ended, !closed && holder == Holder::HostWatch);
                        if ended { holder = Holder::Host; }
                    }
                    Op::Close => {
                        let was = h.close();
                        prop_assert_eq!(was, !closed && holder == Holder::Worker);
                        closed = true;
                        holder = Holder::Host;
                    }
                }
                let expected_mode = match holder {
                    _ if closed => None,
                    Holder::Host => None,
                    Holder::Worker => Some(WaitMode::Worker),
                    Holder::HostWatch => Some(WaitMode::HostWatch),
                };
                prop_assert_eq!(h.wait_mode(), expected_mode);
                if h.state() != before {
                    // Any change must be one of the allowed edges.
                    let ok = matches!(
                        (before, h.state()),
                        (State::HostTurn, State::WorkerTurn { notified: false })
                            | (State::HostTurn, State::HostWatch { notified: false })
                            | (State::WorkerTurn { notified: false }, State::WorkerTurn { notified: true })
                            | (State::HostWatch { notified: false }, State::HostWatch { notified: true })
                            | (State::WorkerTurn { .. }, State::HostTurn)
                            | (State::HostWatch { .. }, State::HostTurn)
                            | (_, State::Closed)
                    );
                    prop_assert!(ok, "illegal edge {:?} -> {:?}", before, h.state());
                }
                prop_assert_eq!(h.is_closed(), closed);
            }
        }
    }

    #[test]
    fn wakeup_is_coalesced_in_both_modes() {
        let mut h = Handoff::new();
        assert!(
            !h.request_wakeup(),
            "no wakeup needed while the host holds the chain"
        );
        h.arm().unwrap();
        assert!(h.request_wakeup());
        assert!(!h.request_wakeup());
        h.wait_finished().unwrap();
        h.watch().unwrap();
        assert!(h.request_wakeup(), "a new wait gets a new wakeup");
        assert!(!h.request_wakeup());
        assert!(h.take_back());
        assert!(!h.take_back());
        h.arm().unwrap();
        assert!(h.request_wakeup());
    }
}
