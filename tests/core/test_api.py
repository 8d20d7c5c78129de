"""Start-up, outcome delivery, hook discipline and bad input (semantics 1, 2, 3, 12)."""

from __future__ import annotations

import asyncio
import threading

import outcome
import pytest

import asyncio_guest
from tests.core.harness import TrivialHost, thread_count, trivial_guest_run


async def one_checkpoint_then(value: object) -> object:
    await asyncio.sleep(0)
    return value


def test_value_arrives_through_done_callback() -> None:
    host = TrivialHost()
    assert trivial_guest_run(one_checkpoint_then, "ok", host=host) == "ok"
    # Hook discipline is asserted inside the harness; both hooks were used.
    assert host.not_threadsafe_calls >= 1


def test_exception_arrives_through_done_callback() -> None:
    async def boom() -> None:
        await asyncio.sleep(0)
        raise KeyError("whoopsiedaisy")

    with pytest.raises(KeyError, match="whoopsiedaisy"):
        trivial_guest_run(boom)


def test_cancelled_main_task_is_an_error_outcome() -> None:
    async def main(host: TrivialHost) -> None:
        asyncio.current_task().cancel()  # type: ignore[union-attr]
        await asyncio.sleep(10)

    with pytest.raises(asyncio.CancelledError):
        trivial_guest_run(main, pass_host=True)


def test_threadsafe_hook_used_from_worker_only() -> None:
    host = TrivialHost()

    async def main() -> str:
        await asyncio.sleep(0.02)  # forces a wait on the worker thread
        return "slept"

    assert trivial_guest_run(main, host=host) == "slept"
    assert host.threadsafe_calls >= 1


def test_no_user_code_before_start_returns_and_loop_usable_at_once() -> None:
    host = TrivialHost()
    ran: list[str] = []
    results: list[outcome.Outcome] = []

    async def main() -> str:
        ran.append("main")
        await asyncio.sleep(0.01)
        return "done"

    async def side() -> None:
        ran.append("side-task")

    task = asyncio_guest.start_guest_run(
        main,
        run_sync_soon_threadsafe=host.run_sync_soon_threadsafe,
        run_sync_soon_not_threadsafe=host.run_sync_soon_not_threadsafe,
        done_callback=results.append,
    )
    assert ran == []
    assert isinstance(task, asyncio.Task)
    loop = task.get_loop()
    assert isinstance(loop, asyncio_guest.GuestEventLoop)
    loop.create_task(side())
    loop.call_soon(ran.append, "call_soon")
    loop.call_later(0.001, ran.append, "call_later")
    threading.Thread(target=loop.call_soon_threadsafe, args=(ran.append, "threadsafe")).start()
    while not results:
        host.queue.get(timeout=10)()
    assert results[0].unwrap() == "done"
    assert set(ran) == {"main", "side-task", "call_soon", "call_later", "threadsafe"}
    assert loop.is_closed()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"run_sync_soon_threadsafe": None}, "run_sync_soon_threadsafe must be callable"),
        ({"run_sync_soon_threadsafe": 3}, "run_sync_soon_threadsafe must be callable"),
        ({"done_callback": "nope"}, "done_callback must be callable"),
        ({"run_sync_soon_not_threadsafe": 1}, "run_sync_soon_not_threadsafe must be callable"),
        ({"debug": "yes"}, "debug must be None or a bool"),
        ({"time_slice": "1ms"}, "time_slice must be a number of seconds"),
        ({"inline_wait": None}, "inline_wait must be a number of seconds"),
    ],
)
def test_bad_hooks_raise_type_error(kwargs: dict, message: str) -> None:
    base = {"run_sync_soon_threadsafe": lambda fn: None, "done_callback": lambda o: None}
    base.update(kwargs)
    threads = thread_count()
    with pytest.raises(TypeError, match=message):
        asyncio_guest.start_guest_run(one_checkpoint_then, 1, **base)
    assert thread_count() == threads


@pytest.mark.parametrize("name", ["time_slice", "inline_wait"])
def test_out_of_range_durations_are_value_errors(name: str) -> None:
    with pytest.raises(ValueError, match=f"{name} must be between 0 and 1 second"):
        asyncio_guest.start_guest_run(
            one_checkpoint_then,
            1,
            run_sync_soon_threadsafe=lambda fn: None,
            done_callback=lambda o: None,
            **{name: -0.5},
        )


def test_missing_hook_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        asyncio_guest.start_guest_run(one_checkpoint_then, 1, done_callback=lambda o: None)  # type: ignore[call-arg]


def test_sync_callable_is_rejected() -> None:
    def not_async() -> int:
        return 1

    with pytest.raises(TypeError, match="expects an async function"):
        asyncio_guest.start_guest_run(
            not_async, run_sync_soon_threadsafe=lambda fn: None, done_callback=lambda o: None
        )


def test_coroutine_object_is_rejected_with_a_hint() -> None:
    coro = one_checkpoint_then(1)
    try:
        with pytest.raises(TypeError, match=r"start_guest_run\(fn, arg\)"):
            asyncio_guest.start_guest_run(
                coro,  # type: ignore[arg-type]
                run_sync_soon_threadsafe=lambda fn: None,
                done_callback=lambda o: None,
            )
    finally:
        coro.close()


def test_non_callable_async_fn_is_rejected() -> None:
    with pytest.raises(TypeError, match="async_fn must be callable"):
        asyncio_guest.start_guest_run(
            42,  # type: ignore[arg-type]
            run_sync_soon_threadsafe=lambda fn: None,
            done_callback=lambda o: None,
        )


def test_second_guest_run_on_the_same_thread_is_refused() -> None:
    async def main() -> str:
        with pytest.raises(RuntimeError, match="already active on this thread"):
            asyncio_guest.start_guest_run(
                one_checkpoint_then,
                1,
                run_sync_soon_threadsafe=lambda fn: None,
                done_callback=lambda o: None,
            )
        return "refused"

    assert trivial_guest_run(main) == "refused"


def test_closed_loop_refuses_to_run() -> None:
    loop = asyncio_guest.GuestEventLoop()
    loop.close()
    coro = one_checkpoint_then(1)
    with pytest.raises(RuntimeError, match="Event loop is closed"):
        loop.run_until_complete(coro)
    coro.close()


def test_hook_that_raises_at_start_leaves_nothing_behind() -> None:
    def broken(fn: object) -> None:
        raise OSError("host is gone")

    with pytest.raises(OSError, match="host is gone"):
        asyncio_guest.start_guest_run(
            one_checkpoint_then, 1, run_sync_soon_threadsafe=broken, done_callback=lambda o: None
        )


def test_positional_args_reach_the_function() -> None:
    async def add(a: int, b: int) -> int:
        return a + b

    assert trivial_guest_run(add, 2, 3) == 5


def test_debug_flag_reaches_the_loop() -> None:
    async def main() -> bool:
        return asyncio.get_running_loop().get_debug()

    assert trivial_guest_run(main, debug=True) is True
    assert trivial_guest_run(main, debug=False) is False
