"""A test's connection inside an outer transaction that is rolled back when the test ends (`dbtool_conn`).

The test gets a fresh `SavepointConnection` object each time, around one long-lived libpq session:
its `commit()` releases and re-opens the savepoint `dbtool_test`, its `rollback()` returns to it, as
pytest-django's TestCase and SQLAlchemy's "join an external transaction" recipe do. Between tests the
session is rolled back and `DISCARD ALL`ed, so nothing of one test (rows, tables, SET, prepared
statements, advisory locks, temporary tables) reaches the next.
"""

from __future__ import annotations

import secrets
from typing import Any

import psycopg
from psycopg import pq, sql

SAVEPOINT = "dbtool_test"
OUTER_SETTING = "dbtool.outer_transaction"  # SET LOCAL in the outer transaction: gone if the test ends it
FORCE_FLUSH_MIN_VERSION = 150000  # pg_stat_force_next_flush()


class SavepointConnection(psycopg.Connection[Any]):
    """A psycopg connection whose commit() and rollback() act on the test's savepoint, not the transaction."""

    def commit(self) -> None:
        """Keep the work so far (release the savepoint and open it again); after an error, roll back to it."""
        self._check_no_transaction_block("commit")
        if self.info.transaction_status == pq.TransactionStatus.INERROR:
            self.execute(f"ROLLBACK TO SAVEPOINT {SAVEPOINT}")  # what COMMIT of a failed transaction does
        else:
            self.execute(f"RELEASE SAVEPOINT {SAVEPOINT}; SAVEPOINT {SAVEPOINT}")

    def rollback(self) -> None:
        """Undo the work since the last commit() (or the start of the test)."""
        self._check_no_transaction_block("rollback")
        self.execute(f"ROLLBACK TO SAVEPOINT {SAVEPOINT}")

    def _check_no_transaction_block(self, method: str) -> None:
        # As psycopg does: inside `with conn.transaction()` the block owns the savepoint stack.
        if getattr(self, "_num_transactions", 0):
            raise psycopg.ProgrammingError(f"explicit {method}() forbidden within a Transaction context")

    def __del__(self, *args: Any) -> None:
        # The libpq session outlives this object (the next test gets a new one): nothing to warn about.
        pass


class TransactionalSession:
    """One libpq session to a database, handed to tests one outer transaction at a time."""

    def __init__(self, url: str, application_name: str) -> None:
        self.url = url
        # Autocommit: this object only ends what the tests' objects began (each object has its own mode).
        self._conn = psycopg.connect(url, autocommit=True, application_name=application_name)
        # A backend counts its own session in pg_stat_database only when it flushes its statistics:
        # flush now, so that a mark taken after this sees a count that no longer moves on its own.
        if self._conn.info.server_version >= FORCE_FLUSH_MIN_VERSION:
            self._conn.execute("SELECT pg_stat_force_next_flush()")
        self._token = ""

    @property
    def closed(self) -> bool:
        """True when the session is gone (a test closed its connection)."""
        return self._conn.closed

    def begin(self) -> SavepointConnection:
        """A new connection object for one test, inside a new outer transaction with its savepoint open."""
        self._token = secrets.token_hex(8)
        test = SavepointConnection(self._conn.pgconn)
        # psycopg sends BEGIN first (the object is not in autocommit mode); one round trip in all.
        test.execute(sql.SQL("SELECT set_config({}, {}, true); SAVEPOINT {}").format(
            sql.Literal(OUTER_SETTING), sql.Literal(self._token), sql.Identifier(SAVEPOINT)))
        return test

    def end(self) -> bool:
        """Roll back the test's outer transaction and reset the session; True when that transaction was
        still the one begin() opened, i.e. nothing the test did was committed."""
        if self._conn.closed:
            return False
        intact = False
        try:
            if self._conn.info.transaction_status in (pq.TransactionStatus.INTRANS, pq.TransactionStatus.INERROR):
                cur = self._conn.execute(sql.SQL("ROLLBACK TO SAVEPOINT {}; SELECT current_setting({}, true)").format(
                    sql.Identifier(SAVEPOINT), sql.Literal(OUTER_SETTING)))
                row = cur.fetchone() if cur.nextset() else None
                intact = row is not None and row[0] == self._token
        except psycopg.Error:
            pass  # no savepoint of ours: the test ended the outer transaction itself
        try:
            self._conn.execute("ROLLBACK")
            self._conn.execute("DISCARD ALL")  # not in a transaction block, so a round trip of its own
        except psycopg.Error:
            self._conn.close()
            return False
        return intact

    def close(self) -> None:
        """Close the session."""
        self._conn.close()
