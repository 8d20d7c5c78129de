//! Rust core of asyncio-guest.
//!
//! * [`poller`]: a thin wrapper over the `polling` crate (epoll / kqueue / IOCP).
//! * [`handoff`]: the pure state machine saying who holds the guest's chain.
//! * [`worker`]: the I/O worker thread that performs the one blocking wait.
//! * [`selector`]: the `selectors.BaseSelector` contract for asyncio, plus the
//!   guest-mode controls (`poll_ready`, `arm`, `wakeup`) used by the Python driver.
//!
//! See `docs/architecture.md` for the picture of threads, ticks and wakeups.

pub mod handoff;
pub mod poller;
#[cfg(any(unix, windows))]
pub mod selector;
pub mod worker;

use pyo3::prelude::*;
use std::time::Duration;

/// Stop every I/O worker thread of this process (called from `atexit`).
/// Returns how many did not stop within `timeout` seconds.
#[pyfunction]
#[pyo3(signature = (timeout=2.0))]
fn shutdown_workers(py: Python<'_>, timeout: f64) -> usize {
    let wait = Duration::from_secs_f64(timeout.max(0.0));
    py.detach(|| worker::shutdown_all(wait))
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<selector::Selector>()?;
    m.add_class::<selector::SelectorMapping>()?;
    m.add_function(wrap_pyfunction!(shutdown_workers, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
