"""Scenario 8: a protected database, and one holding objects dbtool did not create, are never dropped."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from tests.fire import figures
from tests.fire.runs import Outcome, reset_in_process, run
from tests.fire.size import fire_size
from tests.fire.state import fingerprint
from tests.helpers import dbtool

pytestmark = pytest.mark.fire

COMMANDS = {
    "reset": ("reset", "--profile", "ci"),
    "drop": ("drop",),
    "seed": ("seed", "--profile", "ci"),
    "migrate": ("migrate",),
}
# Every way a user might try to push it through: flags, their environment variables, and variables
# that do not exist (there is deliberately no DBTOOL_FORCE).
OPTIONS = {
    "plain": ((), {}),
    "force": (("--force",), {}),
    "yes": (("--yes",), {}),
    "force-yes": (("--force", "--yes"), {}),
    "env-yes": ((), {"DBTOOL_YES": "1"}),
    "env-force": ((), {"DBTOOL_FORCE": "1", "FORCE": "1", "DBTOOL_YES": "true"}),
    "force-explicit-schema": (("--force", "--schema", "public", "--lock-timeout", "60"), {"DBTOOL_SCHEMA": "public"}),
    "force-small-pool": (("--force", "--pool-max", "2", "-y"), {}),
    "force-other-seed": (("--force", "--seed", "7"), {"DBTOOL_PROFILE": "demo"}),
}
SAMPLE = ("plain", "force", "force-yes", "env-force")
CHOSEN = list(OPTIONS) if fire_size().full_matrix else list(SAMPLE)
PARALLEL = 4  # refused runs are short; several at once also checks that refusals do not block each other


def _try_all(url: str, commands: dict[str, tuple[str, ...]], options: list[str]) -> dict[str, Outcome]:
    """Run every command with every option set (a few at a time); name -> outcome."""

    def attempt(combo: tuple[str, str]) -> tuple[str, Outcome]:
        command, option = combo
        args, env = OPTIONS[option]
        first, *rest = commands[command]
        return f"{command} {option}", run(first, url, *rest, *args, env=env)

    with ThreadPoolExecutor(PARALLEL) as pool:
        outcomes = dict(pool.map(attempt, itertools.product(commands, options)))
    figures.count("8 protection: attempts refused or harmless", len(outcomes))
    return outcomes


def _refused(outcomes: dict[str, Outcome], allowed: dict[str, tuple[int, ...]] | None = None) -> None:
    for name, outcome in outcomes.items():
        want = (allowed or {}).get(name.split()[0], (3,))
        assert outcome.code in want, f"{name}: exit {outcome.code}, want {want}:\n{outcome.output}"
        if outcome.code != 0:
            assert len(outcome.error_lines()) == 1 and "Traceback" not in outcome.output, outcome.stderr


def test_a_protected_database_is_never_dropped(seeded_url: str) -> None:
    assert dbtool("protect", "--database-url", seeded_url).exit_code == 0
    before = fingerprint(seeded_url)
    outcomes = _try_all(seeded_url, COMMANDS, CHOSEN)
    # migrate to head on a database already at head changes nothing and may run (or reject an option it
    # does not have, exit 2); everything else must be refused by the guard.
    _refused(outcomes, {"migrate": (0, 2)})
    for outcome in outcomes.values():
        if outcome.code == 3:
            assert "protected" in outcome.stderr and "--force does not override" in outcome.stderr, outcome.stderr
    after = fingerprint(seeded_url)
    assert after.tables == before.tables and after.revision == before.revision
    assert after.last_digest == before.last_digest


@pytest.mark.parametrize("revision", ["base", "0001_people_and_pets"])
def test_a_protected_database_refuses_a_downgrade(revision: str, seeded_url: str) -> None:
    assert dbtool("protect", "--database-url", seeded_url).exit_code == 0
    before = fingerprint(seeded_url)
    outcome = run("migrate", seeded_url, "--revision", revision)
    after = fingerprint(seeded_url)
    assert after.tables == before.tables, f"a downgrade dropped tables of a protected database ({outcome.code})"
    assert outcome.code == 3, outcome.output


@pytest.fixture
def foreign_url(database_url: str) -> str:
    """A database holding someone else's data: objects in the managed schema and no dbtool_meta."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL)")
        conn.execute("INSERT INTO customers SELECT g, 'customer ' || g FROM generate_series(1, 100) g")
        conn.execute("CREATE VIEW vip AS SELECT * FROM customers WHERE id < 10")
    return database_url


def _customers(url: str) -> list[tuple[int, str]]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT id, name FROM customers ORDER BY id").fetchall()


def test_a_foreign_database_is_never_touched_without_force_on_the_command_line(foreign_url: str) -> None:
    before = _customers(foreign_url)
    without_force = [o for o in CHOSEN if "--force" not in OPTIONS[o][0]]
    outcomes = _try_all(foreign_url, COMMANDS, without_force)
    _refused(outcomes, {"migrate": (2, 3)})
    for outcome in outcomes.values():
        if outcome.code == 3:
            assert "rows in customers" in outcome.stderr and "did not produce" in outcome.stderr, outcome.stderr
    assert _customers(foreign_url) == before
    with psycopg.connect(foreign_url) as conn:
        assert conn.execute("SELECT to_regclass('dbtool_meta')").fetchone() == (None,), "refused runs leave no trace"


def test_force_on_a_protected_foreign_database_is_still_refused(foreign_url: str) -> None:
    assert dbtool("protect", "--database-url", foreign_url).exit_code == 0
    before = _customers(foreign_url)
    outcomes = _try_all(foreign_url, {k: v for k, v in COMMANDS.items() if k != "migrate"},
                        [o for o in CHOSEN if "--force" in OPTIONS[o][0]])
    _refused(outcomes)
    assert _customers(foreign_url) == before


def test_objects_outside_the_managed_schema_survive_reset_and_drop(seeded_url: str) -> None:
    with psycopg.connect(seeded_url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA audit; CREATE TABLE audit.events (id int PRIMARY KEY, note text)")
        conn.execute("INSERT INTO audit.events VALUES (1, 'keep me')")
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")  # its type and functions live in public
    for command in (("reset", "--profile", "ci", "--force"), ("drop", "--force"), ("reset", "--profile", "ci")):
        outcome = run(command[0], seeded_url, *command[1:])
        assert outcome.code == 0, outcome.output
    with psycopg.connect(seeded_url) as conn:
        assert conn.execute("SELECT note FROM audit.events").fetchall() == [("keep me",)]
        assert conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'vector'").fetchone() == (1,)
        assert conn.execute("SELECT to_regtype('public.vector') IS NOT NULL").fetchone() == (True,)
    reset_in_process(seeded_url, "--profile", "ci")
