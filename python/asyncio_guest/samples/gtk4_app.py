"""asyncio-guest sample on GTK 4 (PyGObject): asyncio runs as a guest of the GLib main loop.

A counter with a progress bar, a download from a local HTTP server (progress bar and Cancel),
a live timer-latency readout, and a button that opens a modal ``Gtk.MessageDialog`` through
``await asyncio_guest.modal(...)`` while the counter keeps counting.  GTK 4 removed
``Dialog.run()``; :meth:`Gtk4App.run_dialog` does what it did: present the modal dialog and
spin a nested ``GLib.MainLoop`` until a response arrives, i.e. a real blocking host call.
Closing the window cancels the guest; it goes away after teardown.

    python -m asyncio_guest.samples.gtk4_app
    python -m asyncio_guest demo --host gtk4
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable, Optional

import gi

gi.require_version("Gdk", "4.0")
gi.require_version("Gtk", "4.0")
from gi.repository import Gdk, GLib, Gtk  # noqa: E402

import asyncio_guest  # noqa: E402
from asyncio_guest.hosts import gtk as gtk_host  # noqa: E402
from asyncio_guest.samples import _common as common  # noqa: E402


class Gtk4App:
    """The sample window; implements :class:`asyncio_guest.samples._common.SampleView`."""

    def __init__(self, **controller_kwargs: object) -> None:
        self.controller = common.SampleController(self, **controller_kwargs)  # type: ignore[arg-type]
        self.dialog: Optional[Gtk.MessageDialog] = None
        self.dialog_result: Optional[str] = None
        self.window = win = Gtk.Window(title="asyncio-guest on GTK 4")
        win.set_default_size(420, -1)
        # Returning True keeps the window: it is destroyed only after the guest is done.
        box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=6)
        for side in ("top", "bottom", "start", "end"):
            getattr(box, f"set_margin_{side}")(12)
        win.set_child(box)

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
        self.dialog_button.set_hexpand(True)
        self.dialog_button.set_halign(Gtk.Align.END)
        for button in (self.download_button, self.cancel_button, self.dialog_button):
            buttons.append(button)
        self.latency_label = Gtk.Label(label="timer latency: -", xalign=0)
        for widget in (self.count_label, self.count_bar, self.status_label, self.download_bar):
            box.append(widget)
        box.append(buttons)
        box.append(self.latency_label)
        win.present()

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
        # run_dialog() spins a nested GLib main loop; through modal() it runs from the host,
        # outside any guest tick, so the guest's idle callbacks keep running inside it.
        self.dialog_result = await asyncio_guest.modal(self.run_dialog)
        self.status_label.set_text(f"dialog closed: {self.dialog_result}")

    def run_dialog(self) -> str:
        """Blocking: show a modal message dialog, run a nested main loop until it answers."""
        dialog = self.dialog = Gtk.MessageDialog(
            transient_for=self.window,
            modal=True,
            message_type=Gtk.MessageType.INFO,
            buttons=Gtk.ButtonsType.OK_CANCEL,
            text="A modal dialog (nested GLib.MainLoop)",
            secondary_text="The counter keeps counting.",
        )
        nested = GLib.MainLoop()
        result = [Gtk.ResponseType.NONE]

        def on_response(_dialog: Gtk.Dialog, response: int) -> None:
            result[0] = response
            nested.quit()

        dialog.connect("response", on_response)
        dialog.present()
        try:
            nested.run()
        finally:
            self.dialog = None
            dialog.destroy()
        return str(Gtk.ResponseType(result[0]).value_nick)

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
    # GTK 4 has no window positioning: without a window manager (Xvfb) the dialog lands on
    # top of the main window, so the screenshot script leaves it closed.
    parser.add_argument("--no-dialog", action="store_true", help="with --demo: no dialog")
    args = parser.parse_args(argv)
    if Gdk.Display.get_default() is None:
        print("no display for GTK; try: xvfb-run -a python -m asyncio_guest demo --host gtk4")
        return 2
    app = Gtk4App()
    if args.demo:
        GLib.timeout_add(300, _once(app.controller.start_download))
        if not args.no_dialog:
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
