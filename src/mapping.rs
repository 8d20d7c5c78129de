//! The read-only mapping `Selector.get_map()` returns, as `selectors` does:
//! a live view, file object or descriptor -> `SelectorKey`.

use pyo3::exceptions::PyKeyError;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};
use pyo3::{PyTraverseError, PyVisit};

use crate::selector::Selector;

/// `selectors._SelectorMapping` over a [`Selector`].
#[pyclass(module = "asyncio_guest._core", frozen)]
pub struct SelectorMapping {
    selector: Py<Selector>,
}

impl SelectorMapping {
    pub(crate) fn new(selector: Py<Selector>) -> Self {
        SelectorMapping { selector }
    }

    /// `(fd, key)` of every registration, copied under the selector's lock;
    /// the Python objects are built from the copy after it is released.
    fn snapshot<T>(&self, py: Python<'_>, each: impl Fn(i64, Py<PyAny>) -> T) -> Vec<T> {
        let st = self.selector.get().lock(py);
        st.keys
            .iter()
            .map(|(fd, r)| each(*fd as i64, r.key.clone_ref(py)))
            .collect()
    }

    fn key_of(&self, fileobj: &Bound<'_, PyAny>) -> Option<Py<PyAny>> {
        let py = fileobj.py();
        let sel = self.selector.get();
        let fd = sel.lookup_fd(fileobj).ok()?;
        let key = sel.lock(py).keys.get(&fd).map(|r| r.key.clone_ref(py));
        key
    }
}

#[pymethods]
impl SelectorMapping {
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.selector)
    }

    fn __len__(&self, py: Python<'_>) -> usize {
        self.selector.get().lock(py).keys.len()
    }

    fn __getitem__(&self, fileobj: Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.key_of(&fileobj)
            .ok_or_else(|| PyKeyError::new_err(fileobj.unbind()))
    }

    #[pyo3(signature = (fileobj, default=None))]
    fn get(
        &self,
        py: Python<'_>,
        fileobj: Bound<'_, PyAny>,
        default: Option<Py<PyAny>>,
    ) -> Py<PyAny> {
        self.key_of(&fileobj)
            .unwrap_or_else(|| default.unwrap_or_else(|| py.None()))
    }

    fn __contains__(&self, fileobj: Bound<'_, PyAny>) -> bool {
        self.key_of(&fileobj).is_some()
    }

    fn keys<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, self.snapshot(py, |fd, _| fd))
    }

    fn values<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, self.snapshot(py, |_, key| key))
    }

    fn items<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let items = self
            .snapshot(py, |fd, key| (fd, key))
            .into_iter()
            .map(|(fd, key)| {
                PyTuple::new(py, [fd.into_pyobject(py)?.into_any(), key.into_bound(py)])
            })
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, items)
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.keys(py)?.into_any().try_iter()?.into_any())
    }
}
