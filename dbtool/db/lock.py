"""advisory_lock(pool): one reserved pooled session holding pg_advisory_lock for the whole run."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from psycopg.rows import class_row
from psycopg_pool import ConnectionPool

from dbtool.errors import LockBusyError

logger = logging.getLogger(__name__)

POLL_INTERVAL = 0.25  # seconds between pg_try_advisory_lock attempts
REPORT_INTERVAL = 5.0  # seconds between "still waiting" reports

# A bigint advisory lock shows in pg_locks as classid = high 32 bits, objid = low 32 bits, objsubid = 1.
HOLDERS_SQL = """
SELECT a.pid, coalesce(a.application_name, '') AS application_name,
       coalesce(host(a.client_addr), 'local') AS client_addr, coalesce(a.state, '') AS state,
       extract(epoch FROM now() - coalesce(a.backend_start, now()))::float8 AS held_for
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.classid = ((%(key)s::bigint >> 32) & 4294967295)::bigint::oid
  AND l.objid = (%(key)s::bigint & 4294967295)::bigint::oid
  AND l.pid <> pg_backend_pid()
ORDER BY a.pid
"""


HELD_BY_SQL = """
SELECT EXISTS (
  SELECT 1 FROM pg_locks
  WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND pid = %(pid)s
    AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND classid = ((%(key)s::bigint >> 32) & 4294967295)::bigint::oid
    AND objid = (%(key)s::bigint & 4294967295)::bigint::oid)
"""
# The lock session sits idle for the whole run: servers that end idle sessions must spare it.
KEEP_ALIVE_SQL = """
SELECT set_config(name, '0', false) FROM pg_settings
WHERE name IN ('idle_session_timeout', 'idle_in_transaction_session_timeout', 'statement_timeout')
"""


@dataclass(frozen=True)
class Holder:
    """A session holding the advisory lock, as pg_stat_activity shows it."""

    pid: int
    application_name: str
    client_addr: str
    state: str
    held_for: float

    def __str__(self) -> str:
        return (
            f"pid {self.pid} ({self.application_name or 'no application_name'}) from {self.client_addr}, "
            f"{self.state or 'unknown state'}, connected {self.held_for:.0f}s"
        )


def held_by(conn: psycopg.Connection, pid: int, key: int) -> bool:
    """True when backend `pid` holds advisory lock `key` in this database right now."""
    return bool(conn.execute(HELD_BY_SQL, {"pid": pid, "key": key}).fetchone()[0])  # type: ignore[index]  # SELECT EXISTS (...): one row


def lock_holders(conn: psycopg.Connection, key: int) -> list[Holder]:
    """Sessions other than ours that hold advisory lock `key` in this database."""
    with conn.cursor(row_factory=class_row(Holder)) as cur:
        return cur.execute(HOLDERS_SQL, {"key": key}).fetchall()


@contextmanager
def advisory_lock(
    pool: ConnectionPool,
    key: int,
    timeout: float,
    on_wait: Callable[[list[Holder], float], None] = lambda holders, waited: None,
) -> Iterator[psycopg.Connection]:
    """Hold pg_advisory_lock(key) on a reserved pooled connection; wait at most `timeout` seconds."""
    conn = pool.getconn()
    acquired = False
    try:
        try:
            acquired = _acquire(conn, key, timeout, on_wait)
        except LockBusyError:
            raise
        except BaseException:
            # Interrupted or disconnected mid-query: the server may have granted the lock without our
            # seeing the answer. Closing the session is the one way to be sure it is not held.
            conn.close()
            raise
        yield conn
    finally:
        try:
            if acquired:
                _unlock(conn, key)
        finally:
            pool.putconn(conn)


def _acquire(
    conn: psycopg.Connection,
    key: int,
    timeout: float,
    on_wait: Callable[[list[Holder], float], None],
) -> bool:
    started = time.monotonic()
    last_report = -REPORT_INTERVAL
    conn.execute(KEEP_ALIVE_SQL)
    while True:
        if conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]:  # type: ignore[index]  # SELECT without FROM: one row
            return True
        waited = time.monotonic() - started
        holders = lock_holders(conn, key)
        if waited >= timeout:
            raise LockBusyError(
                f"advisory lock {key} still held after {waited:.1f}s by "
                f"{'; '.join(map(str, holders)) or 'a session that just ended'}; "
                "wait for that run to finish or raise --lock-timeout"
            )
        if waited - last_report >= REPORT_INTERVAL:
            on_wait(holders, waited)
            last_report = waited
        time.sleep(min(POLL_INTERVAL, max(0.0, timeout - waited)))


def _unlock(conn: psycopg.Connection, key: int) -> None:
    # Cleanup never hides the original error: if unlocking fails, closing the session frees the lock.
    if conn.closed or conn.broken:
        return  # the session is gone, and the lock went with it
    try:
        conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
    except psycopg.Error as exc:
        # Not a warning: nothing is left for the user to do, and the CLI's error stays one line.
        logger.info("could not release advisory lock %s (%s); closing the session releases it", key, exc)
        conn.close()
    except BaseException:
        conn.close()  # interrupted while unlocking: closing the session releases the lock
        raise
