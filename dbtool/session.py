"""locked_session (pool + advisory lock + a work connection) and the retrying work transaction."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import TypeVar

import psycopg
from psycopg import errors as pg_errors
from psycopg import sql

from dbtool.config import Settings
from dbtool.errors import LockBusyError
from dbtool.lock import Holder, advisory_lock
from dbtool.pool import open_pool
from dbtool.report import Reporter

logger = logging.getLogger(__name__)

T = TypeVar("T")
TABLE_LOCK_TIMEOUT_MS = 2000  # one attempt's wait for a table lock before it backs off and retries
FIRST_BACKOFF, MAX_BACKOFF = 0.1, 2.0

BLOCKERS_SQL = """
SELECT DISTINCT a.pid, coalesce(a.application_name, ''), coalesce(a.state, ''),
       extract(epoch FROM now() - coalesce(a.xact_start, a.backend_start))::int
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid JOIN pg_class c ON c.oid = l.relation
WHERE l.granted AND c.relnamespace = to_regnamespace(%s) AND a.pid <> pg_backend_pid()
ORDER BY 1
"""


@contextmanager
def locked_session(settings: Settings, reporter: Reporter, command: str) -> Iterator[psycopg.Connection]:  # type: ignore[type-arg]
    """Open the pool, hold the advisory lock on one pooled session, and yield another for the work."""
    with ExitStack() as stack:
        with reporter.step("connect") as step:
            pool = stack.enter_context(open_pool(settings, command))
            step.message = f"Connected to {settings.target} (pool max {settings.pool_max})"
            step.fields.update(target=str(settings.target), pool_max=settings.pool_max)

        def waiting(holders: list[Holder], waited: float) -> None:
            reporter.note(
                f"waiting for advisory lock {settings.lock_key} ({waited:.0f}s of {settings.lock_timeout:g}s), "
                f"held by {'; '.join(map(str, holders)) or 'a session that just ended'}",
                lock_key=settings.lock_key,
                holders=[h.__dict__ for h in holders],
            )

        with reporter.step("lock") as step:
            stack.enter_context(advisory_lock(pool, settings.lock_key, settings.lock_timeout, waiting))
            step.message = f"Acquired advisory lock (key={settings.lock_key})"
            step.fields.update(lock_key=settings.lock_key)
        yield stack.enter_context(pool.connection())


def blockers(conn: psycopg.Connection, schema: str) -> list[str]:  # type: ignore[type-arg]
    """Sessions holding locks on relations in `schema`, described for a human."""
    rows = conn.execute(BLOCKERS_SQL, (schema,)).fetchall()
    return [f"pid {pid} ({app or 'no application_name'}, {state}, {age}s in transaction)" for pid, app, state, age in rows]


def transaction(
    conn: psycopg.Connection,  # type: ignore[type-arg]
    settings: Settings,
    reporter: Reporter,
    work: Callable[[psycopg.Connection], T],  # type: ignore[type-arg]
) -> T:
    """Run `work` in one transaction with a short lock_timeout; when a table lock is busy, roll back,
    back off and retry until --lock-timeout, then give up naming the blockers."""
    deadline = time.monotonic() + settings.lock_timeout
    backoff = FIRST_BACKOFF
    while True:
        try:
            with conn.transaction():
                conn.execute(
                    sql.SQL("SET LOCAL lock_timeout = {}; SET LOCAL search_path TO {}").format(
                        sql.Literal(TABLE_LOCK_TIMEOUT_MS), sql.Identifier(settings.schema)
                    )
                )
                return work(conn)
        except (pg_errors.LockNotAvailable, pg_errors.DeadlockDetected) as exc:
            who = blockers(conn, settings.schema)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LockBusyError(
                    f"table locks in schema {settings.schema} still busy after {settings.lock_timeout:g}s "
                    f"({type(exc).__name__}), held by {'; '.join(who) or 'sessions that just ended'}; "
                    "end those transactions or raise --lock-timeout"
                ) from None
            reporter.note(
                f"tables busy ({'; '.join(who) or 'a session that just ended'}); rolled back, retrying in {backoff:.1f}s",
                blockers=who,
            )
            time.sleep(min(backoff, remaining))
            backoff = min(backoff * 2, MAX_BACKOFF)
