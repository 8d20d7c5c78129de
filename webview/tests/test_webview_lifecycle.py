"""Closing, terminating and cancelling: every Promise settles, run() returns, nothing leaks."""

from __future__ import annotations

from webview_harness import page_scenario, run_scenario


def test_closing_the_window_during_a_call_cancels_it_and_run_returns() -> None:
    result = page_scenario(
        setup="""
        from asyncio_guest_webview import _bridge
        state = {"cancelled": False, "finished": False, "rejections": []}
        original_settle = _bridge.Bridge._settle
        def spy(self, seq, status, payload):
            if status:
                state["rejections"].append(json.loads(payload))
            original_settle(self, seq, status, payload)
        _bridge.Bridge._settle = spy

        async def forever():
            # Close the window the way its close button does, once we are running.
            asyncio.get_running_loop().call_later(0.2, wv.close)
            try:
                await asyncio.sleep(30)
                state["finished"] = True
            except asyncio.CancelledError:
                state["cancelled"] = True
                raise
        wv.bind("forever", forever)
        """,
        page_js="""
        document.getElementById("out").textContent = "waiting";
        await forever();
        report({resolved: true});
        """,
        after="""
        emit(cancelled=state["cancelled"], finished=state["finished"],
             rejections=state["rejections"])
        """,
    )
    assert "resolved" not in result
    assert result["cancelled"] is True
    assert result["finished"] is False
    assert result["guest_io_threads"] == 0
    assert result["python_threads"] == ["MainThread"]
    assert result["destroyed"] is True
    # Its Promise was settled (rejected) on the way out.
    assert [r["type"] for r in result["rejections"]] == ["CancelledError"]
    assert "the webview closed" in result["rejections"][0]["message"]


def test_terminate_from_another_thread_rejects_pending_calls() -> None:
    # The JS side of a rejection made during shutdown may never run (the page is
    # destroyed right after), so we watch the rejection leave Python instead; the
    # in-page view of a cancellation is covered by the next test.
    result = page_scenario(
        setup="""
        from asyncio_guest_webview import _bridge
        rejections = []
        original_settle = _bridge.Bridge._settle
        def spy(self, seq, status, payload):
            if status:
                rejections.append(json.loads(payload))
            original_settle(self, seq, status, payload)
        _bridge.Bridge._settle = spy
        slow_started = asyncio.Event()
        async def slow():
            slow_started.set()
            await asyncio.sleep(30)
        async def trigger():
            await slow_started.wait()
            threading.Thread(target=wv.terminate, name="terminator").start()
            return "ok"
        wv.bind("slow", slow)
        wv.bind("trigger", trigger)
        """,
        page_js="""
        slow();
        await trigger();
        """,
        after="""
        emit(rejections=rejections)
        """,
    )
    assert result["guest_io_threads"] == 0
    assert result["python_threads"] == ["MainThread"]
    assert result["destroyed"] is True
    assert result["rejections"] == [
        {
            "__asyncio_guest_error__": True,
            "type": "CancelledError",
            "message": "slow() was cancelled: the webview closed",
        }
    ]


def test_cancelling_a_call_task_rejects_its_promise() -> None:
    result = page_scenario(
        setup="""
        async def sleeper():
            await asyncio.sleep(30)
        async def cancel_sleepers():
            me = asyncio.current_task()
            for task in asyncio.all_tasks():
                if task is not me and "sleeper" in task.get_name():
                    task.cancel()
        wv.bind("sleeper", sleeper)
        wv.bind("cancel_sleepers", cancel_sleepers)
        """,
        page_js="""
        const p = sleeper();
        await new Promise(r => setTimeout(r, 100));
        await cancel_sleepers();
        try { await p; report({resolved: true}); }
        catch (e) { report({message: e.message, type: e.pythonType}); }
        """,
    )
    assert result["type"] == "CancelledError"
    assert result["message"] == "CancelledError: sleeper() was cancelled: the task was cancelled"


def test_destroy_inside_run_ends_run_and_frees_the_window() -> None:
    result = page_scenario(
        setup="""
        async def quit_app():
            wv.destroy()  # deferred: run() winds down, then destroys
            return "bye"
        wv.bind("quit_app", quit_app)
        """,
        page_js="""
        await quit_app();
        """,
        after="""
        try:
            wv.set_html("<p>again</p>")
        except RuntimeError as exc:
            emit(after_destroy=str(exc))
        """,
    )
    assert result["destroyed"] is True
    assert result["guest_io_threads"] == 0
    assert result["after_destroy"] == "the webview was destroyed"


def test_host_adapter_runs_any_coroutine_and_closing_cancels_it() -> None:
    result = run_scenario(
        """
        from asyncio_guest.hosts import Host
        from asyncio_guest_webview import Webview
        from asyncio_guest_webview.host import WebviewHost, run

        wv = Webview()
        emit(is_host=isinstance(WebviewHost(wv), Host))
        wv.set_html("<p>host</p>")

        async def main(x):
            await asyncio.sleep(0.1)
            return x + await wv.evaluate("document.body.textContent.length")
        emit(value=run(main, 1, webview=wv))

        # Same webview again: closing the window cancels main(), and a quit returns None.
        cancelled = []
        async def until_closed():
            asyncio.get_running_loop().call_later(0.2, wv.close)
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                cancelled.append(True)
                raise
        emit(second=run(until_closed, webview=wv), cancelled=cancelled)
        wv.destroy()
        emit(guest_io_threads=guest_io_threads(), python_threads=python_threads())
        """
    )
    assert result["is_host"] is True
    assert result["value"] == 5
    assert result["second"] is None and result["cancelled"] == [True]
    assert result["guest_io_threads"] == 0
    assert result["python_threads"] == ["MainThread"]


def test_a_webview_can_run_twice_in_sequence() -> None:
    result = run_scenario(
        """
        from asyncio_guest_webview import Webview
        values = []
        for round in range(2):
            wv = Webview()
            async def answer(x):
                await asyncio.sleep(0.05)
                return x
            def done(v):
                values.append(v)
                wv.terminate()
            wv.bind("answer", answer)
            wv.bind("done", done)
            wv.set_html(f"<script>answer({round}).then(done)</script>")
            wv.run()
        emit(values=values, guest_io_threads=guest_io_threads())
        """
    )
    assert result["values"] == [0, 1]
    assert result["guest_io_threads"] == 0


def test_ctrl_c_during_run_tears_down_and_reraises() -> None:
    result = page_scenario(
        setup="""
        import signal
        async def slow():
            await asyncio.sleep(30)
        wv.bind("slow", slow)
        threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        _run = wv.run
        def run_catching():
            try:
                _run()
            except KeyboardInterrupt:
                emit(interrupted=True)
        wv.run = run_catching
        """,
        page_js="""
        await slow();
        """,
    )
    assert result["interrupted"] is True
    assert result["guest_io_threads"] == 0
    assert result["destroyed"] is True


def test_exceptions_in_dispatched_callables_go_to_unraisablehook() -> None:
    result = run_scenario(
        """
        from asyncio_guest_webview import Webview
        wv = Webview()
        seen = []
        sys.unraisablehook = lambda args: seen.append(repr(args.exc_value))
        def bad():
            raise ValueError("in dispatch")
        order = []
        wv.dispatch(bad)
        wv.dispatch(lambda: order.append(1))
        threading.Thread(target=lambda: wv.dispatch(lambda: order.append(2))).start()
        time.sleep(0.2)
        wv.dispatch(wv.terminate)
        wv.native.run()
        wv.destroy()
        emit(seen=seen, order=order)
        """
    )
    assert result["seen"] == ["ValueError('in dispatch')"]
    assert result["order"] == [1, 2]


def test_embedding_in_a_caller_owned_gtk_window() -> None:
    # window=<GtkWindow*>: the webview becomes a child of the caller's window.
    result = run_scenario(
        """
        import ctypes
        gtk = ctypes.CDLL("libgtk-3.so.0")
        gtk.gtk_init_check.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        gtk.gtk_window_new.restype = ctypes.c_void_p
        gtk.gtk_widget_show_all.argtypes = [ctypes.c_void_p]
        gtk.gtk_window_resize.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
        assert gtk.gtk_init_check(None, None)
        window = gtk.gtk_window_new(0)
        gtk.gtk_window_resize(window, 400, 300)
        from asyncio_guest_webview import Webview, Size
        wv = Webview(window=window)
        wv.size = Size(400, 300)
        gtk.gtk_widget_show_all(window)
        async def add(a, b):
            await asyncio.sleep(0.05)
            return a + b
        def done(v):
            emit(value=v, same_window=wv.native.get_window() == window)
            wv.terminate()
        wv.bind("add", add)
        wv.bind("done", done)
        wv.set_html("<script>add(20, 22).then(done)</script>")
        wv.run()
        emit(guest_io_threads=guest_io_threads())
        """
    )
    assert result["value"] == 42
    assert result["same_window"] is True
    assert result["guest_io_threads"] == 0


def test_closing_also_cancels_background_tasks_started_by_bindings() -> None:
    result = page_scenario(
        setup="""
        state = {}
        keep = set()
        async def background():
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                state["cancelled"] = True
                raise
        def spawn():
            # A plain binding runs between guest ticks, where the guest loop is running.
            keep.add(asyncio.get_running_loop().create_task(background()))
            asyncio.get_running_loop().call_later(0.2, wv.close)
            return "spawned"
        wv.bind("spawn", spawn)
        """,
        page_js="""
        await spawn();
        """,
        after="""
        emit(**state)
        """,
    )
    assert result["cancelled"] is True
    assert result["guest_io_threads"] == 0
    assert result["python_threads"] == ["MainThread"]
