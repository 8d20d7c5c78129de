"""asyncio-guest sample on GTK 3 (PyGObject): asyncio runs as a guest of the GLib main loop.

A counter with a progress bar, a download from a local HTTP server (progress bar and Cancel),
a live timer-latency readout, and a button that opens a modal ``Gtk.MessageDialog`` with
``dialog.run()`` (a nested main loop) through ``await asyncio_guest.modal(...)`` while the
counter keeps counting.  Closing the window cancels the guest; it goes away after teardown.

    python -m asyncio_guest.samples.gtk3_app
    python -m asyncio_guest demo --host gtk3
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable, Optional

import gi

gi.require_version("Gdk", "3.0")
gi.require_version("Gtk", "3.0")
from gi.repository import Gdk, GLib, Gtk  # noqa: E402

import asyncio_guest  # noqa: E402
from asyncio_guest.hosts import gtk as gtk_host  # noqa: E402
from asyncio_guest.samples import _common as common  # noqa: E402


class Gtk3App:
    """The sample window; implements :class:`asyncio_guest.samples._common.SampleView`."""

    def __init__(self, **controller_kwargs: object) -> None:
        self.controller = common.SampleController(self, **controller_kwargs)  # type: ignore[arg-type]
        self.dialog: Optional[Gtk.MessageDialog] = None
        self.dialog_result: Optional[str] = None
        self.window = win = Gtk.Window(title="asyncio-guest on GTK 3")
        win.set_default_size(420, -1)
        # Returning True keeps the window: it is destroyed only after the guest is done.
        box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=6, margin=12)
        win.add(box)

        self.count_label = Gtk.Label(label="counter: 0", xalign=0)
        self.count_bar = Gtk.ProgressBar()
        self.status_label = Gtk.Label(label="starting...", xalign=0)
        self.download_bar = Gtk.ProgressBar()
        buttons = Gtk.Box(spacing=6)
        self.download_button = Gtk.Button(label="Download")
        self.download_button.connect("clicked", lambda _b: self.controller.start_download())
        self.cancel_button = Gtk.Button(label="Cancel", sensitive=False)
        self.cancel_button.connect("clicked", lambda _b: self.controller.cancel_download())
        self.dialog_button = Gtk.Button(label="Open modal dialog")
        self.dialog_button.connect("clicked", lambda _b: self.open_dialog())
        buttons.pack_start(self.download_button, False, False, 0)
        buttons.pack_start(self.cancel_button, False, False, 0)
        buttons.pack_end(self.dialog_button, False, False, 0)
        self.latency_label = Gtk.Label(label="timer latency: -", xalign=0)
        for widget in (self.count_label, self.count_bar, self.status_label, self.download_bar):
            box.pack_start(widget, False, False, 0)
        box.pack_start(buttons, False, False, 6)
        box.pack_start(self.latency_label, False, False, 0)
        win.show_all()

    # -- SampleView
    def show_count(self, n: int) -> None:
        self.count_label.set_text(f"counter: {n}")
        self.count_bar.set_fraction((n % 100) / 100)

    def show_progress(self, received: int, total: int) -> None:
        self.download_bar.set_fraction(received / total if total else 1.0)

    def show_status(self, text: str, downloading: bool) -> None:
        self.status_label.set_text(text)
        self.cancel_button.set_sensitive(downloading)
        self.download_button.set_sensitive(not downloading)

    def show_latency(self, stats: common.LatencyStats) -> None:
        self.latency_label.set_text(common.format_latency(stats))

    # -- modal dialog
    def open_dialog(self) -> None:
        if self.dialog is None:
            self.controller.spawn(self._dialog_task())

    async def _dialog_task(self) -> None:
        # dialog.run() spins a nested GLib main loop; through modal() it runs from the host,
        # outside any guest tick, so the guest's idle callbacks keep running inside it.
        self.dialog_result = await asyncio_guest.modal(self.run_dialog)
        self.status_label.set_text(f"dialog closed: {self.dialog_result}")

    def run_dialog(self) -> str:
        """Blocking: run a modal message dialog; returns the response's name."""
        dialog = self.dialog = Gtk.MessageDialog(
            transient_for=self.window,
            modal=True,
            message_type=Gtk.MessageType.INFO,
            buttons=Gtk.ButtonsType.OK_CANCEL,
            text="A modal dialog (Gtk.Dialog.run)",
        )
        dialog.format_secondary_text("The counter keeps counting.")
        # Below the main window so both stay visible (no window manager places it under Xvfb).
        x, y = self.window.get_position()
        dialog.move(x + 40, y + self.window.get_allocated_height() + 30)
        try:
            response = dialog.run()
        finally:
            self.dialog = None
            dialog.destroy()
        return str(Gtk.ResponseType(response).value_nick)

    def close(self) -> None:
        """Quit from code: cancel the guest (the close button needs no handler: the last
        window going away cancels it).  An open dialog is ended when the run ends."""
        self.controller.close()


def _once(fn: Callable[[], object]) -> Callable[[], bool]:
    """A GLib timeout callback that calls ``fn`` once (returning False removes the source)."""

    def callback() -> bool:
        fn()
        return False

    return callback


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", action="store_true", help="start a download and open the dialog")
    parser.add_argument("--quit-after", type=float, default=0, help="close after N seconds")
    args = parser.parse_args(argv)
    if Gdk.Display.get_default() is None:
        print(
            "cannot open a GTK window (no display); try: xvfb-run -a python -m asyncio_guest demo"
        )
        return 2
    app = Gtk3App()
    if args.demo:
        GLib.timeout_add(300, _once(app.controller.start_download))
        GLib.timeout_add(900, _once(app.open_dialog))
    if args.quit_after:
        GLib.timeout_add(int(args.quit_after * 1000), _once(app.close))
    try:
        gtk_host.run(app.controller.main)
    finally:
        app.window.destroy()
    print(f"guest finished cleanly; counter reached {app.controller.count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
