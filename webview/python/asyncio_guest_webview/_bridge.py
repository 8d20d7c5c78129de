"""The JS <-> Python call bridge shared by :class:`~asyncio_guest_webview.Webview` and the
``webview-python`` adapter.

It sits on four primitives of the webview C library, whatever binds them (our PyO3
module or webview-python's ctypes): ``bind`` (JS calls land here as ``(id, json_args)``),
``return_`` (settle that call's Promise), ``eval`` and ``init``.  Everything here runs
on the GUI thread, which is also the thread of the guest asyncio loop.

The page side is ``_client.js`` (installed with ``init``, so it runs on every page load
right after the library's glue).  It wraps the library's ``call`` so that every bound
``window.<name>(...)`` sends ``[{"__asyncio_guest_call__": token, "args": [...]}]``: the
arguments encoded by :mod:`asyncio_guest_webview._codec` rules (binary data tagged), and
a token that names the call for cancellation and streams.

How a JS call is served
-----------------------
* The arguments are decoded and checked against the function's signature, so a wrong
  number of arguments rejects the Promise with a ``TypeError`` *before* the function runs.
* A plain function runs right away, inside the bind callback, and its result settles the
  Promise at once; with ``thread=True`` it runs in the loop's default executor instead,
  so a slow one does not freeze the page.
* An ``async def`` (or a plain function that returns an awaitable) becomes a task on the
  guest loop.  The bind callback runs on the host thread between guest ticks, where
  asyncio-guest makes ``create_task`` work and wakes the loop; a done-callback on the task
  settles the Promise.
* An async generator (or a result that is an async iterator) becomes a *stream*: the
  Promise resolves with a handle that the page turns into an async iterable.  Chunks are
  pushed with ``eval`` in batches, against credits the page grants as it consumes them
  (at most :data:`STREAM_WINDOW` chunks in flight), so a fast producer waits instead of
  filling memory.  The page closing the stream (``break``, an exception, ``return``)
  cancels the pump task, and the generator is closed: its ``finally`` runs.
* A ``cancel`` message from the page (``promise.cancel()`` or an aborted ``AbortSignal``)
  cancels the call's task; the page has already rejected the Promise with an
  ``AbortError``.
* Rejections carry ``{type, message}``; the page turns them into ``Error`` objects whose
  message is ``"<PythonType>: <text>"``.
* Shutdown (window closed or ``terminate()``) cancels every call task and stream; their
  done-callbacks reject the Promises with ``CancelledError``.

``evaluate(js)`` and ``emit(name, payload)`` go the other way; ``evaluate``'s value comes
back through the reserved binding, which completes a future on the guest loop.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import itertools
import json
import logging
import os
from typing import Any, Awaitable, Callable, Optional, Protocol

from asyncio_guest_webview import _codec

__all__ = [
    "CLIENT_JS",
    "REPLY_BINDING",
    "STREAM_WINDOW",
    "Bridge",
    "JavaScriptError",
    "NativeCalls",
]

#: Reserved binding through which the page reports ``evaluate()`` results, readiness,
#: cancellations and stream credits.
REPLY_BINDING = "__asyncio_guest_webview_reply__"

#: Marker key of the rejection payloads built by :func:`_rejection`.
_ERROR_KEY = "__asyncio_guest_error__"
#: Key of the token in a call's argument envelope.
_CALL_KEY = "__asyncio_guest_call__"

_log = logging.getLogger("asyncio_guest_webview")

#: Chunks a stream may have in flight (sent but not yet consumed by the page).
STREAM_WINDOW = 64
#: Most chunks sent in one ``eval``.
_STREAM_BATCH = 32
#: Most encoded bytes collected in one ``eval`` before it is sent.
_STREAM_BATCH_BYTES = 1 << 20


def _client_js() -> str:
    with open(os.path.join(os.path.dirname(__file__), "_client.js"), encoding="utf-8") as f:
        source = f.read()
    config = {
        "reply": REPLY_BINDING,
        "errorKey": _ERROR_KEY,
        "callKey": _CALL_KEY,
        "envelopeKey": _codec.ENVELOPE_KEY,
        "bytesKey": _codec.BYTES_KEY,
        "intKey": _codec.INT_KEY,
        "streamKey": _codec.STREAM_KEY,
        "streamWindow": STREAM_WINDOW,
    }
    # str.replace, not % or format: the JS is full of braces and percent signs.
    return source.replace("__CONFIG__", json.dumps(config))


#: The page side, installed with ``init`` (see ``_client.js``).
CLIENT_JS = _client_js()


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


def _unwrap(func: Callable[..., Any]) -> Callable[..., Any]:
    while isinstance(func, functools.partial):
        func = func.func
    return func


def _is_async_callable(fn: Callable[..., Any]) -> bool:
    fn = _unwrap(fn)
    if inspect.iscoroutinefunction(fn):
        return True
    call = getattr(fn, "__call__", None)  # noqa: B004 - looking for an async __call__
    return call is not None and inspect.iscoroutinefunction(call)


def _is_stream_callable(fn: Callable[..., Any]) -> bool:
    fn = _unwrap(fn)
    if inspect.isasyncgenfunction(fn):
        return True
    call = getattr(fn, "__call__", None)  # noqa: B004 - looking for an async-generator __call__
    return call is not None and inspect.isasyncgenfunction(call)


def _is_async_iterator(value: Any) -> bool:
    return hasattr(value, "__anext__") and hasattr(value, "__aiter__")


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


class _Binding:
    """A bound function and how it runs."""

    def __init__(self, fn: Callable[..., Any], thread: bool) -> None:
        self.fn = fn
        self.stream = _is_stream_callable(fn)
        self.is_async = not self.stream and _is_async_callable(fn)
        if thread and (self.stream or self.is_async):
            raise ValueError(
                "thread=True is for plain functions; "
                f"{getattr(fn, '__qualname__', fn)!r} is async and already runs on the loop"
            )
        self.thread = thread


class _Stream:
    """One open stream: its iterator, its pump task and its credits."""

    def __init__(self, stream_id: str, name: str, iterator: Any) -> None:
        self.id = stream_id
        self.name = name
        self.iterator = iterator
        self.task: Optional[asyncio.Task[None]] = None
        #: Chunks the page will still accept; it grants the first window when it opens.
        self.credits = 0
        self.wakeup: Optional[asyncio.Future[None]] = None
        self.pending: list[str] = []
        self.pending_bytes = 0
        self.flush_scheduled = False

    def grant(self, credits: int) -> None:
        self.credits += credits
        if self.wakeup is not None and not self.wakeup.done():
            self.wakeup.set_result(None)


class Bridge:
    """Serves JS calls of bound functions, streams, events and ``evaluate()``.

    Lifetime per run: :meth:`attach` (guest loop started), :meth:`begin_shutdown` (window
    closed, ``terminate()``, or the main coroutine ended), ``await`` :meth:`wait_calls`,
    :meth:`detach`.  ``sync_in_thread`` is the default of ``bind(..., thread=...)``.
    """

    def __init__(self, native: NativeCalls, *, sync_in_thread: bool = False) -> None:
        self._native = native
        self.sync_in_thread = bool(sync_in_thread)
        self._bindings: dict[str, _Binding] = {}
        #: In-flight calls: JS call id -> task.
        self._calls: dict[str, asyncio.Task[Any]] = {}
        #: The page's token of each in-flight call -> its task (for cancellation).
        self._tokens: dict[str, asyncio.Task[Any]] = {}
        self._streams: dict[str, _Stream] = {}
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
        """The guest loop while a run serves this bridge, else None."""
        return self._loop

    @property
    def running(self) -> bool:
        """True while a run serves this bridge."""
        return self._loop is not None

    @property
    def pending_calls(self) -> int:
        """Calls and streams in flight."""
        return len(self._calls) + len(self._streams)

    def is_bound(self, name: str) -> bool:
        return name in self._bindings

    def add(
        self, name: str, fn: Callable[..., Any], thread: Optional[bool] = None
    ) -> Callable[[str, str], None]:
        """Validate and register ``fn``; returns the raw ``(id, json_args)`` callback to bind."""
        if not isinstance(name, str):
            raise TypeError(f"binding name must be a str, got {type(name).__name__}")
        if not callable(fn):
            raise TypeError(
                f"bind() needs a callable or an async function, got {type(fn).__name__}"
            )
        if thread is not None and not isinstance(thread, bool):
            raise TypeError(f"thread must be True, False or None, got {thread!r}")
        if name == REPLY_BINDING:
            raise ValueError(f"{name!r} is reserved by asyncio_guest_webview")
        if name in self._bindings:
            raise ValueError(f"{name!r} is already bound; unbind it first")
        if thread is None:
            # The webview's default applies to plain functions only.
            thread = self.sync_in_thread and not (_is_async_callable(fn) or _is_stream_callable(fn))
        binding = _Binding(fn, thread)
        self._bindings[name] = binding
        return functools.partial(self._on_call, name)

    def remove(self, name: str) -> None:
        if name not in self._bindings:
            raise ValueError(f"{name!r} is not bound")
        del self._bindings[name]

    def names(self) -> list[str]:
        return list(self._bindings)

    def functions(self) -> dict[str, Callable[..., Any]]:
        """The bound functions by JS name (for :func:`~asyncio_guest_webview.typescript`)."""
        return {name: binding.fn for name, binding in self._bindings.items()}

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
            payload = _codec.encode(result, f"the result of {name}()")
        except TypeError as exc:
            # The page gets the TypeError; say it on the Python side too, where the bug is.
            _log.error("%s", exc)
            self._settle(seq, 1, _rejection("TypeError", str(exc)))
            return
        self._settle(seq, 0, payload)

    def _reject(self, seq: str, exc: BaseException) -> None:
        self._settle(seq, 1, _exception_rejection(exc))

    # ------------------------------------------------------------------ JS -> Python

    def _on_call(self, name: str, seq: str, req: str) -> None:
        """A JS call of ``window.<name>(...)``; runs on the GUI thread between guest ticks."""
        binding = self._bindings.get(name)
        if binding is None:  # unbound while the call was queued
            self._settle(seq, 1, _rejection("NameError", f"{name}() is no longer bound"))
            return
        try:
            token, args = self._arguments(req)
        except (ValueError, TypeError) as exc:
            self._settle(seq, 1, _rejection("ValueError", f"bad arguments for {name}(): {exc}"))
            return
        fn = binding.fn
        problem = _arity_error(name, fn, args)
        if problem is not None:
            self._settle(seq, 1, _rejection("TypeError", problem))
            return
        if binding.stream:
            try:
                iterator = fn(*args)
            except Exception as exc:
                self._reject(seq, exc)
                return
            self._open_stream(seq, token, name, iterator)
            return
        if binding.is_async:
            self._start_task(seq, token, name, lambda: fn(*args))
            return
        if binding.thread:
            self._start_task(seq, token, name, lambda: self._in_thread(fn, args))
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
        self._finish(seq, token, name, result)

    @staticmethod
    def _arguments(req: str) -> tuple[Optional[str], list[Any]]:
        """The page's token and the decoded arguments of a call."""
        raw = json.loads(req)
        if (
            isinstance(raw, list)
            and len(raw) == 1
            and isinstance(raw[0], dict)
            and _CALL_KEY in raw[0]
        ):
            envelope = raw[0]
            args = _codec.decode(envelope.get("args", []))
            token = envelope[_CALL_KEY]
            return (token if isinstance(token, str) else None), list(args)
        # A call that bypassed the page-side client (it sends the library's plain form).
        return None, raw if isinstance(raw, list) else [raw]

    async def _in_thread(self, fn: Callable[..., Any], args: list[Any]) -> Any:
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(None, functools.partial(fn, *args))
        if inspect.isawaitable(result):
            result = await result
        return result

    def _refusal(self, name: str) -> str:
        reason = "is shutting down" if self._closing else "is not running (call run())"
        return _rejection("RuntimeError", f"{name}(): the webview's asyncio loop {reason}")

    def _finish(self, seq: str, token: Optional[str], name: str, result: Any) -> None:
        """Settle a call with a value produced on the loop's thread."""
        if inspect.isawaitable(result):
            self._start_task(seq, token, name, lambda: result)
        elif _is_async_iterator(result):
            self._open_stream(seq, token, name, result)
        else:
            self._resolve(seq, name, result)

    def _start_task(
        self,
        seq: str,
        token: Optional[str],
        name: str,
        make: Callable[[], Awaitable[Any]],
    ) -> None:
        loop = self._loop
        if loop is None or self._closing:
            self._settle(seq, 1, self._refusal(name))
            return

        async def call() -> Any:
            return await make()

        # asyncio-guest: host callbacks between ticks may create tasks on the guest
        # loop; the loop is woken if its worker is waiting.
        task = loop.create_task(call(), name=f"webview call {name}()")
        self._calls[seq] = task
        if token is not None:
            self._tokens[token] = task
        task.add_done_callback(functools.partial(self._on_task_done, seq, token, name))

    def _on_task_done(
        self, seq: str, token: Optional[str], name: str, task: asyncio.Task[Any]
    ) -> None:
        self._calls.pop(seq, None)
        if token is not None:
            self._tokens.pop(token, None)
        if task.cancelled():
            why = "the webview closed" if self._closing else "the task was cancelled"
            self._settle(seq, 1, _rejection("CancelledError", f"{name}() was cancelled: {why}"))
            return
        exc = task.exception()
        if exc is not None:
            self._reject(seq, exc)
            return
        result = task.result()
        if _is_async_iterator(result):
            self._open_stream(seq, token, name, result)
        else:
            self._resolve(seq, name, result)

    # ------------------------------------------------------------------ streams

    def _open_stream(self, seq: str, token: Optional[str], name: str, iterator: Any) -> None:
        loop = self._loop
        if loop is None or self._closing or token is None:
            if token is None:
                payload = _rejection(
                    "TypeError", f"{name}() returns a stream, which needs the page-side client"
                )
            else:
                payload = self._refusal(name)
            self._settle(seq, 1, payload)
            close = getattr(iterator, "aclose", None)
            if close is not None and loop is not None:
                # Closing starts nothing the generator has not started: its finally (if
                # it ever ran) runs now.
                loop.create_task(close())
            return
        stream = _Stream(token, name, iterator)
        self._streams[token] = stream
        stream.task = loop.create_task(self._pump(stream), name=f"webview stream {name}()")
        self._settle(seq, 0, _codec.encode_stream(token))

    async def _pump(self, stream: _Stream) -> None:
        """Move chunks from the iterator to the page, within the page's credits."""
        loop = asyncio.get_running_loop()
        iterator = stream.iterator
        end: Optional[dict[str, Any]] = None
        index = 0
        try:
            while True:
                while stream.credits <= 0:
                    self._flush(stream)
                    stream.wakeup = loop.create_future()
                    await stream.wakeup
                try:
                    item = await iterator.__anext__()
                except StopAsyncIteration:
                    end = {"done": True}
                    break
                try:
                    text = _codec.encode(item, f"chunk {index} of {stream.name}()")
                except TypeError as exc:
                    _log.error("%s", exc)
                    end = {"error": {_ERROR_KEY: True, "type": "TypeError", "message": str(exc)}}
                    break
                index += 1
                stream.credits -= 1
                stream.pending.append(text)
                stream.pending_bytes += len(text)
                if (
                    len(stream.pending) >= _STREAM_BATCH
                    or stream.pending_bytes >= _STREAM_BATCH_BYTES
                ):
                    self._flush(stream)
                elif not stream.flush_scheduled:
                    # Chunks produced within one tick go out in one eval.
                    stream.flush_scheduled = True
                    loop.call_soon(self._flush, stream)
        except asyncio.CancelledError:
            # Closed by the page, aborted, or the window is closing: the page has no
            # consumer left, so nothing more is sent.
            stream.pending.clear()
            raise
        except Exception as exc:
            end = {"error": {_ERROR_KEY: True, "type": type(exc).__name__, "message": str(exc)}}
        finally:
            self._streams.pop(stream.id, None)
            if end is not None:
                self._flush(stream, end)
            close = getattr(iterator, "aclose", None)
            if close is not None:
                await close()

    def _flush(self, stream: _Stream, end: Optional[dict[str, Any]] = None) -> None:
        stream.flush_scheduled = False
        if not stream.pending and end is None:
            return
        items = ",".join(stream.pending)
        stream.pending.clear()
        stream.pending_bytes = 0
        script = (
            f"window.__asyncio_guest_webview__.push({json.dumps(stream.id)},[{items}],"
            f"{json.dumps(end)})"
        )
        try:
            self._native.eval(script)
        except RuntimeError:
            pass  # destroyed: the page is gone

    def _on_credit(self, stream_id: str, credits: Any) -> None:
        stream = self._streams.get(stream_id)
        if stream is not None and isinstance(credits, int) and credits > 0:
            stream.grant(credits)

    def _on_close(self, stream_id: str) -> None:
        stream = self._streams.get(stream_id)
        if stream is not None and stream.task is not None:
            stream.task.cancel()

    def _on_cancel(self, token: str) -> None:
        task = self._tokens.get(token)
        if task is not None:
            task.cancel()
        self._on_close(token)

    # ------------------------------------------------------------------ Python -> JS

    def _check_loop(self, what: str) -> asyncio.AbstractEventLoop:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            raise RuntimeError(f"{what} must be awaited on the webview's own loop (inside run())")
        if self._closing:
            raise RuntimeError(f"{what}: the webview is shutting down")
        return loop

    async def _wait_ready(self, loop: asyncio.AbstractEventLoop) -> None:
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

    async def evaluate(self, source: str) -> Any:
        """Run ``source`` in the page and return its value (bytes for binary data)."""
        if not isinstance(source, str):
            raise TypeError(f"evaluate() needs a str of JavaScript, got {type(source).__name__}")
        loop = self._check_loop("evaluate()")
        await self._wait_ready(loop)
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

    async def emit(self, name: str, payload: Any = None) -> None:
        """Deliver event ``name`` with ``payload`` to the page's ``asyncioGuest.on`` handlers."""
        if not isinstance(name, str):
            raise TypeError(f"event name must be a str, got {type(name).__name__}")
        text = _codec.encode(payload, f"the payload of event {name!r}")
        loop = self._check_loop("emit()")
        await self._wait_ready(loop)
        self._native.eval(f"window.__asyncio_guest_webview__.emit({json.dumps(name)},{text})")

    def page_loading(self) -> None:
        """A new document is being loaded (``set_html``/``navigate``): hold ``evaluate()``.

        Evaluations already sent to the old document fail, and its streams close, since
        that document and its pending work go away; new ones wait for the new document's
        ``ready``.
        """
        self._page_ready = False
        self._fail_sent()
        for stream in list(self._streams.values()):
            if stream.task is not None:
                stream.task.cancel()

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
        except ValueError:
            return  # not one of ours (page code calling the reserved name)
        if not isinstance(message, list) or not message:
            return
        kind = message[0]
        if kind == "ready" and len(message) == 1:
            self._on_ready()
        elif kind == "credit" and len(message) == 3:
            self._on_credit(str(message[1]), message[2])
        elif kind == "close" and len(message) == 2:
            self._on_close(str(message[1]))
        elif kind == "cancel" and len(message) == 2:
            self._on_cancel(str(message[1]))
        elif kind == "bind_error" and len(message) == 3:
            _log.error(
                "window.%s could not be defined in the page (%s); bind it under another name",
                message[1],
                message[2],
            )
        elif len(message) == 4:
            self._on_evaluated(*message)

    def _on_evaluated(self, key: Any, ok: Any, payload: Any, error_name: Any) -> None:
        future = self._evaluations.get(str(key))
        if future is None or future.done():
            return  # the awaiting task was cancelled meanwhile
        if ok:
            try:
                future.set_result(_codec.decode(json.loads(payload)))
            except (ValueError, TypeError) as exc:
                future.set_exception(exc)
        else:
            future.set_exception(JavaScriptError(str(error_name), str(payload)))

    # ------------------------------------------------------------------ lifetime

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start serving async calls on ``loop`` (the guest loop, at the start of a run)."""
        self._loop = loop
        self._closing = False

    def begin_shutdown(self) -> None:
        """Refuse new async calls and cancel the in-flight ones and the streams.  Idempotent.

        Called on the host thread, inside or between ticks; each cancelled task's
        done-callback rejects its Promise with ``CancelledError``.
        """
        self._closing = True
        for future in [*self._evaluations.values(), *self._ready_waiters]:
            future.cancel()
        for task in list(self._calls.values()):
            task.cancel()
        for stream in list(self._streams.values()):
            if stream.task is not None:
                stream.task.cancel()

    async def wait_calls(self) -> None:
        """Wait until every call and stream has finished (and settled its Promise)."""
        while self._calls or self._streams:
            pending = [task for task in self._calls.values() if not task.done()]
            pending += [
                stream.task
                for stream in self._streams.values()
                if stream.task is not None and not stream.task.done()
            ]
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
            else:
                # Done, but their done-callbacks (which settle the Promises) are still
                # queued.  Yield once so they run; gather() over finished tasks would not
                # yield on 3.12+, which completes it eagerly.
                await asyncio.sleep(0)

    def detach(self) -> None:
        self._loop = None
