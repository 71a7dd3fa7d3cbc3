"""SharedConnectionDialect: psycopg for SQLAlchemy, minus transaction and connection ownership.

Alembic runs on a connection dbtool lent it inside the reset transaction. Commit, rollback and
close belong to dbtool, so this dialect makes them no-ops: Alembic cannot end the transaction
early, and returning the connection to SQLAlchemy's pool neither rolls it back nor closes it.
Only dbtool.migrate imports this module (it imports SQLAlchemy).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg


class SharedConnectionDialect(PGDialect_psycopg):
    """PGDialect_psycopg for a connection whose transaction and life dbtool owns."""

    supports_statement_cache = True

    def do_commit(self, dbapi_connection: Any) -> None:
        pass

    def do_rollback(self, dbapi_connection: Any) -> None:
        pass

    def do_close(self, dbapi_connection: Any) -> None:
        pass
