//! Python file objects and event masks, checked as `selectors` checks them.

use pyo3::exceptions::{PyAttributeError, PyTypeError, PyValueError};
use pyo3::prelude::*;

use crate::poller::RawSource;

/// `selectors.EVENT_READ`.
pub(crate) const EVENT_READ: i64 = 1;
/// `selectors.EVENT_WRITE`.
pub(crate) const EVENT_WRITE: i64 = 2;

/// `selectors._fileobj_to_fd`, with the same messages.
pub(crate) fn fileobj_to_fd(obj: &Bound<'_, PyAny>) -> PyResult<i64> {
    let fd = if let Ok(fd) = obj.extract::<i64>() {
        fd
    } else {
        let invalid = || -> PyResult<PyErr> {
            Ok(PyValueError::new_err(format!(
                "Invalid file object: {}",
                obj.repr()?
            )))
        };
        let raw = match obj.call_method0(pyo3::intern!(obj.py(), "fileno")) {
            Ok(raw) => raw,
            Err(e) => {
                let py = obj.py();
                if e.is_instance_of::<PyAttributeError>(py)
                    || e.is_instance_of::<PyTypeError>(py)
                    || e.is_instance_of::<PyValueError>(py)
                {
                    return Err(invalid()?);
                }
                return Err(e);
            }
        };
        match raw.extract::<i64>() {
            Ok(fd) => fd,
            Err(_) => return Err(invalid()?),
        }
    };
    if fd < 0 {
        return Err(PyValueError::new_err(format!(
            "Invalid file descriptor: {fd}"
        )));
    }
    Ok(fd)
}

/// A descriptor number as the OS type of a source.
pub(crate) fn to_raw(fd: i64) -> PyResult<RawSource> {
    RawSource::try_from(fd)
        .map_err(|_| PyValueError::new_err(format!("Invalid file descriptor: {fd}")))
}

/// A `register`/`modify` mask: a non-empty combination of EVENT_READ and EVENT_WRITE.
pub(crate) fn check_events(events: &Bound<'_, PyAny>) -> PyResult<i64> {
    match events.extract::<i64>() {
        Ok(e) if e != 0 && e & !(EVENT_READ | EVENT_WRITE) == 0 => Ok(e),
        _ => Err(PyValueError::new_err(format!(
            "Invalid events: {}",
            events.repr()?
        ))),
    }
}
