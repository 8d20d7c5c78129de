"""A guest task that counts while the loop runs.

The tests of blocking calls (modal dialogs, nested host loops) start one before the call and
read ``count`` after it: if the count advanced while the calling task was blocked, other
tasks were running.
"""

from __future__ import annotations

import asyncio


class Counter:
    """Counts once every ``interval`` seconds in a task of the running loop until cancelled."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.count = 0
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            self.count += 1
            await asyncio.sleep(self.interval)
