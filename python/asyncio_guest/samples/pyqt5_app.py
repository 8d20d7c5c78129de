"""asyncio-guest sample on PyQt5: asyncio runs as a guest of Qt's own event loop.

A counter with a progress bar, a download from a local HTTP server (progress bar and Cancel),
a live timer-latency readout, and a button that opens a modal ``QDialog`` (``exec()``) through
``await asyncio_guest.modal(...)`` while the counter keeps counting.  Closing the window
cancels the guest.  The window code is shared by the three Qt samples: see ``_qt.py``.

    python -m asyncio_guest.samples.pyqt5_app
    python -m asyncio_guest demo --host pyqt5
    QT_QPA_PLATFORM=offscreen python -m asyncio_guest.samples.pyqt5_app --demo --quit-after 3
"""

from __future__ import annotations

import sys

from asyncio_guest.samples._qt import main

if __name__ == "__main__":
    sys.exit(main("PyQt5"))
