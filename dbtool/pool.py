"""open_pool(settings): the run's psycopg_pool.ConnectionPool, failing fast with the server's reason."""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from dbtool.config import Settings, mask_url
from dbtool.errors import UnreachableError

logger = logging.getLogger(__name__)

MIN_POOL_SIZE = 2  # the lock connection and the work connection, opened in parallel


def application_name(command: str) -> str:
    """What pg_stat_activity shows for our sessions, so a lock holder can be identified."""
    return f"dbtool {command} pid={os.getpid()} host={socket.gethostname()}"[:63]


@contextmanager
def open_pool(settings: Settings, command: str) -> Iterator[ConnectionPool]:
    """Open a pool of min 2, max settings.pool_max autocommit connections; close it on exit."""
    assert settings.database_url is not None
    failures: list[psycopg.OperationalError] = []

    class _RecordingConnection(psycopg.Connection):  # type: ignore[type-arg]
        # The pool retries failed connects quietly; remember why so the CLI can say it at once.
        @classmethod
        def connect(cls, *args: Any, **kwargs: Any) -> Any:
            try:
                return super().connect(*args, **kwargs)
            except psycopg.OperationalError as exc:
                failures.append(exc)
                raise

    pool = ConnectionPool(
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


def _wait_ready(pool: ConnectionPool, settings: Settings, failures: list[psycopg.OperationalError]) -> None:
    deadline = time.monotonic() + settings.connect_timeout
    while True:
        try:
            pool.wait(timeout=0.05)
            return
        except PoolTimeout:
            if failures:
                raise UnreachableError(describe_connect_error(failures[0], settings)) from None
            if time.monotonic() >= deadline:
                raise UnreachableError(
                    f"could not connect to {settings.target} within {settings.connect_timeout:g}s; "
                    "check that the server is up and reachable"
                ) from None


def describe_connect_error(exc: psycopg.OperationalError, settings: Settings) -> str:
    """One line: the server's or libpq's reason, with the password never shown."""
    reason = " ".join(str(exc).split())
    if "password" in reason and settings.database_url:
        reason = reason.replace(settings.database_url, mask_url(settings.database_url))
    return f"cannot connect to {settings.target}: {reason}; check the URL, the server and your credentials"
