"""What a seeded database holds, read straight from Postgres: tables, digests, keys, sequences.

The seed contract tests (tests/integration/test_seed_*.py) judge dbtool by these and by nothing
dbtool reports about itself, so they need no knowledge of the generator's internals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from tests.alembic_projects import DBTOOL_TABLES

VERSION_TABLE = "alembic_version"
NOT_PROJECT_DATA = (*DBTOOL_TABLES, VERSION_TABLE)

Connection = psycopg.Connection[Any]


def project_tables(conn: Connection, schema: str = "public") -> list[str]:
    """The ordinary tables of `schema` that belong to the project (not dbtool's, not Alembic's), sorted."""
    rows = conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') ORDER BY c.relname",
        (schema,),
    ).fetchall()
    return [r[0] for r in rows if r[0] not in NOT_PROJECT_DATA]


def all_tables(conn: Connection, schema: str = "public") -> list[str]:
    """Every ordinary table of `schema`, dbtool's and Alembic's included, sorted."""
    rows = conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') ORDER BY c.relname",
        (schema,),
    ).fetchall()
    return [r[0] for r in rows]


@dataclass(frozen=True)
class TableContent:
    """Row count and md5 over the rows' text forms in a fixed order (None when empty)."""

    rows: int
    md5: str | None


def table_content(conn: Connection, table: str, schema: str = "public") -> TableContent:
    """`table`'s row count and `md5(string_agg(t::text, '' ORDER BY t::text))`."""
    row = conn.execute(
        sql.SQL("SELECT count(*), md5(string_agg(t::text, '' ORDER BY t::text)) FROM {} t").format(
            sql.Identifier(schema, table)
        )
    ).fetchone()
    assert row is not None
    return TableContent(row[0], row[1])


def contents(url: str, tables: list[str] | None = None, schema: str = "public") -> dict[str, TableContent]:
    """Table name -> content for `tables` (default: the project's tables)."""
    with psycopg.connect(url, autocommit=True) as conn:
        names = project_tables(conn, schema) if tables is None else tables
        return {t: table_content(conn, t, schema) for t in names}


def primary_key(conn: Connection, table: str, schema: str = "public") -> list[str]:
    """The primary key's columns in key order (empty when the table has none)."""
    rows = conn.execute(
        "SELECT a.attname FROM pg_constraint k "
        "CROSS JOIN LATERAL unnest(k.conkey) WITH ORDINALITY AS u(attnum, pos) "
        "JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum "
        "WHERE k.conrelid = %s::regclass AND k.contype = 'p' ORDER BY u.pos",
        (f"{schema}.{table}",),
    ).fetchall()
    return [r[0] for r in rows]


def columns(conn: Connection, table: str, schema: str = "public") -> list[str]:
    """The table's live columns in attribute order."""
    rows = conn.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped "
        "ORDER BY attnum",
        (f"{schema}.{table}",),
    ).fetchall()
    return [r[0] for r in rows]


def column_digests(conn: Connection, table: str, schema: str = "public") -> dict[str, str | None]:
    """Column -> md5 of its values (NULL spelled out) ordered by the primary key."""
    key = primary_key(conn, table, schema)
    assert key, f"{table} has no primary key to order its values by"
    order = sql.SQL(", ").join(sql.Identifier(c) for c in key)
    found = {}
    for column in columns(conn, table, schema):
        row = conn.execute(
            sql.SQL("SELECT md5(string_agg(quote_nullable({}::text), ',' ORDER BY {})) FROM {}").format(
                sql.Identifier(column), order, sql.Identifier(schema, table)
            )
        ).fetchone()
        assert row is not None
        found[column] = row[0]
    return found


@dataclass(frozen=True)
class SequencePosition:
    """An identity or serial column: the largest value stored and the value its sequence hands out next."""

    table: str
    column: str
    max_value: int | None
    next_value: int


def sequence_positions(conn: Connection, schema: str = "public") -> list[SequencePosition]:
    """Every identity or serial column of the project's tables, with where its sequence stands."""
    owned = conn.execute(
        "SELECT c.relname, a.attname, pg_get_serial_sequence(format('%%I.%%I', n.nspname, c.relname), a.attname) "
        "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped "
        "AND pg_get_serial_sequence(format('%%I.%%I', n.nspname, c.relname), a.attname) IS NOT NULL "
        "ORDER BY 1, 2",
        (schema,),
    ).fetchall()
    found = []
    for table, column, sequence in owned:
        if table in NOT_PROJECT_DATA:
            continue
        last, called, step = conn.execute(
            sql.SQL("SELECT s.last_value, s.is_called, p.seqincrement FROM {} s, pg_sequence p "
                    "WHERE p.seqrelid = %s::regclass").format(sql.SQL(sequence)),
            (sequence,),
        ).fetchone()  # type: ignore[misc]
        top = conn.execute(
            sql.SQL("SELECT max({}) FROM {}").format(sql.Identifier(column), sql.Identifier(schema, table))
        ).fetchone()[0]  # type: ignore[index]
        found.append(SequencePosition(table, column, top, last + step if called else last))
    return found


def default_insertable(conn: Connection, schema: str = "public") -> list[str]:
    """Tables that accept `INSERT ... DEFAULT VALUES` right now (tried, then rolled back)."""
    accepted = []
    with conn.transaction(force_rollback=True):
        for table in project_tables(conn, schema):
            try:
                with conn.transaction():
                    conn.execute(sql.SQL("INSERT INTO {} DEFAULT VALUES").format(sql.Identifier(schema, table)))
            except psycopg.Error:
                continue
            accepted.append(table)
    return accepted
