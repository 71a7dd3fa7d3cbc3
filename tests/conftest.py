"""A real Postgres for every test (see tests/server_lookup.py for the order it is looked for in).

Each test that asks for `database_url` gets its own freshly created database, dropped afterwards;
one that asks for `seeded_url` gets a database holding what `dbtool reset --profile ci` leaves,
cloned from a template reset once per session (tests about the reset itself run the reset).

pyproject's addopts run `-n auto`: a whole-suite run (`python -m pytest`, no paths) gets two
pytest-xdist workers, each with a server of its own; the fire scenarios share one worker, one after
another. A run that names paths, or a server (DBTOOL_TEST_DATABASE_URL), runs in one process.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, nullcontext
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from tests.helpers import dbtool
from tests.server_lookup import NoServer, find_server

TEST_DB_PREFIX = "dbtool_test_"
WHOLE_SUITE_WORKERS = 2  # the fire scenarios are sized for 2 cores; more workers would each start a server
FIRE_UNIT = "tests/fire/"


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """Workers for `-n auto`: two for a whole-suite run on a machine with two cores or more, else none.

    A run that names files or tests is too short to repay starting workers (each imports dbtool and
    starts a server); with DBTOOL_TEST_DATABASE_URL the workers would share one server, where tests
    that look across the server (clones left, advisory locks held) would see each other's."""
    whole_suite = config.args_source == pytest.Config.ArgsSource.TESTPATHS
    if not whole_suite or os.environ.get("DBTOOL_TEST_DATABASE_URL") or (os.cpu_count() or 1) < 2:
        return 0
    return WHOLE_SUITE_WORKERS


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """With `-n`, every test under tests/fire/ is one unit of work: the fire scenarios time what they do,
    so they run on one worker, one after another; every other test is a unit of its own (like --dist
    load). An explicit --dist other than load keeps its own scheduler. (xdist's loadgroup would do it
    with a marker, but renames test ids in a way pytest 9 ignores.)"""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class FireApart(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return FIRE_UNIT if nodeid.startswith(FIRE_UNIT) else nodeid

    return FireApart(config, log)


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
def new_database(server_url: str) -> Iterator[Callable[..., str]]:
    """Factory: each call creates one more database, empty or a clone of database `template`; all are
    dropped afterwards."""
    created: list[str] = []

    def create(template: str | None = None) -> str:
        name = f"{TEST_DB_PREFIX}{uuid.uuid4().hex[:12]}"
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(statement)
        created.append(name)
        return _with_database(server_url, name)

    yield create
    with psycopg.connect(server_url, autocommit=True) as admin:
        for name in created:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def ci_template(server_url: str) -> Iterator[str]:
    """Name of a database `dbtool reset --profile ci` (the built-in example, seed 42) left, made once per
    session (per xdist worker) for `seeded` tests to clone; dropped at the end."""
    name = f"{TEST_DB_PREFIX}template_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        result = dbtool("reset", "--database-url", _with_database(server_url, name), "--profile", "ci")
        assert result.exit_code == 0, result.output
        yield name
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def database_url(request: pytest.FixtureRequest, new_database: Callable[..., str]) -> str:
    """A database of its own for this test: empty, or under `@pytest.mark.seeded` holding what
    `dbtool reset --profile ci` leaves (a clone of `ci_template`: a file copy instead of a reset, for
    tests that only arrange that state; tests about the reset itself run it)."""
    if request.node.get_closest_marker("seeded"):
        return new_database(request.getfixturevalue("ci_template"))
    return new_database()


@pytest.fixture
def seeded_url(new_database: Callable[..., str], ci_template: str) -> str:
    """A database of its own holding what `dbtool reset --profile ci` leaves (a clone of `ci_template`)."""
    return new_database(ci_template)


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection]:  # type: ignore[type-arg]
    """An autocommit connection to this test's database, for arranging and checking state."""
    with psycopg.connect(database_url, autocommit=True) as c:
        yield c
