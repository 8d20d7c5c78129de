"""The built-in QueueHost on its own: FIFO posts, timers, cross-thread wakeups and
the one fd watch of its thread-free mode (its guest use is in test_blocking_api)."""

from __future__ import annotations

import os
import threading
import time

import pytest

from asyncio_guest.hosts.builtin import QueueHost


def test_posts_run_in_order_and_timers_by_deadline() -> None:
    host = QueueHost()
    seen: list[str] = []
    host.call_later(0.03, lambda: (seen.append("t30"), host.stop()))
    host.call_later(0.01, lambda: seen.append("t10"))
    cancel = host.call_later(0.02, lambda: seen.append("cancelled"))
    cancel()
    host.run_sync_soon_not_threadsafe(lambda: seen.append("a"))
    host.run_sync_soon_threadsafe(lambda: seen.append("b"))
    host.mainloop()
    assert seen == ["a", "b", "t10", "t30"]


@pytest.mark.parametrize("thread_free", [True, False], ids=["pipe", "queue"])
def test_a_post_from_another_thread_wakes_the_sleeping_loop(thread_free: bool) -> None:
    host = QueueHost(thread_free=thread_free)
    ran: list[float] = []

    def from_thread() -> None:
        time.sleep(0.05)  # the host is asleep by now, with no deadline at all
        t0 = time.monotonic()
        host.run_sync_soon_threadsafe(lambda: (ran.append(time.monotonic() - t0), host.stop()))

    thread = threading.Thread(target=from_thread)
    thread.start()
    host.mainloop()
    thread.join()
    assert len(ran) == 1 and ran[0] < 1.0


def test_wait_readable_fires_once_on_data_or_timeout() -> None:
    host = QueueHost()
    r, w = os.pipe()
    fired: list[str] = []
    try:
        # Timeout first (nothing written), then readability.
        def second_watch() -> None:
            host.wait_readable(r, None, lambda: (fired.append("readable"), host.stop()))
            os.write(w, b"x")

        host.wait_readable(r, 0.01, lambda: (fired.append("timeout"), second_watch()))
        with pytest.raises(RuntimeError, match="one descriptor at a time"):
            host.wait_readable(r, None, lambda: None)
        host.mainloop()
        assert fired == ["timeout", "readable"]
        # A cancelled watch never fires.
        cancel = host.wait_readable(r, 0.0, lambda: fired.append("cancelled"))
        cancel()
        host.call_later(0.02, host.stop)
        host.mainloop()
        assert fired == ["timeout", "readable"]
    finally:
        os.close(r)
        os.close(w)


def test_bad_argument() -> None:
    with pytest.raises(TypeError, match="thread_free must be a bool"):
        QueueHost(thread_free="yes")  # type: ignore[arg-type]


def test_worker_mode_has_no_fd_watch() -> None:
    assert QueueHost(thread_free=False).wait_readable is None
    assert QueueHost().wait_readable is not None


@pytest.mark.parametrize("thread_free", [True, False], ids=["pipe", "queue"])
def test_no_post_from_many_threads_is_lost(thread_free: bool) -> None:
    """Posts race the loop going to sleep: every one must run (a lost wakeup
    would leave a post queued while the loop sleeps until the bound)."""
    host = QueueHost(thread_free=thread_free)
    threads, posts = 4, 300
    ran = [0]

    def count() -> None:
        ran[0] += 1
        if ran[0] == threads * posts:
            host.stop()

    def poster(seed: int) -> None:
        for i in range(posts):
            if (i + seed) % 7 == 0:
                time.sleep(0.0005)  # let the loop fall asleep now and then
            host.run_sync_soon_threadsafe(count)

    workers = [threading.Thread(target=poster, args=(n,)) for n in range(threads)]
    host.call_later(30, host.stop)  # a bound, far above the few ms this takes
    for w in workers:
        w.start()
    host.mainloop()
    for w in workers:
        w.join()
    assert ran[0] == threads * posts


def test_close_drops_what_is_queued_and_refuses_later_posts() -> None:
    host = QueueHost()
    ran: list[str] = []
    host.run_sync_soon_threadsafe(lambda: ran.append("queued"))
    host.close()
    with pytest.raises(RuntimeError, match="QueueHost is closed"):
        host.run_sync_soon_threadsafe(lambda: ran.append("late"))
    with pytest.raises(RuntimeError, match="QueueHost is closed"):
        host.run_sync_soon_not_threadsafe(lambda: ran.append("late"))
    host.mainloop()  # returns at once: closed means stopped
    assert ran == []
