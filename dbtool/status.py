"""Read-only commands: status (no lock) and verify (live digests against what the seed must produce)."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from dbtool import meta, migrate
from dbtool.config import Settings
from dbtool.errors import DbtoolError, UnreachableError, VerifyMismatchError
from dbtool.lock import lock_holders
from dbtool.pool import open_pool
from dbtool.seed.profiles import GENERATOR_VERSION, PROFILES, TABLES, Profile


def status(settings: Settings) -> dict[str, Any]:
    """Reachability, server version, revisions, the last seed record, row counts and the lock holder."""
    try:
        with open_pool(settings, "status") as pool, pool.connection() as conn:
            return _status(conn, settings)
    except UnreachableError as exc:
        exc.details.update(target=str(settings.target), reachable=False)
        raise


def _status(conn: psycopg.Connection, settings: Settings) -> dict[str, Any]:  # type: ignore[type-arg]
    current = migrate.current_revision(conn, settings.schema)
    record = meta.last_seed_record(conn, settings.schema)
    cached = meta.cached_script(conn, settings.schema, migrate.scripts_hash())
    head = cached[0] if cached else migrate.head_revision()
    return {
        "target": str(settings.target),
        "reachable": True,
        "server_version": conn.info.parameter_status("server_version"),
        "schema": settings.schema,
        "revision": {"current": current, "head": head, "at_head": current == head},
        "protected": meta.is_protected(conn, settings.schema),
        "created_by_dbtool": meta.created_by_dbtool(conn, settings.schema),
        "last_seed": record,
        "row_counts": row_counts(conn, settings.schema) if current else {},
        "lock": {
            "key": settings.lock_key,
            "held_by": [h.__dict__ for h in lock_holders(conn, settings.lock_key)],
        },
    }




def row_counts(conn: psycopg.Connection, schema: str) -> dict[str, int]:  # type: ignore[type-arg]
    """Rows per seeded table that exists: one round trip to find them, one to count them."""
    present = [
        row[0]
        for row in conn.execute(
            "SELECT t FROM unnest(%s::text[]) WITH ORDINALITY AS u(t, n)"
            " WHERE to_regclass(quote_ident(%s) || '.' || quote_ident(t)) IS NOT NULL ORDER BY n",
            (list(TABLES), schema),
        )
    ]
    if not present:
        return {}
    query = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM \"{schema}\".{t}" for t in present)
    return {t: n for t, n in conn.execute(query).fetchall()}


def expected_digests(conn: psycopg.Connection, schema: str, seed: int, profile: Profile) -> dict[str, dict[str, object]]:  # type: ignore[type-arg]
    """Digests of exactly what (seed, profile) produces: generated into temp copies of the tables
    and digested by the same server query as the live tables. Call inside a transaction."""
    from dbtool.seed import load

    conn.execute(
        sql.SQL("; ").join(
            sql.SQL("CREATE TEMP TABLE {} (LIKE {} INCLUDING DEFAULTS) ON COMMIT DROP").format(
                sql.Identifier(t), sql.Identifier(schema, t)
            )
            for t in TABLES
        )
    )
    load.load(conn, "pg_temp", seed, profile)
    return load.table_digests(conn, "pg_temp")


def verify(settings: Settings) -> dict[str, Any]:
    """Compare the live tables with what the recorded (seed, profile, scale) must produce."""
    from dbtool.seed import load

    with open_pool(settings, "verify") as pool, pool.connection() as conn:
        record = meta.last_seed_record(conn, settings.schema)
        if record is None or not record.get("table_digests"):
            raise DbtoolError(
                f"{settings.target} has no seed record in dbtool_meta to verify against; run `dbtool reset`"
            )
        if record["generator_version"] != GENERATOR_VERSION:
            raise VerifyMismatchError(
                f"{settings.target} was seeded by generator version {record['generator_version']}, this dbtool "
                f"generates version {GENERATOR_VERSION}; run `dbtool reset` to reseed with this version"
            )
        profile = PROFILES[record["profile"]].scaled(record["scale"])
        with conn.transaction():
            try:
                with conn.transaction():
                    live = load.table_digests(conn, settings.schema)
            except psycopg.errors.UndefinedTable:
                live = {}
            expected = expected_digests(conn, settings.schema, record["seed"], profile)
    differences = []
    for table in TABLES:
        want, got = expected[table], live.get(table)
        if got != want:
            differences.append(
                {"table": table, "problem": "missing" if got is None else "differs",
                 "expected_rows": want["rows"], "live_rows": got["rows"] if got else 0}
            )
    recorded_ok = record["digest"] == load.combined_digest(expected)
    document = {
        "target": str(settings.target),
        "profile": record["profile"],
        "seed": record["seed"],
        "scale": record["scale"],
        "generator_version": GENERATOR_VERSION,
        "digest": record["digest"],
        "record_matches_generator": recorded_ok,
        "identical": not differences and recorded_ok,
        "differences": differences,
    }
    if differences or not recorded_ok:
        detail = "; ".join(
            f"{d['table']}: {d['problem']} (expected {d['expected_rows']} rows, found {d['live_rows']})"
            for d in differences
        ) or "the dbtool_meta digest does not match what its seed and profile produce"
        raise VerifyMismatchError(
            f"{settings.target} differs from the seeded state ({record['profile']}, seed {record['seed']}): {detail}; "
            "run `dbtool reset` to restore it",
            details=document,
        )
    return document
