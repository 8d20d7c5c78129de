//! The hand-off state machine: who owns the guest's "chain" right now.
//!
//! A guest run is one chain of links. At any moment exactly one link is in
//! flight, and it is in exactly one of two places:
//!
//! ```text
//!            arm(timeout)                       wait returned
//!   HostTurn ────────────────▶ WorkerTurn ─────────────────────▶ HostTurn
//!   (a tick is queued on       (the worker thread is blocked     (the worker posts the
//!    the host, or running)      in the OS poller)                 next tick to the host)
//!                                   │ request_wakeup()
//!                                   ▼
//!                              WorkerTurn{notified}  (poller.notify() sent once;
//!                                                     further requests are free)
//! ```
//!
//! `close()` moves any state to `Closed`, which is terminal. The machine is pure
//! (no threads, no I/O) so its transitions can be property-tested; the worker
//! holds it under a mutex and performs the side effects the transitions ask for.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// The host owns the chain: a tick is queued on the host or running.
    /// The worker thread is parked and must not touch the poller.
    HostTurn,
    /// The host handed the blocking wait to the worker. `notified` records that a
    /// wakeup was already sent, so repeated requests cost nothing.
    WorkerTurn { notified: bool },
    /// The selector was closed. Terminal.
    Closed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandoffError {
    /// `arm` while the worker already holds the chain: two links would exist.
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
                "the I/O worker is already waiting: only one guest link may be in flight",
            ),
            HandoffError::Closed => f.write_str("the selector is closed"),
            HandoffError::NotArmed => {
                f.write_str("the I/O worker finished a wait it was not given")
            }
        }
    }
}

impl std::error::Error for HandoffError {}

#[derive(Debug)]
pub struct Handoff {
    state: State,
}

impl Default for Handoff {
    fn default() -> Self {
        Self::new()
    }
}

impl Handoff {
    pub const fn new() -> Self {
        Handoff {
            state: State::HostTurn,
        }
    }

    pub fn state(&self) -> State {
        self.state
    }

    /// Host thread: hand the wait to the worker.
    pub fn arm(&mut self) -> Result<(), HandoffError> {
        match self.state {
            State::HostTurn => {
                self.state = State::WorkerTurn { notified: false };
                Ok(())
            }
            State::WorkerTurn { .. } => Err(HandoffError::AlreadyArmed),
            State::Closed => Err(HandoffError::Closed),
        }
    }

    /// Host thread: new work appeared that the pending wait does not know about.
    /// Returns true when the caller must interrupt the poller (at most once per wait).
    pub fn request_wakeup(&mut self) -> bool {
        match self.state {
            State::WorkerTurn { notified: false } => {
                self.state = State::WorkerTurn { notified: true };
                true
            }
            _ => false,
        }
    }

    /// Worker thread: the wait returned; the chain goes back to the host.
    pub fn wait_finished(&mut self) -> Result<(), HandoffError> {
        match self.state {
            State::WorkerTurn { .. } => {
                self.state = State::HostTurn;
                Ok(())
            }
            State::HostTurn => Err(HandoffError::NotArmed),
            State::Closed => Err(HandoffError::Closed),
        }
    }

    /// Any thread: shut down. Returns true when a wait may be in progress and the
    /// caller must interrupt the poller so the worker can see the close.
    pub fn close(&mut self) -> bool {
        let was_waiting = matches!(self.state, State::WorkerTurn { .. });
        self.state = State::Closed;
        was_waiting
    }

    pub fn is_closed(&self) -> bool {
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
        Wake,
        Finish,
        Close,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            Just(Op::Arm),
            Just(Op::Wake),
            Just(Op::Finish),
            Just(Op::Close)
        ]
    }

    proptest! {
        /// Against a reference model: one link in flight, at most one notify per
        /// wait, close terminal, and every refused transition leaves the state alone.
        #[test]
        fn transitions_match_the_model(ops in proptest::collection::vec(op(), 0..200)) {
            let mut h = Handoff::new();
            // Model: where the single link is, and whether a notify was sent for this wait.
            let mut worker_has_link = false;
            let mut notified = false;
            let mut closed = false;
            for op in ops {
                let before = h.state();
                match op {
                    Op::Arm => {
                        let r = h.arm();
                        if closed {
                            prop_assert_eq!(r, Err(HandoffError::Closed));
                        } else if worker_has_link {
                            prop_assert_eq!(r, Err(HandoffError::AlreadyArmed));
                        } else {
                            prop_assert!(r.is_ok());
                            worker_has_link = true;
                            notified = false;
                        }
                    }
                    Op::Wake => {
                        let must_notify = h.request_wakeup();
                        let expect = !closed && worker_has_link && !notified;
                        prop_assert_eq!(must_notify, expect);
                        if expect { notified = true; }
                    }
                    Op::Finish => {
                        let r = h.wait_finished();
                        if closed {
                            prop_assert_eq!(r, Err(HandoffError::Closed));
                        } else if !worker_has_link {
                            prop_assert_eq!(r, Err(HandoffError::NotArmed));
                        } else {
                            prop_assert!(r.is_ok());
                            worker_has_link = false;
                        }
                    }
                    Op::Close => {
                        let was = h.close();
                        prop_assert_eq!(was, !closed && worker_has_link);
                        closed = true;
                        worker_has_link = false;
                    }
                }
                if h.state() != before {
                    // Any change must be one of the allowed edges.
                    let ok = matches!(
                        (before, h.state()),
                        (State::HostTurn, State::WorkerTurn { notified: false })
                            | (State::WorkerTurn { notified: false }, State::WorkerTurn { notified: true })
                            | (State::WorkerTurn { .. }, State::HostTurn)
                            | (_, State::Closed)
                    );
                    prop_assert!(ok, "illegal edge {:?} -> {:?}", before, h.state());
                }
                prop_assert_eq!(h.is_closed(), closed);
            }
        }
    }

    #[test]
    fn wakeup_is_coalesced() {
        let mut h = Handoff::new();
        assert!(
            !h.request_wakeup(),
            "no wakeup needed while the host holds the chain"
        );
        h.arm().unwrap();
        assert!(h.request_wakeup());
        assert!(!h.request_wakeup());
        h.wait_finished().unwrap();
        h.arm().unwrap();
        assert!(h.request_wakeup(), "a new wait gets a new wakeup");
    }
}
