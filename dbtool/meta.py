"""dbtool's bookkeeping in the managed schema: the dbtool_meta log and the migration cache."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

import dbtool
from dbtool.schema import SchemaObject, objects_query
from dbtool.seed.profiles import GENERATOR_VERSION

CREATE_SQL = """
CREATE TABLE IF NOT EXISTS {schema}.dbtool_meta (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event text NOT NULL CHECK (event IN ('reset', 'seed', 'migrate', 'drop', 'protect', 'unprotect')),
    dbtool_version text NOT NULL,
    generator_version integer,
    revision text,
    profile text,
    seed bigint,
    scale integer,
    row_counts jsonb,
    table_digests jsonb,
    digest text,
    run_by text NOT NULL,
    finished_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE TABLE IF NOT EXISTS {schema}.dbtool_migration_cache (
    scripts_hash text PRIMARY KEY,
    revision text NOT NULL,
    script text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
"""


@dataclass(frozen=True)
class MetaRecord:
    """What a run writes into dbtool_meta."""

    event: str
    revision: str | None = None
    profile: str | None = None
    seed: int | None = None
    scale: int | None = None
    row_counts: dict[str, int] | None = None
    table_digests: dict[str, Any] | None = None
    digest: str | None = None


INSPECT_SQL = """
SELECT
  (SELECT coalesce(json_agg(json_build_array(kind, name)), '[]'::json) FROM ({objects}) o),
  EXISTS (SELECT 1 FROM {schema}.dbtool_meta WHERE event NOT IN ('protect', 'unprotect')),
  coalesce((SELECT event = 'protect' FROM {schema}.dbtool_meta WHERE event IN ('protect', 'unprotect')
            ORDER BY id DESC LIMIT 1), false),
  (SELECT json_build_array(revision, script) FROM {schema}.dbtool_migration_cache WHERE scripts_hash = {key})
"""


@dataclass(frozen=True)
class Inspection:
    """What the guard and the migration cache need to know about the managed schema."""

    objects: list[SchemaObject]
    created_by_dbtool: bool
    protected: bool
    cached: tuple[str, str] | None  # (revision, script) rendered by Alembic for these scripts


def inspect(conn: psycopg.Connection, schema: str, scripts_hash: str) -> Inspection:  # type: ignore[type-arg]
    """Create the bookkeeping tables if missing (the caller's transaction rolls that back on a
    refusal) and read the schema's objects, history, protection and cache in one round trip."""
    query = sql.SQL("; ").join(
        [
            _create_tables(schema),
            sql.SQL(INSPECT_SQL).format(
                objects=objects_query(schema), schema=sql.Identifier(schema), key=sql.Literal(scripts_hash)
            ),
        ]
    )
    cur = conn.execute(query)
    while cur.nextset():  # the CREATEs' results come first; the SELECT's is last
        pass
    objects, created, protected, cached = cur.fetchone()  # type: ignore[misc]
    return Inspection(
        objects=[SchemaObject(kind, name) for kind, name in objects],
        created_by_dbtool=created,
        protected=protected,
        cached=(cached[0], cached[1]) if cached else None,
    )


def _user() -> str:
    import getpass

    try:
        return getpass.getuser()  # $USER and friends, else the password database
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def has_meta(conn: psycopg.Connection, schema: str) -> bool:  # type: ignore[type-arg]
    """True when dbtool_meta exists in the schema: dbtool created this database's contents."""
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{schema}.dbtool_meta",)).fetchone()
    return bool(row and row[0])


def ensure_tables(conn: psycopg.Connection, schema: str) -> None:  # type: ignore[type-arg]
    """Create the schema and dbtool's bookkeeping tables if missing."""
    conn.execute(_create_tables(schema))


def _create_tables(schema: str) -> sql.Composed:
    return sql.SQL("CREATE SCHEMA IF NOT EXISTS {schema}; " + CREATE_SQL).format(schema=sql.Identifier(schema))


def record(conn: psycopg.Connection, schema: str, rec: MetaRecord) -> None:  # type: ignore[type-arg]
    """Append one row to dbtool_meta (inside the caller's transaction, after `inspect` or `ensure_tables`)."""
    conn.execute(
        sql.SQL(
            "INSERT INTO {}.dbtool_meta (event, dbtool_version, generator_version, revision, profile, seed, scale,"
            " row_counts, table_digests, digest, run_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        ).format(sql.Identifier(schema)),
        (
            rec.event,
            dbtool.__version__,
            GENERATOR_VERSION if rec.digest else None,
            rec.revision,
            rec.profile,
            rec.seed,
            rec.scale,
            Jsonb(rec.row_counts) if rec.row_counts is not None else None,
            Jsonb(rec.table_digests) if rec.table_digests is not None else None,
            rec.digest,
            f"{_user()}@{socket.gethostname()} pid {os.getpid()}",
        ),
    )


def created_by_dbtool(conn: psycopg.Connection, schema: str) -> bool:  # type: ignore[type-arg]
    """True when dbtool_meta records a reset, seed, migrate or drop here (protect alone does not count)."""
    if not has_meta(conn, schema):
        return False
    row = conn.execute(
        sql.SQL("SELECT EXISTS (SELECT 1 FROM {}.dbtool_meta WHERE event NOT IN ('protect', 'unprotect'))").format(
            sql.Identifier(schema)
        )
    ).fetchone()
    return bool(row and row[0])


def is_protected(conn: psycopg.Connection, schema: str) -> bool:  # type: ignore[type-arg]
    """True when the latest protect/unprotect event in dbtool_meta is 'protect'."""
    if not has_meta(conn, schema):
        return False
    row = conn.execute(
        sql.SQL(
            "SELECT event FROM {}.dbtool_meta WHERE event IN ('protect', 'unprotect') ORDER BY id DESC LIMIT 1"
        ).format(sql.Identifier(schema))
    ).fetchone()
    return bool(row and row[0] == "protect")


def last_seed_record(conn: psycopg.Connection, schema: str) -> dict[str, Any] | None:  # type: ignore[type-arg]
    """The latest reset or seed row of dbtool_meta, as a dict, or None."""
    if not has_meta(conn, schema):
        return None
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            sql.SQL(
                "SELECT id, event, dbtool_version, generator_version, revision, profile, seed, scale, row_counts,"
                " table_digests, digest, run_by, finished_at FROM {}.dbtool_meta"
                " WHERE event IN ('reset', 'seed') ORDER BY id DESC LIMIT 1"
            ).format(sql.Identifier(schema))
        ).fetchone()


def cached_script(conn: psycopg.Connection, schema: str, scripts_hash: str) -> tuple[str, str] | None:  # type: ignore[type-arg]
    """(revision, script) rendered by Alembic for these exact migration scripts, or None."""
    if not has_meta(conn, schema):
        return None
    row = conn.execute(
        sql.SQL("SELECT revision, script FROM {}.dbtool_migration_cache WHERE scripts_hash = %s").format(
            sql.Identifier(schema)
        ),
        (scripts_hash,),
    ).fetchone()
    return (row[0], row[1]) if row else None


def store_script(conn: psycopg.Connection, schema: str, scripts_hash: str, revision: str, script: str) -> None:  # type: ignore[type-arg]
    """Remember Alembic's rendering for these scripts; older renderings are stale and removed."""
    conn.execute(
        sql.SQL(
            "DELETE FROM {s}.dbtool_migration_cache; "
        ).format(s=sql.Identifier(schema))
    )
    conn.execute(
        sql.SQL("INSERT INTO {s}.dbtool_migration_cache (scripts_hash, revision, script) VALUES (%s, %s, %s)").format(
            s=sql.Identifier(schema)
        ),
        (scripts_hash, revision, script),
    )
