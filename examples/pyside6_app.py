"""asyncio-guest sample on PySide6: asyncio runs as a guest of Qt's own event loop.

A counter with a progress bar, a download from a local HTTP server (progress bar and Cancel),
a live timer-latency readout, and a button that opens a modal ``QDialog`` (``exec()``) through
``await asyncio_guest.modal(...)`` while the counter keeps counting.  Closing the window
cancels the guest.  The window code is shared by the three Qt samples: see ``_qt_sample.py``.

    python examples/pyside6_app.py            (or: python -m asyncio_guest demo --host pyside6)
    QT_QPA_PLATFORM=offscreen python examples/pyside6_app.py --demo --quit-after 3
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _qt_sample import main

if __name__ == "__main__":
    sys.exit(main("PySide6"))
