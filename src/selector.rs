//! `Selector`: the `selectors.BaseSelector` contract asyncio's selector loop uses
//! (register, modify, unregister, get_key, get_map, select, close), implemented
//! over [`IoPoller`], plus the guest-mode controls the Python driver calls.
//!
//! Two modes:
//! * ordinary: `select(timeout)` blocks on the calling thread with the GIL
//!   released, like `selectors.EpollSelector`;
//! * guest: `select()` never blocks. It returns what the worker's last wait saw
//!   (or what the end-of-tick poll saw), or else polls without waiting. The
//!   blocking happens only in [`IoWorker`], armed by the driver between ticks.
//!
//! All key bookkeeping lives here, on the host thread; the worker only sees
//! tokens. Each event is checked against the live registration before it is
//! turned into a `(key, events)` pair: unknown or replaced tokens are dropped,
//! and the mask is cut down to the events the key still asks for.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use polling::Events;
use pyo3::exceptions::{PyKeyError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use pyo3::{PyTraverseError, PyVisit};

use crate::poller::{IoPoller, RawSource, Ready};
use crate::worker::{Deliver, IoWorker, Watchdog};

const EVENT_READ: i64 = 1;
const EVENT_WRITE: i64 = 2;

/// Longest wait handed to the OS (asyncio's MAXIMUM_SELECT_TIMEOUT is 24 h too).
const MAX_TIMEOUT_SECS: f64 = 24.0 * 3600.0;
/// How long `close()` waits for the worker before leaving it detached.
const CLOSE_JOIN_TIMEOUT: Duration = Duration::from_secs(5);

struct Entry {
    token: usize,
    events: i64,
    fileobj: Py<PyAny>,
    key: Py<PyAny>,
}

#[pyclass(module = "asyncio_guest._core", weakref)]
pub struct Selector {
    poller: Option<Arc<IoPoller>>,
    worker: Option<IoWorker>,
    keys: HashMap<RawSource, Entry>,
    tokens: HashMap<usize, RawSource>,
    next_token: usize,
    guest: bool,
    /// Events fetched by the end-of-tick poll, for the next tick.
    pending: Vec<Ready>,
    /// `Events` is not `Sync`; the mutex is never contended (host thread only).
    events_buf: std::sync::Mutex<Events>,
    key_type: Py<PyAny>,
    mapping: Option<Py<SelectorMapping>>,
    ticks_polled: u64,
    /// Guest-mode `select()` calls: one per loop iteration.
    iterations: u64,
    last_event_count: usize,
}

fn closed_error() -> PyErr {
    PyRuntimeError::new_err("Selector is closed")
}

/// `selectors._fileobj_to_fd`, with the same messages.
fn fileobj_to_fd(obj: &Bound<'_, PyAny>) -> PyResult<i64> {
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
                if e.is_instance_of::<pyo3::exceptions::PyAttributeError>(py)
                    || e.is_instance_of::<pyo3::exceptions::PyTypeError>(py)
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

/// An OS error as Python's OSError(errno, strerror), so that Python maps it to
/// the right subclass (BlockingIOError, PermissionError...) and `errno` is set.
fn os_error(err: std::io::Error) -> PyErr {
    match err.raw_os_error() {
        Some(code) => {
            let msg = std::io::Error::from_raw_os_error(code).to_string();
            let msg = msg.split(" (os error").next().unwrap_or(&msg).to_string();
            pyo3::exceptions::PyOSError::new_err((code, msg))
        }
        None => err.into(),
    }
}

fn to_raw(fd: i64) -> PyResult<RawSource> {
    RawSource::try_from(fd)
        .map_err(|_| PyValueError::new_err(format!("Invalid file descriptor: {fd}")))
}

fn check_events(events: &Bound<'_, PyAny>) -> PyResult<i64> {
    match events.extract::<i64>() {
        Ok(e) if e != 0 && e & !(EVENT_READ | EVENT_WRITE) == 0 => Ok(e),
        _ => Err(PyValueError::new_err(format!(
            "Invalid events: {}",
            events.repr()?
        ))),
    }
}

struct PyJob {
    hook: Py<PyAny>,
    link: Py<PyAny>,
}

impl Deliver for PyJob {
    fn deliver(self: Box<Self>) -> bool {
        // SAFETY: a plain C query, valid in any state of the interpreter.
        if unsafe { pyo3::ffi::Py_IsInitialized() } == 0 {
            // The interpreter is gone; touching these objects now would crash.
            std::mem::forget(self);
            return false;
        }
        Python::attach(|py| {
            let PyJob { hook, link } = *self;
            // If the hook fails, the link dies here, on this thread; the Python
            // side notices the dropped link and reports the abandoned run.
            match hook.call1(py, (link,)) {
                Ok(_) => true,
                Err(err) => {
                    err.write_unraisable(py, Some(hook.bind(py)));
                    false
                }
            }
        })
    }
}

impl Selector {
    fn live_poller(&self) -> PyResult<&Arc<IoPoller>> {
        self.poller.as_ref().ok_or_else(closed_error)
    }

    /// `selectors._BaseSelectorImpl._fileobj_lookup`: an fd, or for an object
    /// whose `fileno()` no longer works (a closed socket), the fd it was
    /// registered under.
    fn lookup_fd(&self, fileobj: &Bound<'_, PyAny>) -> PyResult<RawSource> {
        match fileobj_to_fd(fileobj) {
            Ok(fd) => to_raw(fd),
            Err(err) if err.is_instance_of::<PyValueError>(fileobj.py()) => self
                .keys
                .iter()
                .find(|(_, e)| e.fileobj.bind(fileobj.py()).is(fileobj))
                .map(|(fd, _)| *fd)
                .ok_or(err),
            Err(err) => Err(err),
        }
    }

    fn not_registered(fileobj: &Bound<'_, PyAny>) -> PyResult<PyErr> {
        Ok(PyKeyError::new_err(format!(
            "{} is not registered",
            fileobj.repr()?
        )))
    }

    fn poll_into_pending(&mut self, py: Python<'_>, timeout: Duration) -> PyResult<()> {
        let poller = Arc::clone(self.live_poller()?);
        if let Some(w) = &self.worker {
            if !matches!(w.state(), crate::handoff::State::HostTurn) {
                return Err(PyRuntimeError::new_err(
                    "cannot poll on the host thread while the I/O worker is waiting",
                ));
            }
        }
        self.ticks_polled += 1;
        let events = &self.events_buf;
        let pending = &mut self.pending;
        let mut wait = move || {
            let mut events = events.lock().unwrap_or_else(|e| e.into_inner());
            if timeout.is_zero() {
                poller.poll_now(&mut events, pending)
            } else {
                poller.wait(&mut events, Some(timeout), pending)
            }
        };
        if timeout.is_zero() {
            wait()
        } else {
            // A short inline wait on the host thread: other Python threads run.
            py.detach(wait)
        }
        .map_err(os_error)?;
        py.check_signals()
    }

    fn build_result<'py>(
        &mut self,
        py: Python<'py>,
        ready: &[Ready],
    ) -> PyResult<Bound<'py, PyList>> {
        let out = PyList::empty(py);
        let oneshot = self.poller.as_ref().is_some_and(|p| p.is_oneshot());
        for r in ready {
            let Some(fd) = self.tokens.get(&r.token) else {
                continue;
            };
            let Some(entry) = self.keys.get(fd) else {
                continue;
            };
            if entry.token != r.token {
                continue;
            }
            let mut mask = 0;
            if r.readable {
                mask |= EVENT_READ;
            }
            if r.writable {
                mask |= EVENT_WRITE;
            }
            mask &= entry.events;
            if oneshot {
                if let Some(p) = &self.poller {
                    p.modify(
                        *fd,
                        entry.token,
                        entry.events & EVENT_READ != 0,
                        entry.events & EVENT_WRITE != 0,
                    )?;
                }
            }
            if mask != 0 {
                out.append(PyTuple::new(
                    py,
                    [
                        entry.key.clone_ref(py).into_bound(py),
                        mask.into_pyobject(py)?.into_any(),
                    ],
                )?)?;
            }
        }
        self.last_event_count = out.len();
        Ok(out)
    }
}

#[pymethods]
impl Selector {
    #[new]
    fn new(py: Python<'_>) -> PyResult<Self> {
        let key_type = py.import("selectors")?.getattr("SelectorKey")?.unbind();
        Ok(Selector {
            poller: Some(Arc::new(IoPoller::new().map_err(os_error)?)),
            worker: None,
            keys: HashMap::new(),
            tokens: HashMap::new(),
            next_token: 1,
            guest: false,
            pending: Vec::new(),
            events_buf: std::sync::Mutex::new(IoPoller::new_events()),
            key_type,
            mapping: None,
            ticks_polled: 0,
            iterations: 0,
            last_event_count: 0,
        })
    }

    #[pyo3(signature = (fileobj, events, data=None))]
    fn register(
        &mut self,
        py: Python<'_>,
        fileobj: Bound<'_, PyAny>,
        events: Bound<'_, PyAny>,
        data: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let mask = check_events(&events)?;
        let poller = Arc::clone(self.live_poller()?);
        let fd = self.lookup_fd(&fileobj)?;
        if self.keys.contains_key(&fd) {
            return Err(PyKeyError::new_err(format!(
                "{} (FD {}) is already registered",
                fileobj.repr()?,
                fd
            )));
        }
        let token = self.next_token;
        self.next_token += 1;
        poller
            .add(fd, token, mask & EVENT_READ != 0, mask & EVENT_WRITE != 0)
            .map_err(os_error)?;
        let key = self.key_type.call1(py, (&fileobj, fd as i64, mask, data))?;
        self.tokens.insert(token, fd);
        self.keys.insert(
            fd,
            Entry {
                token,
                events: mask,
                fileobj: fileobj.unbind(),
                key: key.clone_ref(py),
            },
        );
        Ok(key)
    }

    fn unregister(&mut self, fileobj: Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let fd = self.lookup_fd(&fileobj)?;
        let Some(entry) = self.keys.remove(&fd) else {
            return Err(Self::not_registered(&fileobj)?);
        };
        self.tokens.remove(&entry.token);
        if let Some(p) = &self.poller {
            // Like EpollSelector: the fd may already be closed; the registration is
            // gone either way, and stale events are dropped by token.
            let _ = p.delete(fd);
        }
        Ok(entry.key)
    }

    #[pyo3(signature = (fileobj, events, data=None))]
    fn modify(
        &mut self,
        py: Python<'_>,
        fileobj: Bound<'_, PyAny>,
        events: Bound<'_, PyAny>,
        data: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let fd = self.lookup_fd(&fileobj)?;
        let mask = check_events(&events)?;
        let poller = Arc::clone(self.live_poller()?);
        let key_type = self.key_type.clone_ref(py);
        let Some(entry) = self.keys.get_mut(&fd) else {
            return Err(Self::not_registered(&fileobj)?);
        };
        let data = data.unwrap_or_else(|| py.None().into_bound(py));
        let old_key = entry.key.bind(py);
        let old_data = old_key.getattr(pyo3::intern!(py, "data"))?;
        let mut changed = false;
        if mask != entry.events {
            poller.modify(
                fd,
                entry.token,
                mask & EVENT_READ != 0,
                mask & EVENT_WRITE != 0,
            )?;
            changed = true;
        }
        if !data.is(&old_data) && data.ne(&old_data)? {
            changed = true;
        }
        if changed {
            let original = old_key.getattr(pyo3::intern!(py, "fileobj"))?;
            entry.key = key_type.call1(py, (original, fd as i64, mask, data))?;
            entry.events = mask;
        }
        Ok(entry.key.clone_ref(py))
    }

    fn get_key(&self, fileobj: Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        if self.poller.is_none() {
            return Err(closed_error());
        }
        let fd = self.lookup_fd(&fileobj)?;
        match self.keys.get(&fd) {
            Some(e) => Ok(e.key.clone_ref(fileobj.py())),
            None => Err(Self::not_registered(&fileobj)?),
        }
    }

    fn get_map(slf: &Bound<'_, Self>) -> PyResult<Option<Py<SelectorMapping>>> {
        let mut this = slf.borrow_mut();
        if this.poller.is_none() {
            return Ok(None);
        }
        if this.mapping.is_none() {
            this.mapping = Some(Py::new(
                slf.py(),
                SelectorMapping {
                    selector: slf.clone().unbind(),
                },
            )?);
        }
        Ok(this.mapping.as_ref().map(|m| m.clone_ref(slf.py())))
    }

    /// Ordinary mode: wait up to `timeout` seconds (None: forever) with the GIL
    /// released. Guest mode: never wait; see the module docs.
    #[pyo3(signature = (timeout=None))]
    fn select<'py>(
        &mut self,
        py: Python<'py>,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyList>> {
        let poller = Arc::clone(self.live_poller()?);
        let mut ready = std::mem::take(&mut self.pending);
        if self.guest {
            self.iterations += 1;
            if let Some(w) = &self.worker {
                w.note_progress();
                if let Some(err) = w.take_result(&mut ready) {
                    return Err(os_error(err));
                }
            }
            if ready.is_empty() {
                self.poll_into_pending(py, Duration::ZERO)?;
                ready = std::mem::take(&mut self.pending);
            }
        } else {
            let timeout = match timeout {
                None => None,
                Some(t) if t <= 0.0 || t.is_nan() => Some(Duration::ZERO),
                Some(t) => Some(Duration::from_secs_f64(t.min(MAX_TIMEOUT_SECS))),
            };
            let events = &self.events_buf;
            let out = py
                .detach(|| {
                    let mut events = events.lock().unwrap_or_else(|e| e.into_inner());
                    let mut out = Vec::new();
                    poller.wait(&mut events, timeout, &mut out).map(|()| out)
                })
                .map_err(os_error)?;
            ready.extend(out);
            py.check_signals()?;
        }
        self.build_result(py, &ready)
    }

    fn close(&mut self, py: Python<'_>) {
        if let Some(mut worker) = self.worker.take() {
            py.detach(|| {
                worker.close(CLOSE_JOIN_TIMEOUT);
            });
        }
        if let Some(p) = self.poller.take() {
            for fd in self.keys.keys() {
                let _ = p.delete(*fd);
            }
        }
        self.keys.clear();
        self.tokens.clear();
        self.pending.clear();
        self.mapping = None;
        self.guest = false;
    }

    // The keys' data (asyncio's reader/writer handles) refer back to the loop,
    // which refers to this selector: let the garbage collector see that cycle,
    // so an unclosed loop is collected (and closed by its __del__) like a stock one.
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        for entry in self.keys.values() {
            visit.call(&entry.fileobj)?;
            visit.call(&entry.key)?;
        }
        visit.call(&self.key_type)?;
        if let Some(mapping) = &self.mapping {
            visit.call(mapping)?;
        }
        Ok(())
    }

    fn __clear__(&mut self) {
        self.keys.clear();
        self.tokens.clear();
        self.mapping = None;
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&mut self, py: Python<'_>, _args: &Bound<'_, PyTuple>) {
        self.close(py);
    }

    // ---- guest-mode controls (host thread only) ---------------------------

    /// Switch between ordinary and guest mode.
    fn set_guest_mode(&mut self, on: bool) -> PyResult<()> {
        self.live_poller()?;
        self.guest = on;
        Ok(())
    }

    #[getter]
    fn guest_mode(&self) -> bool {
        self.guest
    }

    /// End of a tick: poll (without waiting, or waiting at most `timeout`
    /// seconds on this thread with the GIL released) and keep the events for
    /// the next tick. Returns True when something is ready, so the next tick
    /// need not hand the wait to the worker.
    #[pyo3(signature = (timeout=0.0))]
    fn poll_ready(&mut self, py: Python<'_>, timeout: f64) -> PyResult<bool> {
        if self.pending.is_empty() {
            let timeout = if timeout > 0.0 {
                Duration::from_secs_f64(timeout.min(MAX_TIMEOUT_SECS))
            } else {
                Duration::ZERO
            };
            self.poll_into_pending(py, timeout)?;
        }
        Ok(!self.pending.is_empty())
    }

    /// How many (key, events) pairs the last `select()` returned.
    #[getter]
    fn last_event_count(&self) -> usize {
        self.last_event_count
    }

    /// Hand the blocking wait to the worker thread. When it returns, the worker
    /// calls `hook(link)` exactly once (from the worker thread).
    #[pyo3(signature = (timeout, hook, link))]
    fn arm(&mut self, timeout: Option<f64>, hook: Py<PyAny>, link: Py<PyAny>) -> PyResult<()> {
        let poller = Arc::clone(self.live_poller()?);
        if !self.guest {
            return Err(PyRuntimeError::new_err("arm() is only valid in guest mode"));
        }
        let timeout = timeout.map(|t| Duration::from_secs_f64(t.clamp(0.0, MAX_TIMEOUT_SECS)));
        let worker = self.worker.get_or_insert_with(|| IoWorker::new(poller));
        worker
            .arm(timeout, Box::new(PyJob { hook, link }))
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))
    }

    /// New work appeared on the host thread while the worker may be waiting:
    /// make the wait return now. Returns True if a notify was sent (at most one
    /// per wait).
    fn wakeup(&self) -> PyResult<bool> {
        match &self.worker {
            Some(w) => w.request_wakeup().map_err(os_error),
            None => Ok(false),
        }
    }

    /// Install (or with `threshold=0`, remove) the stuck-tick watchdog: when no
    /// loop iteration starts for `threshold` seconds while the host holds the
    /// chain, the worker calls `hook(probe)` once, from the worker thread.
    #[pyo3(signature = (threshold, hook=None, probe=None))]
    fn set_watchdog(
        &mut self,
        threshold: f64,
        hook: Option<Py<PyAny>>,
        probe: Option<Py<PyAny>>,
    ) -> PyResult<()> {
        let poller = Arc::clone(self.live_poller()?);
        let worker = self.worker.get_or_insert_with(|| IoWorker::new(poller));
        let watchdog = match (hook, probe) {
            (Some(hook), Some(probe)) if threshold > 0.0 => Some(Watchdog {
                threshold: Duration::from_secs_f64(threshold.min(MAX_TIMEOUT_SECS)),
                probe: Arc::new(move || {
                    // SAFETY: a plain C query, valid in any state of the interpreter.
                    if unsafe { pyo3::ffi::Py_IsInitialized() } == 0 {
                        return;
                    }
                    Python::attach(|py| {
                        if let Err(err) = hook.call1(py, (probe.clone_ref(py),)) {
                            err.write_unraisable(py, Some(hook.bind(py)));
                        }
                    });
                }),
            }),
            (None, None) => None,
            _ if threshold <= 0.0 => None,
            _ => {
                return Err(PyValueError::new_err(
                    "set_watchdog needs both hook and probe",
                ))
            }
        };
        worker.set_watchdog(watchdog).map_err(os_error)
    }

    /// Test hook: make the worker's next wait fail with OS error `errno`, as a
    /// broken poller would. (Creates the worker if needed.)
    fn _fail_next_wait(&mut self, errno: i32) -> PyResult<()> {
        let poller = Arc::clone(self.live_poller()?);
        self.worker
            .get_or_insert_with(|| IoWorker::new(poller))
            .inject_wait_error(errno);
        Ok(())
    }

    /// Take the chain back from a worker that is still waiting (a run that ended
    /// abnormally). Returns False if the worker did not give it back in time.
    fn disarm(&self, py: Python<'_>) -> bool {
        match &self.worker {
            Some(w) => {
                let (let_go, job) = py.detach(|| w.disarm(CLOSE_JOIN_TIMEOUT));
                drop(job); // back with the GIL: the link's __del__ may run here
                let_go
            }
            None => true,
        }
    }

    /// The OS poller's descriptor, for hosts that watch it themselves
    /// (thread-free mode). Raises on platforms without one (Windows IOCP).
    fn fileno(&self) -> PyResult<i64> {
        #[cfg(unix)]
        {
            Ok(self.live_poller()?.raw_fd() as i64)
        }
        #[cfg(not(unix))]
        {
            self.live_poller()?;
            Err(pyo3::exceptions::PyNotImplementedError::new_err(
                "this platform's poller has no descriptor to watch; use the worker thread",
            ))
        }
    }

    /// Thread-free mode: the host now carries the idle guest's wait; the
    /// watchdog sleeps until the next loop iteration.
    fn park_watchdog(&self) {
        if let Some(w) = &self.worker {
            w.park_watchdog();
        }
    }

    /// Interrupt the poller unconditionally (thread-free mode: the host is
    /// watching the poller's descriptor, which becomes readable).
    fn notify(&self) -> PyResult<()> {
        self.live_poller()?.notify().map_err(os_error)
    }

    /// True while the worker holds the chain (blocked in, or about to start, a wait).
    #[getter]
    fn worker_waiting(&self) -> bool {
        self.worker
            .as_ref()
            .is_some_and(|w| matches!(w.state(), crate::handoff::State::WorkerTurn { .. }))
    }

    /// Counters for benchmarks and tests: worker waits, forced wakeups, host polls.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        let (waits, notifies) = self.worker.as_ref().map_or((0, 0), |w| {
            (
                w.counters().waits.load(Ordering::Relaxed),
                w.counters().notifies.load(Ordering::Relaxed),
            )
        });
        d.set_item("worker_waits", waits)?;
        d.set_item("wakeups", notifies)?;
        d.set_item("host_polls", self.ticks_polled)?;
        d.set_item("iterations", self.iterations)?;
        d.set_item("registered", self.keys.len())?;
        Ok(d)
    }

    fn __len__(&self) -> usize {
        self.keys.len()
    }
}

/// The read-only mapping `get_map()` returns: fd or file object -> SelectorKey.
#[pyclass(module = "asyncio_guest._core")]
pub struct SelectorMapping {
    selector: Py<Selector>,
}

#[pymethods]
impl SelectorMapping {
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.selector)
    }

    fn __len__(&self, py: Python<'_>) -> usize {
        self.selector.borrow(py).keys.len()
    }

    fn __getitem__(&self, py: Python<'_>, fileobj: Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let sel = self.selector.borrow(py);
        let fd = sel
            .lookup_fd(&fileobj)
            .map_err(|_| PyKeyError::new_err(fileobj.clone().unbind()))?;
        match sel.keys.get(&fd) {
            Some(e) => Ok(e.key.clone_ref(py)),
            None => Err(PyKeyError::new_err(fileobj.unbind())),
        }
    }

    #[pyo3(signature = (fileobj, default=None))]
    fn get(
        &self,
        py: Python<'_>,
        fileobj: Bound<'_, PyAny>,
        default: Option<Py<PyAny>>,
    ) -> Py<PyAny> {
        let sel = self.selector.borrow(py);
        match sel
            .lookup_fd(&fileobj)
            .ok()
            .and_then(|fd| sel.keys.get(&fd))
        {
            Some(e) => e.key.clone_ref(py),
            None => default.unwrap_or_else(|| py.None()),
        }
    }

    fn __contains__(&self, py: Python<'_>, fileobj: Bound<'_, PyAny>) -> bool {
        let sel = self.selector.borrow(py);
        sel.lookup_fd(&fileobj)
            .ok()
            .is_some_and(|fd| sel.keys.contains_key(&fd))
    }

    fn keys<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let sel = self.selector.borrow(py);
        PyList::new(py, sel.keys.keys().map(|fd| *fd as i64))
    }

    fn values<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let sel = self.selector.borrow(py);
        PyList::new(py, sel.keys.values().map(|e| e.key.clone_ref(py)))
    }

    fn items<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let sel = self.selector.borrow(py);
        let items = sel
            .keys
            .iter()
            .map(|(fd, e)| {
                PyTuple::new(
                    py,
                    [
                        (*fd as i64).into_pyobject(py)?.into_any(),
                        e.key.clone_ref(py).into_bound(py),
                    ],
                )
            })
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, items)
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.keys(py)?.into_any().try_iter()?.into_any())
    }
}
