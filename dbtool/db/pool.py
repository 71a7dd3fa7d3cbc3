"""open_pool(settings): the run's psycopg_pool.ConnectionPool, failing fast with the server's reason."""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from urllib.parse import quote

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool

from dbtool import redact
from dbtool.errors import ConfigError, DbtoolError, UnreachableError
from dbtool.settings.config import Settings
from dbtool.settings.urls import mask_secrets, mask_url
from dbtool.settings.urls import password as url_password

logger = logging.getLogger(__name__)

MIN_POOL_SIZE = 2  # the lock connection and the work connection, opened in parallel
READY_POLL_INTERVAL = 0.01  # seconds between checks while the first connections are made

# Told of every connection a pool opens; a fleet keeps their cancel handles to stop a target on a signal.
CONNECTION_OBSERVER: ContextVar[Callable[[psycopg.Connection[Any]], None] | None] = ContextVar(
    "dbtool_connection_observer", default=None
)


def application_name(command: str) -> str:
    """What pg_stat_activity shows for our sessions, so a lock holder can be identified."""
    return f"dbtool {command} pid={os.getpid()} host={socket.gethostname()}"[:63]


@contextmanager
def open_pool(settings: Settings, command: str) -> Iterator[ConnectionPool]:
    """Open a pool of min 2, max settings.pool_max autocommit connections; close it on exit."""
    assert settings.database_url is not None
    redact.remember(settings.database_url)  # psycopg.pool logs libpq's errors, which may quote the password
    try:
        # libpq's own URL parser (syntax, percent escapes, unknown parameters), before any connection.
        conninfo_to_dict(settings.database_url)
    except psycopg.ProgrammingError as exc:
        raise _connect_failure(exc, settings) from None
    failures: list[psycopg.Error] = []
    observer = CONNECTION_OBSERVER.get()  # read here: the pool connects in its own threads

    class _RecordingConnection(psycopg.Connection):
        # The pool retries failed connects quietly; remember why so the CLI can say it at once.
        @classmethod
        def connect(cls, *args: Any, **kwargs: Any) -> Any:
            try:
                conn = super().connect(*args, **kwargs)
            except psycopg.Error as exc:
                failures.append(exc)
                raise
            if observer is not None:
                observer(conn)
            return conn

    # [Any]: its connections are _RecordingConnections, which callers use as the plain psycopg.Connection they are.
    pool: ConnectionPool[Any] = ConnectionPool(
        settings.database_url,
        min_size=MIN_POOL_SIZE,
        max_size=settings.pool_max,
        open=False,
        name=f"dbtool-{command}",
        connection_class=_RecordingConnection,
        kwargs={
            "autocommit": True,
            "application_name": application_name(command),
            "connect_timeout": max(1, int(settings.connect_timeout)),
            # A network that silently drops an idle connection must not leave the lock session
            # looking alive to us while the server has already released its lock.
            "keepalives": 1,
            "keepalives_idle": 30,
            "keepalives_interval": 10,
            "keepalives_count": 3,
        },
        timeout=settings.connect_timeout,
    )
    logger.debug("opening pool to %s", mask_url(settings.database_url))
    pool.open(wait=False)
    try:
        _wait_ready(pool, settings, failures)
        yield pool
    finally:
        pool.close(timeout=1.0)


def _wait_ready(pool: ConnectionPool, settings: Settings, failures: list[psycopg.Error]) -> None:
    """Return once the pool holds its first MIN_POOL_SIZE connections; fail at the first refused attempt."""
    # Not pool.wait(): on timeout it closes the pool, so it cannot be polled with a short timeout
    # (a connection slower than the poll interval, e.g. a slow DNS answer, ended the run).
    deadline = time.monotonic() + settings.connect_timeout
    while pool.get_stats().get("pool_available", 0) < MIN_POOL_SIZE:
        if failures:
            raise _connect_failure(failures[0], settings) from None
        if time.monotonic() >= deadline:
            raise UnreachableError(
                f"could not connect to {settings.target} within {settings.connect_timeout:g}s; "
                "check that the server is up and reachable"
            ) from None
        time.sleep(READY_POLL_INTERVAL)


def _connect_failure(exc: psycopg.Error, settings: Settings) -> DbtoolError:
    if isinstance(exc, psycopg.OperationalError):
        return UnreachableError(describe_connect_error(exc, settings))
    # libpq refused the URL itself (unknown parameter, bad escape): bad configuration, not the network.
    return ConfigError(
        f"database URL {mask_url(settings.database_url or '')!r} is invalid: {_masked_reason(exc, settings)}; "
        "expected postgresql://user:password@host:port/dbname"
    )


def describe_connect_error(exc: psycopg.OperationalError, settings: Settings) -> str:
    """One line: the server's or libpq's reason, with the password never shown."""
    reason = _masked_reason(exc, settings)
    return f"cannot connect to {settings.target}: {reason}; check the URL, the server and your credentials"


def _masked_reason(exc: BaseException, settings: Settings) -> str:
    # libpq quotes what it could not parse, which may be the password itself.
    reason = " ".join(str(exc).split())
    url = settings.database_url or ""
    if url:
        reason = reason.replace(url, mask_url(url))
        password = url_password(url)
        reason = mask_secrets(reason, {password, quote(password, safe="")})
    return reason
