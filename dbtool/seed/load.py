"""COPY generated rows into the tables, and digest what the tables hold, on a given connection."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

import psycopg
from psycopg import sql

from dbtool.seed.generate import GENERATOR_VERSION, TABLE_SPECS, chunks
from dbtool.seed.profiles import TABLES, Profile

logger = logging.getLogger(__name__)

CHUNK_ROWS = 5_000  # driver rows generated per COPY chunk: memory stays flat as scale grows

Progress = Callable[[str, int], None]  # (table, rows loaded so far in this table)


def load(conn: psycopg.Connection, schema: str, seed: int, profile: Profile, progress: Progress | None = None) -> dict[str, int]:  # type: ignore[type-arg]
    """COPY every table of `profile` in foreign-key order; return rows per table."""
    counts: dict[str, int] = {}
    with conn.cursor() as cur:
        for spec in TABLE_SPECS:
            statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                sql.Identifier(schema, spec.name), sql.SQL(", ").join(map(sql.Identifier, spec.columns))
            )
            loaded = 0
            with cur.copy(statement) as copy:
                for first, count in chunks(spec.driver(profile), CHUNK_ROWS):
                    for row in spec.rows(seed, profile, first, count):
                        copy.write_row(row)
                        loaded += 1
                    if progress:
                        progress(spec.name, loaded)
            counts[spec.name] = loaded
            logger.debug("copied %s rows into %s", loaded, spec.name)
    return counts


def truncate(conn: psycopg.Connection, schema: str) -> None:  # type: ignore[type-arg]
    """Empty every seeded table in one statement (the seed replaces all of their data)."""
    conn.execute(
        sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(sql.Identifier(schema, t) for t in TABLES))
    )


def table_digests(conn: psycopg.Connection, schema: str) -> dict[str, dict[str, object]]:  # type: ignore[type-arg]
    """Row count and md5 of every seeded table, computed on the server in one round trip.

    A table's md5 is over its rows' text forms ordered by primary key, with the session's
    TimeZone and DateStyle pinned so the text does not depend on server or client settings.
    """
    conn.execute("SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL extra_float_digits = 1")
    parts = [
        sql.SQL(
            "SELECT {name}::text, count(*), coalesce(md5(string_agg(md5(t::text), '' ORDER BY t.id)), '') FROM {table} t"
        ).format(name=sql.Literal(t), table=sql.Identifier(schema, t))
        for t in TABLES
    ]
    rows = conn.execute(sql.SQL(" UNION ALL ").join(parts)).fetchall()
    return {name: {"rows": count, "md5": md5} for name, count, md5 in rows}


def combined_digest(tables: dict[str, dict[str, object]]) -> str:
    """One sha256 over the generator version and every table's count and md5."""
    h = hashlib.sha256(f"generator_version={GENERATOR_VERSION}\n".encode())
    for name in sorted(tables):
        h.update(f"{name} {tables[name]['rows']} {tables[name]['md5']}\n".encode())
    return h.hexdigest()
