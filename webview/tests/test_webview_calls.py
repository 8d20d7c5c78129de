"""JS -> async Python calls and Python -> JS evaluation, in a real WebKitGTK window."""

from __future__ import annotations

from webview_harness import page_scenario


def _ok(result: dict[str, object]) -> None:
    assert "js_error" not in result, result["js_error"]
    assert result["guest_io_threads"] == 0
    assert result["python_threads"] == ["MainThread"]
    assert result["destroyed"] is True


def test_promise_all_of_three_concurrent_async_calls() -> None:
    result = page_scenario(
        setup="""
        active = peak = 0
        async def slow_add(a, b, delay):
            global active, peak
            active += 1
            peak = max(peak, active)
            try:
                await asyncio.sleep(delay)
                return a + b
            finally:
                active -= 1
        wv.bind("slow_add", slow_add)
        """,
        page_js="""
        const values = await Promise.all([
          slow_add(1, 2, 0.3), slow_add(10, 20, 0.3), slow_add("a", "b", 0.3)]);
        report({values: values});
        """,
        after="""
        emit(peak=peak)
        """,
    )
    _ok(result)
    assert result["values"] == [3, 30, "ab"]
    # The three sleeps overlapped: all three calls were in flight at once.
    assert result["peak"] == 3


def test_raising_coroutine_rejects_with_type_and_message() -> None:
    result = page_scenario(
        setup="""
        async def explode(what):
            await asyncio.sleep(0.01)
            raise ValueError(f"bad {what}")
        def explode_now():
            raise KeyError("sync one")
        wv.bind("explode", explode)
        wv.bind("explode_now", explode_now)
        """,
        page_js="""
        const out = {};
        try { await explode("thing"); out.resolved = true; } catch (e) {
          out.is_error = e instanceof Error; out.message = e.message;
          out.python_type = e.pythonType;
        }
        try { await explode_now(); } catch (e) { out.sync_message = e.message; }
        report(out);
        """,
    )
    _ok(result)
    assert "resolved" not in result
    assert result["is_error"] is True
    assert result["message"] == "ValueError: bad thing"
    assert result["python_type"] == "ValueError"
    assert result["sync_message"] == "KeyError: 'sync one'"


def test_two_hundred_concurrent_calls_all_settle() -> None:
    result = page_scenario(
        setup="""
        import random
        peak = 0
        active = 0
        async def work(i):
            global peak, active
            active += 1
            peak = max(peak, active)
            try:
                await asyncio.sleep(random.uniform(0.5, 0.7))
                if i % 10 == 7:
                    raise RuntimeError(f"fail {i}")
                return i * 2
            finally:
                active -= 1
        wv.bind("work", work)
        def get_peak():
            return peak
        wv.bind("get_peak", get_peak)
        """,
        page_js="""
        const calls = [];
        for (let i = 0; i < 200; i++) calls.push(work(i));
        const settled = await Promise.allSettled(calls);
        const ok = settled.filter(s => s.status === "fulfilled").map(s => s.value);
        const bad = settled.filter(s => s.status === "rejected").map(s => s.reason.message);
        report({ok: ok, bad: bad, peak: await get_peak()});
        """,
    )
    _ok(result)
    expected_ok = [i * 2 for i in range(200) if i % 10 != 7]
    assert result["ok"] == expected_ok
    assert result["bad"] == [f"RuntimeError: fail {i}" for i in range(200) if i % 10 == 7]
    # They really were in flight together, not served one by one.
    assert result["peak"] > 100, result["peak"]


def test_progress_is_pushed_to_the_page_while_a_call_runs() -> None:
    result = page_scenario(
        setup="""
        async def long_job(steps):
            for i in range(1, steps + 1):
                await asyncio.sleep(0.05)
                wv.eval(f"window.onProgress({i}, {steps})")
            return "finished"
        wv.bind("long_job", long_job)
        """,
        page_js="""
        const seen = [];
        let settled = false;
        window.onProgress = (i, n) => { seen.push([i, n, settled]); };
        const value = await long_job(5);
        settled = true;
        report({value: value, seen: seen});
        """,
    )
    _ok(result)
    assert result["value"] == "finished"
    # Every update arrived, in order, before the Promise settled.
    assert result["seen"] == [[i, 5, False] for i in range(1, 6)]


def test_evaluate_returns_js_values_to_python() -> None:
    result = page_scenario(
        setup="""
        from asyncio_guest_webview import JavaScriptError
        async def check():
            out = {}
            out["sum"] = await wv.evaluate("1 + 2")
            out["obj"] = await wv.evaluate("({a: [1, 'x', null], b: document.title})")
            out["promise"] = await wv.evaluate(
                "new Promise(r => setTimeout(() => r('later'), 50))")
            out["undefined"] = await wv.evaluate("void 0")
            try:
                await wv.evaluate("no_such_name + 1")
            except JavaScriptError as exc:
                out["error"] = [exc.name, str(exc)]
            out["concurrent"] = await asyncio.gather(
                *(wv.evaluate(f"{i} * {i}") for i in range(20)))
            return out
        wv.bind("check", check)
        """,
        page_js="""
        document.title = "titled";
        report(await check());
        """,
    )
    _ok(result)
    assert result["sum"] == 3
    assert result["obj"] == {"a": [1, "x", None], "b": "titled"}
    assert result["promise"] == "later"
    assert result["undefined"] is None
    assert result["error"][0] == "ReferenceError"
    assert "no_such_name" in result["error"][1]
    assert result["concurrent"] == [i * i for i in range(20)]


def test_sync_bindings_and_awaitable_results() -> None:
    result = page_scenario(
        setup="""
        import functools
        def plain(a, b=10):
            return {"sum": a + b, "loop_running": asyncio.get_running_loop() is wv.loop}
        async def _later(x):
            await asyncio.sleep(0.01)
            return x * 3
        def returns_awaitable(x):
            return _later(x)
        class Service:
            async def __call__(self, x):
                return [x, "from __call__"]
        wv.bind("plain", plain)
        wv.bind("returns_awaitable", returns_awaitable)
        wv.bind("partial_async", functools.partial(_later, 7))
        wv.bind("service", Service())
        """,
        page_js="""
        report({
          plain: await plain(1), plain2: await plain(1, 2),
          aw: await returns_awaitable(5), part: await partial_async(),
          svc: await service("s")});
        """,
    )
    _ok(result)
    assert result["plain"] == {"sum": 11, "loop_running": True}
    assert result["plain2"]["sum"] == 3
    assert result["aw"] == 15
    assert result["part"] == 21
    assert result["svc"] == ["s", "from __call__"]


def test_evaluate_in_flight_fails_when_the_page_reloads_itself() -> None:
    # A page loaded with set_html reloads to about:blank; that new document's "ready"
    # (from our init script) must fail the evaluation sent to the old one.
    result = page_scenario(
        setup="""
        from asyncio_guest_webview import JavaScriptError
        async def check():
            pending = asyncio.ensure_future(wv.evaluate("new Promise(() => {})"))
            await asyncio.sleep(0.1)
            wv.eval("location.reload()")
            try:
                await pending
                outcome = "resolved?"
            except JavaScriptError as exc:
                outcome = str(exc)
            emit(outcome=outcome)
            wv.terminate()
        wv.bind("check", check)
        """,
        page_js="""
        await check();
        """,
    )
    assert result["outcome"] == "Error: the page was replaced before evaluate() finished"
    assert result["guest_io_threads"] == 0
