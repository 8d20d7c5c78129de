//! `Selector`: the `selectors.BaseSelector` contract asyncio's selector loop uses
//! (register, modify, unregister, get_key, get_map, select, close), implemented
//! over [`IoPoller`], plus the guest-mode controls the Python driver calls.
//!
//! Two modes:
//! * ordinary: `select(timeout)` blocks on the calling thread, detached from
//!   the interpreter, like `selectors.EpollSelector`;
//! * guest: `select()` never blocks. It returns what the last handed-off wait
//!   saw (or what the end-of-tick poll buffered), or else polls without
//!   waiting. Between ticks the wait is carried by the worker thread
//!   ([`Selector::arm`]) or by the host watching [`Selector::fileno`]
//!   ([`Selector::arm_host_watch`]); see [`crate::handoff`].
//!
//! All key bookkeeping lives here; the worker only sees tokens. Each event is
//! checked against the live registration before it is turned into a
//! `(key, events)` pair: unknown or replaced tokens are dropped, and the mask
//! is cut down to the events the key still asks for.
//!
//! # Threads
//!
//! Every method takes `&self` and serializes on one internal mutex, so calls
//! from several threads (a registration from a host callback on another
//! thread, or any call under free-threaded Python) are ordered instead of
//! failing with "Already borrowed". Two rules keep that mutex deadlock-free:
//! it is taken with [`MutexExt::lock_py_attached`], which detaches while it
//! waits; and no Python code runs while it is held (no calls, no allocation
//! that could start the garbage collector, and no reference dropped that could
//! run a `__del__`, which might call back into this selector). Waits (ordinary
//! `select`, an inline wait, `close`, `disarm`) happen detached, with the mutex
//! released.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use polling::Events;
use pyo3::exceptions::{PyKeyError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::MutexExt;
use pyo3::types::{PyDict, PyList, PyTuple};
use pyo3::{PyTraverseError, PyVisit};

use crate::callback::{call_from_worker, PostLink};
use crate::errors::{closed_error, os_error};
use crate::fileobj::{check_events, fileobj_to_fd, to_raw, EVENT_READ, EVENT_WRITE};
use crate::handoff::State;
use crate::mapping::SelectorMapping;
use crate::poller::{IoPoller, RawSource, Ready};
use crate::timeout::{to_duration, Negative};
use crate::worker::{ArmError, IoWorker, Watchdog};

/// How long `close()` and `disarm()` wait for the worker before giving up on it.
const CLOSE_JOIN_TIMEOUT: Duration = Duration::from_secs(5);

/// One registered source.
pub(crate) struct Registration {
    /// Unique for the life of the selector, unlike descriptor numbers.
    token: usize,
    events: i64,
    fileobj: Py<PyAny>,
    pub(crate) key: Py<PyAny>,
}

/// Everything the mutex guards.
pub(crate) struct Bookkeeping {
    /// `None` once closed.
    poller: Option<Arc<IoPoller>>,
    /// `None` once closed.
    worker: Option<IoWorker>,
    pub(crate) keys: HashMap<RawSource, Registration>,
    tokens: HashMap<usize, RawSource>,
    next_token: usize,
    guest: bool,
    /// Events fetched by an end-of-tick poll, for the next `select()`.
    buffered: Vec<Ready>,
    mapping: Option<Py<SelectorMapping>>,
    /// Polls made on the host thread (end-of-tick polls and inline waits).
    host_polls: u64,
    /// Guest-mode `select()` calls: one per loop iteration.
    iterations: u64,
    last_event_count: usize,
}

impl Bookkeeping {
    fn live_poller(&self) -> PyResult<Arc<IoPoller>> {
        self.poller.clone().ok_or_else(closed_error)
    }

    fn live_worker(&self) -> PyResult<IoWorker> {
        self.worker.clone().ok_or_else(closed_error)
    }

    /// The descriptor a file object whose `fileno()` no longer works (a closed
    /// socket) was registered under, found by identity.
    fn fd_registered_as(&self, fileobj: &Bound<'_, PyAny>) -> Option<RawSource> {
        self.keys
            .iter()
            .find(|(_, r)| r.fileobj.as_ptr() == fileobj.as_ptr())
            .map(|(fd, _)| *fd)
    }
}

/// The selector asyncio's loop runs on; see the module documentation.
#[pyclass(module = "asyncio_guest._core", weakref, frozen)]
pub struct Selector {
    state: Mutex<Bookkeeping>,
    /// The OS event buffer for waits on a Python thread (`Events` is not `Sync`).
    events: Mutex<Events>,
    key_type: Py<PyAny>,
}

impl Selector {
    pub(crate) fn lock(&self, py: Python<'_>) -> MutexGuard<'_, Bookkeeping> {
        // No code that can panic runs under this lock except bookkeeping that
        // stays consistent; a poisoned lock is still usable.
        self.state
            .lock_py_attached(py)
            .unwrap_or_else(|e| e.into_inner())
    }

    fn lock_events(&self, py: Python<'_>) -> MutexGuard<'_, Events> {
        self.events
            .lock_py_attached(py)
            .unwrap_or_else(|e| e.into_inner())
    }

    /// `selectors._BaseSelectorImpl._fileobj_lookup`: an fd, or for an object
    /// whose `fileno()` no longer works (a closed socket), the fd it was
    /// registered under.
    pub(crate) fn lookup_fd(&self, fileobj: &Bound<'_, PyAny>) -> PyResult<RawSource> {
        let py = fileobj.py();
        match fileobj_to_fd(fileobj) {
            Ok(fd) => to_raw(fd),
            Err(err) if err.is_instance_of::<PyValueError>(py) => {
                self.lock(py).fd_registered_as(fileobj).ok_or(err)
            }
            Err(err) => Err(err),
        }
    }

    fn not_registered(fileobj: &Bound<'_, PyAny>) -> PyResult<PyErr> {
        Ok(PyKeyError::new_err(format!(
            "{} is not registered",
            fileobj.repr()?
        )))
    }

    /// Poll on this thread, waiting at most `timeout` (detached), and buffer
    /// what is ready for the next `select()`.
    fn poll_and_buffer(&self, py: Python<'_>, timeout: Duration) -> PyResult<()> {
        let poller = {
            let mut st = self.lock(py);
            let poller = st.live_poller()?;
            if let Some(w) = &st.worker {
                if matches!(w.state(), State::WorkerTurn { .. }) {
                    return Err(PyRuntimeError::new_err(
                        "cannot poll on the host thread while the I/O worker is waiting",
                    ));
                }
            }
            st.host_polls += 1;
            poller
        };
        let mut got = Vec::new();
        let polled = if timeout.is_zero() {
            poller.poll_now(&mut self.lock_events(py), &mut got)
        } else {
            // A short inline wait on the host thread: other Python threads run.
            py.detach(|| {
                let mut events = self.events.lock().unwrap_or_else(|e| e.into_inner());
                poller.wait(&mut events, Some(timeout), &mut got)
            })
        };
        polled.map_err(os_error)?;
        self.lock(py).buffered.append(&mut got);
        py.check_signals()
    }

    /// Turn raw readiness into `(key, events)` pairs (see the module docs).
    fn build_result<'py>(&self, py: Python<'py>, ready: &[Ready]) -> PyResult<Bound<'py, PyList>> {
        let mut pairs: Vec<(Py<PyAny>, i64)> = Vec::with_capacity(ready.len());
        {
            let mut st = self.lock(py);
            let oneshot = st.poller.as_ref().is_some_and(|p| p.is_oneshot());
            for r in ready {
                let Some(fd) = st.tokens.get(&r.token) else {
                    continue;
                };
                let Some(entry) = st.keys.get(fd) else {
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
                    if let Some(p) = &st.poller {
                        p.modify(
                            *fd,
                            entry.token,
                            entry.events & EVENT_READ != 0,
                            entry.events & EVENT_WRITE != 0,
                        )
                        .map_err(os_error)?;
                    }
                }
                if mask != 0 {
                    pairs.push((entry.key.clone_ref(py), mask));
                }
            }
            st.last_event_count = pairs.len();
        }
        let out = PyList::empty(py);
        for (key, mask) in pairs {
            out.append(PyTuple::new(
                py,
                [key.into_bound(py), mask.into_pyobject(py)?.into_any()],
            )?)?;
        }
        Ok(out)
    }

    /// Tell a waiting worker that the interest set changed (see
    /// [`IoWorker::interest_changed`]).
    fn interest_changed(worker: Option<IoWorker>) -> PyResult<()> {
        match worker {
            Some(w) => w.interest_changed().map_err(os_error),
            None => Ok(()),
        }
    }
}

impl Drop for Selector {
    fn drop(&mut self) {
        // Only reached when the selector was dropped without close(): make the
        // thread exit, but do not block a destructor on it.
        let st = self.state.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Some(worker) = st.worker.take() {
            worker.close(Duration::ZERO);
        }
    }
}

#[pymethods]
impl Selector {
    #[new]
    fn new(py: Python<'_>) -> PyResult<Self> {
        let key_type = py.import("selectors")?.getattr("SelectorKey")?.unbind();
        let poller = Arc::new(IoPoller::new().map_err(os_error)?);
        Ok(Selector {
            state: Mutex::new(Bookkeeping {
                worker: Some(IoWorker::new(Arc::clone(&poller))),
                poller: Some(poller),
                keys: HashMap::new(),
                tokens: HashMap::new(),
                next_token: 1,
                guest: false,
                buffered: Vec::new(),
                mapping: None,
                host_polls: 0,
                iterations: 0,
                last_event_count: 0,
            }),
            events: Mutex::new(IoPoller::new_events()),
            key_type,
        })
    }

    #[pyo3(signature = (fileobj, events, data=None))]
    fn register(
        &self,
        py: Python<'_>,
        fileobj: Bound<'_, PyAny>,
        events: Bound<'_, PyAny>,
        data: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let mask = check_events(&events)?;
        self.lock(py).live_poller()?;
        let fd = self.lookup_fd(&fileobj)?;
        let key = self.key_type.call1(py, (&fileobj, fd as i64, mask, data))?;
        let mut st = self.lock(py);
        let poller = st.live_poller()?;
        if st.keys.contains_key(&fd) {
            drop(st);
            return Err(PyKeyError::new_err(format!(
                "{} (FD {}) is already registered",
                fileobj.repr()?,
                fd
            )));
        }
        let token = st.next_token;
        st.next_token += 1;
        poller
            .add(fd, token, mask & EVENT_READ != 0, mask & EVENT_WRITE != 0)
            .map_err(os_error)?;
        st.tokens.insert(token, fd);
        st.keys.insert(
            fd,
            Registration {
                token,
                events: mask,
                fileobj: fileobj.unbind(),
                key: key.clone_ref(py),
            },
        );
        let worker = st.worker.clone();
        drop(st);
        Self::interest_changed(worker)?;
        Ok(key)
    }

    fn unregister(&self, py: Python<'_>, fileobj: Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let fd = self.lookup_fd(&fileobj)?;
        let mut st = self.lock(py);
        let Some(entry) = st.keys.remove(&fd) else {
            drop(st);
            return Err(Self::not_registered(&fileobj)?);
        };
        st.tokens.remove(&entry.token);
        if let Some(p) = &st.poller {
            // Like EpollSelector: the fd may already be closed (the delete
            // then counts as done); the registration is gone either way, and
            // stale events are dropped by token.
            let _ = p.delete(fd);
        }
        let worker = st.worker.clone();
        drop(st);
        Self::interest_changed(worker)?;
        // The file object is released here, with the lock released.
        Ok(entry.key)
    }

    #[pyo3(signature = (fileobj, events, data=None))]
    fn modify(
        &self,
        py: Python<'_>,
        fileobj: Bound<'_, PyAny>,
        events: Bound<'_, PyAny>,
        data: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let fd = self.lookup_fd(&fileobj)?;
        let mask = check_events(&events)?;
        let (token, old_events, old_key) = {
            let st = self.lock(py);
            st.live_poller()?;
            match st.keys.get(&fd) {
                Some(e) => (e.token, e.events, e.key.clone_ref(py)),
                None => {
                    drop(st);
                    return Err(Self::not_registered(&fileobj)?);
                }
            }
        };
        let data = data.unwrap_or_else(|| py.None().into_bound(py));
        let old_key = old_key.into_bound(py);
        let old_data = old_key.getattr(pyo3::intern!(py, "data"))?;
        let events_changed = mask != old_events;
        // As `selectors`: a new key when the events changed or `data != key.data`.
        if !events_changed && (data.is(&old_data) || !data.ne(&old_data)?) {
            return Ok(old_key.unbind());
        }
        let original = old_key.getattr(pyo3::intern!(py, "fileobj"))?;
        let new_key = self.key_type.call1(py, (original, fd as i64, mask, data))?;
        let mut st = self.lock(py);
        let poller = st.live_poller()?;
        let replaced = {
            let Some(entry) = st.keys.get_mut(&fd).filter(|e| e.token == token) else {
                // Unregistered by another thread meanwhile.
                drop(st);
                return Err(Self::not_registered(&fileobj)?);
            };
            if events_changed {
                poller
                    .modify(fd, token, mask & EVENT_READ != 0, mask & EVENT_WRITE != 0)
                    .map_err(os_error)?;
                entry.events = mask;
            }
            std::mem::replace(&mut entry.key, new_key.clone_ref(py))
        };
        let worker = st.worker.clone();
        drop(st);
        drop(replaced);
        if events_changed {
            Self::interest_changed(worker)?;
        }
        Ok(new_key)
    }

    fn get_key(&self, py: Python<'_>, fileobj: Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.lock(py).live_poller()?;
        let fd = self.lookup_fd(&fileobj)?;
        let key = self.lock(py).keys.get(&fd).map(|e| e.key.clone_ref(py));
        match key {
            Some(key) => Ok(key),
            None => Err(Self::not_registered(&fileobj)?),
        }
    }

    fn get_map(slf: &Bound<'_, Self>) -> PyResult<Option<Py<SelectorMapping>>> {
        let py = slf.py();
        let this = slf.get();
        {
            let st = this.lock(py);
            if st.poller.is_none() {
                return Ok(None);
            }
            if let Some(m) = &st.mapping {
                return Ok(Some(m.clone_ref(py)));
            }
        }
        let created = Py::new(py, SelectorMapping::new(slf.clone().unbind()))?;
        let mut st = this.lock(py);
        let mapping = match &st.mapping {
            // Another thread was first: keep its mapping, release ours unlocked.
            Some(existing) => existing.clone_ref(py),
            None => st.mapping.insert(created).clone_ref(py),
        };
        Ok(Some(mapping))
    }

    /// Ordinary mode: wait up to `timeout` seconds (None: forever; <= 0: poll)
    /// detached from the interpreter. Guest mode: never wait; see the module docs.
    #[pyo3(signature = (timeout=None))]
    fn select<'py>(&self, py: Python<'py>, timeout: Option<f64>) -> PyResult<Bound<'py, PyList>> {
        let (poller, worker, mut ready, guest) = {
            let mut st = self.lock(py);
            let poller = st.live_poller()?;
            if st.guest {
                st.iterations += 1;
            }
            (
                poller,
                st.live_worker()?,
                std::mem::take(&mut st.buffered),
                st.guest,
            )
        };
        if guest {
            worker.tick_started().map_err(os_error)?;
            if let Some(err) = worker.take_result(&mut ready) {
                return Err(os_error(err));
            }
            if ready.is_empty() {
                self.poll_and_buffer(py, Duration::ZERO)?;
                ready = std::mem::take(&mut self.lock(py).buffered);
            }
        } else {
            let timeout = to_duration("timeout", timeout, Negative::Poll)?;
            py.detach(|| {
                let mut events = self.events.lock().unwrap_or_else(|e| e.into_inner());
                poller.wait(&mut events, timeout, &mut ready)
            })
            .map_err(os_error)?;
            py.check_signals()?;
        }
        self.build_result(py, &ready)
    }

    fn close(&self, py: Python<'_>) {
        let (worker, poller, keys, mapping) = {
            let mut st = self.lock(py);
            st.tokens.clear();
            st.buffered.clear();
            st.guest = false;
            (
                st.worker.take(),
                st.poller.take(),
                std::mem::take(&mut st.keys),
                st.mapping.take(),
            )
        };
        if let Some(worker) = worker {
            py.detach(|| worker.close(CLOSE_JOIN_TIMEOUT));
        }
        if let Some(p) = poller {
            for fd in keys.keys() {
                let _ = p.delete(*fd);
            }
        }
        // Python objects are released here, with the lock released.
        drop(keys);
        drop(mapping);
    }

    // The keys' data (asyncio's reader/writer handles) refer back to the loop,
    // which refers to this selector: let the garbage collector see that cycle,
    // so an unclosed loop is collected (and closed by its __del__) like a stock one.
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.key_type)?;
        // Never block in a traversal. The lock is only held by code that runs
        // no Python, so it is free whenever the collector runs; if not, the
        // objects are merely not seen as collectable this time.
        let Ok(st) = self.state.try_lock() else {
            return Ok(());
        };
        for entry in st.keys.values() {
            visit.call(&entry.fileobj)?;
            visit.call(&entry.key)?;
        }
        if let Some(mapping) = &st.mapping {
            visit.call(mapping)?;
        }
        Ok(())
    }

    fn __clear__(&self, py: Python<'_>) {
        let (keys, mapping) = {
            let mut st = self.lock(py);
            st.tokens.clear();
            (std::mem::take(&mut st.keys), st.mapping.take())
        };
        drop(keys);
        drop(mapping);
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, PyTuple>) {
        self.close(py);
    }

    fn __len__(&self, py: Python<'_>) -> usize {
        self.lock(py).keys.len()
    }

    // ---- guest-mode controls (host thread) --------------------------------

    /// Switch between ordinary and guest mode. Leaving guest mode ends a host
    /// watch that is still pending (the run is over).
    fn set_guest_mode(&self, py: Python<'_>, on: bool) -> PyResult<()> {
        let worker = {
            let mut st = self.lock(py);
            st.live_poller()?;
            st.guest = on;
            st.live_worker()?
        };
        if !on {
            worker.end_host_watch();
        }
        Ok(())
    }

    /// True in guest mode.
    #[getter]
    fn guest_mode(&self, py: Python<'_>) -> bool {
        self.lock(py).guest
    }

    /// End of a tick: poll the OS, waiting at most `timeout` seconds on this
    /// thread (detached; 0 means do not wait), and buffer what is ready for
    /// the next `select()`. Does nothing if events are already buffered.
    /// Returns True when events are buffered, so the next iteration need not
    /// hand the wait off.
    #[pyo3(signature = (timeout=0.0))]
    fn poll_into_buffer(&self, py: Python<'_>, timeout: f64) -> PyResult<bool> {
        // Checked even when nothing is polled, so bad input always fails.
        let timeout = to_duration("timeout", Some(timeout), Negative::Reject)?;
        if self.lock(py).buffered.is_empty() {
            // "No timeout" is not a wait to start on the host thread: a host
            // that wants to block uses the worker or its fd watch.
            let timeout = timeout.ok_or_else(|| {
                PyValueError::new_err(
                    "timeout must be finite: poll_into_buffer waits on the host thread",
                )
            })?;
            self.poll_and_buffer(py, timeout)?;
        }
        Ok(!self.lock(py).buffered.is_empty())
    }

    /// How many (key, events) pairs the last `select()` returned.
    #[getter]
    fn last_event_count(&self, py: Python<'_>) -> usize {
        self.lock(py).last_event_count
    }

    /// Worker mode: hand the blocking wait to the worker thread (started if
    /// needed). When it returns, the worker calls `hook(link)` exactly once
    /// (from the worker thread). `timeout` in seconds, None for no timeout.
    #[pyo3(signature = (timeout, hook, link))]
    fn arm(
        &self,
        py: Python<'_>,
        timeout: Option<f64>,
        hook: Py<PyAny>,
        link: Py<PyAny>,
    ) -> PyResult<()> {
        let timeout = to_duration("timeout", timeout, Negative::Reject)?;
        let worker = {
            let st = self.lock(py);
            st.live_poller()?;
            if !st.guest {
                return Err(PyRuntimeError::new_err("arm() is only valid in guest mode"));
            }
            st.live_worker()?
        };
        // On failure the link is released here, after the lock.
        worker
            .arm(timeout, Box::new(PostLink { hook, link }))
            .map_err(|e| match e {
                ArmError::Handoff(e) => PyRuntimeError::new_err(e.to_string()),
                ArmError::Spawn(e) => PyRuntimeError::new_err(ArmError::Spawn(e).to_string()),
            })
    }

    /// Host-watch (thread-free) mode: call right before the host starts
    /// watching `fileno()` for the idle guest. From now on `wake()` makes that
    /// descriptor readable and the watchdog sleeps; the next guest-mode
    /// `select()` (the tick the watch starts) takes the wait back.
    fn arm_host_watch(&self, py: Python<'_>) -> PyResult<()> {
        let worker = {
            let st = self.lock(py);
            st.live_poller()?;
            if !st.guest {
                return Err(PyRuntimeError::new_err(
                    "arm_host_watch() is only valid in guest mode",
                ));
            }
            st.live_worker()?
        };
        worker
            .arm_host_watch()
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))
    }

    /// Call whenever host code adds work the idle guest's pending wait does
    /// not know about (a callback, a timer earlier than the wait's deadline, a
    /// stop request), in either wait mode: the worker's wait returns, or the
    /// host's watched descriptor becomes readable, so a tick runs soon. A
    /// no-op during a tick, and after the first call per wait. Returns True
    /// when the poller was interrupted.
    fn wake(&self, py: Python<'_>) -> PyResult<bool> {
        let worker = self.lock(py).worker.clone();
        match worker {
            Some(w) => w.wake().map_err(os_error),
            None => Ok(false),
        }
    }

    /// Install (or with `threshold=0`, remove) the stuck-tick watchdog: when no
    /// loop iteration starts for `threshold` seconds while the host holds the
    /// chain, the worker calls `hook(probe)` once, from the worker thread. The
    /// worker thread starts at the next tick, not here.
    #[pyo3(signature = (threshold, hook=None, probe=None))]
    fn set_watchdog(
        &self,
        py: Python<'_>,
        threshold: f64,
        hook: Option<Py<PyAny>>,
        probe: Option<Py<PyAny>>,
    ) -> PyResult<()> {
        let threshold =
            to_duration("threshold", Some(threshold), Negative::Reject)?.filter(|t| !t.is_zero());
        let watchdog = match (threshold, hook, probe) {
            (Some(threshold), Some(hook), Some(probe)) => Some(Watchdog {
                threshold,
                probe: Arc::new(move || {
                    call_from_worker(&hook, |py| probe.clone_ref(py));
                }),
            }),
            (None, _, _) | (_, None, None) => None,
            _ => {
                return Err(PyValueError::new_err(
                    "set_watchdog needs both hook and probe",
                ))
            }
        };
        let worker = self.lock(py).live_worker()?;
        worker.set_watchdog(watchdog);
        Ok(())
    }

    /// Test hook: make the worker's next wait fail with OS error `errno`, as a
    /// broken poller would.
    fn _fail_next_wait(&self, py: Python<'_>, errno: i32) -> PyResult<()> {
        self.lock(py).live_worker()?.inject_wait_error(errno);
        Ok(())
    }

    /// Take the chain back from a wait still handed off (a run that ended
    /// abnormally): a worker's wait is ended and its link released
    /// undelivered, a host watch is ended. Returns False if the worker did not
    /// give it back in time.
    fn disarm(&self, py: Python<'_>) -> bool {
        let Some(worker) = self.lock(py).worker.clone() else {
            return true;
        };
        let (let_go, job) = py.detach(|| worker.disarm(CLOSE_JOIN_TIMEOUT));
        drop(job); // attached again: the link's __del__ may run here
        let_go
    }

    /// The OS poller's descriptor, for hosts that watch it themselves
    /// (host-watch mode). Raises on platforms without one (Windows IOCP).
    fn fileno(&self, py: Python<'_>) -> PyResult<i64> {
        let poller = self.lock(py).live_poller()?;
        #[cfg(unix)]
        {
            Ok(poller.raw_fd() as i64)
        }
        #[cfg(not(unix))]
        {
            drop(poller);
            Err(pyo3::exceptions::PyNotImplementedError::new_err(
                "this platform's poller has no descriptor to watch; use the worker thread",
            ))
        }
    }

    /// True while the worker holds the chain (blocked in, or about to start, a wait).
    #[getter]
    fn worker_waiting(&self, py: Python<'_>) -> bool {
        self.wait_holder(py) == "worker"
    }

    /// Who holds the guest's chain: "tick" (the host: a tick is queued or
    /// running), "worker" (the worker thread waits), "host-watch" (the host
    /// watches `fileno()`), or "closed".
    #[getter]
    fn wait_holder(&self, py: Python<'_>) -> &'static str {
        let Some(worker) = self.lock(py).worker.clone() else {
            return "closed";
        };
        match worker.state() {
            State::HostTurn => "tick",
            State::WorkerTurn { .. } => "worker",
            State::HostWatch { .. } => "host-watch",
            State::Closed => "closed",
        }
    }

    /// True while this selector has a worker thread (it starts on demand and
    /// exits after a second with nothing to do).
    #[getter]
    fn worker_thread_running(&self, py: Python<'_>) -> bool {
        self.lock(py)
            .worker
            .as_ref()
            .is_some_and(IoWorker::thread_running)
    }

    /// Counters for benchmarks and tests: `worker_waits` (waits handed to the
    /// worker), `wakeups` (pending waits interrupted by `wake()`), `rewaits`
    /// (worker waits restarted for a changed interest set), `host_polls`
    /// (polls on the host thread), `iterations` (guest-mode `select()` calls)
    /// and `registered` (sources).
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let (worker, host_polls, iterations, registered) = {
            let st = self.lock(py);
            (
                st.worker.clone(),
                st.host_polls,
                st.iterations,
                st.keys.len(),
            )
        };
        let count = |read: fn(&IoWorker) -> u64| worker.as_ref().map_or(0, read);
        let d = PyDict::new(py);
        d.set_item(
            "worker_waits",
            count(|w| w.counters().worker_waits.load(Ordering::Relaxed)),
        )?;
        d.set_item(
            "wakeups",
            count(|w| w.counters().wakeups.load(Ordering::Relaxed)),
        )?;
        d.set_item(
            "rewaits",
            count(|w| w.counters().rewaits.load(Ordering::Relaxed)),
        )?;
        d.set_item("host_polls", host_polls)?;
        d.set_item("iterations", iterations)?;
        d.set_item("registered", registered)?;
        Ok(d)
    }
}
