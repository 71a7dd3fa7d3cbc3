"""Issue 15 as a property: `dbtool reset --profile ci` seeds any small schema of supported shapes.

Schemas come from tests/random_schemas.py: 1-4 tables of random supported columns, keys, FKs (now
and then a nullable cycle) and CHECKs built to be true on a witness row. The first two tests prove
the strategies honest without dbtool (Postgres takes every witness row); the last two hand each
schema to dbtool as a one-revision Alembic project. Postgres judges every generated row: one that
breaks a constraint fails the reset. Runs are derandomized and database-less, so CI sees the same
examples every time; a failure prints the schema's DDL. Shrinking is off to keep a failing run
short; add Phase.shrink to PHASES locally for a minimal failing schema.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import psycopg
from hypothesis import HealthCheck, Phase, given, settings

from tests.helpers import dbtool
from tests.random_schemas import Schema, check_only_schemas, insert_witnesses, schemas, write_project
from tests.table_contents import contents

PHASES = (Phase.explicit, Phase.generate)
COMMON = dict(
    deadline=None,
    derandomize=True,
    database=None,
    phases=PHASES,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
RESET_EXAMPLES = 25  # each one migrates and seeds a fresh database: ~1 s
WITNESS_EXAMPLES = 100  # DDL and one row per table in a rolled-back transaction: cheap


def assert_witnesses_accepted(server_url: str, schema: Schema) -> None:
    with psycopg.connect(server_url) as conn, conn.transaction(force_rollback=True):
        for statement in schema.statements():
            conn.execute(statement)  # type: ignore[call-overload]
        try:
            insert_witnesses(conn, schema)
        except psycopg.Error as exc:
            raise AssertionError(f"witness row refused: {exc}\n{schema.ddl()}") from None


def assert_reset_seeds(schema: Schema, new_database: Callable[[], str]) -> None:
    with tempfile.TemporaryDirectory(prefix="dbtool-seed-prop-") as tmp:
        config = write_project(schema, Path(tmp) / "project")
        url = new_database()
        result = dbtool("reset", "--alembic-config", str(config), "--database-url", url, "--yes", "--profile", "ci")
        assert result.exit_code == 0, f"exit {result.exit_code}\n{result.output}\n{schema.ddl()}"
    rows = {t: c.rows for t, c in contents(url).items()}
    assert set(rows) == {t.name for t in schema.tables}, rows
    empty = sorted(t for t, n in rows.items() if n == 0)
    assert not empty, f"tables left empty: {empty}\n{result.output}\n{schema.ddl()}"


@settings(max_examples=WITNESS_EXAMPLES, **COMMON)  # type: ignore[arg-type]
@given(schema=schemas())
def test_every_drawn_schema_has_a_valid_row_per_table(schema: Schema, server_url: str) -> None:
    assert_witnesses_accepted(server_url, schema)


@settings(max_examples=WITNESS_EXAMPLES, **COMMON)  # type: ignore[arg-type]
@given(schema=check_only_schemas())
def test_every_drawn_check_combination_has_a_valid_row(schema: Schema, server_url: str) -> None:
    assert_witnesses_accepted(server_url, schema)


@settings(max_examples=RESET_EXAMPLES, **COMMON)  # type: ignore[arg-type]
@given(schema=schemas())
def test_reset_seeds_every_table_of_a_random_schema(schema: Schema, new_database: Callable[[], str]) -> None:
    assert_reset_seeds(schema, new_database)


@settings(max_examples=RESET_EXAMPLES, **COMMON)  # type: ignore[arg-type]
@given(schema=check_only_schemas())
def test_reset_satisfies_a_random_check_combination(schema: Schema, new_database: Callable[[], str]) -> None:
    assert_reset_seeds(schema, new_database)
