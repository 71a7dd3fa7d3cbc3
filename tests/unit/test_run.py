"""Run (runctx.py): how a run stops and what it shares, in one place; results that say themselves; no import circle."""

from __future__ import annotations

import ast
import signal
from pathlib import Path

import pytest

from dbtool.db.pool import CONNECTION_OBSERVER
from dbtool.errors import Terminated
from dbtool.migrate import upgrade as migrate
from dbtool.report import Reporter, TargetReporter
from dbtool.run.context import Run, Stop
from dbtool.run.repair import RepairResult
from dbtool.run.status import StatusResult, VerifyResult
from dbtool.run.steps import RunResult
from dbtool.seed import shared
from dbtool.settings.config import Settings

DBTOOL = Path(__file__).resolve().parents[2] / "dbtool"


def _settings() -> Settings:
    return Settings.from_options(database_url="postgresql://u@localhost:5432/app")


def test_stop_raises_the_signal_it_was_given_first() -> None:
    stop = Stop()
    stop.checkpoint()  # not stopped: nothing happens
    stop.request(signal.SIGTERM)
    stop.request(signal.SIGINT)  # a second signal does not change the first
    with pytest.raises(Terminated):
        stop.checkpoint()
    interrupted = Stop()
    interrupted.request(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        interrupted.checkpoint()


def test_bound_hands_the_runs_stop_and_cache_to_the_layers_below_and_takes_them_back() -> None:
    cache = shared.SharedChunks()
    stop = Stop()
    run = Run.target(_settings(), Reporter(), "a", stop, cache)
    assert isinstance(run.reporter, TargetReporter)
    with run.bound():
        assert migrate.WHILE_WAITING.get() == run.checkpoint
        assert CONNECTION_OBSERVER.get() is not None
        assert shared.chunk("k", lambda: ("x", 1)) == ("x", 1) and cache.generated == 1
        assert Run.of(run.settings, run.reporter) is run
        other = _settings()
        assert Run.of(other, run.reporter).stop is stop and Run.of(other, run.reporter).settings is other
        assert Run.of(run.settings, Reporter()) is not run  # another reporter: not this run
        stop.request(signal.SIGINT)
        with pytest.raises(KeyboardInterrupt):
            run.reporter.note("checked")
        with pytest.raises(KeyboardInterrupt):
            migrate.WHILE_WAITING.get()()  # type: ignore[misc]
    assert migrate.WHILE_WAITING.get() is None and CONNECTION_OBSERVER.get() is None
    assert shared._current.get() is None
    assert Run.of(run.settings, run.reporter) is not run


def test_results_describe_themselves() -> None:
    assert RunResult("reset", "t", revision="abc", digest="0123456789abcdef99").describe() == (
        "reset done, at abc, digest 0123456789abcdef")
    assert RunResult("protect", "t", note="Protected t").describe() == "Protected t"
    assert RunResult("drop", "t").describe() == "drop done"
    status = StatusResult({"reachable": True, "revision": {"current": None, "head": "h"}, "row_counts": {"a": 2, "b": 3}})
    assert status.describe() == "revision none (head h), 5 rows" and status.document() == dict(status)
    assert VerifyResult({"identical": True, "digest": "f" * 64}).describe() == f"identical (digest {'f' * 16})"
    assert RepairResult({"action": "none", "digest": "e" * 64}).describe() == f"identical, nothing to repair (digest {'e' * 16})"
    drifted = RepairResult({"action": "reset", "differences": [{"table": "pets", "problem": "differs"}],
                            "reset": {"revision": "r1", "digest": "d" * 64}})
    assert drifted.describe() == f"drifted (pets differs); reset to r1, digest {'d' * 16}"


def _imports(module: str) -> set[str]:
    tree = ast.parse((DBTOOL / "run" / f"{module}.py").read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


@pytest.mark.parametrize(("module", "below"), [
    ("swap", {"reset", "fleet", "repair"}),
    ("steps", {"reset", "swap", "fleet", "repair", "status"}),
    ("context", {"reset", "swap", "steps", "fleet", "repair", "status"}),
])
def test_the_steps_sit_below_the_strategies(module: str, below: set[str]) -> None:
    """reset composes swap and steps; swap composes steps; steps use the Run: no module imports one above it."""
    wrong = {f"dbtool.run.{up}" for up in below} & _imports(module)
    assert not wrong, f"dbtool/run/{module}.py imports {sorted(wrong)}"
