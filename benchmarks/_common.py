"""Small helpers shared by the server, the client and the harness."""

from __future__ import annotations

import json
import math
import os
import statistics
from typing import Any, Sequence

#: Marker lines on a child's stdout (anything else on stdout is ignored).
READY = "BENCH-READY"
RESULT = "BENCH-RESULT"


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), linear interpolation; NaN for no data."""
    if not values:
        return math.nan
    data = sorted(values)
    pos = (len(data) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = math.ceil(pos)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def summary(values: Sequence[float]) -> dict[str, float]:
    """Median and spread of repeated measurements."""
    vals = [v for v in values if v is not None and not math.isnan(v)]
    if not vals:
        return {"median": math.nan, "min": math.nan, "max": math.nan, "n": 0}
    return {
        "median": statistics.median(vals),
        "min": min(vals),
        "max": max(vals),
        "n": len(vals),
    }


def proc_status() -> dict[str, int]:
    """VmRSS / VmHWM (KiB) of this process, and context switches summed over its threads."""
    out: dict[str, int] = {"vm_rss_kib": 0, "vm_hwm_kib": 0, "voluntary": 0, "involuntary": 0}
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    out["vm_rss_kib"] = int(line.split()[1])
                elif line.startswith("VmHWM:"):
                    out["vm_hwm_kib"] = int(line.split()[1])
        for tid in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{tid}/status") as f:
                    for line in f:
                        if line.startswith("voluntary_ctxt_switches:"):
                            out["voluntary"] += int(line.split()[1])
                        elif line.startswith("nonvoluntary_ctxt_switches:"):
                            out["involuntary"] += int(line.split()[1])
            except FileNotFoundError:
                continue  # a thread that just ended
    except OSError:
        pass  # not Linux: the figures stay 0 and the report says n/a
    out["threads"] = len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else 0
    return out


def emit(marker: str, payload: Any) -> None:
    print(f"{marker} {json.dumps(payload)}", flush=True)


def parse_marked(text: str, marker: str) -> Any:
    """The JSON payload of the last ``marker`` line in ``text``, or None."""
    found = None
    for line in text.splitlines():
        if line.startswith(marker + " "):
            found = json.loads(line[len(marker) + 1 :])
    return found
