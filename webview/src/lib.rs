//! `asyncio_guest_webview._webview`: a small, safe PyO3 binding of the
//! webview/webview C library (through the `wv-sys` crate, which bundles the
//! library's source and builds it with CMake against WebKitGTK 4.1 on Linux).
//!
//! # Threads
//!
//! A webview belongs to the thread that created it (its *owner*, the GUI
//! thread): GTK is single-threaded, and `webview_run` must run there.  Every
//! method that touches the window or the page checks the calling thread and
//! raises `RuntimeError` elsewhere.  Exactly three calls are thread-safe,
//! because the library implements them as a post to the GUI loop
//! (`g_idle_add_full` on GTK): [`NativeWebview::dispatch`],
//! [`NativeWebview::terminate`] and [`NativeWebview::return_`].  They take the
//! handle lock, so they can never race with `destroy()` freeing the handle: once
//! destruction starts they raise `RuntimeError` instead of touching freed memory.
//!
//! The class is therefore `Send + Sync` (not `unsendable`): the asyncio-guest
//! worker thread must be able to call `dispatch` on it.
//!
//! # The GIL
//!
//! `run()` (and the event-queue drain in `destroy()`) release the GIL while the
//! GUI loop blocks.  Callbacks coming from C (bound JS functions and dispatched
//! callables) attach to the interpreter with `Python::attach` before touching any
//! Python object; an `Exception` they raise is reported through
//! `sys.unraisablehook` (there is no Python caller to give it to), while a
//! `BaseException` such as `KeyboardInterrupt` stops the loop and is re-raised
//! by `run()`.
//!
//! # Lifetimes of what we hand to C
//!
//! * A dispatched callable is boxed and handed over as the `arg` pointer; the
//!   trampoline takes the box back, so each callable is freed exactly once, when
//!   it runs.  `destroy()` drains the GUI queue first so none is left behind.
//! * The library copies a binding's `arg` pointer into calls it has already
//!   queued, so a binding record stays alive after `unbind` until `destroy()`
//!   has drained the queue and freed the library object.
//!
//! # Draining before destroy
//!
//! The library's GTK destructor frees the web view widget and *then* runs what
//! is still queued, so a result queued by `webview_return` would call into the
//! freed widget.  [`drain_queue`] runs the queue empty first.  It is written
//! once, over three function pointers, and serves both this module's linked
//! library and a libwebview that another binding loaded with ctypes (the
//! `webview-python` adapter calls [`drain_library_queue`]).
#![warn(missing_docs)]

use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, ThreadId};

use pyo3::exceptions::{PyException, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyString;
use wv_sys as sys;

pyo3::create_exception!(
    _webview,
    WebviewError,
    PyRuntimeError,
    "An error code returned by the webview C library."
);

// `request_close` does exactly what the window's close button does, with each
// platform's own call.  Only the GTK path is built and tested here; the
// Windows and macOS ones follow those platforms' documented APIs.

#[cfg(all(unix, not(target_os = "macos")))]
extern "C" {
    // From GTK 3, which the WebKitGTK 4.1 link line already pulls in: emits
    // "delete-event", then destroys the window.
    fn gtk_window_close(window: *mut c_void);
}

#[cfg(windows)]
extern "system" {
    // From user32, which wv-sys links: the message the close button sends.
    fn PostMessageW(window: *mut c_void, message: u32, wparam: usize, lparam: isize) -> i32;
}

#[cfg(target_os = "macos")]
extern "C" {
    // From the Objective-C runtime, which the Cocoa framework link pulls in.
    fn sel_registerName(name: *const c_char) -> *mut c_void;
    // Declared with the exact argument types of the message sent, as Apple
    // requires for calls through objc_msgSend on arm64.
    fn objc_msgSend(receiver: *mut c_void, selector: *mut c_void, sender: *mut c_void);
}

/// Close the library's native window as its close button would.
///
/// # Safety
/// `window` is the library's live native window (`GtkWindow*`, `HWND` or
/// `NSWindow*`), and the caller is on the GUI thread.
unsafe fn close_native_window(window: *mut c_void) {
    #[cfg(all(unix, not(target_os = "macos")))]
    unsafe {
        gtk_window_close(window)
    };
    #[cfg(windows)]
    unsafe {
        const WM_CLOSE: u32 = 0x0010;
        PostMessageW(window, WM_CLOSE, 0, 0);
    }
    #[cfg(target_os = "macos")]
    unsafe {
        objc_msgSend(
            window,
            sel_registerName(c"performClose:".as_ptr()),
            std::ptr::null_mut(),
        )
    };
}

/// The raw library handle.  Only ever dereferenced by the C library; we keep
/// it behind a mutex and null it when the webview is destroyed.
#[derive(Clone, Copy)]
struct RawHandle(sys::webview_t);

// SAFETY: the pointer is only passed back to the C library, on the owner
// thread, except for dispatch/terminate/return, which the library documents as
// thread-safe and which we serialise against destruction with the mutex.
unsafe impl Send for RawHandle {}

struct HandleState {
    handle: RawHandle,
    /// False once `destroy()` has begun: thread-safe posts are refused from
    /// then on, so nothing new is queued that could run after the free.
    accepting: bool,
}

/// What other threads may reach: the handle under a lock.
struct Shared {
    state: Mutex<HandleState>,
    /// A `BaseException` (e.g. KeyboardInterrupt) raised by a callback while
    /// the loop ran; `run()` re-raises it.
    pending_error: Mutex<Option<PyErr>>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, HandleState> {
        // A panic while holding this lock would abort (extern "C" callbacks),
        // so poisoning cannot really happen; recover anyway rather than panic.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One Python callable bound to a JS name.  Boxed; the box's address is the
/// `arg` the C library passes back to `bind_trampoline`.
struct Binding {
    callback: Py<PyAny>,
    shared: Arc<Shared>,
}

#[derive(Default)]
struct OwnerState {
    live: HashMap<String, Box<Binding>>,
    /// Unbound records, kept until destroy (see the module docs).
    // Boxed on purpose: C holds the address of each Binding, so it must not
    // move when the Vec grows.
    #[allow(clippy::vec_box)]
    retired: Vec<Box<Binding>>,
    running: bool,
    destroy_requested: bool,
    destroying: bool,
    destroyed: bool,
}

/// The native webview window.  Low level: the Python class
/// `asyncio_guest_webview.Webview` is the API meant for users.
#[pyclass(
    frozen,
    module = "asyncio_guest_webview._webview",
    name = "NativeWebview"
)]
pub struct NativeWebview {
    shared: Arc<Shared>,
    owner: ThreadId,
    owned: Mutex<OwnerState>,
}

fn error_from_code(code: sys::webview_error_t, what: &str) -> PyErr {
    let reason = match code {
        sys::webview_error_t_WEBVIEW_ERROR_MISSING_DEPENDENCY => "missing dependency",
        sys::webview_error_t_WEBVIEW_ERROR_CANCELED => "canceled",
        sys::webview_error_t_WEBVIEW_ERROR_INVALID_STATE => "invalid state",
        sys::webview_error_t_WEBVIEW_ERROR_INVALID_ARGUMENT => "invalid argument",
        sys::webview_error_t_WEBVIEW_ERROR_DUPLICATE => "duplicate",
        sys::webview_error_t_WEBVIEW_ERROR_NOT_FOUND => "not found",
        _ => "unspecified error",
    };
    WebviewError::new_err(format!("{what} failed: {reason} (webview error {code})"))
}

fn check(code: sys::webview_error_t, what: &str) -> PyResult<()> {
    if code == sys::webview_error_t_WEBVIEW_ERROR_OK {
        Ok(())
    } else {
        Err(error_from_code(code, what))
    }
}

fn c_string(value: &str, what: &str) -> PyResult<CString> {
    CString::new(value)
        .map_err(|_| PyValueError::new_err(format!("{what} must not contain NUL characters")))
}

fn destroyed_error() -> PyErr {
    PyRuntimeError::new_err("the webview was destroyed")
}

/// Report an exception raised by a callback that has no Python caller.
/// `Exception`s go to `sys.unraisablehook`; anything else (KeyboardInterrupt,
/// SystemExit) stops the loop so that `run()` can re-raise it.
fn report_callback_error(py: Python<'_>, err: PyErr, obj: &Bound<'_, PyAny>, shared: &Shared) {
    if err.is_instance_of::<PyException>(py) {
        err.write_unraisable(py, Some(obj));
        return;
    }
    let mut slot = shared
        .pending_error
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if slot.is_none() {
        *slot = Some(err);
    }
    drop(slot);
    let state = shared.lock();
    if state.accepting {
        // SAFETY: the handle is live while `accepting` is set and we hold the lock.
        unsafe { sys::webview_terminate(state.handle.0) };
    }
}

/// What a dispatched call carries through C.
struct Dispatched {
    callable: Py<PyAny>,
    shared: Arc<Shared>,
}

extern "C" fn dispatch_trampoline(_w: sys::webview_t, arg: *mut c_void) {
    // SAFETY: `arg` is the box leaked by `dispatch`, and GLib calls each idle
    // source exactly once, so we are its only owner now.
    let job = unsafe { Box::from_raw(arg.cast::<Dispatched>()) };
    Python::attach(|py| {
        let Dispatched { callable, shared } = *job;
        if let Err(err) = callable.call0(py) {
            report_callback_error(py, err, callable.bind(py), &shared);
        }
    });
}

extern "C" fn bind_trampoline(id: *const c_char, req: *const c_char, arg: *mut c_void) {
    // SAFETY: `arg` points at a boxed `Binding` that the webview keeps alive
    // until the library object is freed (see the module docs); id and req are
    // NUL-terminated strings valid for the duration of this call.
    let binding = unsafe { &*arg.cast::<Binding>() };
    let id = unsafe { CStr::from_ptr(id) }.to_string_lossy();
    let req = unsafe { CStr::from_ptr(req) }.to_string_lossy();
    Python::attach(|py| {
        let result = binding
            .callback
            .call1(py, (PyString::new(py, &id), PyString::new(py, &req)));
        if let Err(err) = result {
            report_callback_error(py, err, binding.callback.bind(py), &binding.shared);
        }
    });
}

/// A dispatched callback, as the C library calls it.
type DispatchCallback = unsafe extern "C" fn(sys::webview_t, *mut c_void);

/// `webview_dispatch`'s signature.
type DispatchFn = unsafe extern "C" fn(
    sys::webview_t,
    Option<DispatchCallback>,
    *mut c_void,
) -> sys::webview_error_t;
/// The signature of `webview_run` and `webview_terminate`.
type HandleFn = unsafe extern "C" fn(sys::webview_t) -> sys::webview_error_t;

/// The library entry points a queue drain needs.  Function pointers rather
/// than direct calls, so that the same drain serves a libwebview loaded by
/// another binding (see the module docs).
#[derive(Clone, Copy)]
struct LoopFns {
    dispatch: DispatchFn,
    run: HandleFn,
    terminate: HandleFn,
}

impl LoopFns {
    /// The library this module links.
    fn linked() -> Self {
        LoopFns {
            dispatch: sys::webview_dispatch,
            run: sys::webview_run,
            terminate: sys::webview_terminate,
        }
    }
}

/// What the drain marker needs: the flag it sets and how to stop the loop.
struct DrainMarker {
    done: AtomicBool,
    terminate: HandleFn,
}

/// Sets `done` and stops the loop: the marker that ends a queue drain.
unsafe extern "C" fn drain_marker(w: sys::webview_t, arg: *mut c_void) {
    // SAFETY: `arg` is the `DrainMarker` on the stack of `drain_queue`, which
    // loops until this has run.
    let marker = unsafe { &*arg.cast::<DrainMarker>() };
    marker.done.store(true, Ordering::SeqCst);
    // SAFETY: called on the GUI thread while the library object is alive.
    unsafe { (marker.terminate)(w) };
}

/// Run the GUI loop until every callback queued so far has run.  GLib runs
/// idle sources of equal priority in FIFO order, so when our marker runs,
/// everything queued before it has run too.  Releases the GIL meanwhile.
///
/// # Safety
/// `handle` must be a live library object of the library `fns` belong to,
/// owned by the calling thread.
unsafe fn drain_queue(py: Python<'_>, fns: LoopFns, handle: RawHandle) {
    let marker = DrainMarker {
        done: AtomicBool::new(false),
        terminate: fns.terminate,
    };
    let marker_addr = &marker as *const DrainMarker as usize;
    py.detach(move || {
        let handle = handle;
        let arg = marker_addr as *mut c_void;
        // SAFETY: the caller guarantees a live handle; the marker outlives the loop.
        let code = unsafe { (fns.dispatch)(handle.0, Some(drain_marker), arg) };
        if code != sys::webview_error_t_WEBVIEW_ERROR_OK {
            return;
        }
        // SAFETY: as above.
        let marker = unsafe { &*(marker_addr as *const DrainMarker) };
        while !marker.done.load(Ordering::SeqCst) {
            unsafe { (fns.run)(handle.0) };
        }
        // The stop request queued by the marker ran inside the same
        // webview_run (it is queued behind the marker), so none is left over.
    });
}

/// Run a libwebview's GUI queue empty before it is destroyed.
///
/// For a library loaded by another binding (the `webview-python` adapter):
/// `handle` is its `webview_t`, and `dispatch`, `run` and `terminate` the
/// addresses of its `webview_dispatch`, `webview_run` and
/// `webview_terminate`.  Must be called on the thread that runs that webview.
#[pyfunction]
fn drain_library_queue(
    py: Python<'_>,
    handle: usize,
    dispatch: usize,
    run: usize,
    terminate: usize,
) -> PyResult<()> {
    if handle == 0 || dispatch == 0 || run == 0 || terminate == 0 {
        return Err(PyValueError::new_err(
            "drain_library_queue() needs a live handle and three function addresses",
        ));
    }
    // SAFETY: the caller passes the addresses of the named C functions, whose
    // signatures are the C API's (api.h); the handle belongs to that library.
    unsafe {
        let fns = LoopFns {
            dispatch: std::mem::transmute::<usize, DispatchFn>(dispatch),
            run: std::mem::transmute::<usize, HandleFn>(run),
            terminate: std::mem::transmute::<usize, HandleFn>(terminate),
        };
        drain_queue(py, fns, RawHandle(handle as sys::webview_t));
    }
    Ok(())
}

/// What a string-taking call needs besides a live handle.
#[derive(Clone, Copy)]
struct StrCall {
    /// The window must still exist (GTK calls on a closed window are invalid).
    window: bool,
}

impl StrCall {
    const WINDOW: StrCall = StrCall { window: true };
    const PAGE: StrCall = StrCall { window: false };
}

impl NativeWebview {
    fn check_owner(&self, what: &str) -> PyResult<()> {
        if thread::current().id() == self.owner {
            Ok(())
        } else {
            Err(PyRuntimeError::new_err(format!(
                "{what} must be called on the thread that created the webview; \
                 use dispatch() to run code there from other threads"
            )))
        }
    }

    fn owned(&self) -> MutexGuard<'_, OwnerState> {
        self.owned.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The live handle, for owner-thread calls.
    fn handle(&self, what: &str) -> PyResult<RawHandle> {
        self.check_owner(what)?;
        let state = self.shared.lock();
        if state.accepting {
            Ok(state.handle)
        } else {
            Err(destroyed_error())
        }
    }

    /// The handle plus a check that the window still exists (the user may
    /// have closed it, after which GTK calls on it would be invalid).
    fn window_handle(&self, what: &str) -> PyResult<RawHandle> {
        let handle = self.handle(what)?;
        // SAFETY: live handle, owner thread.
        if unsafe { sys::webview_get_window(handle.0) }.is_null() {
            return Err(PyRuntimeError::new_err(format!(
                "{what}: the window was closed"
            )));
        }
        Ok(handle)
    }

    /// The one shape of the string-taking calls (title, navigate, set_html,
    /// init, eval): owner thread, live handle (plus a live window where
    /// `needs.window`), the string as C text, the library's error code checked.
    fn call_with_str(
        &self,
        needs: StrCall,
        method: &str,
        arg_name: &str,
        value: &str,
        call: unsafe extern "C" fn(sys::webview_t, *const c_char) -> sys::webview_error_t,
    ) -> PyResult<()> {
        let value = c_string(value, arg_name)?;
        let what = format!("{method}()");
        let handle = if needs.window {
            self.window_handle(&what)?
        } else {
            self.handle(&what)?
        };
        // SAFETY: owner thread, live handle (and window where required); the
        // library copies the string before returning.
        check(
            unsafe { call(handle.0, value.as_ptr()) },
            &format!("webview_{method}"),
        )
    }

    fn destroy_now(&self, py: Python<'_>) {
        let handle = {
            let mut owned = self.owned();
            if owned.destroyed || owned.destroying {
                return;
            }
            owned.destroying = true;
            let mut state = self.shared.lock();
            state.accepting = false;
            state.handle
        };
        // Run everything already queued (results going back to JS, our own
        // dispatched callables) while the library object is still whole; the
        // library's own destructor would otherwise run them after freeing the
        // web view widget.
        // SAFETY: owner thread, live handle of the linked library.
        unsafe { drain_queue(py, LoopFns::linked(), handle) };
        // SAFETY: owner thread; nothing new can be queued (accepting=false).
        // Releasing the GIL: the destructor iterates the GUI loop, which can
        // run queued bind callbacks that need it.
        py.detach(move || {
            let handle = handle;
            unsafe { sys::webview_destroy(handle.0) };
        });
        self.shared.lock().handle = RawHandle(std::ptr::null_mut());
        let (live, retired) = {
            let mut owned = self.owned();
            owned.destroyed = true;
            owned.destroying = false;
            (
                std::mem::take(&mut owned.live),
                std::mem::take(&mut owned.retired),
            )
        };
        // Dropped here, with the GIL held, after the library is gone.
        drop(live);
        drop(retired);
    }
}

#[pymethods]
impl NativeWebview {
    /// Create the window (not shown until it is sized or the loop runs).
    ///
    /// `window` is an optional native parent window handle (a `GtkWindow*` on
    /// Linux) given as an int; without it the webview creates its own window.
    #[new]
    #[pyo3(signature = (debug = false, window = None))]
    fn new(debug: bool, window: Option<usize>) -> PyResult<Self> {
        let parent = window.unwrap_or(0) as *mut c_void;
        // SAFETY: plain FFI call; a null parent means "create a window".
        let handle = unsafe { sys::webview_create(c_int::from(debug), parent) };
        if handle.is_null() {
            return Err(WebviewError::new_err(
                "webview_create failed (no display? GTK could not be initialised, \
                 or WebKitGTK is missing)",
            ));
        }
        Ok(NativeWebview {
            shared: Arc::new(Shared {
                state: Mutex::new(HandleState {
                    handle: RawHandle(handle),
                    accepting: true,
                }),
                pending_error: Mutex::new(None),
            }),
            owner: thread::current().id(),
            owned: Mutex::new(OwnerState::default()),
        })
    }

    /// Run the GUI loop until `terminate()` is called or the window is closed.
    /// Releases the GIL while waiting.  Owner thread only; not re-entrant.
    fn run(&self, py: Python<'_>) -> PyResult<()> {
        let handle = self.handle("run()")?;
        {
            let mut owned = self.owned();
            if owned.running {
                return Err(PyRuntimeError::new_err("run() is already running"));
            }
            owned.running = true;
        }
        let code = py.detach(move || {
            let handle = handle;
            // SAFETY: owner thread, live handle; destroy() is deferred while
            // `running` is set, so the handle outlives this call.
            unsafe { sys::webview_run(handle.0) }
        });
        let destroy_requested = {
            let mut owned = self.owned();
            owned.running = false;
            std::mem::take(&mut owned.destroy_requested)
        };
        if destroy_requested {
            self.destroy_now(py);
        }
        let pending = self
            .shared
            .pending_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(err) = pending {
            return Err(err);
        }
        check(code, "webview_run")
    }

    /// Ask the loop to stop (`run()` returns soon).  Thread-safe.
    fn terminate(&self) -> PyResult<()> {
        let state = self.shared.lock();
        if !state.accepting {
            return Err(destroyed_error());
        }
        // SAFETY: live handle under the lock; documented thread-safe.
        check(
            unsafe { sys::webview_terminate(state.handle.0) },
            "webview_terminate",
        )
    }

    /// Call `fn()` soon on the GUI thread.  Thread-safe; never runs `fn` inline.
    /// FIFO with other dispatches and with results returned to JS.
    fn dispatch(&self, r#fn: Bound<'_, PyAny>) -> PyResult<()> {
        if !r#fn.is_callable() {
            return Err(PyTypeError::new_err(format!(
                "dispatch() needs a callable, got {}",
                r#fn.get_type().name()?
            )));
        }
        let job = Box::into_raw(Box::new(Dispatched {
            callable: r#fn.unbind(),
            shared: Arc::clone(&self.shared),
        }));
        let code = {
            let state = self.shared.lock();
            if state.accepting {
                // SAFETY: live handle under the lock; documented thread-safe.
                unsafe {
                    sys::webview_dispatch(
                        state.handle.0,
                        Some(dispatch_trampoline),
                        job.cast::<c_void>(),
                    )
                }
            } else {
                sys::webview_error_t_WEBVIEW_ERROR_INVALID_STATE
            }
        };
        if code != sys::webview_error_t_WEBVIEW_ERROR_OK {
            // Not queued: take the box back so the callable is released.
            // SAFETY: C did not take ownership.
            drop(unsafe { Box::from_raw(job) });
            if code == sys::webview_error_t_WEBVIEW_ERROR_INVALID_STATE {
                return Err(destroyed_error());
            }
            return Err(error_from_code(code, "webview_dispatch"));
        }
        Ok(())
    }

    /// Settle the JS Promise of call `id`: status 0 resolves it with the JSON
    /// value `result`, anything else rejects it with that value.  `result` must
    /// be JSON text (or "" for undefined).  Thread-safe.
    fn return_(&self, id: &str, status: i32, result: &str) -> PyResult<()> {
        let id = c_string(id, "id")?;
        let result = c_string(result, "result")?;
        let state = self.shared.lock();
        if !state.accepting {
            return Err(destroyed_error());
        }
        // SAFETY: live handle under the lock; documented thread-safe.
        check(
            unsafe { sys::webview_return(state.handle.0, id.as_ptr(), status, result.as_ptr()) },
            "webview_return",
        )
    }

    /// Set the window's title.  Owner thread.
    fn set_title(&self, title: &str) -> PyResult<()> {
        self.call_with_str(
            StrCall::WINDOW,
            "set_title",
            "title",
            title,
            sys::webview_set_title,
        )
    }

    /// Set the window's size; `hint`: 0 none, 1 minimum, 2 maximum, 3 fixed.
    fn set_size(&self, width: i32, height: i32, hint: u32) -> PyResult<()> {
        if width < 0 || height < 0 {
            return Err(PyValueError::new_err(format!(
                "size must not be negative, got {width}x{height}"
            )));
        }
        if hint > sys::webview_hint_t_WEBVIEW_HINT_FIXED {
            return Err(PyValueError::new_err(format!(
                "hint must be 0 (NONE), 1 (MIN), 2 (MAX) or 3 (FIXED), got {hint}"
            )));
        }
        let handle = self.window_handle("set_size()")?;
        // SAFETY: owner thread, live handle, window exists.
        check(
            unsafe { sys::webview_set_size(handle.0, width, height, hint) },
            "webview_set_size",
        )
    }

    /// Load `url` in the page.  Owner thread.
    fn navigate(&self, url: &str) -> PyResult<()> {
        self.call_with_str(StrCall::PAGE, "navigate", "url", url, sys::webview_navigate)
    }

    /// Load `html` as the page.  Owner thread.
    fn set_html(&self, html: &str) -> PyResult<()> {
        self.call_with_str(
            StrCall::PAGE,
            "set_html",
            "html",
            html,
            sys::webview_set_html,
        )
    }

    /// JS run at the start of every page load, before the page's scripts.
    fn init(&self, js: &str) -> PyResult<()> {
        self.call_with_str(StrCall::PAGE, "init", "js", js, sys::webview_init)
    }

    /// Run JS in the page, fire and forget.  Dropped before a page has started
    /// loading (the library's behaviour on GTK).
    fn eval(&self, js: &str) -> PyResult<()> {
        self.call_with_str(StrCall::PAGE, "eval", "js", js, sys::webview_eval)
    }

    /// Make `window.<name>(...)` call `callback(id, json_args)` on the GUI
    /// thread; the callback settles the Promise later with `return_(id, ...)`.
    fn bind(&self, name: &str, callback: Bound<'_, PyAny>) -> PyResult<()> {
        if !callback.is_callable() {
            return Err(PyTypeError::new_err(format!(
                "bind() needs a callable, got {}",
                callback.get_type().name()?
            )));
        }
        if name.is_empty() {
            return Err(PyValueError::new_err("binding name must not be empty"));
        }
        let c_name = c_string(name, "binding name")?;
        let handle = self.handle("bind()")?;
        let mut owned = self.owned();
        if owned.live.contains_key(name) {
            return Err(PyValueError::new_err(format!(
                "{name:?} is already bound; unbind it first"
            )));
        }
        let binding = Box::new(Binding {
            callback: callback.unbind(),
            shared: Arc::clone(&self.shared),
        });
        // Moving the Box later (into `retired`) does not move the Binding, so
        // this address stays valid until destroy drops the box.
        let arg = &*binding as *const Binding as *mut c_void;
        // SAFETY: owner thread, live handle; `arg` outlives every call.
        let code =
            unsafe { sys::webview_bind(handle.0, c_name.as_ptr(), Some(bind_trampoline), arg) };
        if code != sys::webview_error_t_WEBVIEW_ERROR_OK {
            return Err(error_from_code(code, "webview_bind"));
        }
        owned.live.insert(name.to_owned(), binding);
        Ok(())
    }

    /// Remove `window.<name>`.  Calls already queued still reach the callback.
    fn unbind(&self, name: &str) -> PyResult<()> {
        let c_name = c_string(name, "binding name")?;
        let handle = self.handle("unbind()")?;
        let mut owned = self.owned();
        let Some(binding) = owned.live.remove(name) else {
            return Err(PyValueError::new_err(format!("{name:?} is not bound")));
        };
        owned.retired.push(binding);
        // SAFETY: owner thread, live handle.
        check(
            unsafe { sys::webview_unbind(handle.0, c_name.as_ptr()) },
            "webview_unbind",
        )
    }

    /// Close the window as the window manager's close button would.  Owner
    /// thread.  A no-op when the window is already gone.
    fn request_close(&self) -> PyResult<()> {
        let handle = self.handle("request_close()")?;
        // SAFETY: owner thread, live handle.
        let window = unsafe { sys::webview_get_window(handle.0) };
        if window.is_null() {
            return Ok(());
        }
        // SAFETY: `window` is the library's live native window; owner thread.
        unsafe { close_native_window(window) };
        Ok(())
    }

    /// The native window handle (GtkWindow* on Linux) as an int, or None once
    /// the window is closed.  Owner thread.
    fn get_window(&self) -> PyResult<Option<usize>> {
        let handle = self.handle("get_window()")?;
        // SAFETY: owner thread, live handle.
        let window = unsafe { sys::webview_get_window(handle.0) };
        Ok((!window.is_null()).then_some(window as usize))
    }

    /// Free the window and the library object.  Owner thread.  Idempotent.
    /// Inside `run()` it is deferred until `run()` returns (and stops it).
    fn destroy(&self, py: Python<'_>) -> PyResult<()> {
        self.check_owner("destroy()")?;
        {
            let mut owned = self.owned();
            if owned.destroyed || owned.destroying {
                return Ok(());
            }
            if owned.running {
                owned.destroy_requested = true;
                drop(owned);
                return self.terminate();
            }
        }
        self.destroy_now(py);
        Ok(())
    }

    /// True once `destroy()` has begun.
    #[getter]
    fn destroyed(&self) -> bool {
        !self.shared.lock().accepting
    }

    /// True while `run()` runs.
    #[getter]
    fn running(&self) -> bool {
        self.owned().running
    }

    /// True while called on the thread that owns the webview.
    #[getter]
    fn on_owner_thread(&self) -> bool {
        thread::current().id() == self.owner
    }
}

impl Drop for NativeWebview {
    fn drop(&mut self) {
        // Freeing the library object has to happen on its own thread; Python
        // usually deallocates there.  Elsewhere we leak the window rather than
        // call GTK from the wrong thread.
        if thread::current().id() == self.owner {
            Python::attach(|py| self.destroy_now(py));
        } else {
            // The C library may still call into the bindings: keep them.
            std::mem::forget(std::mem::take(&mut *self.owned()));
        }
    }
}

/// The version of the bundled webview C library, e.g. "0.12.0".
#[pyfunction]
fn library_version() -> String {
    // SAFETY: returns a pointer to static data.
    let info = unsafe { &*sys::webview_version() };
    let raw = &info.version;
    format!("{}.{}.{}", raw.major, raw.minor, raw.patch)
}

/// The extension module: `NativeWebview`, `WebviewError`, `library_version`,
/// `drain_library_queue`.
///
/// `gil_used = true`: the bridge's Python state (pending calls, streams, bindings) has not been
/// audited for running without the GIL, so on a free-threaded build importing this module
/// turns the GIL back on (CPython says so with a warning) rather than claim a safety that was
/// never checked.
#[pymodule(gil_used = true)]
fn _webview(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<NativeWebview>()?;
    m.add("WebviewError", m.py().get_type::<WebviewError>())?;
    m.add_function(wrap_pyfunction!(library_version, m)?)?;
    m.add_function(wrap_pyfunction!(drain_library_queue, m)?)?;
    Ok(())
}
