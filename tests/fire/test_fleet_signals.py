"""A fleet run stopped by SIGTERM or SIGINT: every target in flight rolls back, every lock is freed, exit 143 / 130."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from dbtool.settings.config import ADVISORY_LOCK_KEY
from tests.fire.runs import Run, reset_in_process, wait_until
from tests.fire.state import LOCK_FREE_BOUND, SIGNAL_EXIT_BOUND, advisory_lock_holders, fingerprint

pytestmark = pytest.mark.fire

LOAD = ("--profile", "load", "--scale", "20", "--seed", "7")  # seconds of COPY per target: a signal lands mid-seed
COPYING = 3  # targets that are copying when the signal arrives
FLEET_EXIT_BOUND = SIGNAL_EXIT_BOUND + 2.0  # a few more statements to cancel than one run has


def _events(run: Run) -> list[dict[str, object]]:
    events = []
    for line in list(run.stdout_lines):
        try:
            events.append(json.loads(line))
        except ValueError:
            pass
    return events


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_mid_fleet_rolls_back_every_target_in_flight(
    signum: int, new_database: Callable[[], str], tmp_path: Path
) -> None:
    urls = {f"copying-{i}": new_database() for i in range(COPYING)}
    urls["waiting"] = new_database()  # waits for an advisory lock someone else holds
    for url in urls.values():
        reset_in_process(url, "--profile", "ci", "--seed", "3")
    before = {name: fingerprint(url) for name, url in urls.items()}
    targets = tmp_path / "targets.txt"
    targets.write_text("".join(f"{name} = {url}\n" for name, url in urls.items()))
    with psycopg.connect(urls["waiting"], autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))
        run = Run("reset", None, ("--targets", str(targets), "--parallel", str(len(urls)), "--lock-timeout", "120", *LOAD),
                  log_format="json")

        def all_copying() -> bool:
            migrated = {e.get("target") for e in _events(run) if e.get("step") == "migrate"}
            return migrated >= {f"copying-{i}" for i in range(COPYING)}

        wait_until(all_copying, 120, "every copying target to finish its migration and start seeding")
        sent = run.send(signum)
        outcome = run.finish(60)
        exit_seconds = run.ended - sent  # type: ignore[operator]
        holder_pid = holder.info.backend_pid
        assert advisory_lock_holders(urls["waiting"]) == [holder_pid]  # the fleet's waiting target took nothing
    assert outcome.code == 128 + signum, outcome.output
    assert exit_seconds < FLEET_EXIT_BOUND, f"exited {exit_seconds:.1f}s after the signal"
    events = _events(run)
    errors = {e["target"]: e for e in events if e.get("event") == "error"}
    assert set(errors) == set(urls), outcome.output
    assert {e["exit_code"] for e in errors.values()} == {128 + signum}
    summary = events[-1]
    assert summary["event"] == "summary" and summary["exit_code"] == 128 + signum
    assert summary["interrupted"] == signal.Signals(signum).name
    assert "traceback" not in outcome.output.lower()
    for name, url in urls.items():
        wait_until(lambda url=url: not advisory_lock_holders(url), LOCK_FREE_BOUND, f"the advisory lock of {name} to be free")
        assert fingerprint(url) == before[name], f"{name} changed although its reset was interrupted"
