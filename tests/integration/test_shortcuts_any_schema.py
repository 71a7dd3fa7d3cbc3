"""dbtool's three shortcuts give a team's own project exactly what the slow path gives it.

The project is tests/projects/seed_relations, whose data dbtool generates with zero configuration
(composite, self-referencing, cyclic and deferrable foreign keys; a lookup table its migration
fills). The swap strategy, the pytest plugin's template clone and a fleet run are each compared with
`dbtool reset --strategy transaction` of another fresh database with the same profile and seed:
the normalized `pg_dump --schema-only`, the digest of the data (as reset reports it and as
`dbtool verify` finds the live tables) and where each sequence resumes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from tests.alembic_projects import DBTOOL_TABLES, SEED_PROJECTS, assert_features
from tests.helpers import dbtool
from tests.schema_dump import schema_dump

# Swap, clones and fleets against the one-transaction reset: on every major (pg_matrix).
pytestmark = pytest.mark.versions

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]
PROJECT = SEED_PROJECTS["seed_relations"]
PROJECT_ARGS = ("--alembic-config", str(PROJECT.config))
STATE = (*PROJECT_ARGS, "--profile", "ci", "--seed", "11")
OTHER_SEED = (*PROJECT_ARGS, "--profile", "ci", "--seed", "12")

SEQUENCES = r"""SELECT sequencename FROM pg_sequences
                WHERE schemaname = 'public' AND sequencename NOT LIKE 'dbtool\_%' ORDER BY 1"""
SEQUENCE_STATE = "SELECT last_value, is_called FROM {}"


@dataclass(frozen=True)
class Outcome:
    """What a reset leaves in a database, dbtool's own bookkeeping aside."""

    dump: str
    digest: str
    sequences: dict[str, list[Any]]  # name -> [last_value, is_called]


def outcome(url: str) -> Outcome:
    """The database's schema dump, the digest `dbtool verify` finds identical to the live data, its sequences."""
    verified = dbtool("verify", "--database-url", url, *PROJECT_ARGS, "--json")
    assert verified.exit_code == 0, verified.output
    sequences: dict[str, list[Any]] = {}
    with psycopg.connect(url) as conn:
        for (name,) in conn.execute(SEQUENCES).fetchall():
            row = conn.execute(sql.SQL(SEQUENCE_STATE).format(sql.Identifier("public", name))).fetchone()
            sequences[name] = list(row)  # type: ignore[arg-type]
    return Outcome(schema_dump(url, exclude_tables=DBTOOL_TABLES), json.loads(verified.stdout)["digest"], sequences)


def reset(url: str, *args: str) -> dict[str, Any]:
    """Run `dbtool reset --json` on `url`; return its document."""
    result = dbtool("reset", "--database-url", url, "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


@pytest.fixture
def expected(new_database: Callable[[], str]) -> Outcome:
    """The slow path: a one-transaction reset of a fresh database."""
    url = new_database()
    document = reset(url, *STATE, "--strategy", "transaction")
    assert document["row_counts"] and all(document["row_counts"].values()), document  # every table holds data
    found = outcome(url)
    assert found.digest == document["digest"]
    assert_features(PROJECT, found.dump)  # the project's schema, not an empty one
    assert found.sequences, "seed_relations has serial keys"
    return found


def test_another_seed_gives_another_digest_over_the_same_schema(expected: Outcome, new_database: Callable[[], str]) -> None:
    url = new_database()
    reset(url, *OTHER_SEED, "--strategy", "transaction")
    other = outcome(url)
    assert other.digest != expected.digest
    assert other.dump == expected.dump


def test_swap_gives_the_transaction_resets_schema_data_and_sequences(expected: Outcome, new_database: Callable[[], str]) -> None:
    url = new_database()
    reset(url, *OTHER_SEED, "--strategy", "transaction")  # swap replaces a live schema holding other data
    result = dbtool("reset", "--database-url", url, *STATE, "--strategy", "swap", "--log-format", "json")
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert "swap" in [e.get("step") for e in events]
    assert events[-1]["digest"] == expected.digest
    assert outcome(url) == expected


def test_the_pytest_plugins_clone_gives_the_transaction_resets_schema_data_and_sequences(
    expected: Outcome, pytester: pytest.Pytester, server_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    record = tmp_path / "clone.json"
    pytester.makepyfile(f"""
import json
from dataclasses import asdict

import psycopg

from tests.integration.test_shortcuts_any_schema import outcome

def test_record_the_clone(dbtool_db):
    with psycopg.connect(dbtool_db) as conn:
        name = conn.info.dbname
    with open({str(record)!r}, "w") as f:
        json.dump({{"database": name, "outcome": asdict(outcome(dbtool_db))}}, f)
""")
    monkeypatch.setenv("DATABASE_URL", server_url)  # the plugin builds its template and clones on this server
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # this checkout's dbtool and tests, for the inner session
    monkeypatch.delenv("PYTEST_XDIST_TESTRUNUID", raising=False)
    result = pytester.runpytest_subprocess(
        "--dbtool-alembic-config", str(PROJECT.config), "--dbtool-profile", "ci", "--dbtool-seed", "11", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=1)
    recorded = json.loads(record.read_text())
    assert recorded["database"].startswith("dbtool_clone_")
    assert recorded["outcome"] == asdict(expected)


def test_a_fleet_sharing_its_chunks_gives_every_target_the_transaction_resets_schema_data_and_sequences(
    expected: Outcome, new_database: Callable[[], str], tmp_path: Path
) -> None:
    urls = [new_database() for _ in range(3)]
    reset(urls[0], *OTHER_SEED)  # one target holds other data before the fleet run
    targets = tmp_path / "targets.txt"
    targets.write_text("".join(f"tenant-{i} = {url}\n" for i, url in enumerate(urls)))
    result = dbtool("reset", "--targets", str(targets), *STATE, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    chunks = document["seed_chunks"]
    assert chunks["reused"] == 2 * chunks["generated"] > 0  # each chunk generated once, streamed to all three
    assert [r["result"]["digest"] for r in document["results"]] == [expected.digest] * 3
    for url in urls:
        assert outcome(url) == expected
