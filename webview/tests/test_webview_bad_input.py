"""Bad input gets clear errors: in Python as exceptions, in JS as Promise rejections."""

from __future__ import annotations

from webview_harness import page_scenario, run_scenario


def test_bad_python_calls_raise_clear_errors() -> None:
    result = run_scenario(
        """
        from asyncio_guest_webview import Webview, Size, SizeHint
        wv = Webview()
        errors = {}
        def attempt(label, fn):
            try:
                fn()
            except Exception as exc:
                errors[label] = [type(exc).__name__, str(exc)]
            else:
                errors[label] = None
        async def ok(x):
            return x
        wv.bind("ok", ok)
        attempt("non_callable", lambda: wv.bind("nope", 42))
        attempt("already_bound", lambda: wv.bind("ok", ok))
        attempt("bad_name", lambda: wv.bind(3, ok))
        attempt("reserved", lambda: wv.bind("__asyncio_guest_webview_reply__", ok))
        attempt("unbind_unknown", lambda: wv.unbind("missing"))
        attempt("nul_in_html", lambda: wv.set_html("a\\0b"))
        attempt("bad_size", lambda: setattr(wv, "size", (1, 2)))
        attempt("negative_size", lambda: setattr(wv, "size", Size(-1, 10)))
        attempt("bad_hint", lambda: Size(10, 10, 7))
        attempt("dispatch_non_callable", lambda: wv.dispatch("x"))
        attempt("evaluate_outside_run", lambda: asyncio.run(wv.evaluate("1")))
        # Only dispatch/terminate/return_ are allowed from other threads.
        from_thread = {}
        def other():
            for label, fn in [("set_html", lambda: wv.set_html("<p>")),
                              ("bind", lambda: wv.bind("x", ok)),
                              ("title", lambda: setattr(wv, "title", "t"))]:
                try:
                    fn()
                    from_thread[label] = None
                except RuntimeError as exc:
                    from_thread[label] = str(exc)
            wv.dispatch(lambda: None)  # allowed
        t = threading.Thread(target=other)
        t.start()
        t.join()
        # Rebinding after unbind is fine.
        wv.unbind("ok")
        wv.bind("ok", ok)
        wv.destroy()
        wv.destroy()  # idempotent
        after = {}
        for label, fn in [("set_html", lambda: wv.set_html("<p>")),
                          ("bind", lambda: wv.bind("late", ok)),
                          ("eval", lambda: wv.eval("1")),
                          ("dispatch", lambda: wv.dispatch(lambda: None)),
                          ("terminate", wv.terminate),
                          ("run", wv.run),
                          ("return_", lambda: wv.return_("id", 0, "1"))]:
            try:
                fn()
                after[label] = None
            except RuntimeError as exc:
                after[label] = str(exc)
        emit(errors=errors, from_thread=from_thread, after=after,
             guest_io_threads=guest_io_threads())
        """
    )
    errors = result["errors"]
    assert errors["non_callable"] == [
        "TypeError",
        "bind() needs a callable or an async function, got int",
    ]
    assert errors["already_bound"] == ["ValueError", "'ok' is already bound; unbind it first"]
    assert errors["bad_name"][0] == "TypeError"
    assert errors["reserved"][0] == "ValueError"
    assert errors["unbind_unknown"] == ["ValueError", "'missing' is not bound"]
    assert errors["nul_in_html"] == ["ValueError", "html must not contain NUL characters"]
    assert errors["bad_size"][0] == "TypeError"
    assert errors["negative_size"][0] == "ValueError"
    assert errors["bad_hint"][0] == "ValueError"
    assert errors["dispatch_non_callable"] == ["TypeError", "dispatch() needs a callable, got str"]
    assert errors["evaluate_outside_run"][0] == "RuntimeError"
    for label, message in result["from_thread"].items():
        assert message is not None and "thread that created the webview" in message, label
    for label, message in result["after"].items():
        assert message == "the webview was destroyed", (label, message)
    assert result["guest_io_threads"] == 0


def test_bad_js_calls_reject_clearly() -> None:
    result = page_scenario(
        setup="""
        async def two(a, b):
            return a + b
        def sync_two(a, b):
            return a + b
        async def unserialisable():
            return object()
        def nan():
            return float("nan")
        wv.bind("two", two)
        wv.bind("sync_two", sync_two)
        wv.bind("unserialisable", unserialisable)
        wv.bind("nan", nan)
        """,
        page_js="""
        const out = {};
        async function grab(label, p) {
          try { out[label] = {value: await p}; }
          catch (e) { out[label] = {error: e.message, is_error: e instanceof Error}; }
        }
        await grab("too_few", two(1));
        await grab("too_many", two(1, 2, 3));
        await grab("sync_too_many", sync_two(1, 2, 3));
        await grab("unserialisable", unserialisable());
        await grab("nan", nan());
        await grab("good", two(2, 3));
        report(out);
        """,
    )
    assert "js_error" not in result, result["js_error"]
    assert result["too_few"] == {
        "error": "TypeError: two() called from JavaScript with 1 argument(s): "
        "missing a required argument: 'b'",
        "is_error": True,
    }
    assert result["too_many"]["error"] == (
        "TypeError: two() called from JavaScript with 3 argument(s): too many positional arguments"
    )
    assert result["sync_too_many"]["error"].startswith("TypeError: sync_two() called")
    assert result["unserialisable"]["error"].startswith(
        "TypeError: the result of unserialisable() is an object, which cannot cross to JavaScript"
    )
    assert result["nan"]["error"].startswith(
        "TypeError: the result of nan() is a float, which cannot cross to JavaScript (nan has"
    )
    assert result["good"] == {"value": 5}
    assert result["guest_io_threads"] == 0


def test_no_display_gives_a_clear_error() -> None:
    result = run_scenario(
        """
        from asyncio_guest_webview import Webview, WebviewError
        try:
            Webview()
        except WebviewError as exc:
            emit(error=str(exc), is_runtime=isinstance(exc, RuntimeError))
        """,
        env={"DISPLAY": "", "WAYLAND_DISPLAY": ""},
    )
    assert result["is_runtime"] is True
    assert "no display" in result["error"]
