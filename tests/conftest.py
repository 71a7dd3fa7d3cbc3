"""A real Postgres for every test (see tests/server_lookup.py for the order it is looked for in).

Each test that asks for `database_url` gets its own freshly created database, dropped afterwards.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, nullcontext
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from tests.server_lookup import NoServer, find_server

TEST_DB_PREFIX = "dbtool_test_"


def _with_database(url: str, dbname: str) -> str:
    """`url` pointing at database `dbname` instead (works for host= query URLs too)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{dbname}"))


@pytest.fixture(scope="session")
def server_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """URL of a maintenance database on a real server where tests may create databases."""
    plugins = request.config.pluginmanager
    terminal, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")

    def log(line: str) -> None:
        # Outside the test's captured output, so that it is shown even when every test passes.
        with capture.global_and_fixture_disabled() if capture is not None else nullcontext():
            if terminal is not None:
                terminal.write_line(f"dbtool tests: {line}")
            else:
                print(f"dbtool tests: {line}", file=sys.stderr)

    with ExitStack() as stack:
        try:
            url = find_server(stack, log)
        except NoServer as exc:
            # One clear line instead of the same setup error for every test.
            pytest.exit(str(exc), returncode=pytest.ExitCode.USAGE_ERROR)
        yield url


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
