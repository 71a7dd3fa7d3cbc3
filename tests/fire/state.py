"""What a database holds, fingerprinted independently of dbtool, to tell a complete old state from a new one."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from psycopg import sql

from dbtool.settings.config import ADVISORY_LOCK_KEY
from tests.fire.runs import wait_until
from tests.helpers import EXAMPLE_TABLES as TABLES

LOCK_FREE_BOUND = 5.0  # seconds: documented bound for the advisory lock to be free after a run dies
SIGNAL_EXIT_BOUND = 5.0  # seconds: documented bound from SIGTERM/SIGINT to exit
# Text forms (and so md5s) of timestamps and floats depend on these session settings.
STABLE_TEXT = "-c TimeZone=UTC -c DateStyle=ISO,YMD -c extra_float_digits=1"
CHECKER_TIMEOUTS = "-c lock_timeout=60s -c statement_timeout=120s"


@dataclass(frozen=True)
class Fingerprint:
    """Rows and an md5 of every seeded table, the Alembic revision and the dbtool_meta log, read in one snapshot."""

    tables: tuple[tuple[str, int, str], ...]  # (table, rows, md5 of rows in id order); rows -1 when missing
    revision: str | None
    meta_rows: int  # one per committed reset/seed/migrate/drop/protect
    last_digest: str | None  # digest of the latest reset/seed in dbtool_meta

    def summary(self) -> str:
        counts = ", ".join(f"{t}={n}" for t, n, _ in self.tables)
        return f"revision {self.revision}, meta rows {self.meta_rows}, digest {(self.last_digest or '-')[:12]}: {counts}"


def connect(url: str, **kwargs: object) -> psycopg.Connection:  # type: ignore[type-arg]
    """A checker connection: stable text forms, and waits (bounded) for locks a dying run still holds."""
    return psycopg.connect(url, autocommit=True, options=f"{STABLE_TEXT} {CHECKER_TIMEOUTS}", **kwargs)  # type: ignore[arg-type]


def fingerprint(url: str, schema: str = "public") -> Fingerprint:
    """Fingerprint the managed schema in one statement, hence one READ COMMITTED snapshot."""
    with connect(url) as conn:
        for _ in range(5):  # a table dropped between the catalog read and the query: read again
            present = {
                r[0] for r in conn.execute(
                    "SELECT relname FROM pg_class WHERE relnamespace = to_regnamespace(%s) AND relkind = 'r'", (schema,)
                )
            }
            parts = [
                sql.SQL(
                    "SELECT {name}, count(*), coalesce(md5(string_agg(md5(t::text), '' ORDER BY t.id)), '') FROM {table} t"
                ).format(name=sql.Literal(t), table=sql.Identifier(schema, t))
                for t in TABLES if t in present
            ]
            if "alembic_version" in present:
                parts.append(sql.SQL("SELECT '~revision', count(*), max(version_num) FROM {}").format(
                    sql.Identifier(schema, "alembic_version")))
            if "dbtool_meta" in present:
                parts.append(sql.SQL(
                    "SELECT '~meta', count(*), (SELECT digest FROM {m} WHERE event IN ('reset', 'seed') ORDER BY id DESC LIMIT 1)"
                    " FROM {m}").format(m=sql.Identifier(schema, "dbtool_meta")))
            if not parts:
                return Fingerprint(tuple((t, -1, "") for t in TABLES), None, 0, None)
            try:
                rows = {name: (count, text) for name, count, text in conn.execute(sql.SQL(" UNION ALL ").join(parts))}
            except psycopg.errors.UndefinedTable:
                time.sleep(0.1)
                continue
            tables = tuple((t, *rows[t]) if t in rows else (t, -1, "") for t in TABLES)
            meta_rows, last_digest = rows.get("~meta", (0, None))
            return Fingerprint(tables, rows.get("~revision", (0, None))[1], meta_rows, last_digest)  # type: ignore[arg-type]
    raise AssertionError("the schema kept changing while it was fingerprinted")


def which_state(found: Fingerprint, old: Fingerprint, new: Fingerprint | None) -> str:
    """'old' or 'new' when `found` is entirely one of them (data, revision and dbtool_meta agree); else fail."""
    if found == old:
        return "old"
    if new is not None and found.tables == new.tables and found.revision == new.revision \
            and found.last_digest == new.last_digest and found.meta_rows == old.meta_rows + 1:
        return "new"
    raise AssertionError(
        f"database is neither the old nor the new state\n found: {found.summary()}\n old:   {old.summary()}\n"
        f" new:   {new.summary() if new else '-'}"
    )


def advisory_lock_holders(url: str, key: int = ADVISORY_LOCK_KEY) -> list[int]:
    """Pids holding advisory lock `key` in this database."""
    with psycopg.connect(url, autocommit=True) as conn:
        return [r[0] for r in conn.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND classid = ((%(key)s::bigint >> 32) & 4294967295)::bigint::oid"
            " AND objid = (%(key)s::bigint & 4294967295)::bigint::oid", {"key": key})]


def seconds_until_lock_free(url: str, key: int = ADVISORY_LOCK_KEY, bound: float = LOCK_FREE_BOUND) -> float:
    """How long until nobody holds advisory lock `key`; fail if that takes longer than `bound`."""
    started = time.monotonic()
    wait_until(lambda: not advisory_lock_holders(url, key), bound, f"advisory lock {key} to be free", interval=0.02)
    return time.monotonic() - started


def dbtool_backends(conn: psycopg.Connection, pid: int) -> list[tuple[int, str, str | None, str]]:  # type: ignore[type-arg]
    """Server sessions opened by dbtool process `pid`: (backend pid, state, wait event type, query)."""
    return conn.execute(
        "SELECT pid, coalesce(state, ''), wait_event_type, coalesce(query, '') FROM pg_stat_activity"
        " WHERE application_name LIKE %s AND datname = current_database()",
        (f"dbtool % pid={pid} %",),
    ).fetchall()


def wait_for_backend(
    conn: psycopg.Connection,  # type: ignore[type-arg]
    pid: int,
    what: str,
    match: Callable[[str, str | None, str], bool],
    timeout: float = 60,
) -> tuple[int, str, str | None, str]:
    """Wait until one of dbtool process `pid`'s sessions satisfies `match(state, wait_event_type, query)`."""

    def found() -> tuple[int, str, str | None, str] | None:
        return next((b for b in dbtool_backends(conn, pid) if match(b[1], b[2], b[3])), None)

    return wait_until(found, timeout, what, interval=0.002)  # type: ignore[no-any-return]


def copying_generated_rows(state: str, wait_event: str | None, query: str) -> bool:
    """A COPY past the first, tiny tables: generator workers (if any) are up and producing."""
    return query.startswith("COPY") and not any(f'"{t}"' in query for t in ("staff", "services"))


def seconds_until_backends_gone(url: str, pid: int, bound: float) -> float:
    """How long until dbtool process `pid` has no session left on the server; fail after `bound` seconds."""
    started = time.monotonic()
    with psycopg.connect(url, autocommit=True) as conn:
        wait_until(lambda: not dbtool_backends(conn, pid), bound, f"the sessions of dbtool pid {pid} to end", interval=0.02)
    return time.monotonic() - started
