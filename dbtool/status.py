"""Read-only commands: status (no lock) and verify (live digests against what the seed must produce)."""

from __future__ import annotations

from typing import Any

import psycopg

from dbtool import meta, migrate
from dbtool.config import Settings
from dbtool.errors import DbtoolError, VerifyMismatchError
from dbtool.lock import lock_holders
from dbtool.pool import open_pool
from dbtool.seed import load
from dbtool.seed.profiles import TABLES


def status(settings: Settings) -> dict[str, Any]:
    """Reachability, server version, revisions, the last seed record, row counts and the lock holder."""
    with open_pool(settings, "status") as pool, pool.connection() as conn:
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
    """Rows per seeded table that exists, in one round trip."""
    present = [
        t for t in TABLES if conn.execute("SELECT to_regclass(%s)", (f"{schema}.{t}",)).fetchone()[0] is not None  # type: ignore[index]
    ]
    if not present:
        return {}
    query = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM \"{schema}\".{t}" for t in present)
    return {t: n for t, n in conn.execute(query).fetchall()}


def verify(settings: Settings) -> dict[str, Any]:
    """Compare live per-table counts and digests with the last dbtool_meta seed record."""
    with open_pool(settings, "verify") as pool, pool.connection() as conn:
        record = meta.last_seed_record(conn, settings.schema)
        if record is None or not record.get("table_digests"):
            raise DbtoolError(
                f"{settings.target} has no seed record in dbtool_meta to verify against; run `dbtool reset`"
            )
        try:
            with conn.transaction():
                live = load.table_digests(conn, settings.schema)
        except psycopg.errors.UndefinedTable:
            live = {}
    expected: dict[str, Any] = record["table_digests"]
    differences = []
    for table in TABLES:
        want, got = expected.get(table, {}), live.get(table)
        if got is None:
            differences.append({"table": table, "problem": "missing", "expected_rows": want.get("rows")})
        elif got != want:
            differences.append(
                {"table": table, "problem": "differs", "expected_rows": want.get("rows"), "live_rows": got["rows"]}
            )
    document = {
        "target": str(settings.target),
        "profile": record["profile"],
        "seed": record["seed"],
        "scale": record["scale"],
        "digest": record["digest"],
        "identical": not differences,
        "differences": differences,
    }
    if differences:
        detail = "; ".join(
            f"{d['table']}: {d['problem']} (expected {d['expected_rows']} rows, found {d.get('live_rows', 0)})"
            for d in differences
        )
        raise VerifyMismatchError(
            f"{settings.target} differs from the seeded state ({record['profile']}, seed {record['seed']}): {detail}; "
            "run `dbtool reset` to restore it",
            details=document,
        )
    return document
