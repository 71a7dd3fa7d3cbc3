"""What a schema's tables hold, for any project: row counts and order-independent-of-storage digests.

A table's md5 is over its rows' text forms ordered by its primary key (by the whole row where it
has none), with TimeZone, DateStyle and float output pinned, so the same rows give the same digest
on any server, in any physical order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from dbtool.db.objects import BOOKKEEPING_TABLES, table_of
from dbtool.seed.profiles import GENERATOR_VERSION

# The tables of a schema, `c` in pg_class: ordinary and partitioned ones, not partitions (their parent
# covers their rows), but %(exclude)s. The one definition: the catalog (dbtool.db.catalog) reads these too.
SCHEMA_TABLES_WHERE = """c.relnamespace = to_regnamespace(%(schema)s) AND c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND c.relname <> ALL (%(exclude)s)"""
# Those tables with their primary key columns in key order, and whether each is partitioned.
TABLES_SQL = """
SELECT c.relname::text, c.relkind = 'p',
       coalesce((SELECT array_agg(a.attname::text ORDER BY k.n)
                 FROM pg_constraint p CROSS JOIN unnest(p.conkey) WITH ORDINALITY AS k(attnum, n)
                 JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
                 WHERE p.conrelid = c.oid AND p.contype = 'p'), '{}')
FROM pg_class c
WHERE """ + SCHEMA_TABLES_WHERE + """
ORDER BY 1
"""
# Whether each named table is partitioned, for tables listed without knowing it.
PARTITIONED_SQL = """
SELECT name, coalesce((SELECT relkind = 'p' FROM pg_class WHERE oid = to_regclass(format('%%I.%%I', %(schema)s::text, name))), false)
FROM unnest(%(names)s::text[]) name
"""
PINNED = ("SET LOCAL TimeZone = 'UTC'", "SET LOCAL DateStyle = 'ISO, YMD'", "SET LOCAL extra_float_digits = 1")


@dataclass(frozen=True)
class Table:
    """A table and the columns that order its rows for a digest (empty: the whole row)."""

    name: str
    key: tuple[str, ...]
    partitioned: bool | None = None  # None: not known yet (looked up when its rows are read)


def tables(conn: psycopg.Connection[Any], schema: str, exclude: Sequence[str] = ()) -> list[Table]:
    """The schema's tables, by name, except `exclude`."""
    rows = conn.execute(TABLES_SQL, {"schema": schema, "exclude": list(exclude)}).fetchall()
    return [Table(name, tuple(key), partitioned) for name, partitioned, key in rows]


def data_tables(conn: psycopg.Connection, schema: str, version_table: str | None) -> list[Table]:
    """The schema's tables except dbtool's bookkeeping and Alembic's version table."""
    return tables(conn, schema, [*BOOKKEEPING_TABLES, table_of(version_table, schema)])


def own_rows(conn: psycopg.Connection[Any], schema: str, found: Sequence[Table]) -> dict[str, sql.Composable]:
    """Per table of `found`, the FROM target that reads its own rows: ONLY for an ordinary table, since an
    inheritance child's rows are the child's (counted and digested as its own table), not the parent's; a
    partitioned table's rows are all in its partitions, which it reads through."""
    unknown = [t.name for t in found if t.partitioned is None]
    partitioned = dict(conn.execute(PARTITIONED_SQL, {"schema": schema, "names": unknown}).fetchall()) if unknown else {}
    return {
        t.name: sql.SQL("{}{}").format(
            sql.SQL("" if (t.partitioned if t.partitioned is not None else partitioned[t.name]) else "ONLY "),
            sql.Identifier(schema, t.name))
        for t in found
    }


def row_counts(conn: psycopg.Connection[Any], schema: str, found: Sequence[Table]) -> dict[str, int]:
    """Rows each of `found` holds itself (an inheritance parent without its children's), in one round trip
    (two when `found` does not say which tables are partitioned)."""
    if not found:
        return {}
    source = own_rows(conn, schema, found)
    query = sql.SQL(" UNION ALL ").join(
        sql.SQL("SELECT {}, count(*) FROM {}").format(sql.Literal(t.name), source[t.name]) for t in found
    )
    return {name: count for name, count in conn.execute(query).fetchall()}


def table_digests(conn: psycopg.Connection[Any], schema: str, found: Sequence[Table]) -> dict[str, dict[str, object]]:
    """Row count and md5 of the rows each of `found` in `schema` holds itself, in one round trip (as
    `row_counts`); call inside a transaction."""
    if not found:
        return {}
    source = own_rows(conn, schema, found)
    parts = []
    for t in found:
        order = sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c)) for c in t.key) if t.key else sql.SQL("t::text")
        parts.append(
            sql.SQL(
                "SELECT {name}::text, count(*), coalesce(md5(string_agg(md5(t::text), '' ORDER BY {order})), '') FROM {table} t"
            ).format(name=sql.Literal(t.name), order=order, table=source[t.name])
        )
    query = sql.SQL("; ").join([*map(sql.SQL, PINNED), sql.SQL(" UNION ALL ").join(parts)])
    cur = conn.execute(query)  # one round trip; skip the SETs' results to the SELECT's
    for _ in PINNED:
        cur.nextset()
    return {name: {"rows": count, "md5": md5} for name, count, md5 in cur.fetchall()}


def combined_digest(digests: dict[str, dict[str, object]]) -> str:
    """One sha256 over the generator version and every table's count and md5."""
    h = hashlib.sha256(f"generator_version={GENERATOR_VERSION}\n".encode())
    for name in sorted(digests):
        h.update(f"{name} {digests[name]['rows']} {digests[name]['md5']}\n".encode())
    return h.hexdigest()
