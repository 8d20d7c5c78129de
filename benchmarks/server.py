"""One contender process: ``server.py CONTENDER WORKLOAD PARAMS_JSON``.

Runs one workload's server half inside one contender and prints
``BENCH-READY {...}`` when it can take load, then ``BENCH-RESULT {...}``.
Started by ``run.py``; not meant to be run by hand (but it can be, for profiling:
``py-spy record -- python benchmarks/server.py ours-tk echo_pingpong '{"deadline": 30}'``).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import RESULT, emit
from contenders import load


def versions() -> dict[str, str]:
    """Versions of whatever contender packages this interpreter has."""
    from importlib import metadata

    out = {"python": sys.version.split()[0]}
    for dist in (
        "asyncio-guest",
        "uvloop",
        "qasync",
        "PySide6",
        "PyGObject",
        "async-tkinter-loop",
        "trio",
    ):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    try:
        import asyncio_guest

        out["asyncio-guest"] = asyncio_guest.__version__
    except ImportError:
        pass
    try:
        import tkinter

        out["Tk"] = str(tkinter.TkVersion)
    except ImportError:
        pass
    return out


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "--check":
        # Availability probe for the harness: imports the toolkit in a throwaway process.
        contender = load(argv[1].partition("@")[0])
        emit(RESULT, {"unavailable": contender.unavailable(), "versions": versions()})
        return 0
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    name, workload, params = argv[0], argv[1], json.loads(argv[2])
    # 10,000 connections need more fds than the usual soft limit of 1,024.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    # "<name>@base": the same contender, run on another tree's asyncio_guest (the harness
    # put that tree first on PYTHONPATH).
    contender = load(name.partition("@")[0])
    reason = contender.unavailable()
    if reason is not None:
        emit(RESULT, {"error": f"unavailable: {reason}"})
        return 0
    if contender.family == "trio":
        from workloads_trio import trio_echo as fn
    else:
        from workloads import WORKLOADS

        fn = WORKLOADS[workload]  # type: ignore[assignment]

    async def job() -> dict:
        return await fn(contender, params)

    try:
        result = contender.run(job)
    except BaseException as exc:  # report it; the harness shows the row as failed
        traceback.print_exc()
        emit(RESULT, {"error": f"{type(exc).__name__}: {exc}"})
        return 1
    emit(RESULT, result)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
