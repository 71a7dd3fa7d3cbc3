"""locked_session (pool + advisory lock + a work connection) and the retrying work transaction."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import psycopg
from psycopg import errors as pg_errors
from psycopg import pq
from psycopg_pool import ConnectionPool

from dbtool.db.lock import Holder, advisory_lock, held_by
from dbtool.db.pool import open_pool
from dbtool.errors import CommitOutcomeUnknown, LockBusyError, LockLostError
from dbtool.report import Reporter
from dbtool.settings.config import Settings

logger = logging.getLogger(__name__)

T = TypeVar("T")
# One attempt's wait for each lock. Every reader of a table queues behind a waiting lock request, so
# this is the longest a reader waits for a reset that cannot get its locks; it also stays far below
# the server's deadlock_timeout (1 s by default), so in a lock cycle between a reader's join and the
# reset it is the reset that gives up and retries, never the reader that gets a deadlock error.
TABLE_LOCK_TIMEOUT_MS = 100
FIRST_BACKOFF, MAX_BACKOFF = 0.1, 2.0  # between attempts that failed on a session already gone
BLOCKER_POLL_INTERVAL = 0.1  # seconds between checks whether the blocking transactions have ended
REPORT_INTERVAL = 5.0  # seconds between "tables busy" notes

# Sessions holding locks on the schema's relations; with `since`, only transactions already open then.
BLOCKERS_SQL = """
SELECT DISTINCT a.pid, coalesce(a.application_name, ''), coalesce(a.state, ''),
       extract(epoch FROM now() - coalesce(a.xact_start, a.backend_start))::int
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid JOIN pg_class c ON c.oid = l.relation
WHERE l.granted AND c.relnamespace = to_regnamespace(%(schema)s) AND a.pid <> pg_backend_pid()
  AND (%(since)s::timestamptz IS NULL OR a.xact_start <= %(since)s::timestamptz)
ORDER BY 1
"""


@dataclass(frozen=True)
class Session:
    """A work connection, and the backend that holds the advisory lock while it works."""

    conn: psycopg.Connection
    lock_pid: int
    lock_key: int
    pool: ConnectionPool | None = None  # the run's pool: the swap strategy loads on its other connections


@contextmanager
def locked_session(settings: Settings, reporter: Reporter, command: str) -> Iterator[Session]:
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
            lock_conn = stack.enter_context(advisory_lock(pool, settings.lock_key, settings.lock_timeout, waiting))
            step.message = f"Acquired advisory lock (key={settings.lock_key})"
            step.fields.update(lock_key=settings.lock_key)
        yield Session(stack.enter_context(pool.connection()), lock_conn.info.backend_pid, settings.lock_key, pool)


def check_lock(conn: psycopg.Connection, session: Session,
               outcome: str = "before commit, so this run was no longer serialized; rolled back, database unchanged") -> None:
    """Raise LockLostError unless the session's lock backend still holds the advisory lock: if it ended
    (an idle_session_timeout, a proxy, a network cut), another run may be working too."""
    if not held_by(conn, session.lock_pid, session.lock_key):
        raise LockLostError(
            f"the session holding advisory lock {session.lock_key} (pid {session.lock_pid}) ended {outcome}; "
            "check the server's idle_session_timeout and that no transaction-pooling proxy sits "
            "between dbtool and the server"
        )


def blockers(conn: psycopg.Connection, schema: str, since: datetime | None = None) -> list[str]:
    """Sessions holding locks on relations in `schema` (in a transaction open at `since`), described for a human."""
    rows = conn.execute(BLOCKERS_SQL, {"schema": schema, "since": since}).fetchall()
    return [f"pid {pid} ({app or 'no application_name'}, {state}, {age}s in transaction)" for pid, app, state, age in rows]


def _close_if_busy(conn: psycopg.Connection) -> None:
    # A signal that lands while a COPY is being ended (psycopg cancels a running query on an interrupt,
    # but not a COPY it was finishing) leaves the session mid-statement: no ROLLBACK can be sent on it.
    # Closing it makes the server roll the transaction back at once and free its locks.
    if conn.pgconn.transaction_status == pq.TransactionStatus.ACTIVE:
        logger.info("session still busy after an interruption; closing it to roll back")
        conn.close()


def transaction(
    session: Session,
    settings: Settings,
    reporter: Reporter,
    work: Callable[[psycopg.Connection], T],
) -> T:
    """Run `work` in one transaction with a short lock_timeout; when a lock is busy, roll back, wait for
    the transactions that held it to end, and retry until --lock-timeout, then give up naming them.
    Commit only while the advisory lock is provably still held; otherwise roll back (LockLostError)."""
    conn = session.conn
    began = time.monotonic()
    deadline = began + settings.lock_timeout
    backoff = FIRST_BACKOFF
    last_report: float | None = None
    while True:
        attempt_start: datetime | None = None
        committing = False
        try:
            with conn.transaction():
                # set_config(..., true) is SET LOCAL; one round trip also reads when this attempt began.
                attempt_start = conn.execute(
                    "SELECT set_config('lock_timeout', %s, true), set_config('search_path', quote_ident(%s), true),"
                    " now()",
                    (f"{TABLE_LOCK_TIMEOUT_MS}ms", settings.schema),
                ).fetchone()[2]  # type: ignore[index]  # SELECT without FROM: one row
                try:
                    done = work(conn)
                    check_lock(conn, session)  # last, in the transaction about to commit
                except BaseException:
                    _close_if_busy(conn)
                    raise
                committing = True  # leaving the block sends COMMIT
            return done
        except (pg_errors.LockNotAvailable, pg_errors.DeadlockDetected) as exc:
            failure = type(exc).__name__
        except (KeyboardInterrupt, SystemExit, psycopg.OperationalError) as exc:
            if committing:
                # The COMMIT may or may not have reached the server: say so rather than "rolled back".
                raise CommitOutcomeUnknown(exc) from None
            raise
        # Wait holding no lock: a queued lock request would hold every other reader of the table
        # behind it for as long as the long transaction lasts. Retry once the sessions that were
        # already in a transaction when this attempt began have ended theirs.
        waited_for_blockers = False
        while True:
            who = blockers(conn, settings.schema, attempt_start)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                who = who or blockers(conn, settings.schema)
                raise LockBusyError(
                    f"table locks in schema {settings.schema} still busy after {settings.lock_timeout:g}s "
                    f"({failure}), held by {'; '.join(who) or 'sessions that just ended'}; "
                    "end those transactions or raise --lock-timeout"
                ) from None
            if not who:
                break
            now = time.monotonic()
            if last_report is None or now - last_report >= REPORT_INTERVAL:
                reporter.note(
                    f"tables busy, held by {'; '.join(who)}; rolled back, waiting for that to end "
                    f"({now - began:.0f}s of {settings.lock_timeout:g}s)",
                    blockers=who,
                )
                last_report = now
            waited_for_blockers = True
            time.sleep(min(BLOCKER_POLL_INTERVAL, remaining))
        if not waited_for_blockers:
            time.sleep(min(backoff, remaining))
            backoff = min(backoff * 2, MAX_BACKOFF)
