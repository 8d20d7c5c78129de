//! Rust core of asyncio-guest, the Python extension module `asyncio_guest._core`.
//!
//! One file per concern:
//! * [`poller`]: a thin wrapper over the `polling` crate (epoll / kqueue / IOCP).
//! * [`handoff`]: the pure state machine saying who holds the guest's chain,
//!   in both wait modes (the worker thread, or the host watching the poller).
//! * [`worker`]: the I/O worker thread (started on demand) that performs the
//!   one blocking wait in worker mode, and the stuck-tick watchdog.
//! * [`timeout`]: seconds from Python into an OS wait, the one conversion.
//! * `selector`, `mapping`: the `selectors.BaseSelector` contract for asyncio
//!   plus the guest-mode controls used by the Python driver (`arm`,
//!   `arm_host_watch`, `wake`, `poll_into_buffer`).
//! * `callback`: calling Python from the worker thread, safely near exit.
//! * `fileobj`, `errors`: Python file objects and exceptions as `selectors` has them.
//!
//! See `docs/architecture.md` for the picture of threads, ticks and wakeups.
//!
//! # Free-threaded Python
//!
//! Checked for running without the GIL: every piece of state this module
//! touches off the host thread or shares between threads is behind a mutex or
//! an atomic. The selector serializes all of its methods on one mutex (see
//! `selector`), the worker's hand-off state is behind its own mutex, the
//! registry of workers behind a static mutex, and Python is only called from
//! the worker through `callback`, attached. The Python half of the package
//! shares state with the worker thread too (the built-in host's queue
//! hand-shake under one lock, a link's `__del__` that only sets a flag and
//! appends to a list; see docs/architecture.md, "Free-threaded Python"), and
//! was audited the same way, so the module declares `gil_used = false`: on a
//! free-threaded build, importing it leaves the GIL off.

#![warn(missing_docs, unreachable_pub)]

mod callback;
mod errors;
mod fileobj;
mod handoff;
mod mapping;
mod poller;
mod selector;
mod timeout;
mod worker;

use pyo3::prelude::*;

use crate::timeout::{to_duration, Negative};

/// Stop every I/O worker thread of this process (registered with `atexit`).
/// Returns how many did not stop within `timeout` seconds.
#[pyfunction]
#[pyo3(signature = (timeout=2.0))]
fn shutdown_workers(py: Python<'_>, timeout: f64) -> PyResult<usize> {
    let wait =
        to_duration("timeout", Some(timeout), Negative::Reject)?.unwrap_or(timeout::MAX_TIMEOUT);
    Ok(py.detach(|| worker::shutdown_all(wait)))
}

/// True when the worker can tell that the interpreter is finalizing (and so
/// must not attach to it); see `callback`.
#[pyfunction]
fn _can_detect_finalization() -> bool {
    callback::finalizing_check_available()
}

#[pymodule(gil_used = false)]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<selector::Selector>()?;
    m.add_class::<mapping::SelectorMapping>()?;
    m.add_function(wrap_pyfunction!(shutdown_workers, m)?)?;
    m.add_function(wrap_pyfunction!(_can_detect_finalization, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
