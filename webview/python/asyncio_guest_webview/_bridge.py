"""The JS <-> Python call bridge shared by :class:`~asyncio_guest_webview.Webview` and the
``webview-python`` adapter.

It sits on four primitives of the webview C library, whatever binds them (our PyO3
module or webview-python's ctypes): ``bind`` (JS calls land here as ``(id, json_args)``),
``return_`` (settle that call's Promise), ``eval`` and ``init``.  Everything here runs
on the GUI thread, which is also the thread of the guest asyncio loop.

How a JS call is served
-----------------------
* The library has already decoded nothing: ``json_args`` is the JSON text of the
  argument array.  We decode it and check it against the function's signature, so a
  wrong number of arguments rejects the Promise with a ``TypeError`` *before* the
  function runs.
* A plain function runs right away, inside the bind callback, and its result settles
  the Promise at once.
* An ``async def`` (or a plain function that returns an awaitable) becomes a task on the
  guest loop.  The bind callback runs on the host thread between guest ticks, where
  asyncio-guest makes ``create_task`` work and wakes the loop; a done-callback on the
  task settles the Promise: JSON of the result, or a rejection.
* Rejections carry ``{type, message}``; an init script (:data:`CLIENT_JS`) turns them
  into real JS ``Error`` objects whose message is ``"<PythonType>: <text>"``.
* Shutdown (window closed or ``terminate()``) cancels every call task; their
  done-callbacks reject the Promises with ``CancelledError``.

``evaluate(js)`` goes the other way: the page runs ``js`` and reports the value (as
JSON) through a reserved binding, which completes a future on the guest loop.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import itertools
import json
from typing import Any, Awaitable, Callable, Optional, Protocol

__all__ = ["CLIENT_JS", "REPLY_BINDING", "Bridge", "JavaScriptError", "NativeCalls"]

#: Reserved binding through which the page reports ``evaluate()`` results.
REPLY_BINDING = "__asyncio_guest_webview_reply__"

#: Marker key of the rejection payloads built by :func:`_rejection`.
_ERROR_KEY = "__asyncio_guest_error__"

#: Installed with ``init`` (so it runs on every page load, right after the library's own
#: ``window.__webview__`` glue).  Two jobs:
#:
#: * Wrap the library's ``call`` so that rejections we mark become JS ``Error`` objects
#:   (``error.message`` is "Type: text", ``error.pythonType`` is the type name); other
#:   rejection values (from user code calling ``return_`` itself) pass through untouched.
#: * ``evaluate(key, source)``: run ``source`` with indirect (global) ``eval``, await it if
#:   it is a Promise, and report ``[key, ok, json_or_message, error_name]`` back.
#: * Report ``['ready']`` once the document has loaded, so ``evaluate()`` knows its
#:   script will not be dropped or run in a document about to be replaced.
CLIENT_JS = (
    r"""
(function () {
  'use strict';
  var ERROR_KEY = __ERROR_KEY__;
  var REPLY = __REPLY__;
  var wv = window.__webview__;
  if (!wv || wv.__asyncioGuestPatched) { return; }
  var proto = Object.getPrototypeOf(wv);
  var call = proto.call;
  function toError(value) {
    if (value && typeof value === 'object' && value[ERROR_KEY]) {
      var err = new Error(value.type + ': ' + value.message);
      err.pythonType = value.type;
      err.pythonMessage = value.message;
      return err;
    }
    return value;
  }
  proto.call = function () {
    return call.apply(this, arguments).catch(function (value) { throw toError(value); });
  };
  wv.__asyncioGuestPatched = true;
  window.__asyncio_guest_webview__ = {
    evaluate: function (key, source) {
      function report(ok, payload, name) {
        window[REPLY](key, ok, payload, name || null);
      }
      Promise.resolve()
        .then(function () { return (0, eval)(source); })
        .then(function (value) {
          var text;
          try {
            text = JSON.stringify(value);
          } catch (e) {
            report(false, String(e && e.message || e), 'TypeError');
            return;
          }
          report(true, text === undefined ? 'null' : text);
        }, function (e) {
          var name = (e && e.name) || 'Error';
          var message = (e && e.message !== undefined) ? String(e.message) : String(e);
          report(false, message, name);
        });
    }
  };
  // Tell Python this document can run evaluate() (see Bridge.page_loading).
  function ready() { window[REPLY]('ready'); }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', ready);
  } else {
    ready();
  }
})();
"""
    # str.replace, not % or format: the JS is full of braces and percent signs.
    .replace("__ERROR_KEY__", json.dumps(_ERROR_KEY)).replace(
        "__REPLY__", json.dumps(REPLY_BINDING)
    )
)


class JavaScriptError(Exception):
    """``evaluate()`` failed in the page; ``name`` is the JS error's name."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


class NativeCalls(Protocol):
    """The library primitives the bridge needs (GUI thread only, except ``return_``)."""

    def return_(self, seq: str, status: int, result: str) -> None: ...

    def eval(self, source: str) -> None: ...


def _rejection(type_name: str, message: str) -> str:
    return json.dumps({_ERROR_KEY: True, "type": type_name, "message": message})


def _exception_rejection(exc: BaseException) -> str:
    return _rejection(type(exc).__name__, str(exc))


def _is_async_callable(fn: Callable[..., Any]) -> bool:
    while isinstance(fn, functools.partial):
        fn = fn.func
    if inspect.iscoroutinefunction(fn):
        return True
    call = getattr(fn, "__call__", None)  # noqa: B004 - looking for an async __call__
    return call is not None and inspect.iscoroutinefunction(call)


def _arity_error(name: str, fn: Callable[..., Any], args: list[Any]) -> Optional[str]:
    """A message if ``fn`` cannot take ``args``, else None (also when there is no signature)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None  # builtins without a signature: let the call itself complain
    try:
        sig.bind(*args)
    except TypeError as exc:
        return f"{name}() called from JavaScript with {len(args)} argument(s): {exc}"
    return None


class Bridge:
    """Serves JS calls of bound functions and ``evaluate()``; see the module docstring.

    Lifetime per run: :meth:`attach` (guest loop started), :meth:`begin_shutdown` (window
    closed, ``terminate()``, or the main coroutine ended), ``await`` :meth:`wait_calls`,
    :meth:`detach`.
    """

    def __init__(self, native: NativeCalls) -> None:
        self._native = native
        self._functions: dict[str, Callable[..., Any]] = {}
        #: In-flight async calls: JS call id -> task.
        self._calls: dict[str, asyncio.Task[Any]] = {}
        self._evaluations: dict[str, asyncio.Future[Any]] = {}
        self._keys = itertools.count(1)
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._closing = False
        #: True once the current document reported ``ready`` (see :meth:`page_loading`).
        self._page_ready = False
        self._ready_waiters: list[asyncio.Future[None]] = []
        #: Evaluations already sent to the current document.
        self._sent: set[str] = set()

    # ------------------------------------------------------------------ state

    @property
    def loop(self) -> Optional[asyncio.AbstractEventLoop]:
        """The guest loop while :meth:`serve` runs, else None."""
        return self._loop

    @property
    def pending_calls(self) -> int:
        return len(self._calls)

    def is_bound(self, name: str) -> bool:
        return name in self._functions

    def add(self, name: str, fn: Callable[..., Any]) -> Callable[[str, str], None]:
        """Validate and register ``fn``; returns the raw ``(id, json_args)`` callback to bind."""
        if not isinstance(name, str):
            raise TypeError(f"binding name must be a str, got {type(name).__name__}")
        if not callable(fn):
            raise TypeError(
                f"bind() needs a callable or an async function, got {type(fn).__name__}"
            )
        if name == REPLY_BINDING:
            raise ValueError(f"{name!r} is reserved by asyncio_guest_webview")
        if name in self._functions:
            raise ValueError(f"{name!r} is already bound; unbind it first")
        self._functions[name] = fn
        return functools.partial(self._on_call, name)

    def remove(self, name: str) -> None:
        if name not in self._functions:
            raise ValueError(f"{name!r} is not bound")
        del self._functions[name]

    def names(self) -> list[str]:
        return list(self._functions)

    # ------------------------------------------------------------------ settling

    def _settle(self, seq: str, status: int, payload: str) -> None:
        try:
            self._native.return_(seq, status, payload)
        except RuntimeError:
            # The webview is being destroyed: the page is gone with it, and so is
            # the Promise we would have settled.
            pass

    def _resolve(self, seq: str, name: str, result: Any) -> None:
        try:
            # allow_nan=False: JSON.parse rejects NaN/Infinity, so say so here instead.
            payload = json.dumps(result, allow_nan=False)
        except (TypeError, ValueError) as exc:
            self._settle(
                seq,
                1,
                _rejection("TypeError", f"the result of {name}() is not JSON serialisable: {exc}"),
            )
            return
        self._settle(seq, 0, payload)

    def _reject(self, seq: str, exc: BaseException) -> None:
        self._settle(seq, 1, _exception_rejection(exc))

    # ------------------------------------------------------------------ JS -> Python

    def _on_call(self, name: str, seq: str, req: str) -> None:
        """A JS call of ``window.<name>(...)``; runs on the GUI thread between guest ticks."""
        fn = self._functions.get(name)
        if fn is None:  # unbound while the call was queued
            self._settle(seq, 1, _rejection("NameError", f"{name}() is no longer bound"))
            return
        try:
            args = json.loads(req)
        except ValueError as exc:
            self._settle(seq, 1, _rejection("ValueError", f"bad arguments for {name}(): {exc}"))
            return
        if not isinstance(args, list):
            args = [args]
        problem = _arity_error(name, fn, args)
        if problem is not None:
            self._settle(seq, 1, _rejection("TypeError", problem))
            return
        if _is_async_callable(fn):
            self._start_task(seq, name, fn, args, None)
            return
        try:
            result = fn(*args)
        except Exception as exc:
            self._reject(seq, exc)
            return
        except BaseException as exc:
            # KeyboardInterrupt / SystemExit: settle the Promise, then let it propagate
            # (the loop stops and run() re-raises it).
            self._reject(seq, exc)
            raise
        if inspect.isawaitable(result):
            self._start_task(seq, name, fn, args, result)
        else:
            self._resolve(seq, name, result)

    def _start_task(
        self,
        seq: str,
        name: str,
        fn: Callable[..., Any],
        args: list[Any],
        awaitable: Optional[Awaitable[Any]],
    ) -> None:
        loop = self._loop
        if loop is None or self._closing:
            if inspect.iscoroutine(awaitable):
                awaitable.close()  # never awaited on purpose; no RuntimeWarning
            reason = "is shutting down" if self._closing else "is not running (call run())"
            self._settle(
                seq, 1, _rejection("RuntimeError", f"{name}(): the webview's asyncio loop {reason}")
            )
            return
        if awaitable is None:
            try:
                awaitable = fn(*args)
            except Exception as exc:
                self._reject(seq, exc)
                return

        async def call() -> Any:
            return await awaitable

        # asyncio-guest: host callbacks between ticks may create tasks on the guest
        # loop; the loop is woken if its worker is waiting.
        task = loop.create_task(call(), name=f"webview call {name}()")
        self._calls[seq] = task
        task.add_done_callback(functools.partial(self._on_task_done, seq, name))

    def _on_task_done(self, seq: str, name: str, task: asyncio.Task[Any]) -> None:
        self._calls.pop(seq, None)
        if task.cancelled():
            why = "the webview closed" if self._closing else "the task was cancelled"
            self._settle(seq, 1, _rejection("CancelledError", f"{name}() was cancelled: {why}"))
            return
        exc = task.exception()
        if exc is not None:
            self._reject(seq, exc)
        else:
            self._resolve(seq, name, task.result())

    # ------------------------------------------------------------------ Python -> JS

    async def evaluate(self, source: str) -> Any:
        """Run ``source`` in the page and return its (JSON-converted) value."""
        if not isinstance(source, str):
            raise TypeError(f"evaluate() needs a str of JavaScript, got {type(source).__name__}")
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            raise RuntimeError(
                "evaluate() must be awaited on the webview's own loop (inside run())"
            )
        if self._closing:
            raise RuntimeError("evaluate(): the webview is shutting down")
        while not self._page_ready:
            # Before a document has loaded the library drops scripts (or they would run
            # in the document that is being replaced): wait for the page's "ready".
            waiter: asyncio.Future[None] = loop.create_future()
            self._ready_waiters.append(waiter)
            try:
                await waiter
            finally:
                if waiter in self._ready_waiters:
                    self._ready_waiters.remove(waiter)
        key = str(next(self._keys))
        future: asyncio.Future[Any] = loop.create_future()
        self._evaluations[key] = future
        try:
            args = f"{json.dumps(key)}, {json.dumps(source)}"
            self._native.eval(f"window.__asyncio_guest_webview__.evaluate({args})")
            self._sent.add(key)
            return await future
        finally:
            self._evaluations.pop(key, None)
            self._sent.discard(key)

    def page_loading(self) -> None:
        """A new document is being loaded (``set_html``/``navigate``): hold ``evaluate()``.

        Evaluations already sent to the old document fail, since that document and its
        pending work go away; new ones wait for the new document's ``ready``.
        """
        self._page_ready = False
        self._fail_sent()

    def _fail_sent(self) -> None:
        for key in list(self._sent):
            future = self._evaluations.get(key)
            if future is not None and not future.done():
                future.set_exception(
                    JavaScriptError("Error", "the page was replaced before evaluate() finished")
                )
        self._sent.clear()

    def _on_ready(self) -> None:
        # A document reports ready once.  Evaluations still in flight at that point
        # were sent to a previous document (the page reloaded or navigated by itself),
        # whose pending work is gone: fail them instead of waiting forever.
        self._fail_sent()
        self._page_ready = True
        for waiter in self._ready_waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._ready_waiters.clear()

    def on_reply(self, seq: str, req: str) -> None:
        """The raw callback for :data:`REPLY_BINDING`."""
        # Settle the page-side Promise of the report call itself first.
        self._settle(seq, 0, "")
        try:
            message = json.loads(req)
            if message == ["ready"]:
                self._on_ready()
                return
            key, ok, payload, error_name = message
        except (ValueError, TypeError):
            return  # not one of ours (page code calling the reserved name)
        future = self._evaluations.get(str(key))
        if future is None or future.done():
            return  # the awaiting task was cancelled meanwhile
        if ok:
            try:
                future.set_result(json.loads(payload))
            except ValueError as exc:
                future.set_exception(exc)
        else:
            future.set_exception(JavaScriptError(str(error_name), str(payload)))

    # ------------------------------------------------------------------ lifetime

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start serving async calls on ``loop`` (the guest loop, at the start of a run)."""
        self._loop = loop
        self._closing = False

    def begin_shutdown(self) -> None:
        """Refuse new async calls and cancel the in-flight ones.  Idempotent.

        Called on the host thread, inside or between ticks; each cancelled task's
        done-callback rejects its Promise with ``CancelledError``.
        """
        self._closing = True
        for future in [*self._evaluations.values(), *self._ready_waiters]:
            future.cancel()
        for task in list(self._calls.values()):
            task.cancel()

    async def wait_calls(self) -> None:
        """Wait until every in-flight call task has finished and settled its Promise."""
        while self._calls:
            pending = [task for task in self._calls.values() if not task.done()]
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
            else:
                # Done, but their done-callbacks (which settle the Promises) are still
                # queued.  Yield once so they run; gather() over finished tasks would not
                # yield on 3.12+, which completes it eagerly.
                await asyncio.sleep(0)

    def detach(self) -> None:
        self._loop = None
