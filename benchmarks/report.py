"""Markdown tables (and, with ``--chart PNG``, the chart again) from a results JSON.

    python benchmarks/report.py RESULTS.json [--chart PNG] [--title TEXT]

Used to paste the figures into docs/benchmarks.md without copying numbers by hand.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))

import argparse

from run import METRICS, WORKLOADS, Metric, baseline_for, chart


def cell(metric: Metric, stats: Optional[dict[str, Any]]) -> str:
    if stats is None or stats.get("median") is None:
        return "-"
    text = metric.fmt.format(stats["median"])
    if stats.get("n", 0) > 1:
        text += f" ({metric.fmt.format(stats['min'])}-{metric.fmt.format(stats['max'])})"
    if stats.get("ratio") is not None:
        text += f" **x{stats['ratio']:.2f}**"
    return text


def markdown(doc: dict[str, Any]) -> str:
    summary = doc["summary"]
    contenders: list[str] = doc["contenders"]
    errors: dict[tuple[str, str], str] = {}
    for run in doc["runs"]:
        if "error" in run:
            errors.setdefault((run["workload"], run["contender"]), run["error"])
    out: list[str] = []
    for wname, workload in WORKLOADS.items():
        metrics = [m for m in METRICS if m.workload == wname and m.key in summary.get(wname, {})]
        if not metrics:
            continue
        names = [c for c in contenders if any(c in summary[wname][m.key] for m in metrics)]
        out.append(f"### {workload.title}\n")
        out.append(f"Ratios (**x**) are to `{baseline_for(workload)}` in the same run.\n")
        out.append("| contender | " + " | ".join(m.label for m in metrics) + " |")
        out.append("|---" * (len(metrics) + 1) + "|")
        for c in names:
            row = [cell(m, summary[wname][m.key].get(c)) for m in metrics]
            out.append(f"| {c} | " + " | ".join(row) + " |")
        for (w, c), message in sorted(errors.items()):
            if w == wname:
                out.append(
                    f"\n{c} failed in at least one repetition: `{' '.join(message.split())[:200]}`"
                )
        out.append("")
    return "\n".join(out)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("results")
    ap.add_argument("--chart", default=None)
    ap.add_argument("--title", default=None)
    args = ap.parse_args(argv)
    doc = json.loads(Path(args.results).read_text())
    print(markdown(doc))
    if args.chart:
        meta = doc["meta"]
        title = args.title or (
            f"asyncio-guest benchmarks (medians of {meta['reps']}, bars: min..max; "
            f"x = ratio to stock asyncio / trio.run) {meta['started_utc'][:10]}"
        )
        chart(doc["summary"], doc["contenders"], Path(args.chart), title)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
