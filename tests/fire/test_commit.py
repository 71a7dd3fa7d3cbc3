"""The end of a run: the lock must still be held at COMMIT, and an interrupted COMMIT says what is known."""

from __future__ import annotations

import signal
import time

import psycopg
import pytest
from psycopg import sql

from tests.fire.runs import Run
from tests.fire.state import connect, dbtool_backends, wait_for_backend
from tests.helpers import advisory_locks, dbtool, last_digest

pytestmark = pytest.mark.fire


def _set_for_database(url: str, setting: str, value: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        name = conn.info.dbname
        conn.execute(sql.SQL("ALTER DATABASE {} SET {} = {}").format(sql.Identifier(name), sql.Identifier(setting), sql.Literal(value)))


def test_the_lock_session_survives_idle_session_timeout(database_url: str) -> None:
    """The issue's reproduction: with idle_session_timeout the idle lock session was ended mid-run
    and the COPY went on unserialized. Sampled while the run works: never a COPY without the lock."""
    _set_for_database(database_url, "idle_session_timeout", "300ms")
    unlocked_copies = copies = 0
    with connect(database_url) as watch:
        run = Run("reset", database_url, ("--profile", "load", "--scale", "10"))
        while run.proc.poll() is None:
            backends = dbtool_backends(watch, run.pid)
            copying = any(query.startswith("COPY") and state == "active" for _, state, _, query in backends)
            locked = watch.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = "
                "(SELECT oid FROM pg_database WHERE datname = current_database())"
            ).fetchone()[0]
            copies += copying
            unlocked_copies += copying and not locked
            time.sleep(0.02)
        outcome = run.finish()
    assert outcome.code == 0, outcome.output
    assert copies > 0, "the run was too short to sample"
    assert unlocked_copies == 0, f"{unlocked_copies} of {copies} samples saw a COPY while no session held the lock"


def test_a_run_whose_lock_session_ended_rolls_back_instead_of_committing(database_url: str) -> None:
    assert dbtool("reset", "--database-url", database_url, "--profile", "ci").exit_code == 0
    with psycopg.connect(database_url) as c:
        before = last_digest(c)
    with psycopg.connect(database_url) as reader, connect(database_url) as watch:
        reader.execute("SELECT count(*) FROM pets")  # the reset waits for this transaction, holding its lock
        run = Run("reset", database_url, ("--profile", "ci", "--seed", "9"), log_format="json")
        wait_for_backend(watch, run.pid, "the reset to wait for the reader",
                         lambda state, wait, query: "pg_locks" in query or query.startswith("LOCK TABLE"))
        lock_pid = watch.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database())"
        ).fetchone()[0]
        watch.execute("SELECT pg_terminate_backend(%s)", (lock_pid,))  # what idle_session_timeout did
        reader.rollback()
        outcome = run.finish()
    assert outcome.code == 1, outcome.output
    assert "ended before commit" in outcome.output and "rolled back" in outcome.output
    with psycopg.connect(database_url) as c:
        assert last_digest(c) == before
        assert advisory_locks(c) == 0


def test_an_interrupt_during_commit_says_old_or_new_not_rolled_back(database_url: str) -> None:
    assert dbtool("reset", "--database-url", database_url, "--profile", "ci").exit_code == 0
    with psycopg.connect(database_url, autocommit=True) as conn:
        before = last_digest(conn)
        # A deferred constraint trigger runs at COMMIT: it holds the COMMIT open long enough to land in.
        conn.execute("""
            CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS
            $$ BEGIN PERFORM pg_sleep(30); RETURN NULL; END $$;
            CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON dbtool_meta DEFERRABLE INITIALLY DEFERRED
            FOR EACH ROW WHEN (NEW.event = 'seed') EXECUTE FUNCTION slow_commit();
        """)
    with connect(database_url) as watch:
        run = Run("seed", database_url, ("--profile", "ci", "--seed", "3"))
        wait_for_backend(watch, run.pid, "the seed to be committing",
                         lambda state, wait, query: query.strip().upper() == "COMMIT" and state == "active")
        run.send(signal.SIGTERM)
        outcome = run.finish()
    assert outcome.code == 143, outcome.output
    message = outcome.stderr.strip()
    assert len(message.splitlines()) == 1
    assert "while committing" in message and "old state or the new one" in message and "dbtool status" in message
    assert "rolled back" not in message
    with psycopg.connect(database_url) as c:
        assert last_digest(c) in (before, _seeded_digest(database_url))
        assert advisory_locks(c) == 0


def _seeded_digest(url: str) -> str | None:
    with psycopg.connect(url) as c:
        row = c.execute("SELECT digest FROM dbtool_meta WHERE event = 'seed' ORDER BY id DESC LIMIT 1").fetchone()
    return row[0] if row else None
