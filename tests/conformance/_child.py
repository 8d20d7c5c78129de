"""Run CPython's own ``test_asyncio`` modules under one event-loop variant.

This file runs *inside the interpreter under test* (3.9 and newer), one
process per (interpreter, variant), started by ``conformance.py``.  It writes
one JSON object per line to ``--out`` and flushes after each, so that the
parent can recover everything that finished when a test hangs or crashes the
process, and restart the run without it.

Variants:

* ``stock``: the interpreter's own selector loop, untouched except that the
  concrete selector-loop test classes are reduced to the epoll one (the
  poll/select/kqueue copies test stdlib selectors, not a loop).
* ``guest`` / ``tk``: every loop the suite creates is ``--loop``: the default
  policy class's ``_loop_factory`` builds it (so ``asyncio.new_event_loop()``,
  ``asyncio.run()``, ``IsolatedAsyncioTestCase`` and functional tests get it),
  and the epoll test classes of the mixin modules are replaced by subclasses
  whose ``create_event_loop``/``new_loop`` return it.  Test ids stay identical
  to the stock run so that results compare one to one.

We patch the policy *class* rather than rebinding ``asyncio.new_event_loop``:
tests such as ``test_runners`` install their own policy and expect
``new_event_loop()`` to reach it, so a rebinding would fail them for reasons
that have nothing to do with the loop under test.
"""

from __future__ import annotations

import argparse
import asyncio
import faulthandler
import importlib
import inspect
import json
import os
import re
import sys
import threading
import time
import traceback
import unittest
from typing import Any, Callable, Iterator, Optional, TextIO

HERE = os.path.dirname(os.path.abspath(__file__))

# Classes that re-run the loop mixins against the other stdlib selectors.  They
# are dropped in every variant: under "guest" they would run our loop three
# times over, under "stock" they test selectors.py, which is not our subject.
_DUPLICATE_SELECTOR_CLASS = re.compile(r"^(Poll|Select|Kqueue)EventLoopTests$")
_FACTORY_METHODS = ("create_event_loop", "new_loop")


class Counters:
    """Per-test counts of loops created, to prove the patching reached the tests."""

    def __init__(self) -> None:
        self.selector_loops = 0  # every unix selector loop, ours included
        self.our_loops = 0  # instances of the variant's loop class
        self.our_runs = 0  # run_forever calls on them (IsolatedAsyncioTestCase
        # on 3.9/3.10 builds its loop before startTest, so count runs too)

    def reset(self) -> None:
        self.selector_loops = 0
        self.our_loops = 0
        self.our_runs = 0


COUNTERS = Counters()

#: Sum of ``guest_stats()`` over every loop of the variant's class closed in
#: this process: the proof that the suite's runs really went through host
#: ticks and worker waits.
GUEST_TOTALS: dict[str, int] = {}


def _instrument_guest_stats(loop_cls: type) -> None:
    original_run_forever = loop_cls.run_forever

    def run_forever(self: Any) -> None:
        COUNTERS.our_runs += 1
        original_run_forever(self)

    loop_cls.run_forever = run_forever  # type: ignore[method-assign]
    if not hasattr(loop_cls, "guest_stats"):
        return
    original_close = loop_cls.close

    def close(self: Any) -> None:
        if not self.is_closed():
            try:
                for key, value in self.guest_stats().items():
                    GUEST_TOTALS[key] = GUEST_TOTALS.get(key, 0) + int(value)
                GUEST_TOTALS["loops_closed"] = GUEST_TOTALS.get("loops_closed", 0) + 1
            except Exception:  # stats are a report, never a cause of failure
                pass
        original_close(self)

    loop_cls.close = close  # type: ignore[method-assign]


def _load_loop_class(spec: str) -> type:
    module_name, _, attr = spec.partition(":")
    if not attr:
        raise ValueError(f"--loop must look like 'module:Class', got {spec!r}")
    if HERE not in sys.path:
        sys.path.insert(0, HERE)
    module = importlib.import_module(module_name)
    loop_cls = getattr(module, attr)
    if not (isinstance(loop_cls, type) and issubclass(loop_cls, asyncio.AbstractEventLoop)):
        raise TypeError(f"{spec} is not an asyncio event loop class")
    return loop_cls


def _instrument_selector_loop(our_cls: Optional[type]) -> None:
    """Count selector loops created (ours and stock) without changing behaviour."""
    base = asyncio.SelectorEventLoop
    original_init = base.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        COUNTERS.selector_loops += 1
        if our_cls is not None and isinstance(self, our_cls):
            COUNTERS.our_loops += 1
        original_init(self, *args, **kwargs)

    base.__init__ = __init__  # type: ignore[method-assign]


def _patch_policy(loop_cls: type) -> None:
    """Make every loop the default policy creates a ``loop_cls``.

    CPython's own ``test_asyncio`` (3.9-3.15) creates its loops through the event-loop
    policy, so that is where the loop under test goes in; this harness calls none of the
    policy functions itself. The factory is a class attribute because each test module's
    ``tearDownModule`` drops the policy instance; the next one is built from the class.
    """
    unix_events = getattr(asyncio, "unix_events", None)
    policy_cls = getattr(unix_events, "_UnixDefaultEventLoopPolicy", None)
    if policy_cls is None:
        raise SystemExit(
            f"Python {sys.version.split()[0]} has no default event-loop policy class, which "
            "is how its test_asyncio creates loops: the conformance harness needs another "
            "way in for this version"
        )
    # A class, not a function: a function would be bound to the policy.
    policy_cls._loop_factory = loop_cls


def _creates_stock_selector_loop(fn: Callable[..., Any]) -> bool:
    try:
        return "SelectorEventLoop(" in inspect.getsource(fn)
    except (OSError, TypeError):
        return False


def _prepare_module(module: Any, loop_cls: Optional[type]) -> list[str]:
    """Drop duplicate selector classes; point the epoll ones at ``loop_cls``."""
    notes: list[str] = []
    for name, obj in list(vars(module).items()):
        if not (isinstance(obj, type) and issubclass(obj, unittest.TestCase)):
            continue
        factories = [m for m in _FACTORY_METHODS if m in vars(obj)]
        if not factories or not any(_creates_stock_selector_loop(vars(obj)[m]) for m in factories):
            continue
        if _DUPLICATE_SELECTOR_CLASS.match(name):
            delattr(module, name)
            notes.append(f"dropped {name}")
            continue
        if loop_cls is None:
            continue

        def factory(self: Any, _cls: type = loop_cls) -> Any:
            return _cls()

        attrs: dict[str, Any] = {m: factory for m in factories}
        # Same module and qualname: ids match the stock run exactly.
        attrs["__module__"] = obj.__module__
        attrs["__qualname__"] = obj.__qualname__
        setattr(module, name, type(name, (obj,), attrs))
        notes.append(f"{name}.{'/'.join(factories)} -> {loop_cls.__name__}")
    return notes


def _iter_tests(suite: unittest.TestSuite) -> Iterator[unittest.TestCase]:
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from _iter_tests(item)
        else:
            yield item


class JsonlResult(unittest.TestResult):
    """Records one outcome per test id; ``subTest`` failures fail the parent."""

    def __init__(self, out: TextIO, per_test_timeout: float) -> None:
        super().__init__()
        self.out = out
        self.per_test_timeout = per_test_timeout
        self._outcome = "pass"
        self._msg = ""
        self._t0 = 0.0

    def emit(self, obj: dict[str, Any]) -> None:
        self.out.write(json.dumps(obj, sort_keys=True) + "\n")
        self.out.flush()

    def _set(self, outcome: str, msg: str) -> None:
        rank = ["pass", "xfail", "skip", "xpass", "fail", "error"]
        if rank.index(outcome) >= rank.index(self._outcome):
            self._outcome = outcome
            self._msg = msg[-2000:]

    @staticmethod
    def _fmt(err: Any) -> str:
        exc_type, exc, tb = err
        lines = traceback.format_exception(exc_type, exc, tb)
        return "".join(lines[-6:])

    def startTest(self, test: unittest.TestCase) -> None:
        super().startTest(test)
        self._outcome, self._msg = "pass", ""
        COUNTERS.reset()
        self.emit({"event": "start", "id": test.id()})
        # A hung test kills the process with a traceback on stderr; the
        # parent marks it "hang" and resumes after it.
        faulthandler.dump_traceback_later(self.per_test_timeout, exit=True)
        self._t0 = time.perf_counter()

    def stopTest(self, test: unittest.TestCase) -> None:
        elapsed = time.perf_counter() - self._t0
        faulthandler.cancel_dump_traceback_later()
        env_changed = False
        try:
            from test import support

            env_changed = bool(getattr(support, "environment_altered", False))
            support.environment_altered = False
        except ImportError:
            pass
        self.emit(
            {
                "id": test.id(),
                "o": self._outcome,
                "t": round(elapsed, 4),
                "msg": self._msg,
                "loops": COUNTERS.selector_loops,
                "ours": COUNTERS.our_loops + COUNTERS.our_runs,
                "env": env_changed,
                "threads": threading.active_count(),
                # A loop still marked running on this thread after a test
                # is a leak that breaks the tests after it.
                "running_after": asyncio._get_running_loop() is not None,
            }
        )
        super().stopTest(test)

    def addError(self, test: Any, err: Any) -> None:
        super().addError(test, err)
        if not isinstance(test, unittest.TestCase):
            # setUpClass/setUpModule/tearDown* failures arrive on an
            # _ErrorHolder; record them under their own id.
            self.emit({"id": test.id(), "o": "error", "t": 0.0, "msg": self._fmt(err)[-2000:]})
            return
        if issubclass(err[0], unittest.SkipTest):
            self._set("skip", str(err[1]))
        else:
            self._set("error", self._fmt(err))

    def addFailure(self, test: Any, err: Any) -> None:
        super().addFailure(test, err)
        self._set("fail", self._fmt(err))

    def addSkip(self, test: Any, reason: str) -> None:
        super().addSkip(test, reason)
        if not isinstance(test, unittest.TestCase):
            self.emit({"id": test.id(), "o": "skip", "t": 0.0, "msg": reason})
            return
        self._set("skip", reason)

    def addExpectedFailure(self, test: Any, err: Any) -> None:
        super().addExpectedFailure(test, err)
        self._set("xfail", self._fmt(err))

    def addUnexpectedSuccess(self, test: Any) -> None:
        super().addUnexpectedSuccess(test)
        self._set("xpass", "unexpected success")

    def addSubTest(self, test: Any, subtest: Any, err: Any) -> None:
        super().addSubTest(test, subtest, err)
        if err is None:
            return
        if issubclass(err[0], test.failureException):
            self._set("fail", f"{subtest.id()}\n{self._fmt(err)}")
        else:
            self._set("error", f"{subtest.id()}\n{self._fmt(err)}")


def _read_ids(path: Optional[str]) -> Optional[set[str]]:
    if not path:
        return None
    with open(path, encoding="utf-8") as f:
        return {line.strip() for line in f if line.strip()}


def _run_module(
    name: str,
    loader: unittest.TestLoader,
    result: JsonlResult,
    loop_cls: Optional[type],
    exclude: set[str],
    only: Optional[set[str]],
) -> None:
    """Import, adapt, filter and run one module, then let it go.

    One module at a time, holding no reference to finished tests: several
    tests call ``gc.collect()`` in loops, and a heap full of every module's
    test instances makes them ten times slower than under ``-m unittest``.
    """
    t0 = time.perf_counter()
    try:
        module = importlib.import_module(f"test.test_asyncio.{name}")
    except unittest.SkipTest as exc:
        result.emit({"event": "module", "module": name, "status": "skip", "msg": str(exc)})
        return
    except Exception:
        result.emit(
            {
                "event": "module",
                "module": name,
                "status": "import-error",
                "msg": traceback.format_exc()[-2000:],
            }
        )
        return
    notes = _prepare_module(module, loop_cls)
    all_tests = list(_iter_tests(loader.loadTestsFromModule(module)))
    found = len(all_tests)
    suite = unittest.TestSuite(
        t for t in all_tests if t.id() not in exclude and (only is None or t.id() in only)
    )
    del all_tests
    selected = suite.countTestCases()
    result.emit(
        {
            "event": "module",
            "module": name,
            "status": "loaded",
            "tests": found,
            "selected": selected,
            "notes": notes,
        }
    )
    # unittest runs setUpModule/setUpClass and their tearDowns around these,
    # and drops each test once it has run.
    suite.run(result)
    result.emit({"event": "module-done", "module": name, "t": round(time.perf_counter() - t0, 3)})


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variant", required=True, choices=["stock", "guest", "tk"])
    parser.add_argument("--loop", help="module:Class of the loop under test (guest/tk)")
    parser.add_argument("--modules", required=True, help="comma-separated test_asyncio modules")
    parser.add_argument("--out", required=True, help="JSONL file to append results to")
    parser.add_argument("--exclude-file", help="ids not to run (already done or hung)")
    parser.add_argument("--only-file", help="run only these ids")
    parser.add_argument("--per-test-timeout", type=float, default=120.0)
    args = parser.parse_args(argv)

    faulthandler.enable()
    loop_cls: Optional[type] = None
    if args.variant != "stock":
        if not args.loop:
            parser.error("--loop is required for the guest and tk variants")
        loop_cls = _load_loop_class(args.loop)
        _patch_policy(loop_cls)
        _instrument_guest_stats(loop_cls)
    _instrument_selector_loop(loop_cls)

    exclude = _read_ids(args.exclude_file) or set()
    only = _read_ids(args.only_file)
    with open(args.out, "a", encoding="utf-8") as out:
        result = JsonlResult(out, args.per_test_timeout)
        result.emit(
            {
                "event": "begin",
                "python": sys.version.split()[0],
                "variant": args.variant,
                "loop": f"{loop_cls.__module__}.{loop_cls.__qualname__}" if loop_cls else None,
                "pid": os.getpid(),
            }
        )
        loader = unittest.TestLoader()
        t_run = time.perf_counter()
        for name in args.modules.split(","):
            name = name.strip()
            if name:
                _run_module(name, loader, result, loop_cls, exclude, only)
        extra: dict[str, Any] = {"guest": GUEST_TOTALS}
        host_stats = getattr(sys.modules.get(getattr(loop_cls, "__module__", "")), "stats", None)
        if isinstance(host_stats, dict):
            extra["host"] = host_stats
        result.emit({"event": "done", "t": round(time.perf_counter() - t_run, 3), **extra})
    # Leftover non-daemon threads from a test must not keep us alive: the
    # parent has everything it needs.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
