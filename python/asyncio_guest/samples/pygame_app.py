"""asyncio-guest sample on pygame 2 (pygame-ce or classic pygame): asyncio is a guest of the
pygame event loop.

A counter with a progress bar, a download from a local HTTP server (progress bar and Cancel),
a live timer-latency readout, and a "modal dialog".  pygame has no dialogs, so the sample does
what a pygame game does for one: a blocking function that runs its own nested event loop and
draws a dialog box until OK is clicked.  It runs through ``await asyncio_guest.modal(...)``
and forwards guest wakeup events to the host while it spins, so the counter keeps counting.
Closing the window cancels the guest; the window goes away after teardown.

    python -m asyncio_guest.samples.pygame_app
    python -m asyncio_guest demo --host pygame
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional

import pygame

import asyncio_guest
from asyncio_guest.hosts._base import run_on_host
from asyncio_guest.hosts.pygame_host import PygameHost
from asyncio_guest.samples import _common as common

SIZE = (480, 230)
BG, FG, DIM = (236, 236, 236), (30, 30, 30), (150, 150, 150)
BAR, ACCENT = (200, 200, 200), (53, 132, 228)


class PygameApp:
    """The sample window; implements :class:`asyncio_guest.samples._common.SampleView`."""

    def __init__(self, fps: float = 30, **controller_kwargs: object) -> None:
        self.controller = common.SampleController(self, **controller_kwargs)  # type: ignore[arg-type]
        self.screen = pygame.display.set_mode(SIZE)
        pygame.display.set_caption("asyncio-guest on pygame")
        self.font = pygame.font.Font(None, 24)
        self.big = pygame.font.Font(None, 32)
        self.host = PygameHost(on_event=self.on_event, on_frame=self.draw, fps=fps)
        self.count, self.received, self.total = 0, 0, 1
        self.status, self.downloading = "starting...", False
        self.latency = "timer latency: -"
        self.buttons = {
            "download": pygame.Rect(16, 136, 120, 32),
            "cancel": pygame.Rect(148, 136, 100, 32),
            "dialog": pygame.Rect(300, 136, 164, 32),
        }
        self.ok_rect = pygame.Rect(190, 140, 100, 32)
        self.dialog_open = False
        self.dialog_result: Optional[str] = None
        self._dialog_choice: Optional[str] = None

    # -- SampleView
    def show_count(self, n: int) -> None:
        self.count = n

    def show_progress(self, received: int, total: int) -> None:
        self.received, self.total = received, max(total, 1)

    def show_status(self, text: str, downloading: bool) -> None:
        self.status, self.downloading = text, downloading

    def show_latency(self, stats: common.LatencyStats) -> None:
        self.latency = common.format_latency(stats)

    # -- events and drawing
    def click(self, pos: tuple[int, int]) -> None:
        if self.buttons["download"].collidepoint(pos) and not self.downloading:
            self.controller.start_download()
        elif self.buttons["cancel"].collidepoint(pos) and self.downloading:
            self.controller.cancel_download()
        elif self.buttons["dialog"].collidepoint(pos) and not self.dialog_open:
            self.controller.spawn(self._dialog_task())

    def on_event(self, event: pygame.event.Event) -> None:
        if event.type == pygame.QUIT:
            self.close()
        elif event.type == pygame.MOUSEBUTTONUP and event.button == 1:
            self.click(event.pos)

    def _bar(self, y: int, fraction: float) -> None:
        pygame.draw.rect(self.screen, BAR, (16, y, 448, 14))
        pygame.draw.rect(self.screen, ACCENT, (16, y, int(448 * fraction), 14))

    def _button(self, rect: pygame.Rect, label: str, enabled: bool) -> None:
        pygame.draw.rect(self.screen, (250, 250, 250), rect, border_radius=4)
        pygame.draw.rect(self.screen, DIM, rect, 1, border_radius=4)
        text = self.font.render(label, True, FG if enabled else DIM)
        self.screen.blit(text, text.get_rect(center=rect.center))

    def draw(self) -> None:
        s = self.screen
        s.fill(BG)
        s.blit(self.big.render(f"counter: {self.count}", True, FG), (16, 12))
        self._bar(44, (self.count % 100) / 100)
        s.blit(self.font.render(self.status, True, FG), (16, 76))
        self._bar(102, self.received / self.total)
        self._button(self.buttons["download"], "Download", not self.downloading)
        self._button(self.buttons["cancel"], "Cancel", self.downloading)
        self._button(self.buttons["dialog"], "Open modal dialog", not self.dialog_open)
        s.blit(self.font.render(self.latency, True, FG), (16, 192))
        if self.dialog_open:
            shade = pygame.Surface(SIZE, pygame.SRCALPHA)
            shade.fill((0, 0, 0, 90))
            s.blit(shade, (0, 0))
            box = pygame.Rect(70, 50, 340, 140)
            pygame.draw.rect(s, (250, 250, 250), box, border_radius=6)
            pygame.draw.rect(s, DIM, box, 2, border_radius=6)
            s.blit(self.font.render("A modal dialog (a nested event loop).", True, FG), (86, 66))
            s.blit(self.font.render("The counter keeps counting.", True, FG), (86, 92))
            s.blit(self.font.render(f"counter: {self.count}", True, ACCENT), (86, 116))
            self._button(self.ok_rect, "OK", True)
        pygame.display.flip()

    # -- modal dialog
    async def _dialog_task(self) -> None:
        self.dialog_result = await asyncio_guest.modal(self.run_dialog)
        self.status = f"dialog closed: {self.dialog_result}"

    def run_dialog(self) -> str:
        """Blocking: a nested event loop showing a dialog until OK (or window close)."""
        self.dialog_open, self._dialog_choice = True, None
        try:
            while self._dialog_choice is None:
                for event in [pygame.event.wait(33), *pygame.event.get()]:
                    # Guest wakeups must keep flowing while this loop owns the thread.
                    if self.host.handle_event(event):
                        continue
                    if event.type == pygame.QUIT:
                        self.close()
                    elif event.type == pygame.MOUSEBUTTONUP and self.ok_rect.collidepoint(
                        event.pos
                    ):
                        self._dialog_choice = "OK"
                self.host.run_pending()
                self.draw()
        finally:
            self.dialog_open = False
        return self._dialog_choice

    def close(self) -> None:
        """Window close: end an open dialog, then cancel the guest."""
        if self.dialog_open and self._dialog_choice is None:
            self._dialog_choice = "closed"
        self.controller.close()


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", action="store_true", help="start a download and open the dialog")
    parser.add_argument("--quit-after", type=float, default=0, help="close after N seconds")
    args = parser.parse_args(argv)
    # Only what the sample uses (no audio: nothing to init, and no ALSA noise under Xvfb).
    pygame.display.init()
    pygame.font.init()
    try:
        app = PygameApp()
    except pygame.error as exc:
        print(f"cannot open a pygame window ({exc}); try: xvfb-run -a, or SDL_VIDEODRIVER=dummy")
        pygame.quit()
        return 2
    timers: list[tuple[float, object]] = []
    if args.demo:
        timers += [(0.3, lambda: app.click(app.buttons["download"].center))]
        timers += [(0.9, lambda: app.click(app.buttons["dialog"].center))]
    if args.quit_after:
        timers.append((args.quit_after, app.close))

    async def main_with_timers() -> None:
        import asyncio

        loop = asyncio.get_running_loop()
        for delay, fn in timers:
            loop.call_later(delay, fn)  # type: ignore[arg-type]
        await app.controller.main()

    try:
        run_on_host(app.host, main_with_timers)
    finally:
        app.host.close()
        pygame.quit()
    print(f"guest finished cleanly; counter reached {app.controller.count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
