"""`dbtool plan`: what a reset would generate for each table, and why; changes nothing.

The project's migrations run into a scratch schema inside a transaction that is always rolled
back, so the plan sees exactly the tables (and the rows migrations insert) a reset would see,
on any database, even an empty one.
"""

from __future__ import annotations

from typing import Any

import os

from psycopg import sql

from dbtool import catalog, migrate
from dbtool.config import Settings
from dbtool.errors import DbtoolError
from dbtool.pool import open_pool
from dbtool.reset import plan_tables
from dbtool.schema import BOOKKEEPING_TABLES
from dbtool.seed import plan


def explain(settings: Settings) -> dict[str, Any]:
    """Per table: rows and, per column, the rule chosen and why; from the schema as it is now."""
    scratch = sql.Identifier(f"dbtool_plan_{os.getpid()}")
    with open_pool(settings, "plan") as pool, pool.connection() as conn, conn.transaction(force_rollback=True):
        conn.execute(sql.SQL("CREATE SCHEMA {0}; SELECT set_config('search_path', {1}, true)").format(
            scratch, sql.Literal(scratch.as_string(conn))))
        name = scratch.as_string(conn).strip('"')
        upgraded = migrate.migrate(conn, settings.project, name, "heads")
        tables = catalog.read(conn, name, [*BOOKKEEPING_TABLES, migrate.table_of(upgraded.version_table, name)])
    if not tables:
        raise DbtoolError(f"the migrations of {settings.project} create no tables in the managed schema")
    planned = plan_tables(settings, tables)
    return {
        "project": str(settings.project),
        "profile": settings.profile,
        "scale": settings.scale,
        "tables": {t.name: _table(t) for t in planned.tables},
    }


def _table(t: plan.TablePlan) -> dict[str, Any]:
    if t.kept:
        return {"rows": t.kept, "kept": "rows the migrations inserted stay as they are"}
    if t.skipped:
        return {"rows": 0, "skipped": t.skipped}
    return {"rows": t.count, "columns": {r.column: f"{r.kind}: {r.why}" for r in t.rules}}
