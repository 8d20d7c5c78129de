"""Binary data, streams, events, cancellation from JS and sync bindings in a thread.

Each scenario runs in a real WebKitGTK window (under Xvfb) in a child process; see
webview_harness.py.
"""

from __future__ import annotations

from webview_harness import page_scenario


def _ok(result: dict[str, object]) -> None:
    assert "js_error" not in result, result["js_error"]
    assert result["guest_io_threads"] == 0
    assert result["python_threads"] == ["MainThread"]
    assert result["destroyed"] is True


def test_binary_round_trips_both_ways() -> None:
    result = page_scenario(
        setup="""
        got = {}
        def plain(value):
            if isinstance(value, bytes):
                return list(value)
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            if isinstance(value, list):
                return [plain(v) for v in value]
            if isinstance(value, int):
                return str(value)
            return value
        def take(label, value):
            got[label] = [type(value).__name__, plain(value)]
        async def echo(value):
            return value
        def make():
            return {"b": bytes([0, 1, 255]), "ba": bytearray(b"hi"), "mv": memoryview(b"xyz"),
                    "list": [b"", b"\\x07"], "text": "plain"}
        def big(n):
            return bytes(range(256)) * (n // 256)
        def summary():
            return got
        wv.bind("take", take)
        wv.bind("echo", echo)
        wv.bind("make", make)
        wv.bind("big", big)
        wv.bind("summary", summary)
        """,
        page_js="""
        const out = {};
        const buffer = new Uint8Array([1, 2, 3]).buffer;
        await take("arraybuffer", buffer);
        await take("uint8", new Uint8Array([4, 5]));
        await take("int16", new Int16Array([1, -1]));
        await take("float64", new Float64Array([1.5]));
        await take("dataview", new DataView(new Uint8Array([9, 8, 7, 6]).buffer, 1, 2));
        await take("subarray", new Uint8Array([0, 1, 2, 3, 4]).subarray(3));
        await take("blob", new Blob([new Uint8Array([65, 66]), "C"]));
        await take("nested", {inner: [new Uint8Array([42])], n: 1});
        await take("empty", new ArrayBuffer(0));
        await take("bigint", 2n ** 70n);
        out.got = await summary();
        const made = await make();
        out.made = {
          b_is_u8: made.b instanceof Uint8Array, b: Array.from(made.b),
          ba: Array.from(made.ba), mv: Array.from(made.mv),
          list: made.list.map(x => Array.from(x)), text: made.text,
        };
        const echoed = await echo(new Uint8Array([3, 1, 4, 1, 5]));
        out.echoed = {is_u8: echoed instanceof Uint8Array, values: Array.from(echoed)};
        const large = await big(1 << 20);
        let sum = 0; for (let i = 0; i < large.length; i++) { sum = (sum + large[i]) % 65521; }
        out.large = {length: large.length, sum};
        report(out);
        """,
        after="""
        expected = sum((bytes(range(256)) * 4096)) % 65521
        emit(expected_sum=expected)
        """,
    )
    _ok(result)
    got = result["got"]
    assert got["arraybuffer"] == ["bytes", [1, 2, 3]]
    assert got["uint8"] == ["bytes", [4, 5]]
    assert got["int16"] == ["bytes", [1, 0, 255, 255]]
    assert got["float64"] == ["bytes", [0, 0, 0, 0, 0, 0, 248, 63]]
    assert got["dataview"] == ["bytes", [8, 7]]
    assert got["subarray"] == ["bytes", [3, 4]]
    assert got["blob"] == ["bytes", [65, 66, 67]]
    assert got["nested"] == ["dict", {"inner": [[42]], "n": "1"}]
    assert got["empty"] == ["bytes", []]
    assert got["bigint"] == ["int", str(2**70)]
    assert result["made"] == {
        "b_is_u8": True,
        "b": [0, 1, 255],
        "ba": [104, 105],
        "mv": [120, 121, 122],
        "list": [[], [7]],
        "text": "plain",
    }
    assert result["echoed"] == {"is_u8": True, "values": [3, 1, 4, 1, 5]}
    assert result["large"] == {"length": 1 << 20, "sum": result["expected_sum"]}


def test_values_that_cannot_cross_reject_naming_the_argument() -> None:
    result = page_scenario(
        setup="""
        import logging
        logging.basicConfig(level=logging.ERROR)
        calls = []
        def take(*args):
            calls.append(len(args))
        def give_set():
            return {1, 2}
        def count():
            return len(calls)
        wv.bind("take", take)
        wv.bind("give_set", give_set)
        wv.bind("count", count)
        """,
        page_js="""
        const out = {};
        async function grab(label, p) {
          try { await p; out[label] = "resolved"; }
          catch (e) { out[label] = {name: e.name, message: e.message}; }
        }
        const cyclic = {a: 1}; cyclic.self = cyclic;
        await grab("function", take(1, () => 1));
        await grab("symbol", take(Symbol("s")));
        await grab("cycle", take(cyclic));
        await grab("map", take(new Map([[1, "x"]])));
        await grab("nan", take([1, NaN]));
        await grab("node", take(document.body));
        await grab("error", take({e: new Error("x")}));
        await grab("set", give_set());
        out.calls = await count();
        report(out);
        """,
    )
    _ok(result)
    assert result["function"] == {
        "name": "TypeError",
        "message": "take(): argument 2 is a function, which cannot cross to Python",
    }
    assert result["symbol"]["message"] == (
        "take(): argument 1 is a symbol, which cannot cross to Python"
    )
    assert result["cycle"]["message"] == (
        "take(): argument 1.self is a cycle (it contains itself), which cannot cross to Python"
    )
    assert result["map"]["message"] == (
        "take(): argument 1 is a Map with a number key, which cannot cross to Python"
    )
    assert result["nan"]["message"] == "take(): argument 1[1] is NaN, which cannot cross to Python"
    assert result["node"]["message"] == (
        "take(): argument 1 is a HTMLBodyElement, which cannot cross to Python"
    )
    assert result["error"]["message"] == (
        "take(): argument 1.e is a Error, which cannot cross to Python"
    )
    assert result["set"]["name"] == "TypeError"
    assert result["set"]["message"].startswith(
        "TypeError: the result of give_set() is a set, which cannot cross to JavaScript"
    )
    assert result["calls"] == 0  # nothing reached Python
    # The result that could not cross is also reported on the Python side.
    assert "the result of give_set() is a set, which cannot cross" in result["_stderr"]


def test_a_stream_of_ten_thousand_chunks_arrives_in_order() -> None:
    result = page_scenario(
        setup="""
        state = {"finally": 0}
        async def numbers(n):
            try:
                for i in range(n):
                    yield i
            finally:
                state["finally"] += 1
        def python_state():
            return state
        wv.bind("numbers", numbers)
        wv.bind("python_state", python_state)
        """,
        page_js="""
        let expected = 0, ok = true;
        for await (const value of numbers(10000)) {
          if (value !== expected) { ok = false; }
          expected += 1;
        }
        const awaited = await numbers(3);
        const rest = [];
        for await (const value of awaited) { rest.push(value); }
        report({count: expected, in_order: ok, rest, state: await python_state()});
        """,
    )
    _ok(result)
    assert result["count"] == 10000
    assert result["in_order"] is True
    assert result["rest"] == [0, 1, 2]
    assert result["state"] == {"finally": 2}


def test_early_break_exception_and_return_close_the_generator() -> None:
    result = page_scenario(
        setup="""
        log = []
        async def endless(label):
            produced = 0
            try:
                while True:
                    produced += 1
                    yield {"label": label, "i": produced, "data": b"x" * 10}
            finally:
                log.append([label, produced])
        def closed_log():
            return log
        wv.bind("endless", endless)
        wv.bind("closed_log", closed_log)
        """,
        page_js="""
        for await (const chunk of endless("break")) { if (chunk.i === 10) break; }
        try {
          for await (const chunk of endless("throw")) { if (chunk.i === 5) throw new Error("x"); }
        } catch (e) {}
        async function first() { for await (const chunk of endless("return")) { return chunk; } }
        const got = await first();
        // Slow consumer: the producer may not run ahead by more than the window.
        const slow = endless("slow");
        let n = 0;
        for await (const chunk of slow) {
          await new Promise(r => setTimeout(r, 5));
          if (++n === 100) break;
        }
        let log = [];
        for (let i = 0; i < 200 && log.length < 4; i++) {
          log = await closed_log();
          await new Promise(r => setTimeout(r, 10));
        }
        report({log, first: got.i, data_is_bytes: got.data instanceof Uint8Array});
        """,
    )
    _ok(result)
    produced = {label: count for label, count in result["log"]}
    assert set(produced) == {"break", "throw", "return", "slow"}
    assert produced["break"] >= 10 and produced["throw"] >= 5 and produced["return"] >= 1
    # Bounded back-pressure: at most the stream window (64) beyond what was consumed.
    assert produced["slow"] <= 100 + 64 + 1, produced
    assert result["first"] == 1 and result["data_is_bytes"] is True


def test_one_hundred_concurrent_streams() -> None:
    result = page_scenario(
        setup="""
        open_now = 0
        peak = 0
        async def ticks(stream, n):
            global open_now, peak
            open_now += 1
            peak = max(peak, open_now)
            try:
                for i in range(n):
                    await asyncio.sleep(0.001)
                    yield [stream, i]
            finally:
                open_now -= 1
        def stats():
            return {"open": open_now, "peak": peak}
        wv.bind("ticks", ticks)
        wv.bind("stats", stats)
        """,
        page_js="""
        async function consume(s) {
          const got = [];
          for await (const [stream, i] of ticks(s, 50)) { if (stream === s) got.push(i); }
          return got.length === 50 && got.every((v, i) => v === i);
        }
        const all = await Promise.all(Array.from({length: 100}, (_, s) => consume(s)));
        report({all_ok: all.every(Boolean), n: all.length, stats: await stats()});
        """,
    )
    _ok(result)
    assert result["n"] == 100 and result["all_ok"] is True
    assert result["stats"]["open"] == 0
    assert result["stats"]["peak"] > 50  # they really ran at the same time


def test_closing_the_window_closes_every_open_stream() -> None:
    result = page_scenario(
        setup="""
        closed = []
        async def forever(i):
            try:
                while True:
                    yield i
                    await asyncio.sleep(0.01)
            finally:
                closed.append(i)
        def close_window():
            wv.close()
        wv.bind("forever", forever)
        wv.bind("close_window", close_window)
        """,
        page_js="""
        const streams = [];
        for (let i = 0; i < 5; i++) { streams.push(await forever(i)); }
        for (const s of streams) { await s.next(); }
        await close_window();
        """,
        after="""
        emit(closed=sorted(closed))
        """,
    )
    assert result["closed"] == [0, 1, 2, 3, 4]
    assert result["guest_io_threads"] == 0
    assert result["destroyed"] is True


def test_emit_while_js_calls_are_in_flight_and_unsubscribe() -> None:
    result = page_scenario(
        setup="""
        async def slow(i):
            await asyncio.sleep(0.3)
            return i
        async def start_events(n):
            for i in range(n):
                await wv.emit("tick", {"i": i, "raw": bytes([i % 256])})
                await asyncio.sleep(0)
            await wv.emit("done", None)
        def bad_payload():
            return None
        async def emit_bad():
            try:
                await wv.emit("x", {1, 2})
            except TypeError as exc:
                return str(exc)
        wv.bind("slow", slow)
        wv.bind("start_events", start_events)
        wv.bind("emit_bad", emit_bad)
        """,
        page_js="""
        const seen = [];
        let after_off = 0;
        const off = asyncioGuest.on("tick", (p) => {
          seen.push(p.i);
          if (!(p.raw instanceof Uint8Array) || p.raw[0] !== p.i % 256) { seen.push("bad"); }
        });
        const second = (p) => { if (p.i >= 50) { after_off += 1; } };
        asyncioGuest.on("tick", second);
        const done = new Promise(resolve => asyncioGuest.once("done", resolve));
        const calls = Array.from({length: 20}, (_, i) => slow(i));
        const events = start_events(100);
        // Unsubscribe the second handler half-way.
        await new Promise(resolve => asyncioGuest.on("tick", function h(p) {
          if (p.i !== 49) { return; }
          asyncioGuest.off("tick", second); asyncioGuest.off("tick", h); resolve();
        }));
        await events;
        await done;
        const values = await Promise.all(calls);
        off();
        report({seen_ok: seen.length === 100 && seen.every((v, i) => v === i), after_off,
                values_ok: values.every((v, i) => v === i),
                off_again: asyncioGuest.off("tick", second), bad: await emit_bad()});
        """,
    )
    _ok(result)
    assert result["seen_ok"] is True
    assert result["after_off"] == 0
    assert result["values_ok"] is True
    assert result["off_again"] is False
    assert "the payload of event 'x' is a set" in result["bad"]


def test_cancel_from_js_half_of_one_hundred_calls() -> None:
    result = page_scenario(
        setup="""
        started = 0
        cancelled = []
        finally_ran = 0
        never_called = []
        async def work(i):
            global started, finally_ran
            started += 1
            try:
                await asyncio.sleep(0.5)
                return i
            except asyncio.CancelledError:
                cancelled.append(i)
                raise
            finally:
                finally_ran += 1
        def how_many():
            return started
        def stats():
            return {"cancelled": sorted(cancelled), "finally": finally_ran, "started": started}
        async def untouched():
            never_called.append(1)
        def untouched_count():
            return len(never_called)
        wv.bind("work", work)
        wv.bind("how_many", how_many)
        wv.bind("stats", stats)
        wv.bind("untouched", untouched)
        wv.bind("untouched_count", untouched_count)
        """,
        page_js="""
        const controllers = [];
        const calls = [];
        for (let i = 0; i < 100; i++) {
          if (i % 4 === 1) {
            const c = new AbortController(); controllers.push(c);
            calls.push(work(i, c.signal));
          } else {
            calls.push(work(i));
          }
        }
        while ((await how_many()) < 100) { await new Promise(r => setTimeout(r, 5)); }
        controllers.forEach(c => c.abort());
        for (let i = 3; i < 100; i += 4) { calls[i].cancel(); }
        const settled = await Promise.allSettled(calls);
        const aborted = [], resolved = [], other = [];
        settled.forEach((s, i) => {
          if (s.status === "fulfilled" && s.value === i) resolved.push(i);
          else if (s.status === "rejected" && s.reason.name === "AbortError") aborted.push(i);
          else other.push([i, String(s.reason)]);
        });
        const pre = new AbortController(); pre.abort();
        let pre_name = null;
        try { await untouched(pre.signal); } catch (e) { pre_name = e.name; }
        let stats_now = await stats();
        for (let i = 0; i < 100 && stats_now.finally < 100; i++) {
          await new Promise(r => setTimeout(r, 20)); stats_now = await stats();
        }
        report({aborted, resolved, other, stats: stats_now, pre_name,
                untouched: await untouched_count()});
        """,
    )
    _ok(result)
    odd = [i for i in range(100) if i % 2 == 1]
    even = [i for i in range(100) if i % 2 == 0]
    assert result["other"] == []
    assert result["aborted"] == odd
    assert result["resolved"] == even
    assert result["stats"]["cancelled"] == odd  # the coroutine saw CancelledError
    assert result["stats"]["finally"] == 100
    assert result["pre_name"] == "AbortError"
    assert result["untouched"] == 0


def test_sync_binding_in_a_thread_keeps_the_page_responsive() -> None:
    result = page_scenario(
        webview_args="sync_in_thread=True",
        setup="""
        import threading
        ticks = 0
        def block(seconds):
            time.sleep(seconds)
            return threading.current_thread().name
        def block_inline(seconds):
            time.sleep(seconds)
            return threading.current_thread().name
        async def quick():
            await asyncio.sleep(0.01)
            return "quick"
        async def ticker():
            global ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1
        background = []
        async def start_ticker():
            background.append(asyncio.ensure_future(ticker()))
        def python_ticks():
            return ticks
        wv.bind("block", block)                       # the webview's default: a thread
        wv.bind("block_inline", block_inline, thread=False)
        wv.bind("quick", quick)
        wv.bind("start_ticker", start_ticker)
        wv.bind("python_ticks", python_ticks)
        """,
        page_js="""
        await start_ticker();
        async function during(slowCall) {
          let frames = 0, running = true;
          function tick() { frames += 1; if (running) requestAnimationFrame(tick); }
          requestAnimationFrame(tick);
          const before = await python_ticks();
          const order = [];
          const slow = slowCall().then((name) => { order.push("slow"); return name; });
          const fast = quick().then(() => { order.push("quick"); });
          const name = await slow;
          await fast;
          const ticks = (await python_ticks()) - before;
          running = false;
          return {frames, order, name, ticks};
        }
        const threaded = await during(() => block(1.0));
        const inline = await during(() => block_inline(1.0));
        report({threaded, inline});
        """,
    )
    _ok(result)
    threaded, inline = result["threaded"], result["inline"]
    assert threaded["name"] != "MainThread" and inline["name"] == "MainThread"
    # In a thread, the slow call leaves the GUI thread free: an async call started after
    # it settles first, the guest loop keeps ticking, and the page's frames keep coming.
    assert threaded["order"] == ["quick", "slow"], result
    assert threaded["ticks"] >= 10, result
    assert threaded["frames"] >= 10, result
    # Inline, the GUI thread (and so the guest loop) is held for the whole call.
    assert inline["order"] == ["slow", "quick"], result
    assert inline["ticks"] <= 3, result


def test_a_binding_name_the_page_already_has_is_reported_and_the_others_work() -> None:
    result = page_scenario(
        setup="""
        import logging
        logging.basicConfig(level=logging.ERROR)
        def closed():
            return "shadowed"
        def zebra():
            return "still bound"
        wv.bind("closed", closed)
        wv.bind("zebra", zebra)
        """,
        page_js="""
        report({zebra: await zebra(), closed_type: typeof closed});
        """,
    )
    _ok(result)
    assert result["zebra"] == "still bound"
    assert result["closed_type"] == "boolean"  # the page's own window.closed
    assert "window.closed could not be defined in the page" in result["_stderr"]


def test_thread_option_is_checked() -> None:
    result = page_scenario(
        setup="""
        async def coro():
            return 1
        errors = {}
        try:
            wv.bind("coro", coro, thread=True)
        except ValueError as exc:
            errors["async"] = str(exc)
        try:
            wv.bind("coro2", coro, thread="yes")
        except TypeError as exc:
            errors["type"] = str(exc)
        emit(errors=errors, bound=wv.bridge.names())
        """,
        page_js="""
        report({});
        """,
    )
    _ok(result)
    assert "thread=True is for plain functions" in result["errors"]["async"]
    assert "thread must be True, False or None" in result["errors"]["type"]
    assert result["bound"] == ["report"]
