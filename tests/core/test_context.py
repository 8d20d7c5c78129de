"""What host code and guest code see (semantics 7) and async generators (11)."""

from __future__ import annotations

import asyncio
import gc
import sys
import weakref

import sniffio

from tests.core.harness import TrivialHost, asyncio_host_run, trivial_guest_run


def test_host_callbacks_see_the_guest_as_running_loop() -> None:
    async def main(host: TrivialHost) -> str:
        loop = asyncio.get_running_loop()
        seen = loop.create_future()

        async def created_by_host() -> str:
            return sniffio.current_async_library()

        def host_callback() -> None:
            assert asyncio.get_running_loop() is loop
            task = asyncio.create_task(created_by_host())
            task.add_done_callback(lambda t: seen.set_result(t.result()))

        host.in_host(host_callback)
        return await seen

    assert trivial_guest_run(main, pass_host=True) == "asyncio"
    assert asyncio._get_running_loop() is None


def test_sniffio_in_guest_tasks() -> None:
    async def main() -> str:
        return sniffio.current_async_library()

    assert trivial_guest_run(main) == "asyncio"


def test_sniffio_thread_local_of_the_host_is_swapped_per_tick() -> None:
    # A host that sets sniffio's thread-local name (as a Trio host would): its
    # own callbacks keep seeing it, guest tasks see "asyncio".
    sniffio.thread_local.name = "nullio"
    try:

        async def main(host: TrivialHost) -> tuple[str, str]:
            seen = asyncio.get_running_loop().create_future()
            host.in_host(lambda: seen.set_result(sniffio.current_async_library()))
            in_host = await seen
            return in_host, sniffio.current_async_library()

        assert trivial_guest_run(main, pass_host=True) == ("nullio", "asyncio")
        assert sniffio.thread_local.name == "nullio"
    finally:
        sniffio.thread_local.name = None


def test_asyncio_host_running_loop_is_swapped_per_tick() -> None:
    observed: dict[str, object] = {}

    async def guest() -> str:
        guest_loop = asyncio.get_running_loop()
        observed["guest"] = guest_loop
        for _ in range(5):
            assert asyncio.get_running_loop() is guest_loop
            await asyncio.sleep(0.001)
        return "guest-done"

    async def host_side() -> None:
        host_loop = asyncio.get_running_loop()
        while True:
            assert asyncio.get_running_loop() is host_loop
            observed["host_checks"] = int(observed.get("host_checks", 0)) + 1  # type: ignore[call-overload]
            await asyncio.sleep(0)

    assert asyncio_host_run(guest, host_main=host_side) == "guest-done"
    assert int(observed["host_checks"]) > 0  # type: ignore[call-overload]


def test_guest_on_asyncio_host_with_only_the_threadsafe_hook() -> None:
    async def guest() -> str:
        await asyncio.sleep(0.01)
        return "ok"

    assert asyncio_host_run(guest, use_not_threadsafe=False) == "ok"


def test_asyncio_host_and_guest_play_ping_pong() -> None:
    """Guest tasks call host-loop APIs directly (same thread), and back."""

    async def guest() -> int:
        host_loop = asyncio_host_loop[0]
        to_host: asyncio.Queue[int] = asyncio.Queue()  # bound lazily to the guest loop
        from_host = asyncio.get_running_loop().create_future()

        async def host_task() -> None:
            # Runs on the *host* loop.
            host_loop.call_soon(lambda: None)
            from_host.get_loop().call_soon_threadsafe(from_host.set_result, 10)

        host_loop.call_soon(lambda: host_loop.create_task(host_task()))
        value = await from_host
        await to_host.put(value)
        return await to_host.get()

    asyncio_host_loop: list[asyncio.AbstractEventLoop] = []

    # Capture the host loop before the guest's first tick runs.
    async def runner() -> int:
        asyncio_host_loop.append(asyncio.get_running_loop())
        import outcome

        import asyncio_guest

        loop = asyncio.get_running_loop()
        done: asyncio.Future[outcome.Outcome] = loop.create_future()
        asyncio_guest.start_guest_run(
            guest,
            run_sync_soon_threadsafe=loop.call_soon_threadsafe,
            run_sync_soon_not_threadsafe=loop.call_soon,
            done_callback=done.set_result,
            host_uses_signal_set_wakeup_fd=True,
        )
        return (await asyncio.wait_for(done, 10)).unwrap()

    assert asyncio.run(runner()) == 10


def test_async_generators_are_finalized_by_their_own_loop() -> None:
    finalized: dict[str, str] = {}
    refs: list[weakref.ref] = []

    class Marker:
        pass

    async def agen(label: str):  # type: ignore[no-untyped-def]
        marker = Marker()
        refs.append(weakref.ref(marker))
        try:
            yield 1
            yield 2
        finally:
            loop = asyncio.get_running_loop()
            finalized[label] = type(loop).__name__
            await asyncio.sleep(0)

    async def guest() -> str:
        g = agen("guest")
        await g.__anext__()
        del g
        gc.collect()
        for _ in range(10):
            await asyncio.sleep(0)
        return "ok"

    async def host_side() -> None:
        h = agen("host")
        await h.__anext__()
        del h
        gc.collect()
        await asyncio.sleep(3600)

    assert asyncio_host_run(guest, host_main=host_side) == "ok"
    assert finalized["guest"] == "GuestEventLoop"
    assert finalized["host"] in ("_UnixSelectorEventLoop", "SelectorEventLoop")
    gc.collect()
    assert all(r() is None for r in refs), "generator frames were kept alive"


def test_guest_asyncgen_on_trivial_host_finalized_by_shutdown_asyncgens() -> None:
    closed: list[bool] = []

    async def agen():  # type: ignore[no-untyped-def]
        try:
            yield 1
            yield 2
        finally:
            closed.append(True)

    async def main() -> None:
        g = agen()
        await g.__anext__()
        main.keep = g  # type: ignore[attr-defined]  # still suspended at the end

    trivial_guest_run(main)
    del main.keep  # type: ignore[attr-defined]
    assert closed == [True]


def test_nothing_is_left_set_after_the_run() -> None:
    hooks = sys.get_asyncgen_hooks()

    async def main() -> None:
        assert sys.get_asyncgen_hooks() != hooks
        await asyncio.sleep(0)

    trivial_guest_run(main)
    assert sys.get_asyncgen_hooks() == hooks
    assert asyncio._get_running_loop() is None
