"""`dbtool plan`: what a reset would generate for each table, and why; changes nothing.

The project's migrations run in a scratch database created for the plan (from template0, with the
live database's extensions) and dropped afterwards, so they may name the managed schema, use its
extensions and rely on `search_path` exactly as in a reset, and the live database is never locked
or written. A role without CREATEDB gets the plan from a scratch schema of the live database instead,
inside a transaction that always rolls back (migrations that name the live schema cannot be planned
that way).
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from dbtool.db import catalog
from dbtool.db.objects import BOOKKEEPING_TABLES, table_of
from dbtool.db.pool import application_name, open_pool
from dbtool.errors import DbtoolError
from dbtool.migrate import upgrade as migrate
from dbtool.run.steps import plan_tables
from dbtool.seed import plan
from dbtool.seed.evaluate import rows_made
from dbtool.settings.config import Settings

logger = logging.getLogger(__name__)

SCRATCH_PREFIX = "dbtool_plan_"
EXTENSIONS_SQL = """
SELECT e.extname, n.nspname, e.extversion FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
WHERE e.extname <> 'plpgsql' ORDER BY e.oid
"""


def explain(settings: Settings) -> dict[str, Any]:
    """Per table: rows and, per column, the rule chosen and why; from the schema as it is now."""
    with open_pool(settings, "plan") as pool, pool.connection() as conn:
        try:
            with _scratch_database(conn, settings) as scratch:
                tables = _migrated_tables(scratch, settings, settings.schema)
        except psycopg.errors.InsufficientPrivilege:
            logger.warning("dbtool's role may not create databases: planning in a scratch schema of the live database")
            tables = _in_scratch_schema(conn, settings)
    if not tables:
        raise DbtoolError(f"the migrations of {settings.project} create no tables in the managed schema")
    planned = plan_tables(settings, tables)
    return {
        "project": str(settings.project),
        "profile": settings.profile,
        "scale": settings.scale,
        "tables": {t.name: _table(t, rows_made(planned, t, settings.seed)) for t in planned.tables},
    }


@contextmanager
def _scratch_database(conn: psycopg.Connection[Any], settings: Settings) -> Iterator[psycopg.Connection[Any]]:
    """A connection to a new database holding the live one's extensions; the database is dropped on exit."""
    name = f"{SCRATCH_PREFIX}{os.getpid()}_{secrets.token_hex(3)}"
    extensions = conn.execute(EXTENSIONS_SQL).fetchall()
    conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
    try:
        assert settings.database_url is not None
        with psycopg.connect(
            make_conninfo(settings.database_url, dbname=name, application_name=application_name("plan")),
            autocommit=True, connect_timeout=max(1, int(settings.connect_timeout)),
        ) as scratch:
            for extension, schema, version in extensions:
                _create_extension(scratch, extension, schema, version)
            yield scratch
    finally:
        try:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        except psycopg.Error as exc:  # cleanup never hides the plan's own error
            logger.warning("could not drop the scratch database %s: %s; drop it by hand", name, exc)


def _create_extension(scratch: psycopg.Connection[Any], extension: str, schema: str, version: str) -> None:
    # As a reset would find it: the live database's extensions stay through a reset.
    try:
        scratch.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {0}; CREATE EXTENSION IF NOT EXISTS {1} WITH SCHEMA {0} VERSION {2} CASCADE").format(
            sql.Identifier(schema), sql.Identifier(extension), sql.Literal(version)))
    except psycopg.Error as exc:
        logger.info("extension %s is not in the plan's scratch database (%s)", extension, exc)


def _migrated_tables(conn: psycopg.Connection[Any], settings: Settings, schema: str) -> list[catalog.Table]:
    """The managed schema's tables after the project's migrations, in a transaction that rolls back."""
    with conn.transaction(force_rollback=True):
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {0}; SELECT set_config('search_path', {1}, true)").format(
            sql.Identifier(schema), sql.Literal(sql.Identifier(schema).as_string(conn))))
        upgraded = migrate.migrate(conn, settings.project, schema, "heads")
        return catalog.read(conn, schema, [*BOOKKEEPING_TABLES, table_of(upgraded.version_table, schema)])


def _in_scratch_schema(conn: psycopg.Connection[Any], settings: Settings) -> list[catalog.Table]:
    # Migrations that name the managed schema cannot be planned this way: they need CREATEDB.
    return _migrated_tables(conn, settings, f"{SCRATCH_PREFIX}{os.getpid()}")


def _table(t: plan.TablePlan, rows: int) -> dict[str, Any]:
    if t.kept:
        return {"rows": t.kept, "kept": "rows the migrations inserted stay as they are"}
    if t.skipped:
        return {"rows": 0, "skipped": t.skipped}
    capped = {"capped": t.capped} if t.capped else {}
    return {"rows": rows, **capped, "columns": {r.column: f"{r.kind}: {r.why}" for r in t.rules}}
