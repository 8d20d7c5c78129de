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
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any, Awaitable, Callable, Optional, TypeVar

import pygame

from asyncio_guest.hosts._base import run_on_host

__all__ = ["PygameHost", "run"]

T = TypeVar("T")


class PygameHost:
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
        self._queue: deque[Callable[[], object]] = deque()
        self._running = False
        self._closed = False

    # -- posting
    def _wakeup(self) -> bool:
        try:
            return bool(pygame.event.post(pygame.event.Event(self.event_type)))
        except pygame.error:  # SDL's queue is full
            return False

    def run_sync_soon_threadsafe(self, fn: Callable[[], object]) -> None:
        if self._closed:
            raise RuntimeError("the pygame host is closed; the callback cannot run")
        self._queue.append(fn)
        delay = 0.0005
        # From the worker: keep trying; the host thread drains the queue meanwhile (this is
        # only ever the worker thread, so blocking here cannot deadlock the host).
        while not self._wakeup():
            if self._closed or not pygame.display.get_init():
                raise RuntimeError("the pygame host went away while posting")
            if pygame.event.get_blocked(self.event_type):
                raise RuntimeError("the guest's wakeup event type was blocked (set_blocked)")
            time.sleep(delay)
            delay = min(delay * 2, 0.01)

    def run_sync_soon_not_threadsafe(self, fn: Callable[[], object]) -> None:
        if self._closed:
            raise RuntimeError("the pygame host is closed; the callback cannot run")
        self._queue.append(fn)
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
            if not self._queue:  # a nested loop (a modal) inside fn() already ran the rest
                break
            fn = self._queue.popleft()
            if not self._closed:
                fn()

    def mainloop(self) -> None:
        self._running = True
        timeout_ms = int(1000 / self.fps) if self.fps else 0
        while self._running:
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
            if self.on_frame is not None and self._running:
                self.on_frame()

    def stop(self) -> None:
        self._running = False

    def close(self) -> None:
        """Drop queued callables; later posts raise.  Call after the loop has ended."""
        self._closed = True
        self._queue.clear()


def run(
    async_fn: Callable[..., Awaitable[T]],
    *args: Any,
    on_event: Optional[Callable[[pygame.event.Event], object]] = None,
    on_frame: Optional[Callable[[], object]] = None,
    fps: float = 0,
    **kwargs: Any,
) -> T:
    """Run ``async_fn(*args)`` as a guest of a pygame event loop and return its result.

    Initialises pygame if needed.  ``on_event`` gets every event that is not a guest wakeup;
    without one, ``QUIT`` cancels the main task so closing the window ends the guest cleanly.
    """
    if not pygame.display.get_init():
        pygame.init()
    host = PygameHost(on_event, on_frame, fps)
    holder: list[Any] = []

    def default_on_event(event: pygame.event.Event) -> None:
        if event.type == pygame.QUIT and holder:
            holder[0].cancel()

    if on_event is None:
        host.on_event = default_on_event

    async def main() -> T:
        import asyncio

        holder.append(asyncio.current_task())
        return await async_fn(*args)

    try:
        return run_on_host(host, main, **kwargs)
    finally:
        host.close()
