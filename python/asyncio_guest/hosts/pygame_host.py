"""pygame 2 host (pygame-ce or classic pygame): guest ticks ride on a custom event type.

Posting (see docs/hosts.md): callables go into a FIFO; a wakeup is an event of a type
registered with ``pygame.event.custom_type()`` (never the shared ``USEREVENT``), posted with
``pygame.event.post`` (thread-safe in pygame 2; the old ``fastevent`` module is gone).  The
FIFO, not the event, is the source of truth: handling one wakeup runs every callable that
was queued when the handler started (not ones queued meanwhile, so a busy guest cannot keep
the loop), and :meth:`PygameHost.mainloop` also drains the FIFO before it blocks.  So when
SDL's event queue is full a post cannot lose a tick: from the worker the post is retried
until it fits, and on the host thread the pending FIFO is simply picked up by the loop.

``mainloop()`` is a small event loop for apps that let this module own it (pass ``on_event``
and ``on_frame``).  Apps with their own loop call ``host.handle_event(ev)`` for each event
and ``host.run_pending()`` once per frame, and post nothing else with that event type.

Quitting: in :func:`run`, the window's ``QUIT`` event cancels the main task (unless you pass
``on_event``, which then gets it), and ``pygame.quit()`` or ``pygame.display.quit()`` from a
task or a callback ends the loop, after which the run is finished on the built-in host.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any, Awaitable, Callable, Iterator, Optional, TypeVar

import pygame

from asyncio_guest.hosts._base import CallQueue, HostBase, run_adapter

__all__ = ["PygameHost", "run"]

T = TypeVar("T")


class PygameHost(HostBase):
    """Host adapter for pygame 2.  Call after ``pygame.init()`` (or ``pygame.display.init()``)."""

    host_uses_signal_set_wakeup_fd = False

    def __init__(
        self,
        on_event: Optional[Callable[[pygame.event.Event], object]] = None,
        on_frame: Optional[Callable[[], object]] = None,
        fps: float = 0,
    ) -> None:
        if not pygame.display.get_init():
            raise RuntimeError("call pygame.init() before creating a PygameHost")
        if fps < 0:
            raise ValueError("fps must be >= 0")
        self.event_type: int = pygame.event.custom_type()
        self.on_event = on_event
        self.on_frame = on_frame
        self.fps = fps
        self._queue = CallQueue("pygame")
        self._running = False

    # -- posting
    def _wakeup(self) -> bool:
        try:
            return bool(pygame.event.post(pygame.event.Event(self.event_type)))
        except pygame.error:  # SDL's queue is full
            return False

    def run_sync_soon_threadsafe(self, fn: Callable[[], object]) -> None:
        self._queue.push(fn)
        delay = 0.0005
        # From the worker: keep trying; the host thread drains the queue meanwhile (this is
        # only ever the worker thread, so blocking here cannot deadlock the host).
        while not self._wakeup():
            if self._queue.closed or not pygame.display.get_init():
                raise RuntimeError("the pygame host went away while posting")
            if pygame.event.get_blocked(self.event_type):
                raise RuntimeError("the guest's wakeup event type was blocked (set_blocked)")
            time.sleep(delay)
            delay = min(delay * 2, 0.01)

    def run_sync_soon_not_threadsafe(self, fn: Callable[[], object]) -> None:
        self._queue.push(fn)
        # If SDL's queue is full the FIFO still holds fn; the loop drains it before blocking.
        self._wakeup()

    # -- dispatching
    def handle_event(self, event: pygame.event.Event) -> bool:
        """Run queued callables if ``event`` is one of ours; True when it was."""
        if event.type != self.event_type:
            return False
        self.run_pending()
        return True

    def run_pending(self) -> None:
        """Run the callables queued now (not ones they queue: those wait for the next pass)."""
        for _ in range(len(self._queue)):
            fn = self._queue.pop()
            if fn is None:  # a nested loop (a modal) inside fn() already ran the rest
                break
            self.call(fn)

    def mainloop(self) -> None:
        self._running = True
        timeout_ms = int(1000 / self.fps) if self.fps else 0
        while self._running:
            if not pygame.display.get_init():
                break  # pygame.quit() / display.quit(): the toolkit is gone
            if self._queue:
                events = pygame.event.get()
            elif timeout_ms:
                events = [pygame.event.wait(timeout_ms)]
                events += pygame.event.get()
            else:
                events = [pygame.event.wait()]
                events += pygame.event.get()
            for event in events:
                if event.type == pygame.NOEVENT or self.handle_event(event):
                    continue
                if self.on_event is not None:
                    self.on_event(event)
            self.run_pending()
            if self.on_frame is not None and self._running and pygame.display.get_init():
                self.on_frame()
        self.raise_pending_error()

    def stop(self) -> None:
        self._running = False

    def close(self) -> None:
        """Drop queued callables; later posts raise.  Call after the loop has ended."""
        self._queue.close()


def run(
    async_fn: Callable[..., Awaitable[T]],
    *args: Any,
    on_event: Optional[Callable[[pygame.event.Event], object]] = None,
    on_frame: Optional[Callable[[], object]] = None,
    fps: float = 0,
    **kwargs: Any,
) -> Optional[T]:
    """Run ``async_fn(*args)`` as a guest of a pygame event loop and return its result.

    Initialises pygame if needed.  ``on_event`` gets every event that is not a guest wakeup;
    without one, ``QUIT`` (the window's close button) cancels the main task.  Quitting follows
    the contract of :mod:`asyncio_guest.hosts`: a quit returns ``None``.

    Raises:
        TypeError: ``async_fn`` is a coroutine object or not an async function, or a
            keyword argument other than the documented ones was given (pass keyword
            arguments to ``async_fn`` with ``functools.partial``). Raised before any
            window is created.
        KeyboardInterrupt: Ctrl+C ended the run (after the guest's cleanup).
        Exception: whatever the main task raised, other than the cancellation of a quit.

    Example:
        ```python
        pygame.init()
        screen = pygame.display.set_mode((320, 200))

        async def main() -> None:
            await asyncio.sleep(5)  # the window keeps handling events meanwhile

        asyncio_guest.hosts.pygame_host.run(main)  # None if the window was closed
        ```
    """

    def make_host() -> PygameHost:
        if not pygame.display.get_init():
            pygame.init()
        return PygameHost(on_event, on_frame, fps)

    return run_adapter(
        "hosts.pygame_host.run",
        async_fn,
        args,
        kwargs,
        make_host,
        watch_quit=_close_button_quits if on_event is None else None,
    )


@contextlib.contextmanager
def _close_button_quits(host: PygameHost, cancel: Callable[[], None]) -> Iterator[None]:
    """While the main task runs, ``QUIT`` (the window's close button) cancels it; only
    when the app passed no ``on_event`` of its own."""

    def on_event(event: pygame.event.Event) -> None:
        if event.type == pygame.QUIT:
            cancel()

    host.on_event = on_event
    try:
        yield
    finally:
        host.on_event = None
