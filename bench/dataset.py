"""dbtool's generated rows for the baselines: the plan of the migrated schema, evaluated by dbtool itself.

The baselines must load exactly the rows `dbtool reset` generates, so they ask dbtool's own engine:
the project's profile file and hooks (`Settings.seed_profile`), the migrated catalog
(`dbtool.db.catalog.read`), the plan (`dbtool.run.reset.plan_tables`) and the COPY text of any rows of a
planned table (`dbtool.seed.evaluate.chunk_text`). The rows come as COPY text for the pre-generated
files and as tuples (parsed from that text) for the naive INSERTs.

Tables come in an order that satisfies their foreign keys (parents first), so both baselines can
load into the tables as migrated, with every key, index and foreign key in place.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from dbtool.db import catalog, meta
from dbtool.db.objects import BOOKKEEPING_TABLES, table_of
from dbtool.migrate import upgrade as migrate
from dbtool.run.reset import plan_tables
from dbtool.seed.evaluate import chunk_text
from dbtool.seed.plan import Plan, TablePlan
from dbtool.settings.config import Settings

CHUNK_ROWS = 10_000  # rows per generated chunk (the data does not depend on it)
_UNESCAPES = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r", "b": "\b", "f": "\f", "v": "\v"}


@dataclass(frozen=True)
class Planned:
    """A plan and its generated tables in load order (every table after the tables it references)."""

    plan: Plan
    order: tuple[TablePlan, ...]

    @property
    def rows(self) -> int:
        """Planned rows (a hook may leave some out: the loaded count can be lower)."""
        return sum(t.count for t in self.order)


def settings(profile: str, scale: int, seed: int, schema: str = "public") -> Settings:
    """The settings `dbtool reset --profile P --scale N --seed S` runs with, from the current directory."""
    return Settings.from_options(profile=profile, scale=scale, seed=seed, schema=schema)


def plan_schema(conn: psycopg.Connection[Any], run: Settings, schema: str) -> Planned:
    """Plan the tables migrated into `schema` (as they are now: truncate what dbtool generates first)."""
    recorded = meta.read_history(conn, schema)
    version_table = recorded.version_table if recorded else None
    tables = catalog.read(conn, schema, [*BOOKKEEPING_TABLES, table_of(version_table, schema)])
    if not tables:
        raise SystemExit(f"schema {schema} holds no tables; run `dbtool migrate` first")
    return Planned(*_ordered(plan_tables(run, tables), tables, schema))


def plan_scratch(database_url: str, run: Settings) -> Planned:
    """Plan what a reset would generate without touching any schema: migrate into a scratch schema
    in a transaction that is rolled back (as `dbtool plan` does)."""
    scratch = f"dbtool_bench_plan_{os.getpid()}"
    alembic_log = logging.getLogger("alembic")
    previous = alembic_log.level
    alembic_log.setLevel(logging.WARNING)  # Alembic's INFO lines would land in the bench's report
    try:
        with psycopg.connect(database_url, autocommit=True) as conn, conn.transaction(force_rollback=True):
            conn.execute(f'CREATE SCHEMA "{scratch}"')
            conn.execute("SELECT set_config('search_path', %s, true)", (f'"{scratch}"',))
            upgraded = migrate.migrate(conn, run.project, scratch, "heads")
            tables = catalog.read(conn, scratch, [*BOOKKEEPING_TABLES, table_of(upgraded.version_table, scratch)])
    finally:
        alembic_log.setLevel(previous)
    return Planned(*_ordered(plan_tables(run, tables), tables, scratch))


def _ordered(plan: Plan, tables: list[catalog.Table], schema: str) -> tuple[Plan, tuple[TablePlan, ...]]:
    """The generated tables of `plan`, parents before children (plan order among equals); self
    references are fine row by row, since a row only points at an earlier one."""
    generated = [t for t in plan.tables if t.generated]
    names = {t.name for t in generated}
    parents = {
        t.name: {k.ref_table for k in t.of_kind("f")
                 if k.ref_schema in (schema, f'"{schema}"') and k.ref_table in names and k.ref_table != t.name}
        for t in tables if t.name in names
    }
    order: list[TablePlan] = []
    while generated:
        ready = [t for t in generated if not parents[t.name] - {o.name for o in order}]
        if not ready:
            cycle = ", ".join(t.name for t in generated)
            raise SystemExit(f"the foreign keys of {cycle} form a cycle: no insert order satisfies them row by row")
        order.append(ready[0])
        generated.remove(ready[0])
    return plan, tuple(order)


def source_stamp(run: Settings, planned: Planned) -> str:
    """sha256 of dbtool's seed sources, the project's migrations, profile file and hooks, and the
    plan: files made from anything older are not reused."""
    h = hashlib.sha256(planned.plan.fingerprint.encode())
    import dbtool.seed

    roots = [Path(dbtool.seed.__file__).parent]
    location = run.project.script_location()
    if location:
        roots.append(Path(location))
    for root in roots:
        for path in sorted(p for p in Path(root).rglob("*") if p.suffix in (".py", ".toml") and p.is_file()):
            h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def _ranges(total: int) -> Iterator[tuple[int, int]]:
    for first in range(0, total, CHUNK_ROWS):
        yield first, min(CHUNK_ROWS, total - first)


def table_text(planned: Planned, table: TablePlan, seed: int) -> Iterator[tuple[str, int]]:
    """COPY text of the whole table, in (text, rows) pieces, exactly as dbtool generates it."""
    for first, count in _ranges(table.count):
        yield chunk_text(planned.plan, table, seed, first, count)


def parse_field(text: str) -> str | None:
    """One COPY text field back to its value (as text; the server casts it to the column's type)."""
    if text == "\\N":
        return None
    if "\\" not in text:
        return text
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            out.append(_UNESCAPES.get(text[i + 1], text[i + 1]))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def table_rows(planned: Planned, table: TablePlan, seed: int) -> Iterator[tuple[str | None, ...]]:
    """The table's rows as tuples of text, generated lazily a chunk at a time, columns in `table.rules` order."""
    for text, _ in table_text(planned, table, seed):
        for line in text[:-1].split("\n") if text else ():  # every line ends with a newline
            yield tuple(map(parse_field, line.split("\t"))) if table.rules else ()
