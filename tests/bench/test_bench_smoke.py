"""Smoke test of the benchmark harness: ``benchmarks/run.py --quick`` for stock asyncio and
asyncio_guest on its minimal host. It checks that the harness runs every workload, stops by
itself and writes well-formed JSON (and a PNG when matplotlib is installed). It never asserts
on timings: this machine's figures are for docs/benchmarks.md, not for pass/fail.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "benchmarks" / "run.py"
sys.path.insert(0, str(ROOT / "benchmarks"))

from _common import percentile, summary  # noqa: E402

ASYNCIO_WORKLOADS = [
    "echo_pingpong",
    "echo_stream",
    "wake",
    "timer",
    "idle",
    "responsiveness",
    "scale",
]


@pytest.mark.timeout(240)
def test_quick_run_writes_well_formed_json(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    png = tmp_path / "bench.png"
    have_mpl = importlib.util.find_spec("matplotlib") is not None
    cmd = [
        sys.executable,
        str(RUN),
        "--quick",
        "--contenders",
        "stock,ours-minimal",
        "--json",
        str(out),
        *(["--chart", str(png)] if have_mpl else ["--no-chart"]),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=220, cwd=str(ROOT))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    doc = json.loads(out.read_text())

    assert doc["meta"]["quick"] is True
    assert doc["contenders"] == ["stock", "ours-minimal"]
    assert doc["unavailable"] == {}
    runs = doc["runs"]
    seen = {(r["workload"], r["contender"]) for r in runs}
    for workload in ASYNCIO_WORKLOADS:
        for contender in ("stock", "ours-minimal"):
            assert (workload, contender) in seen, (workload, contender)
    failed = [(r["workload"], r["contender"], r["error"]) for r in runs if "error" in r]
    assert not failed, failed
    for r in runs:
        assert not r["server"].get("timed_out"), r  # every run was stopped by its client

    summary_ = doc["summary"]
    expected = {
        "echo_pingpong": "client.req_per_s",
        "echo_stream": "client.mib_per_s",
        "wake": "server.h2g_p99_us",
        "timer": "server.overshoot_p99_ms",
        "idle": "server.cpu_percent",
        "responsiveness": "server.lateness_p99_ms",
        "scale": "derived.kib_per_conn",
    }
    for workload, key in expected.items():
        per = summary_[workload][key]
        for contender in ("stock", "ours-minimal"):
            stats = per[contender]
            assert stats["n"] == 1
            assert math.isfinite(stats["median"]), (workload, key, contender, stats)
            assert stats["min"] <= stats["median"] <= stats["max"]
        assert per["stock"]["ratio"] == pytest.approx(1.0)
    # Loop counters only exist for ours; they are reported where they exist.
    assert "ticks_per_s" in next(
        r["server"] for r in runs if r["workload"] == "idle" and r["contender"] == "ours-minimal"
    )
    # The printed table names every workload it ran.
    assert "Echo 64 B ping-pong" in proc.stdout
    if have_mpl:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_arguments_are_rejected() -> None:
    proc = subprocess.run(
        [sys.executable, str(RUN), "--contenders", "nope"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "unknown contenders: nope" in proc.stderr


def test_statistics_helpers() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == pytest.approx(2.5)
    assert percentile([5.0], 99) == 5.0
    assert math.isnan(percentile([], 50))
    s = summary([3.0, 1.0, 2.0, float("nan")])
    assert (s["median"], s["min"], s["max"], s["n"]) == (2.0, 1.0, 3.0, 3)


def test_baseline_tree_must_hold_the_package(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(RUN), "--baseline-tree", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "no python/asyncio_guest there" in proc.stderr


def test_baseline_contenders_import_the_other_tree_first(tmp_path: Path) -> None:
    import run as harness

    env = harness.Env(
        python=sys.executable, env={"PYTHONPATH": "/elsewhere"}, baseline_tree=tmp_path
    )
    assert harness.registry_name("ours-tk@base") == "ours-tk"
    assert harness.registry_name("ours-tk") == "ours-tk"
    assert harness.env_for(env, "ours-tk") == {"PYTHONPATH": "/elsewhere"}
    assert harness.env_for(env, "ours-tk@base")["PYTHONPATH"] == os.pathsep.join(
        [str(tmp_path / "python"), "/elsewhere"]
    )
