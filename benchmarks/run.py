"""Benchmark harness: every workload against every contender, side by side, in one run.

    python benchmarks/run.py [--quick] [--reps N] [--contenders a,b] [--workloads x,y]
                             [--json PATH] [--chart PATH | --no-chart]
    python -m asyncio_guest bench ...        (the same)

For each repetition, for each workload, every applicable contender runs once, in an
order rotated by one each repetition (so nobody is always first or last while the
machine's load drifts). Each run is a fresh contender process (``server.py``) that
warms itself up before measuring; network load comes from ``client.py`` in another
process. The summary is the median of the repetitions with the min..max spread, and
each figure's ratio to stock asyncio in the same run (for the Trio workload: to
``trio.run``). Prints a table, writes JSON into ``benchmarks/results/`` and draws a PNG.

GUI contenders need X: without ``$DISPLAY`` the harness starts its own ``Xvfb``.
Qt runs with ``QT_QPA_PLATFORM=offscreen``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import READY, RESULT, parse_marked, summary  # noqa: E402
from contenders import DEFAULT, REGISTRY  # noqa: E402

ROOT = HERE.parent


@dataclass
class Workload:
    name: str
    title: str
    client: Optional[str]  # client.py mode, or None for in-process workloads
    full: dict[str, Any]
    quick: dict[str, Any]
    family: str = "asyncio"
    #: Contenders without sockets cannot run it (responsiveness has a fallback).
    needs_network: bool = False
    #: Run with a CPU-bound process at normal priority beside it, so the contender and its
    #: client share the machine's other core with it (a GUI app competing for the CPU).
    busy_core: bool = False


WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in [
        Workload(
            "echo_pingpong",
            "Echo 64 B ping-pong (1 connection)",
            "pingpong",
            {"warmup_s": 1.0, "duration_s": 3.0},
            {"warmup_s": 0.3, "duration_s": 0.7},
            needs_network=True,
        ),
        Workload(
            "echo_pingpong_busy",
            "Echo 64 B ping-pong (1 connection), another core busy",
            "pingpong",
            {"warmup_s": 1.0, "duration_s": 3.0},
            {"warmup_s": 0.3, "duration_s": 0.7},
            needs_network=True,
            busy_core=True,
        ),
        Workload(
            "echo_stream",
            "Echo 1 MiB streaming (1 connection)",
            "stream",
            {"warmup_s": 1.0, "duration_s": 3.0},
            {"warmup_s": 0.3, "duration_s": 0.7},
            needs_network=True,
        ),
        Workload(
            "wake",
            "Wake latency host->guest / guest->host",
            None,
            {"samples": 300, "warmup": 50},
            {"samples": 40, "warmup": 10},
        ),
        Workload(
            "timer",
            "Timer overshoot of asyncio.sleep(0.005)",
            None,
            {"samples": 300, "warmup": 20},
            {"samples": 40, "warmup": 5},
        ),
        Workload(
            "idle",
            "Idle cost (listening server, nothing to do)",
            None,
            {"duration_s": 10.0, "warmup_s": 1.0},
            {"duration_s": 1.0, "warmup_s": 0.3},
        ),
        Workload(
            "responsiveness",
            "10 ms host timer lateness; 1,000 tasks on sleep(0) + echo load",
            "pingpong",
            {"warmup_s": 1.0, "duration_s": 4.0},
            {"warmup_s": 0.3, "duration_s": 1.0},
        ),
        Workload(
            "scale",
            "Scale: concurrent connections, 64 B round trips",
            "scale",
            {"connections": 10000, "rounds": 5, "warmup_connections": 200},
            {"connections": 300, "rounds": 3, "warmup_connections": 50},
            needs_network=True,
        ),
        Workload(
            "trio_echo",
            "Trio echo 64 B ping-pong: guest mode on Tk vs trio.run",
            "pingpong",
            {"warmup_s": 1.0, "duration_s": 3.0},
            {"warmup_s": 0.3, "duration_s": 0.7},
            family="trio",
            needs_network=True,
        ),
    ]
}


@dataclass
class Metric:
    workload: str
    key: str  # "client.req_per_s" / "server.cpu_percent" / "derived.kib_per_conn"
    label: str
    higher_is_better: bool
    fmt: str = "{:.0f}"
    log: bool = False


METRICS: list[Metric] = [
    Metric("echo_pingpong", "client.req_per_s", "ping-pong req/s", True),
    Metric("echo_pingpong", "server.cpu_percent", "server CPU %", False),
    Metric("echo_pingpong", "derived.cpu_us_per_req", "server CPU us/request", False, "{:.1f}"),
    Metric("echo_pingpong_busy", "client.req_per_s", "ping-pong req/s", True),
    Metric(
        "echo_pingpong_busy", "derived.cpu_us_per_req", "server CPU us/request", False, "{:.1f}"
    ),
    Metric("echo_stream", "client.mib_per_s", "stream MiB/s", True),
    Metric("wake", "server.h2g_p50_us", "host->guest p50 us", False, log=True),
    Metric("wake", "server.h2g_p99_us", "host->guest p99 us", False, log=True),
    Metric("wake", "server.g2h_p50_us", "guest->host p50 us", False, log=True),
    Metric("wake", "server.g2h_p99_us", "guest->host p99 us", False, log=True),
    Metric("timer", "server.overshoot_p50_ms", "sleep(5ms) overshoot p50 ms", False, "{:.2f}"),
    Metric("timer", "server.overshoot_p99_ms", "sleep(5ms) overshoot p99 ms", False, "{:.2f}"),
    Metric("idle", "server.cpu_percent", "idle CPU %", False, "{:.3f}"),
    Metric("idle", "server.wakeups_per_s", "idle wakeups/s (ctx sw.)", False, "{:.1f}"),
    Metric("idle", "server.ticks_per_s", "idle guest ticks/s", False, "{:.1f}"),
    Metric("responsiveness", "server.lateness_p50_ms", "host timer late p50 ms", False, "{:.2f}"),
    Metric("responsiveness", "server.lateness_p99_ms", "host timer late p99 ms", False, "{:.2f}"),
    Metric("responsiveness", "client.req_per_s", "echo req/s under load", True),
    Metric("responsiveness", "server.spins_per_s", "guest sleep(0)/s", True),
    Metric("scale", "client.req_per_s", "req/s", True),
    Metric("scale", "derived.kib_per_conn", "KiB per connection", False, "{:.1f}"),
    Metric("scale", "server.peak_rss_mib", "peak RSS MiB", False, "{:.1f}"),
    Metric("trio_echo", "client.req_per_s", "Trio ping-pong req/s", True),
]

#: Metrics drawn in the chart (one panel each).
CHART: list[tuple[str, str]] = [
    ("echo_pingpong", "client.req_per_s"),
    ("echo_pingpong_busy", "client.req_per_s"),
    ("echo_stream", "client.mib_per_s"),
    ("scale", "client.req_per_s"),
    ("wake", "server.h2g_p99_us"),
    ("wake", "server.g2h_p99_us"),
    ("timer", "server.overshoot_p99_ms"),
    ("idle", "server.cpu_percent"),
    ("idle", "server.wakeups_per_s"),
    ("responsiveness", "server.lateness_p99_ms"),
    ("scale", "derived.kib_per_conn"),
    ("trio_echo", "client.req_per_s"),
]


#: Chart panel titles.
SHORT = {
    "echo_pingpong": "Echo ping-pong 64 B",
    "echo_pingpong_busy": "Echo ping-pong 64 B, another core busy",
    "echo_stream": "Echo streaming 1 MiB",
    "wake": "Wake latency",
    "timer": "Timer sleep(0.005)",
    "idle": "Idle 10 s",
    "responsiveness": "Host 10 ms timer under guest load",
    "scale": "Scale (10,000 connections)",
    "trio_echo": "Trio echo ping-pong",
}


def baseline_for(workload: Workload) -> str:
    return "trio-run" if workload.family == "trio" else "stock"


# ---------------------------------------------------------------------------
# Running one contender on one workload


@dataclass
class Env:
    python: str
    env: dict[str, str]
    xvfb: Optional[subprocess.Popen[bytes]] = None
    notes: list[str] = field(default_factory=list)
    #: Another checkout whose asyncio_guest the ``@base`` contenders run (``--baseline-tree``).
    baseline_tree: Optional[Path] = None


#: Name suffix of a contender that runs the asyncio_guest of ``--baseline-tree`` (the same
#: harness, workloads and client; only the package under test differs).
BASE = "@base"


def registry_name(contender: str) -> str:
    """The contender's name in the registry (without the ``@base`` suffix)."""
    return contender[: -len(BASE)] if contender.endswith(BASE) else contender


def env_for(env: Env, contender: str) -> dict[str, str]:
    """The environment of a contender process: ``@base`` ones import the baseline tree first."""
    if not contender.endswith(BASE) or env.baseline_tree is None:
        return env.env
    out = dict(env.env)
    source = str(env.baseline_tree / "python")
    out["PYTHONPATH"] = os.pathsep.join(p for p in (source, out.get("PYTHONPATH")) if p)
    return out


def _start_xvfb() -> Optional[tuple[subprocess.Popen[bytes], str]]:
    exe = shutil.which("Xvfb")
    if exe is None:
        return None
    r, w = os.pipe()
    proc = subprocess.Popen(
        [exe, "-displayfd", str(w), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
        pass_fds=(w,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(w)
    number = b""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not number.endswith(b"\n"):
        chunk = os.read(r, 16)
        if not chunk:
            break
        number += chunk
    os.close(r)
    if not number.strip():
        proc.kill()
        proc.wait()
        return None
    return proc, ":" + number.decode().strip()


class _Lines:
    """Collects a child's stdout lines on a thread; signals the READY line."""

    def __init__(self, stream: Any) -> None:
        self.lines: list[str] = []
        self.ready: queue.SimpleQueue[Optional[str]] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream: Any) -> None:
        for line in stream:
            self.lines.append(line)
            if line.startswith(READY + " "):
                self.ready.put(line)
        self.ready.put(None)  # EOF

    def join(self, timeout: float) -> str:
        self._thread.join(timeout)
        return "".join(self.lines)


def _stop(proc: subprocess.Popen[Any], timeout: float) -> None:
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


#: The competing load of ``busy_core`` workloads: one process spinning on one core.
_BURNER = "while True:\n    pass\n"


def run_one(env: Env, contender: str, workload: Workload, params: dict[str, Any]) -> dict[str, Any]:
    """One fresh contender process (+ one client process): a dict with server/client/error."""
    budget = float(params["deadline"])
    burner = None
    if workload.busy_core:
        # Normal priority on purpose: a GUI app's own work is not niced either.
        burner = subprocess.Popen(
            [sys.executable, "-c", _BURNER], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
    try:
        return _run_one(env, contender, workload, params, budget)
    finally:
        if burner is not None:
            burner.kill()
            burner.wait()


def _run_one(
    env: Env, contender: str, workload: Workload, params: dict[str, Any], budget: float
) -> dict[str, Any]:
    server = subprocess.Popen(
        [env.python, str(HERE / "server.py"), contender, workload.name, json.dumps(params)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env_for(env, contender),
        cwd=str(ROOT),
    )
    lines = _Lines(server.stdout)
    err_lines: list[str] = []
    err_thread = threading.Thread(
        target=lambda: err_lines.extend(server.stderr),
        daemon=True,  # type: ignore[arg-type]
    )
    err_thread.start()
    out: dict[str, Any] = {"contender": contender, "workload": workload.name}
    if hasattr(os, "getloadavg"):
        out["loadavg_1min"] = os.getloadavg()[0]
    client_result: Optional[dict[str, Any]] = None
    try:
        try:
            ready_line = lines.ready.get(timeout=60)
        except queue.Empty:
            ready_line = None
        if ready_line is not None and workload.client is not None:
            info = json.loads(ready_line.split(" ", 1)[1])
            if info["port"]:
                try:
                    client = subprocess.run(
                        [
                            env.python,
                            str(HERE / "client.py"),
                            workload.client,
                            str(info["port"]),
                            str(info["ctrl"]),
                            json.dumps(params),
                        ],
                        capture_output=True,
                        text=True,
                        timeout=budget,
                        env=env.env,
                        cwd=str(ROOT),
                    )
                    client_result = parse_marked(client.stdout, RESULT)
                    if client_result is None:
                        client_result = {"error": "client: " + client.stderr[-500:]}
                except subprocess.TimeoutExpired:
                    client_result = {"error": f"client: no result within {budget:.0f} s"}
        _stop(server, budget + 30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    text = lines.join(5)
    err_thread.join(5)
    server_result = parse_marked(text, RESULT)
    if server_result is None:
        tail = "".join(err_lines)[-800:]
        out["error"] = f"server exited {server.returncode} without a result: {tail.strip()}"
    elif "error" in server_result:
        out["error"] = server_result["error"]
    if client_result is not None:
        if "error" in client_result:
            out.setdefault("error", client_result["error"])
        out["client"] = client_result
    if server_result is not None:
        out["server"] = server_result
    return out


def derived(run: dict[str, Any]) -> dict[str, float]:
    server, client = run.get("server", {}), run.get("client", {})
    out: dict[str, float] = {}
    if "peak_rss_kib" in server:
        server["peak_rss_mib"] = server["peak_rss_kib"] / 1024.0
    if client.get("requests") and "cpu_s" in server:
        # The server's CPU window (BEGIN..STOP) is the client's counting window.
        out["cpu_us_per_req"] = server["cpu_s"] * 1e6 / client["requests"]
    if "connections" in client and "peak_rss_kib" in server:
        out["kib_per_conn"] = (server["peak_rss_kib"] - server["rss_begin_kib"]) / client[
            "connections"
        ]
    return out


def value_of(run: dict[str, Any], key: str) -> Optional[float]:
    where, _, name = key.partition(".")
    source = run.get("derived" if where == "derived" else where, {})
    value = source.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


# ---------------------------------------------------------------------------
# Summary, table, chart


def summarize(runs: list[dict[str, Any]], contenders: list[str]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for metric in METRICS:
        workload = WORKLOADS[metric.workload]
        per: dict[str, Any] = {}
        for name in contenders:
            values = [
                v
                for r in runs
                if r["workload"] == metric.workload and r["contender"] == name and "error" not in r
                for v in [value_of(r, metric.key)]
                if v is not None
            ]
            if values:
                per[name] = summary(values)
        base = per.get(baseline_for(workload))
        for stats in per.values():
            if base is not None and base["median"] not in (0.0,) and not math.isnan(base["median"]):
                stats["ratio"] = stats["median"] / base["median"]
            else:
                stats["ratio"] = None
        if per:
            result.setdefault(metric.workload, {})[metric.key] = per
    return result


def _cell(metric: Metric, stats: Optional[dict[str, Any]]) -> str:
    if stats is None:
        return "-"
    text = metric.fmt.format(stats["median"])
    if stats["n"] > 1:
        text += f" [{metric.fmt.format(stats['min'])}-{metric.fmt.format(stats['max'])}]"
    if stats.get("ratio") is not None:
        text += f" x{stats['ratio']:.2f}"
    return text


def table(
    summary_: dict[str, Any], contenders: list[str], errors: dict[tuple[str, str], str]
) -> str:
    out: list[str] = []
    for wname, workload in WORKLOADS.items():
        metrics = [m for m in METRICS if m.workload == wname and m.key in summary_.get(wname, {})]
        measured = [c for c in contenders if any(c in summary_[wname][m.key] for m in metrics)]
        failed = [c for c in contenders if (wname, c) in errors and c not in measured]
        if not measured and not failed:
            continue
        out.append(f"\n## {workload.title}  (ratio x = / {baseline_for(workload)})")
        if measured:
            rows = [["contender", *[m.label for m in metrics]]]
            rows += [
                [c, *[_cell(m, summary_[wname][m.key].get(c)) for m in metrics]] for c in measured
            ]
            widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
            for i, row in enumerate(rows):
                out.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
                if i == 0:
                    out.append("  ".join("-" * w for w in widths))
        for c in failed:
            message = " ".join(errors[(wname, c)].split())
            out.append(f"{c}: FAILED: {message[:160]}")
    return "\n".join(out)


def chart(summary_: dict[str, Any], contenders: list[str], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [(w, k) for w, k in CHART if k in summary_.get(w, {}) and len(summary_[w][k]) > 0]
    if not panels:
        return
    cols = 3
    rows = math.ceil(len(panels) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(17, 3.6 * rows + 0.6), squeeze=False)
    by_key = {(m.workload, m.key): m for m in METRICS}
    for ax, (wname, key) in zip(axes.flat, panels):
        metric = by_key[(wname, key)]
        data = summary_[wname][key]
        names = [c for c in contenders if c in data]
        med = [data[c]["median"] for c in names]
        lo = [max(0.0, data[c]["median"] - data[c]["min"]) for c in names]
        hi = [max(0.0, data[c]["max"] - data[c]["median"]) for c in names]
        colors = [
            "#2e8b57"
            if c.startswith("ours")
            else "#1f77b4"
            if c in ("stock", "trio-run")
            else "#9a9a9a"
            for c in names
        ]
        y = list(range(len(names)))
        ax.barh(y, med, xerr=[lo, hi], color=colors, capsize=2, error_kw={"lw": 0.8})
        ax.set_yticks(y, names, fontsize=8)
        ax.invert_yaxis()
        better = "higher is better" if metric.higher_is_better else "lower is better"
        ax.set_title(f"{SHORT.get(wname, wname)}\n{metric.label} ({better})", fontsize=9)
        if metric.log and min(med) > 0:
            ax.set_xscale("log")
        top = max(m + h for m, h in zip(med, hi)) if med else 1.0
        for yi, c in zip(y, names):
            ratio = data[c].get("ratio")
            label = metric.fmt.format(data[c]["median"])
            if ratio is not None:
                label += f"  x{ratio:.2f}"
            ax.text(
                data[c]["max"],
                yi,
                " " + label,
                va="center",
                fontsize=7,
            )
        if not metric.log:
            ax.set_xlim(0, top * 1.45 if top > 0 else 1)
        else:
            ax.set_xlim(right=top * 8)
        ax.tick_params(axis="x", labelsize=7)
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


# ---------------------------------------------------------------------------


def _finite(value: Any) -> Any:
    """``value`` with every NaN/inf float replaced by None (strict JSON)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def git_state(tree: Path = ROOT) -> dict[str, Any]:
    """The commit measured, and which core/adapter files differ from it (a live tree)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=tree
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "python", "src"],
            capture_output=True,
            text=True,
            cwd=tree,
        ).stdout.split("\n")
    except OSError:
        return {}
    return {"commit": head, "modified": [line[3:] for line in dirty if line.strip()]}


def check(env: Env, name: str) -> tuple[Optional[str], dict[str, str]]:
    try:
        proc = subprocess.run(
            [env.python, str(HERE / "server.py"), "--check", name],
            capture_output=True,
            text=True,
            timeout=60,
            env=env_for(env, name),
            cwd=str(ROOT),
        )
    except subprocess.TimeoutExpired:
        return "availability probe timed out", {}
    result = parse_marked(proc.stdout, RESULT)
    if result is None:
        return f"probe failed: {proc.stderr.strip()[-300:]}", {}
    return result["unavailable"], result.get("versions", {})


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="bench", description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="a fast smoke run (seconds per contender)")
    ap.add_argument("--reps", type=int, default=None, help="repetitions (default 3; quick 1)")
    ap.add_argument(
        "--contenders", default="", help="comma-separated subset: " + ",".join(REGISTRY)
    )
    ap.add_argument(
        "--workloads", default="", help="comma-separated subset: " + ",".join(WORKLOADS)
    )
    ap.add_argument(
        "--json", default=None, help="where to write the JSON (default benchmarks/results/)"
    )
    ap.add_argument(
        "--chart",
        default=None,
        help="PNG path (default docs/images/bench_summary.png;"
        " quick: benchmarks/results/bench_quick.png)",
    )
    ap.add_argument("--no-chart", action="store_true")
    ap.add_argument(
        "--baseline-tree",
        default=None,
        help="another checkout (with its extension built): every ours-* contender also runs"
        " on that tree's asyncio_guest, as <name>@base, side by side in the same run",
    )
    ap.add_argument(
        "--python", default=sys.executable, help="interpreter for the contender processes"
    )
    args = ap.parse_args(argv)
    if args.reps is None:
        args.reps = 1 if args.quick else 3
    if args.reps < 1:
        ap.error("--reps must be at least 1")
    for attr, known in (("contenders", REGISTRY), ("workloads", WORKLOADS)):
        chosen = [x for x in getattr(args, attr).split(",") if x]
        bad = [x for x in chosen if x not in known]
        if bad:
            ap.error(f"unknown {attr}: {', '.join(bad)} (choose from {', '.join(known)})")
        setattr(args, attr, chosen or list(DEFAULT if attr == "contenders" else known))
    if args.baseline_tree is not None:
        tree = Path(args.baseline_tree).resolve()
        if not (tree / "python" / "asyncio_guest").is_dir():
            ap.error(f"--baseline-tree {tree}: no python/asyncio_guest there")
        args.baseline_tree = tree
        args.contenders = [
            name
            for c in args.contenders
            for name in ([c, c + BASE] if c.startswith("ours") else [c])
        ]
    return args


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # A SIGTERM (a CI timeout, a kill by pid) must still run the cleanup below, which stops
    # the Xvfb this harness may have started.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))
    env = Env(python=args.python, env=dict(os.environ), baseline_tree=args.baseline_tree)
    env.env.setdefault("QT_QPA_PLATFORM", "offscreen")
    # qasync picks the first Qt binding it finds (PyQt5 may be installed too): pin PySide6,
    # the binding every Qt contender here uses.
    env.env["QT_API"] = "pyside6"
    env.env.setdefault("NO_AT_BRIDGE", "1")  # GTK: no accessibility bus in a headless session
    env.env["PYTHONDONTWRITEBYTECODE"] = "1"
    contenders: list[str] = args.contenders
    from contenders import load

    needs_x = any(load(registry_name(c)).needs_display for c in contenders)
    unavailable: dict[str, str] = {}
    if needs_x and not env.env.get("DISPLAY"):
        started = _start_xvfb()
        if started is None:
            for c in contenders:
                if load(registry_name(c)).needs_display:
                    unavailable[c] = "needs a display: no $DISPLAY and no Xvfb"
        else:
            env.xvfb, env.env["DISPLAY"] = started
    versions: dict[str, str] = {}
    try:
        for c in contenders:
            if c in unavailable:
                continue
            reason, vers = check(env, c)
            versions.update(vers)
            if reason is not None:
                unavailable[c] = reason
        active = [c for c in contenders if c not in unavailable]
        for c, reason in unavailable.items():
            print(f"[bench] {c}: not run: {reason}", flush=True)
        runs: list[dict[str, Any]] = []
        started_at = dt.datetime.now(dt.timezone.utc)
        load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
        for rep in range(args.reps):
            for wname in args.workloads:
                workload = WORKLOADS[wname]
                applicable = [
                    c
                    for c in active
                    if load(registry_name(c)).family == workload.family
                    and (load(registry_name(c)).supports_network or not workload.needs_network)
                ]
                if not applicable:
                    continue
                shift = rep % len(applicable)
                order = applicable[shift:] + applicable[:shift]
                params = dict(workload.quick if args.quick else workload.full)
                params["deadline"] = 120.0 if wname == "scale" else 60.0
                if args.quick:
                    params["deadline"] = 30.0
                for c in order:
                    t0 = time.perf_counter()
                    result = run_one(env, c, workload, params)
                    result["rep"] = rep
                    result["wall_s"] = time.perf_counter() - t0
                    result["derived"] = derived(result)
                    runs.append(result)
                    status = "FAILED " + result["error"][:120] if "error" in result else "ok"
                    print(
                        f"[bench] rep {rep + 1}/{args.reps} {wname:<15} {c:<19} "
                        f"{result['wall_s']:5.1f} s  {status}",
                        flush=True,
                    )
        for c in contenders:
            if c in active:
                for wname in args.workloads:
                    workload = WORKLOADS[wname]
                    if (
                        load(registry_name(c)).family == workload.family
                        and workload.needs_network
                        and not load(registry_name(c)).supports_network
                    ):
                        print(f"[bench] {c}: {wname} not applicable (no socket support)")
    finally:
        if env.xvfb is not None:
            env.xvfb.terminate()
            _stop(env.xvfb, 5)
    summary_ = summarize(runs, contenders)
    errors = {(r["workload"], r["contender"]): r["error"] for r in runs if "error" in r}
    finished_at = dt.datetime.now(dt.timezone.utc)
    doc = {
        "meta": {
            "started_utc": started_at.isoformat(timespec="seconds"),
            "finished_utc": finished_at.isoformat(timespec="seconds"),
            "quick": args.quick,
            "reps": args.reps,
            "argv": sys.argv[1:] if argv is None else argv,
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "loadavg_before": load_before,
            "loadavg_after": os.getloadavg() if hasattr(os, "getloadavg") else None,
            "versions": versions,
            "git": git_state(),
            "baseline_tree": None
            if args.baseline_tree is None
            else {"path": str(args.baseline_tree), **git_state(args.baseline_tree)},
            "workloads": {
                w: WORKLOADS[w].quick if args.quick else WORKLOADS[w].full for w in args.workloads
            },
        },
        "contenders": contenders,
        "unavailable": unavailable,
        "summary": summary_,
        "runs": runs,
    }
    stamp = started_at.strftime("%Y%m%d-%H%M%S")
    json_path = Path(args.json) if args.json else HERE / "results" / f"bench-{stamp}.json"
    json_path.parent.mkdir(parents=True, exist_ok=True)
    # allow_nan=False: NaN is not JSON; missing figures are written as null.
    json_path.write_text(json.dumps(_finite(doc), indent=1, default=str, allow_nan=False) + "\n")
    text = table(summary_, contenders, errors)
    print(text)
    if unavailable:
        print("\nnot run: " + "; ".join(f"{c}: {r}" for c, r in unavailable.items()))
    print(f"\nJSON: {json_path}")
    if not args.no_chart:
        default_chart = (
            HERE / "results" / "bench_quick.png"
            if args.quick
            else ROOT / "docs" / "images" / "bench_summary.png"
        )
        chart_path = Path(args.chart) if args.chart else default_chart
        try:
            chart(
                summary_,
                contenders,
                chart_path,
                f"asyncio-guest benchmarks ({'quick, ' if args.quick else ''}medians of "
                f"{args.reps}, bars: min..max; x = ratio to stock asyncio / trio.run) "
                f"{started_at:%Y-%m-%d}",
            )
            print(f"chart: {chart_path}")
        except ImportError as exc:
            print(f"chart: not drawn ({exc}); pip install matplotlib")
    return 0


if __name__ == "__main__":
    sys.exit(main())
