"""A run over one Run on a real server: the Run's cache and cancel handles reach the seed and the pool; verify's verdict is a value."""

from __future__ import annotations

import psycopg
import pytest

from dbtool.errors import VerifyMismatchError
from dbtool.report import Reporter
from dbtool.run import status
from dbtool.run.context import Run, Stop
from dbtool.run.repair import repair_database
from dbtool.run.reset import reset_database
from dbtool.seed import shared
from dbtool.settings.config import Settings


def test_a_bound_run_shares_its_chunks_and_registers_its_connections(database_url: str) -> None:
    settings = Settings.from_options(database_url=database_url, profile="ci", workers=1)
    cache = shared.SharedChunks()
    run = Run.target(settings, Reporter(as_json=True), "one", Stop(), cache)
    with run.bound():
        first = reset_database(run.settings, run.reporter)
    assert cache.generated > 0 and cache.reused == 0
    assert run.cancels, "the pool's connections registered no cancel handle with the run"
    with run.bound():
        second = reset_database(run.settings, run.reporter)
    assert cache.reused == cache.generated  # the second reset took every chunk from the run's cache
    assert second.digest == first.digest and second.describe() == f"reset done, at {first.revision}, digest {first.digest[:16]}"


def test_a_stopped_run_stops_at_its_first_step_and_changes_nothing(database_url: str, conn: psycopg.Connection) -> None:  # type: ignore[type-arg]
    settings = Settings.from_options(database_url=database_url, profile="ci")
    stop = Stop()
    stop.request(2)  # SIGINT
    run = Run.target(settings, Reporter(as_json=True), "one", stop, shared.SharedChunks())
    with run.bound(), pytest.raises(KeyboardInterrupt):
        reset_database(run.settings, run.reporter)
    assert conn.execute("SELECT to_regclass('public.dbtool_meta')").fetchone() == (None,)


def test_verify_verdict_reaches_repair_as_a_value(database_url: str, conn: psycopg.Connection) -> None:  # type: ignore[type-arg]
    settings = Settings.from_options(database_url=database_url, profile="ci")
    reset_database(settings, Reporter(as_json=True))
    verdict = status.check(settings)
    assert verdict.mismatch is None and verdict.result["identical"] is True
    conn.execute("UPDATE clients SET full_name = 'drifted' WHERE id = (SELECT id FROM clients ORDER BY id LIMIT 1)")
    verdict = status.check(settings)  # a finding, not an exception
    assert verdict.mismatch is not None and verdict.result["identical"] is False
    assert [d["table"] for d in verdict.result["differences"]] == ["clients"]
    with pytest.raises(VerifyMismatchError) as raised:
        status.verify(settings)
    assert str(raised.value) == str(verdict.mismatch) and raised.value.details == verdict.mismatch.details
    repaired = repair_database(settings, Reporter(as_json=True))
    assert repaired["action"] == "reset" and repaired.describe().startswith("drifted (clients differs); reset to ")
    assert status.check(settings).mismatch is None
