//! Rust errors as the Python exceptions callers of a selector expect.

use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::PyErr;

use crate::timeout::InvalidTimeout;

/// The error of any operation on a closed selector.
pub(crate) fn closed_error() -> PyErr {
    PyRuntimeError::new_err("Selector is closed")
}

/// An OS error as Python's `OSError(errno, strerror)`, so that Python maps it
/// to the right subclass (BlockingIOError, PermissionError...) and `errno` is set.
pub(crate) fn os_error(err: std::io::Error) -> PyErr {
    match err.raw_os_error() {
        Some(code) => {
            let msg = std::io::Error::from_raw_os_error(code).to_string();
            let msg = msg.split(" (os error").next().unwrap_or(&msg).to_string();
            PyOSError::new_err((code, msg))
        }
        None => err.into(),
    }
}

impl From<InvalidTimeout> for PyErr {
    fn from(err: InvalidTimeout) -> PyErr {
        PyValueError::new_err(err.to_string())
    }
}
