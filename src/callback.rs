//! Calling Python from the worker thread: the guest's next tick and the
//! watchdog's probe are both `hook(arg)` calls made there.
//!
//! Attaching to the interpreter from a foreign thread is only safe while it is
//! running normally: once finalization has begun, a thread that attaches is
//! killed (up to 3.13) or hangs forever (3.14+). The atexit hook
//! (`shutdown_workers`) stops the workers before that point; the check here
//! covers a worker that was still busy then. `Py_IsInitialized` already turns
//! false early in finalization, but the query CPython documents for this is
//! `Py_IsFinalizing`, true from the very start of it. PyO3 performs that check in
//! `Python::try_attach` only when built for 3.13+ specifically, which an abi3
//! build for 3.9 is not, so the interpreter's own query is looked up at run
//! time (feature detection): `Py_IsFinalizing` (3.13+), else
//! `_Py_IsFinalizing` (3.9-3.12). Where neither can be found (Windows, or an
//! interpreter loaded without global symbols), only the atexit shutdown guards.

use pyo3::prelude::*;

use crate::worker::Deliver;

/// Call `hook(arg())` on the calling (worker) thread. Returns false when the
/// call raised (reported through `sys.unraisablehook`, as an exception in a
/// callback nobody awaits should be) or the interpreter cannot be entered any
/// more (the call is then skipped).
pub(crate) fn call_from_worker(
    hook: &Py<PyAny>,
    arg: impl FnOnce(Python<'_>) -> Py<PyAny>,
) -> bool {
    if interpreter_finalizing() {
        return false;
    }
    // `try_attach` refuses (instead of panicking) when the interpreter is not
    // initialized any more or the thread is inside a GC traversal.
    Python::try_attach(|py| match hook.call1(py, (arg(py),)) {
        Ok(_) => true,
        Err(err) => {
            err.write_unraisable(py, Some(hook.bind(py)));
            false
        }
    })
    .unwrap_or(false)
}

/// The job handed to the worker with a wait: post the guest's next link.
pub(crate) struct PostLink {
    /// The host's `run_sync_soon_threadsafe`.
    pub(crate) hook: Py<PyAny>,
    /// The link (the next tick) to post.
    pub(crate) link: Py<PyAny>,
}

impl Deliver for PostLink {
    fn deliver(self: Box<Self>) -> bool {
        // If the hook fails, the link dies here, on this thread; the Python
        // side notices the dropped link and reports the abandoned run. If the
        // interpreter is finalizing, the link is released without attaching
        // (PyO3 defers that reference count change) and nothing is posted.
        let PostLink { hook, link } = *self;
        call_from_worker(&hook, move |_| link)
    }
}

/// True once the interpreter has begun finalization (see the module docs).
fn interpreter_finalizing() -> bool {
    // SAFETY: a plain C query, valid in any state of the interpreter.
    if unsafe { pyo3::ffi::Py_IsInitialized() } == 0 {
        return true;
    }
    match finalizing_query() {
        // SAFETY: the symbol is the interpreter's own `int (void)` query, safe
        // to call from any thread, attached or not.
        Some(query) => unsafe { query() != 0 },
        None => false,
    }
}

type FinalizingQuery = unsafe extern "C" fn() -> std::ffi::c_int;

#[cfg(unix)]
fn finalizing_query() -> Option<FinalizingQuery> {
    use std::sync::OnceLock;
    static QUERY: OnceLock<Option<FinalizingQuery>> = OnceLock::new();
    *QUERY.get_or_init(|| {
        [c"Py_IsFinalizing", c"_Py_IsFinalizing"]
            .into_iter()
            .find_map(|name| {
                // SAFETY: `dlsym` with a NUL-terminated name only looks the
                // symbol up in the already loaded objects.
                let symbol = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
                // SAFETY: both names denote `int (void)` functions in every
                // CPython version that exports them.
                (!symbol.is_null()).then(|| unsafe {
                    std::mem::transmute::<*mut libc::c_void, FinalizingQuery>(symbol)
                })
            })
    })
}

#[cfg(not(unix))]
fn finalizing_query() -> Option<FinalizingQuery> {
    None
}

/// Whether this process's interpreter query was found (for the tests).
pub(crate) fn finalizing_check_available() -> bool {
    finalizing_query().is_some()
}
