"""The `postgresql+dbtool://` dialects: SQLAlchemy on the connection dbtool lent, minus its ownership.

dbtool runs a project's unmodified env.py inside the reset transaction. It points the config's
`sqlalchemy.url` at `postgresql+dbtool://`, so whatever engine env.py builds from it (sync, or async
through `async_engine_from_config`) hands out dbtool's own psycopg connection. Commit, rollback and
close belong to dbtool and are no-ops here. An AUTOCOMMIT request (Alembic's autocommit_block) keeps
the transaction: the block's statements run inside it, adapted by dbtool.migrate.in_transaction like every
statement SQLAlchemy sends. Before each statement the client's own transaction status (free) must
still say "in transaction": nothing runs after the transaction ended.
Only dbtool.migrate.upgrade imports this module (it imports SQLAlchemy).
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import pq
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg, PGDialectAsync_psycopg, PsycopgAdaptDBAPI

from dbtool.migrate.in_transaction import adapt


class TransactionEnded(Exception):
    """The lent connection is no longer in dbtool's transaction."""


@dataclass
class Lending:
    """The connection lent to the project's migrations, and what they did with it."""

    conn: psycopg.Connection[Any]
    revision: str = ""  # the migration running now, for notes and errors
    notes: list[str] = field(default_factory=list)
    in_autocommit_block: bool = False
    client_binding: bool = False  # the project's ini names psycopg2: values go inline, untyped, as there

    def check_open(self) -> None:
        """Raise TransactionEnded unless the connection is still inside a transaction (no round trip)."""
        if self.conn.closed or self.conn.pgconn.transaction_status not in (
            pq.TransactionStatus.INTRANS, pq.TransactionStatus.INERROR
        ):
            raise TransactionEnded()

    def adapted(self, statement: str) -> str:
        """`statement` as it must run inside the transaction; notes what changed."""
        self.check_open()
        done = adapt(statement)
        self.notes.extend(f"migration {self.revision or '(env.py)'}: {note}" for note in done.notes)
        return done.text


SHARED: ContextVar[Lending | None] = ContextVar("dbtool_shared_connection", default=None)


def _lending() -> Lending:
    lending = SHARED.get()
    if lending is None:
        raise RuntimeError("postgresql+dbtool:// is only usable while dbtool runs the migrations")
    return lending


def _shared() -> psycopg.Connection[Any]:
    return _lending().conn


class _Lent:
    """What both dialects leave to dbtool: the transaction, the isolation level and the connection's life."""

    def create_connect_args(self, url: Any) -> Any:
        return [], {}

    @property
    def _bind_typing_render_casts(self) -> bool:
        # psycopg 3's dialect writes `%(p)s::VARCHAR` for a string literal; psycopg2 sends an untyped
        # '0' that an integer column accepts. A history written for psycopg2 gets what it was tested with.
        lending = SHARED.get()
        return lending is None or not lending.client_binding

    def set_isolation_level(self, dbapi_connection: Any, level: Any) -> None:
        # AUTOCOMMIT (an autocommit_block) stays in the transaction: inside a reset nobody else sees
        # the schema being built, and a failure later must still change nothing. Any other level
        # would be SET on a transaction that already ran statements: keep dbtool's.
        lending = _lending()
        entering = level == "AUTOCOMMIT"
        if entering and not lending.in_autocommit_block:
            lending.notes.append(f"migration {lending.revision or '(env.py)'}: autocommit_block ran inside dbtool's transaction")
        lending.in_autocommit_block = entering

    def do_execute(self, cursor: Any, statement: str, parameters: Any, context: Any = None) -> None:
        cursor.execute(_lending().adapted(statement), parameters)

    def do_execute_no_params(self, cursor: Any, statement: str, context: Any = None) -> None:
        cursor.execute(_lending().adapted(statement))

    def do_executemany(self, cursor: Any, statement: str, parameters: Any, context: Any = None) -> None:
        _lending().check_open()
        super().do_executemany(cursor, statement, parameters, context)  # type: ignore[misc]  # a mixin: the dialect after it in the MRO has it

    def reset_isolation_level(self, dbapi_connection: Any) -> None:
        pass

    def do_commit(self, dbapi_connection: Any) -> None:
        pass

    def do_rollback(self, dbapi_connection: Any) -> None:
        pass

    def do_close(self, dbapi_connection: Any) -> None:
        pass


class SharedConnectionDialect(_Lent, PGDialect_psycopg):  # type: ignore[override]  # Dialect declares _bind_typing_render_casts an attribute; DefaultDialect computes it too
    """PGDialect_psycopg over dbtool's connection, whose transaction and life dbtool owns."""

    supports_statement_cache = True

    @classmethod
    def get_async_dialect_cls(cls, url: Any) -> type[Any]:
        return SharedAsyncConnectionDialect

    def connect(self, *cargs: Any, **cparams: Any) -> Any:
        return _shared()


class _AsyncCursor:
    """An async face on a sync psycopg cursor, enough for SQLAlchemy's psycopg async adapter."""

    def __init__(self, cursor: psycopg.Cursor[Any]) -> None:
        self._cursor = cursor

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)

    async def __aenter__(self) -> _AsyncCursor:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self._cursor.close()

    async def execute(self, *args: Any, **kwargs: Any) -> _AsyncCursor:
        self._cursor.execute(*args, **kwargs)
        return self

    async def executemany(self, *args: Any, **kwargs: Any) -> None:
        self._cursor.executemany(*args, **kwargs)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int = 0) -> list[Any]:
        return self._cursor.fetchmany(size)

    async def close(self) -> None:
        self._cursor.close()


class _AsyncConnection:
    """An async face on dbtool's sync connection: the async template's engine runs on it unchanged."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.shared = conn

    def __getattr__(self, name: str) -> Any:
        return getattr(self.shared, name)

    def cursor(self, *args: Any, **kwargs: Any) -> _AsyncCursor:
        return _AsyncCursor(self.shared.cursor(*args, **kwargs))

    async def set_autocommit(self, value: bool) -> None:
        pass  # the dialect's set_isolation_level keeps the transaction and notes the block

    async def set_isolation_level(self, value: Any) -> None:
        pass

    async def set_read_only(self, value: Any) -> None:
        pass

    async def set_deferrable(self, value: Any) -> None:
        pass

    async def commit(self) -> None:
        pass

    async def rollback(self) -> None:
        pass

    async def close(self) -> None:
        pass


class _SharedAsyncDBAPI(PsycopgAdaptDBAPI):
    def connect(self, *arg: Any, **kw: Any) -> Any:
        async def lend() -> _AsyncConnection:
            return _AsyncConnection(_shared())

        return super().connect(async_creator_fn=lend)


class SharedAsyncConnectionDialect(_Lent, PGDialectAsync_psycopg):  # type: ignore[override]  # as SharedConnectionDialect
    """The async psycopg dialect over dbtool's (sync) connection, for env.py files that use asyncio."""

    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> Any:
        from psycopg.pq import ExecStatus

        return _SharedAsyncDBAPI(psycopg, ExecStatus)

    def _type_info_fetch(self, connection: Any, name: str) -> Any:
        from psycopg.types import TypeInfo

        return TypeInfo.fetch(connection.connection.driver_connection.shared, name)


def driver_connection(sa_connection: Any) -> Any:
    """The psycopg connection under a SQLAlchemy Connection (sync or async dialect)."""
    driver = sa_connection.connection.driver_connection
    return driver.shared if isinstance(driver, _AsyncConnection) else driver
