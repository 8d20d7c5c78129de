"""Win32 host queueing logic with a fake ``user32`` (UNTESTED ON WINDOWS: Linux only here).

The fake models what the host relies on: a per-thread posted-message queue with a capacity
(``PostMessageW`` fails when full), ``WM_QUIT`` from ``PostQuitMessage``, timers that only
fire when no posted message is waiting (``WM_TIMER`` is the lowest-priority message),
``GetQueueStatus`` for pending input, message-only windows whose procedure (the real ctypes
``WNDPROC`` callback the host registers) ``DispatchMessageW`` calls, and the rule that
timers and windows belong to the thread that created them.  On top of the unit tests, a
real guest run (the Rust core, real sockets, the sample's HTTP server) goes through the fake
queue, including with ``PostMessageW`` failing at random and a modal loop inside a callable.
"""

from __future__ import annotations

import asyncio
import ctypes
import random
import sys
import threading
import time
from collections import deque
from types import SimpleNamespace
from typing import Any, Callable, Optional

import pytest

from asyncio_guest.hosts import _win32_api as api
from asyncio_guest.hosts import win32
from asyncio_guest.hosts._base import run_on_host
from asyncio_guest.samples import _common as common
from tests._support.leaks import fd_count as _fds
from tests._support.leaks import thread_count as _threads

pytestmark = pytest.mark.timeout(60)

USER_TIMER_MINIMUM = 0.010


class FakeUser32:
    """Just enough of user32 for Win32Host, with Windows' ordering and ownership rules."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self.queue: deque[tuple[Any, int, int, int]] = deque()
        self.cond = threading.Condition()
        self.classes: dict[str, Any] = {}
        self.windows: dict[int, Any] = {}
        self.parents: dict[int, Any] = {}
        self.timers: dict[tuple[int, int], list[float]] = {}
        self.quit_code: Optional[int] = None
        self.input_pending = 0
        self.fail_next = 0
        self.fail_rate = 0.0
        self.posts = 0
        self.failed_posts = 0
        self.on_post: Optional[Callable[[], None]] = None
        self.owner: Optional[int] = None
        self.violations: list[str] = []
        self.dispatched: list[int] = []
        self.texts: dict[int, str] = {}
        self.enabled: dict[int, bool] = {}
        self.sent: list[tuple[int, int, int, int]] = []
        self.message_boxes = 0
        self._next_hwnd = 0x1000

    def _owner_only(self, what: str) -> None:
        if threading.get_ident() != self.owner:
            self.violations.append(what)

    # -- classes and windows
    def RegisterClassExW(self, pwc: Any) -> int:
        wc = pwc._obj
        assert wc.cbSize == ctypes.sizeof(api.WNDCLASSEXW)
        self.classes[wc.lpszClassName] = wc.lpfnWndProc
        return 0xC000 + len(self.classes)

    def UnregisterClassW(self, name: str, hinstance: Any) -> int:
        return 1 if self.classes.pop(name, None) is not None else 0

    def CreateWindowExW(self, ex: int, cls: str, title: str, style: int, *rest: Any) -> int:
        parent = rest[4]  # x, y, width, height, parent, menu, hinstance, param
        self.owner = threading.get_ident()
        self._next_hwnd += 4
        # Controls (STATIC, BUTTON, ...) are system classes: no Python procedure here.
        self.windows[self._next_hwnd] = self.classes.get(cls)
        self.parents[self._next_hwnd] = parent
        self.texts[self._next_hwnd] = title
        return self._next_hwnd

    def DestroyWindow(self, hwnd: int) -> int:
        self._owner_only("DestroyWindow")
        with self.cond:
            if hwnd not in self.windows:
                return 0
            # Children go with their parent.
            for child in [h for h, p in self.parents.items() if p == hwnd]:
                self.windows.pop(child, None)
            self.windows.pop(hwnd)
            # A destroyed window's posted messages and timers are gone with it.
            self.queue = deque(m for m in self.queue if m[0] != hwnd)
            for key in [k for k in self.timers if k[0] == hwnd]:
                del self.timers[key]
        return 1

    def DefWindowProcW(self, hwnd: int, msg: int, wparam: int, lparam: int) -> int:
        return 0

    # -- messages
    def PostMessageW(self, hwnd: int, msg: int, wparam: int, lparam: int) -> int:
        if self.on_post is not None:
            self.on_post()
        with self.cond:
            self.posts += 1
            if (
                self.fail_next > 0
                or len(self.queue) >= self.capacity
                or random.random() < self.fail_rate
            ):
                self.fail_next = max(0, self.fail_next - 1)
                self.failed_posts += 1
                return 0  # ERROR_NOT_ENOUGH_QUOTA
            self.queue.append((hwnd, msg, wparam, lparam))
            self.cond.notify_all()
        return 1

    def PostQuitMessage(self, code: int) -> None:
        with self.cond:
            self.quit_code = code
            self.cond.notify_all()

    def GetQueueStatus(self, flags: int) -> int:
        # QS_TIMER: a timer of this thread has expired (its WM_TIMER is due).
        now = time.monotonic()
        with self.cond:
            due = api.QS_TIMER if any(at <= now for _, at in self.timers.values()) else 0
        return ((self.input_pending | due) & flags) << 16

    def SetTimer(self, hwnd: int, ident: int, ms: int, proc: Any) -> int:
        self._owner_only("SetTimer")
        interval = max(ms / 1000, USER_TIMER_MINIMUM)
        with self.cond:
            self.timers[(hwnd, ident)] = [interval, time.monotonic() + interval]
            self.cond.notify_all()
        return ident

    def KillTimer(self, hwnd: int, ident: int) -> int:
        self._owner_only("KillTimer")
        with self.cond:
            return 1 if self.timers.pop((hwnd, ident), None) is not None else 0

    def _next(self, block: bool) -> Optional[tuple[Any, int, int, int]]:
        deadline = time.monotonic() + 20  # a stuck host fails the test instead of hanging
        with self.cond:
            while True:
                if self.queue:  # posted messages first
                    return self.queue.popleft()
                if self.quit_code is not None:
                    code, self.quit_code = self.quit_code, None
                    return (None, 0x0012, code, 0)  # WM_QUIT
                now = time.monotonic()
                due = [k for k, (iv, at) in self.timers.items() if at <= now]
                if due:  # timers last, only when nothing else waits
                    hwnd, ident = due[0]
                    self.timers[due[0]][1] = now + self.timers[due[0]][0]
                    return (hwnd, api.WM_TIMER, ident, 0)
                if not block:
                    return None
                if now > deadline:
                    raise RuntimeError("fake message queue: nothing arrived for 20 s")
                wait = min([at for iv, at in self.timers.values()] + [now + 0.1]) - now
                self.cond.wait(max(wait, 0.0005))

    def GetMessageW(self, pmsg: Any, hwnd: Any, lo: int, hi: int) -> int:
        self._owner_only("GetMessageW")
        m = self._next(block=True)
        assert m is not None
        msg = pmsg._obj
        msg.hWnd, msg.message, msg.wParam, msg.lParam = m
        return 0 if m[1] == 0x0012 else 1

    def TranslateMessage(self, pmsg: Any) -> int:
        return 0

    def DispatchMessageW(self, pmsg: Any) -> int:
        msg = pmsg._obj
        proc = self.windows.get(msg.hWnd or 0)
        if proc is None:
            return 0  # a thread message (no window): modal loops drop these
        self.dispatched.append(msg.message)
        return int(proc(msg.hWnd, msg.message, msg.wParam, msg.lParam))

    # -- what the sample window uses
    def ShowWindow(self, hwnd: int, cmd: int) -> int:
        return 0

    def UpdateWindow(self, hwnd: int) -> int:
        return 1

    def LoadCursorW(self, hinstance: Any, name: Any) -> int:
        return 0x77

    def GetSysColorBrush(self, index: int) -> int:
        return 0x88

    def SetWindowTextW(self, hwnd: int, text: str) -> int:
        if hwnd not in self.windows:
            return 0
        self.texts[hwnd] = text
        return 1

    def EnableWindow(self, hwnd: int, enable: bool) -> int:
        self.enabled[hwnd] = bool(enable)
        return 0

    def SendMessageW(self, hwnd: int, msg: int, wparam: int, lparam: int) -> int:
        self.sent.append((hwnd, msg, wparam, lparam))
        return 0

    def MessageBoxW(self, hwnd: int, text: str, title: str, flags: int) -> int:
        self.message_boxes += 1
        return self.modal_loop(self.message_box_seconds)

    message_box_seconds = 0.5

    # -- test helpers
    def pump_one(self) -> tuple[int, int]:
        """GetMessage + DispatchMessage once, without blocking; returns (message, wParam)."""
        m = self._next(block=False)
        assert m is not None, "no message waiting"
        msg = api.MSG()
        msg.hWnd, msg.message, msg.wParam, msg.lParam = m
        self.DispatchMessageW(ctypes.byref(msg))
        return m[1], m[2]

    def modal_loop(self, seconds: float) -> int:
        """What MessageBox does: its own GetMessage/DispatchMessage loop until it closes."""
        end = time.monotonic() + seconds
        msg = api.MSG()
        while time.monotonic() < end:
            m = self._next(block=False)
            if m is None:
                time.sleep(0.001)
                continue
            if m[1] == 0x0012:  # WM_QUIT: end the modal loop and re-post it, like Windows
                self.PostQuitMessage(m[2])
                break
            msg.hWnd, msg.message, msg.wParam, msg.lParam = m
            self.DispatchMessageW(ctypes.byref(msg))
        return 1  # IDOK


class FakeKernel32:
    def GetModuleHandleW(self, name: Any) -> int:
        return 0x400000


class FakeGdi32:
    def GetStockObject(self, index: int) -> int:
        return 0x99


class FakeComctl32:
    def InitCommonControlsEx(self, picc: Any) -> int:
        assert picc._obj.dwSize == ctypes.sizeof(api.INITCOMMONCONTROLSEX)
        return 1


def make_host(**kw: Any) -> tuple[win32.Win32Host, FakeUser32]:
    user32 = FakeUser32(**kw)
    return win32.Win32Host(user32=user32, kernel32=FakeKernel32()), user32


# --------------------------------------------------------------------------- declarations


def test_prototypes_are_pointer_sized() -> None:
    ptr = ctypes.sizeof(ctypes.c_void_p)
    for t in (api.WPARAM, api.LPARAM, api.LRESULT, api.UINT_PTR):
        assert ctypes.sizeof(t) == ptr
    assert api._USER32["PostMessageW"][1][2:] == [api.WPARAM, api.LPARAM]
    assert api._USER32["DefWindowProcW"][0] is api.LRESULT
    assert api._USER32["DispatchMessageW"][0] is api.LRESULT
    assert api._USER32["SetTimer"][0] is api.UINT_PTR
    assert api._USER32["CreateWindowExW"][0] is ctypes.c_void_p  # HWND, not a C int
    # Windows' layouts (x64 / x86), independent of the C long size of this platform.
    assert ctypes.sizeof(api.WNDCLASSEXW) == (80 if ptr == 8 else 48)
    assert ctypes.sizeof(api.MSG) == (48 if ptr == 8 else 28)


@pytest.mark.skipif(sys.platform == "win32", reason="checks the non-Windows error")
def test_real_dlls_need_windows() -> None:
    with pytest.raises(OSError, match="needs Windows"):
        win32.Win32Host()


def test_creates_a_message_only_window_and_cleans_up() -> None:
    host, user32 = make_host()
    assert user32.parents[host.hwnd] == api.HWND_MESSAGE
    assert len(user32.classes) == 1
    host.close()
    assert not user32.windows and not user32.classes
    host.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        host.run_sync_soon_threadsafe(lambda: None)


# --------------------------------------------------------------------------- queueing


def test_appends_before_posting_and_coalesces_wakeups() -> None:
    host, user32 = make_host()
    queued_at_post: list[int] = []
    user32.on_post = lambda: queued_at_post.append(len(host._queue))
    ran: list[int] = []
    for i in range(5):
        host.run_sync_soon_threadsafe(lambda i=i: ran.append(i))
    assert ran == []  # never inline
    assert queued_at_post == [1]  # the callable was queued before its message; one message
    assert user32.pump_one() == (win32.WM_GUEST, 0)
    assert ran == [0, 1, 2, 3, 4]
    host.close()


def test_bounded_number_of_callables_per_message() -> None:
    host, user32 = make_host()
    ran: list[int] = []
    n = 3 * win32.MAX_PER_MESSAGE + 2
    for i in range(n):
        host.run_sync_soon_not_threadsafe(lambda i=i: ran.append(i))
    per_message = []
    while len(ran) < n:
        before = len(ran)
        assert user32.pump_one()[0] == win32.WM_GUEST
        per_message.append(len(ran) - before)
    assert per_message == [win32.MAX_PER_MESSAGE] * 3 + [2]
    assert ran == list(range(n))
    assert not user32.queue  # no stray wake-up left behind
    host.close()


def test_callables_posted_while_draining_get_their_own_wakeup() -> None:
    host, user32 = make_host()
    ran: list[str] = []

    def first() -> None:
        ran.append("first")
        host.run_sync_soon_not_threadsafe(lambda: ran.append("second"))

    host.run_sync_soon_not_threadsafe(first)
    user32.pump_one()
    # "second" was queued during the drain: the drain picks it up, and since the wake-up
    # being handled was already consumed, it also posted its own (now empty) wake-up.
    assert ran == ["first", "second"]
    assert len(user32.queue) == 1
    user32.pump_one()
    assert ran == ["first", "second"] and not user32.queue
    host.close()


def test_failed_post_loses_nothing_retry_timer_drains() -> None:
    host, user32 = make_host()
    user32.fail_next = 1
    ran: list[float] = []
    start = time.monotonic()
    host.run_sync_soon_threadsafe(lambda: ran.append(time.monotonic() - start))
    assert host.post_failures == 1 and not user32.queue  # the message never made it
    # On the GUI thread the failure armed the one-shot retry timer: it is the wake-up now.
    assert (host.hwnd, win32.RETRY_TIMER_ID) in user32.timers
    host.run_sync_soon_threadsafe(host.stop)  # rides on the same timer, no new post
    assert user32.posts == 1
    host.mainloop()
    assert len(ran) == 1
    assert (host.hwnd, win32.RETRY_TIMER_ID) not in user32.timers  # one-shot
    host.close()


def test_failed_post_from_another_thread_is_retried_by_that_thread() -> None:
    host, user32 = make_host()
    user32.fail_next = 3
    done = threading.Event()

    def from_worker() -> None:
        host.run_sync_soon_threadsafe(lambda: (done.set(), host.stop()))

    t = threading.Thread(target=from_worker)
    t.start()
    t.join(10)
    assert not t.is_alive()
    assert host.post_failures == 3 and len(user32.queue) == 1  # the 4th try got through
    host.mainloop()
    assert done.is_set()
    assert not user32.timers and not user32.violations  # no timer from another thread
    host.close()


def test_idle_host_arms_no_timer() -> None:
    """Zero idle wakeups: no periodic timer runs while nothing failed."""
    host, user32 = make_host()
    seen: list[dict[Any, Any]] = []

    def look() -> None:
        seen.append(dict(user32.timers))
        host.stop()

    host.run_sync_soon_threadsafe(look)
    host.mainloop()
    assert seen == [{}]
    host.close()


def test_app_timers_fire_while_the_guest_spins() -> None:
    """QS_TIMER: a guest that always has its next tick posted still lets WM_TIMER through."""
    host, user32 = make_host()
    app_timer = 77
    fired: list[float] = []
    spins = [0]
    orig_proc = user32.windows[host.hwnd]

    def proc(hwnd: int, msg: int, wparam: int, lparam: int) -> int:
        if msg == api.WM_TIMER and wparam == app_timer:
            fired.append(time.monotonic())
            return 0
        return int(orig_proc(hwnd, msg, wparam, lparam))

    user32.windows[host.hwnd] = proc

    def spin() -> None:
        spins[0] += 1
        if len(fired) >= 5 or spins[0] >= 20_000:  # bounded: a starved timer fails, not hangs
            host.stop()
        else:
            host.run_sync_soon_not_threadsafe(spin)

    user32.owner = threading.get_ident()
    user32.SetTimer(host.hwnd, app_timer, 10, None)
    host.run_sync_soon_threadsafe(spin)
    host.mainloop()  # the fake queue fails the test after 20 s without a message
    assert len(fired) >= 5 and spins[0] > 5, (len(fired), spins[0])
    host.close()


def test_keyboard_interrupt_in_the_window_procedure_ends_the_loop() -> None:
    """A KeyboardInterrupt raised anywhere in the window procedure (here: DefWindowProcW)
    is re-raised from mainloop(), not swallowed by ctypes."""
    host, user32 = make_host()

    def interrupted(*args: Any) -> int:
        raise KeyboardInterrupt

    user32.DefWindowProcW = interrupted  # type: ignore[method-assign]
    user32.owner = threading.get_ident()
    user32.PostMessageW(host.hwnd, 0x0400 + 5, 0, 0)  # some message we do not handle
    with pytest.raises(KeyboardInterrupt):
        host.mainloop()
    host.close()


def test_yields_to_pending_input_via_timer() -> None:
    host, user32 = make_host()
    user32.input_pending = api.QS_MOUSEMOVE
    ran: list[int] = []
    host.run_sync_soon_threadsafe(lambda: ran.append(1))
    host.run_sync_soon_threadsafe(lambda: ran.append(2))
    assert user32.pump_one() == (win32.WM_GUEST, 0)
    assert ran == []  # deferred: input goes first
    assert (host.hwnd, win32.YIELD_TIMER_ID) in user32.timers
    assert user32.posts == 1  # still one wake-up in flight (the timer), no extra posts
    user32.input_pending = 0
    time.sleep(USER_TIMER_MINIMUM * 1.5)
    assert user32.pump_one() == (api.WM_TIMER, win32.YIELD_TIMER_ID)
    assert ran == [1, 2]
    assert (host.hwnd, win32.YIELD_TIMER_ID) not in user32.timers  # one-shot
    host.close()


def test_exceptions_are_reported_and_do_not_stall_the_queue(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    host, user32 = make_host()
    reported: list[type] = []
    monkeypatch.setattr(sys, "excepthook", lambda t, v, tb: reported.append(t))
    ran: list[int] = []

    def boom() -> None:
        raise ValueError("boom")

    host.run_sync_soon_threadsafe(boom)
    host.run_sync_soon_threadsafe(lambda: ran.append(1))
    user32.pump_one()
    assert reported == [ValueError] and ran == [1]

    def interrupt() -> None:
        raise KeyboardInterrupt

    host.run_sync_soon_threadsafe(interrupt)
    with pytest.raises(KeyboardInterrupt):
        host.mainloop()
    host.close()


def test_stop_then_close_drops_queued_callables() -> None:
    host, user32 = make_host()
    ran: list[int] = []
    host.run_sync_soon_threadsafe(host.stop)
    host.mainloop()  # ends on WM_QUIT
    assert not user32.timers  # nothing failed, so no timer
    host.run_sync_soon_threadsafe(lambda: ran.append(1))
    host.close()  # never runs after the host is gone: the window and its messages are gone
    assert not user32.queue and ran == []
    assert not user32.violations


def test_mainloop_on_another_thread_is_refused() -> None:
    host, _ = make_host()
    errors: list[BaseException] = []
    t = threading.Thread(target=lambda: _capture(host.mainloop, errors))
    t.start()
    t.join()
    assert isinstance(errors[0], RuntimeError)
    host.close()


def _capture(fn: Callable[[], object], errors: list[BaseException]) -> None:
    try:
        fn()
    except BaseException as exc:
        errors.append(exc)


# --------------------------------------------------------------------------- real guest runs


async def _download_with_counter() -> tuple[int, int]:
    counts: list[int] = []
    counter = asyncio.ensure_future(common.count(counts.append, 0.01))
    try:
        async with await common.start_server(1 << 20, 1 << 14, 0.001) as server:
            body = await common.download(server.url)
            assert body == common.expected_body(1 << 20)
            return len(body), len(counts)
    finally:
        counter.cancel()


@pytest.mark.parametrize("fail_rate", [0.0, 0.3])
def test_real_guest_run_over_the_fake_queue(fail_rate: float) -> None:
    fds, threads = _fds(), _threads()
    user32 = FakeUser32()
    user32.fail_rate = fail_rate
    # One loop iteration per host message, no inline I/O wait: hundreds of posts, so a
    # 30 % failure rate is certain to hit some (the batching would leave only a few).
    size, counted = win32.run(
        _download_with_counter,
        user32=user32,
        kernel32=FakeKernel32(),
        time_slice=0.0,
        inline_wait=0.0,
    )
    assert size == 1 << 20 and counted > 0
    if fail_rate:
        assert user32.failed_posts > 0  # failures happened, and the run still completed
    assert not user32.violations  # timers, windows, GetMessage: GUI thread only
    assert not user32.windows and not user32.classes
    assert _fds() <= fds and _threads() <= threads


def test_guest_keeps_running_inside_a_modal_loop() -> None:
    import asyncio_guest

    host, user32 = make_host()

    async def main() -> tuple[int, int]:
        counts: list[int] = []
        counter = asyncio.ensure_future(common.count(counts.append, 0.02))
        try:
            await asyncio.sleep(0.05)
            before = len(counts)
            # Like MessageBox: a nested GetMessage/DispatchMessage loop for 0.5 s.
            result = await asyncio_guest.modal(user32.modal_loop, 0.5)
            return result, len(counts) - before
        finally:
            counter.cancel()

    try:
        result, ticks = run_on_host(host, main)
    finally:
        host.close()
    assert result == 1
    assert ticks >= 10  # 20 ms counter over 0.5 s inside the modal loop: ideally 25


def test_win32_sample_window_logic_with_fake_dlls() -> None:
    """The Win32 sample: download, Cancel, MessageBox while counting, close (fake DLLs)."""
    from asyncio_guest.hosts import win32 as win32_host
    from asyncio_guest.samples import win32_app

    fds, threads = _fds(), _threads()
    user32 = FakeUser32()
    dlls = SimpleNamespace(
        user32=user32, kernel32=FakeKernel32(), gdi32=FakeGdi32(), comctl32=FakeComctl32()
    )
    app = win32_app.Win32App(dlls, size=1 << 20, chunk_size=1 << 14, delay=0.002)
    assert user32.parents[app.hwnd] is None  # a top-level window
    steps: dict[str, Any] = {}

    def click(ident: int) -> None:
        # A button click arrives as WM_COMMAND(BN_CLICKED, id) to the parent window.
        user32.PostMessageW(app.hwnd, api.WM_COMMAND, (win32_app.BN_CLICKED << 16) | ident, 0)

    def drive() -> None:
        c = app.controller
        if "downloaded" not in steps and c.last_download == "done":
            steps["downloaded"] = user32.texts[app.status_label]
            click(win32_app.ID_DIALOG)
            steps["count_at_dialog"] = c.count
        elif "dialog" not in steps and app.dialog_result is not None:
            steps["dialog"] = app.dialog_result
            steps["count_after_dialog"] = c.count
            app.controller._delay = 0.02  # a slow second download, to cancel
            click(win32_app.ID_DOWNLOAD)
        elif "cancel_clicked" not in steps and c.download_task and c.count and "dialog" in steps:
            if user32.enabled.get(app.cancel_button):
                steps["cancel_clicked"] = True
                click(win32_app.ID_CANCEL)
        elif "cancelled" not in steps and c.last_download == "cancelled":
            steps["cancelled"] = user32.texts[app.status_label]
            user32.PostMessageW(app.hwnd, api.WM_CLOSE, 0, 0)  # the user closes the window
            return
        app.after(20, 50, drive)

    app.after(100, 49, lambda: (click(win32_app.ID_DOWNLOAD), drive()))
    win32_host.run(app.controller.main, user32=user32, kernel32=dlls.kernel32)
    assert steps["downloaded"].startswith("downloaded 1,048,576 bytes"), steps
    assert steps["dialog"] == "OK" and user32.message_boxes == 1
    # A 50 ms counter kept going during the 0.5 s MessageBox modal loop.
    assert steps["count_after_dialog"] - steps["count_at_dialog"] >= 5, steps
    assert steps["cancelled"] == "download cancelled", steps
    assert app.closed and app.hwnd not in user32.windows
    assert not user32.violations
    assert _fds() <= fds and _threads() <= threads


def test_quit_contract_over_the_fake_queue() -> None:
    """win32.run: PostQuitMessage from a task (guest ticks run inside the host's window
    procedure, so this is also the host-callback case) ends the run as a quit (None, finally
    ran); a WM_CLOSE handler cancelling the main task too; a caught cancellation returns its
    value; bad arguments fail before any window exists."""
    from tests._support.leaks import snapshot

    finals: list[str] = []

    async def quits(how: str) -> str:
        user32 = holder[0]
        task = asyncio.current_task()
        assert task is not None
        try:
            await asyncio.sleep(0.02)
            if how == "task":
                user32.PostQuitMessage(0)  # the loop ends under the live guest
            else:  # the app's WM_CLOSE handler cancels the main task
                task.cancel()
            await asyncio.sleep(10)
            return "not quit"
        except asyncio.CancelledError:
            if how == "caught":
                return "caught"
            raise
        finally:
            finals.append(how)

    holder: list[FakeUser32] = []
    before = snapshot()
    for how, expected in (("task", None), ("close", None), ("caught", "caught")):
        user32 = FakeUser32()
        holder[:] = [user32]
        assert win32.run(quits, how, user32=user32, kernel32=FakeKernel32()) == expected, how
        assert not user32.windows and not user32.classes and not user32.violations
    assert finals == ["task", "close", "caught"]

    async def fine() -> None:
        pass

    user32 = FakeUser32()
    with pytest.raises(TypeError, match=r"use functools\.partial"):
        win32.run(fine, x=1, user32=user32, kernel32=FakeKernel32())
    assert not user32.windows and not user32.classes  # checked before any window existed
    assert not before.diff(snapshot())
