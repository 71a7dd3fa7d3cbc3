"""dbtool's bookkeeping in the managed schema: the dbtool_meta log of every run that changed it."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

import dbtool
from dbtool.db.objects import SchemaObject, objects_query
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
ALTER TABLE {schema}.dbtool_meta ADD COLUMN IF NOT EXISTS version_table text;
ALTER TABLE {schema}.dbtool_meta ADD COLUMN IF NOT EXISTS generated_tables jsonb;
ALTER TABLE {schema}.dbtool_meta ADD COLUMN IF NOT EXISTS left_out_enum_values jsonb;
ALTER TABLE {schema}.dbtool_meta ADD COLUMN IF NOT EXISTS refused_tables jsonb;
ALTER TABLE {schema}.dbtool_meta ADD COLUMN IF NOT EXISTS project text;
ALTER TABLE {schema}.dbtool_meta ADD COLUMN IF NOT EXISTS project_name text;
DROP TABLE IF EXISTS {schema}.dbtool_migration_cache;
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
    version_table: str | None = None  # qualified name of Alembic's version table, as env.py configured it
    generated_tables: list[str] | None = None  # the tables the seed filled (the others hold what migrations left)
    left_out_enum_values: list[str] | None = None  # "type oid:label" the seed could not store (added in its transaction)
    refused_tables: dict[str, str] | None = None  # tables left empty because the server refused their rows: why
    project: str | None = None  # the Alembic project that made the schema, by its base revision(s): see migrate.project_identity
    project_name: str | None = None  # the same project as the run named it (its config file), for messages


INSPECT_SQL = """
SELECT
  (SELECT coalesce(json_agg(json_build_array(kind, name)), '[]'::json) FROM ({objects}) o),
  (SELECT event FROM {schema}.dbtool_meta WHERE event IN ('reset', 'seed', 'drop') ORDER BY id DESC LIMIT 1),
  coalesce((SELECT event = 'protect' FROM {schema}.dbtool_meta WHERE event IN ('protect', 'unprotect')
            ORDER BY id DESC LIMIT 1), false),
  (SELECT to_jsonb(m) ->> 'version_table' FROM {schema}.dbtool_meta m  -- to_jsonb: older tables lack the column
   WHERE to_jsonb(m) ->> 'version_table' IS NOT NULL ORDER BY id DESC LIMIT 1),
  (SELECT table_digests FROM {schema}.dbtool_meta WHERE table_digests IS NOT NULL ORDER BY id DESC LIMIT 1),
  (SELECT json_build_array(to_jsonb(m) -> 'generated_tables', to_jsonb(m) -> 'left_out_enum_values',
                           to_jsonb(m) -> 'refused_tables')
   FROM {schema}.dbtool_meta m WHERE event IN ('reset', 'seed') ORDER BY id DESC LIMIT 1),
  (SELECT json_build_array(to_jsonb(m) ->> 'project', to_jsonb(m) ->> 'project_name')
   FROM {schema}.dbtool_meta m WHERE event IN ('reset', 'seed', 'migrate', 'drop') ORDER BY id DESC LIMIT 1)
"""


@dataclass(frozen=True)
class Inspection:
    """What the guard and the migration step need to know about the managed schema."""

    objects: list[SchemaObject]
    last_data_event: str | None  # the latest reset, seed or drop: who produced the data now there
    protected: bool
    version_table: str | None  # as recorded by the last run that migrated
    recorded_digests: dict[str, Any] | None  # table digests dbtool recorded last (reset, seed or migrate)
    generated_tables: list[str] | None = None  # what the latest reset or seed generated (None: not recorded)
    left_out_enum_values: list[str] = field(default_factory=list)  # enum values that seed could not store
    refused_tables: dict[str, str] = field(default_factory=dict)  # left empty by that seed: the server refused their rows
    project: str | None = None  # the project of the latest run that changed the schema (None: not recorded)
    project_name: str | None = None  # how that run named it


def inspect(conn: psycopg.Connection, schema: str) -> Inspection:
    """Create the bookkeeping table if missing (the caller's transaction rolls that back on a
    refusal) and read the schema's objects, history and protection in one round trip."""
    query = sql.SQL("; ").join([_create_tables(schema), _inspect_query(schema)])
    cur = conn.execute(query)
    while cur.nextset():  # the CREATEs' results come first; the SELECT's is last
        pass
    return _inspection(cur.fetchone())


def read_history(conn: psycopg.Connection, schema: str) -> Inspection | None:
    """`inspect` without writing anything: None when the schema has no dbtool_meta."""
    if not has_meta(conn, schema):
        return None
    return _inspection(conn.execute(_inspect_query(schema)).fetchone())


def _inspect_query(schema: str) -> sql.Composed:
    return sql.SQL(INSPECT_SQL).format(objects=objects_query(schema), schema=sql.Identifier(schema))


def _inspection(row: Any) -> Inspection:
    objects, last_data_event, protected, version_table, digests, seeded, made_by = row
    generated, left_out, refused = seeded if seeded else (None, None, None)
    project, project_name = made_by if made_by else (None, None)
    return Inspection(
        objects=[SchemaObject(kind, name) for kind, name in objects],
        last_data_event=last_data_event,
        protected=protected,
        version_table=version_table,
        recorded_digests=digests,
        generated_tables=generated,
        left_out_enum_values=left_out or [],
        refused_tables=refused or {},
        project=project,
        project_name=project_name,
    )


def _user() -> str:
    import getpass

    try:
        return getpass.getuser()  # $USER and friends, else the password database
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def has_meta(conn: psycopg.Connection, schema: str) -> bool:
    """True when dbtool_meta exists in the schema: dbtool created this database's contents."""
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{schema}.dbtool_meta",)).fetchone()
    return bool(row and row[0])


def ensure_tables(conn: psycopg.Connection, schema: str) -> None:
    """Create the schema and dbtool's bookkeeping tables if missing."""
    conn.execute(_create_tables(schema))


def _create_tables(schema: str) -> sql.Composed:
    return sql.SQL("CREATE SCHEMA IF NOT EXISTS {schema}; " + CREATE_SQL).format(schema=sql.Identifier(schema))


def record(conn: psycopg.Connection, schema: str, rec: MetaRecord) -> None:
    """Append one row to dbtool_meta (inside the caller's transaction, after `inspect` or `ensure_tables`)."""
    conn.execute(
        sql.SQL(
            "INSERT INTO {}.dbtool_meta (event, dbtool_version, generator_version, revision, profile, seed, scale,"
            " row_counts, table_digests, digest, run_by, version_table, generated_tables, left_out_enum_values,"
            " refused_tables, project, project_name)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
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
            rec.version_table,
            Jsonb(rec.generated_tables) if rec.generated_tables is not None else None,
            Jsonb(rec.left_out_enum_values) if rec.left_out_enum_values else None,
            Jsonb(rec.refused_tables) if rec.refused_tables else None,
            rec.project,
            rec.project_name,
        ),
    )


def last_seed_record(conn: psycopg.Connection, schema: str) -> dict[str, Any] | None:
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
