"""asyncio-guest sample on tkinter: asyncio runs as a guest of Tk's own mainloop.

A counter with a progress bar, a download from a local HTTP server (progress bar and Cancel),
a live timer-latency readout, and a button that opens a modal dialog (a Toplevel with a grab,
run with ``wait_window``) through ``await asyncio_guest.modal(...)`` while the counter keeps
counting.  Closing the window cancels the guest; the window goes away after teardown.

    python -m asyncio_guest.samples.tkinter_app
    python -m asyncio_guest demo
    xvfb-run -a python -m asyncio_guest.samples.tkinter_app    (no display)
"""

from __future__ import annotations

import argparse
import sys
import tkinter
from tkinter import ttk
from typing import Optional

import asyncio_guest
from asyncio_guest.hosts import tk as tk_host
from asyncio_guest.samples import _common as common


class TkApp:
    """The sample window; implements :class:`asyncio_guest.samples._common.SampleView`."""

    def __init__(self, root: tkinter.Tk, **controller_kwargs: object) -> None:
        self.root = root
        self.controller = common.SampleController(self, **controller_kwargs)  # type: ignore[arg-type]
        self.dialog: Optional[tkinter.Toplevel] = None
        self.dialog_result: Optional[str] = None
        root.title("asyncio-guest on Tk")
        frame = ttk.Frame(root, padding=12)
        frame.grid(sticky="nsew")
        frame.columnconfigure(0, weight=1)

        self.count_label = ttk.Label(frame, text="counter: 0", font=("TkDefaultFont", 14))
        self.count_label.grid(row=0, column=0, columnspan=3, sticky="w")
        self.count_bar = ttk.Progressbar(frame, length=360, maximum=100)
        self.count_bar.grid(row=1, column=0, columnspan=3, sticky="ew", pady=(2, 10))

        self.status_label = ttk.Label(frame, text="starting...")
        self.status_label.grid(row=2, column=0, columnspan=3, sticky="w")
        self.download_bar = ttk.Progressbar(frame, length=360, maximum=1)
        self.download_bar.grid(row=3, column=0, columnspan=3, sticky="ew", pady=(2, 6))
        self.download_button = ttk.Button(
            frame, text="Download", command=self.controller.start_download
        )
        self.download_button.grid(row=4, column=0, sticky="w")
        self.cancel_button = ttk.Button(
            frame, text="Cancel", command=self.controller.cancel_download, state="disabled"
        )
        self.cancel_button.grid(row=4, column=1, sticky="w", padx=6)
        self.dialog_button = ttk.Button(frame, text="Open modal dialog", command=self.open_dialog)
        self.dialog_button.grid(row=4, column=2, sticky="e")

        self.latency_label = ttk.Label(frame, text="timer latency: -", font=("TkFixedFont", 10))
        self.latency_label.grid(row=5, column=0, columnspan=3, sticky="w", pady=(10, 0))

    # -- SampleView
    def show_count(self, n: int) -> None:
        self.count_label.configure(text=f"counter: {n}")
        self.count_bar.configure(value=n % 100)

    def show_progress(self, received: int, total: int) -> None:
        self.download_bar.configure(maximum=max(total, 1), value=received)

    def show_status(self, text: str, downloading: bool) -> None:
        self.status_label.configure(text=text)
        self.cancel_button.configure(state="normal" if downloading else "disabled")
        self.download_button.configure(state="disabled" if downloading else "normal")

    def show_latency(self, stats: common.LatencyStats) -> None:
        self.latency_label.configure(text=common.format_latency(stats))

    # -- modal dialog
    def open_dialog(self) -> None:
        if self.dialog is None:
            self.controller.spawn(self._dialog_task())

    async def _dialog_task(self) -> None:
        # wait_window() runs a nested Tk event loop; through modal() it runs from the host,
        # outside any guest tick, so guest ticks keep running inside that nested loop.
        self.dialog_result = await asyncio_guest.modal(self.run_dialog)
        self.status_label.configure(text=f"dialog closed: {self.dialog_result}")

    def run_dialog(self) -> str:
        """Blocking: show a modal Toplevel and wait until it is closed; returns the choice."""
        result = ["closed"]
        # A visible border: under Xvfb there is no window manager to draw one.
        top = self.dialog = tkinter.Toplevel(
            self.root, highlightthickness=2, highlightbackground="gray40"
        )
        top.title("Modal dialog")
        top.transient(self.root)
        ttk.Label(
            top, text="A modal dialog (wait_window).\nThe counter keeps counting.", padding=12
        ).pack()

        def choose(value: str) -> None:
            result[0] = value
            top.destroy()

        self.dialog_ok = ttk.Button(top, text="OK", command=lambda: choose("OK"))
        self.dialog_ok.pack(side="left", padx=12, pady=(0, 12))
        ttk.Button(top, text="Cancel", command=lambda: choose("Cancel")).pack(
            side="right", padx=12, pady=(0, 12)
        )
        top.protocol("WM_DELETE_WINDOW", lambda: choose("closed"))
        # Below the main window, so both stay visible (and in screenshots).
        y = self.root.winfo_rooty() + self.root.winfo_height() + 20
        top.geometry(f"+{self.root.winfo_rootx() + 40}+{y}")
        top.wait_visibility()
        top.grab_set()
        try:
            self.root.wait_window(top)
        finally:
            self.dialog = None
        return result[0]

    def close(self) -> None:
        """Quit from code, like the close button: cancel the guest.  An open dialog is ended
        by the host when the run ends."""
        self.controller.close()


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", action="store_true", help="start a download and open the dialog")
    parser.add_argument("--quit-after", type=float, default=0, help="close after N seconds")
    args = parser.parse_args(argv)
    try:
        root = tkinter.Tk()
    except tkinter.TclError as exc:
        print(f"cannot open a Tk window ({exc}); try: xvfb-run -a python -m asyncio_guest demo")
        return 2
    app = TkApp(root)
    if args.demo:
        root.after(300, app.controller.start_download)
        root.after(900, app.open_dialog)
    if args.quit_after:
        root.after(int(args.quit_after * 1000), app.close)
    try:
        tk_host.run(app.controller.main, root=root)
    finally:
        root.destroy()
    print(f"guest finished cleanly; counter reached {app.controller.count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
