"""pytest plugin (entry point pytest11): `dbtool_db` gives each test a fresh seeded database, cloned from a template.

Which state: `@pytest.mark.dbtool(profile=..., seed=..., scale=...)` on a test, class or module, else
--dbtool-profile / --dbtool-seed / --dbtool-alembic-config, else the ini keys dbtool_profile,
dbtool_seed, dbtool_alembic_config, else the settings file (./dbtool.toml or [tool.dbtool]) in the
rootdir, else dbtool's defaults. Which server: DATABASE_URL (clones are created next to the database
it names), else a testcontainers Postgres, else an embedded one, started once per session (shared by
pytest-xdist workers).
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

# Nothing else of dbtool (psycopg, alembic, numpy) is imported here: a session that never asks for
# dbtool_db must not pay for it. The fixtures import what they need.
if TYPE_CHECKING:
    import psycopg

    from dbtool.config import Settings
    from dbtool.template import Template

MARKER = "dbtool"
MARKER_KEYS = ("profile", "seed", "scale")
DEFAULT_WARM = 2  # clones made ahead per template, on as many threads; 0 makes each clone when a test asks
SERVER_VARIABLE = "DATABASE_URL"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dbtool", "dbtool test databases (the dbtool_db fixture)")
    group.addoption("--dbtool-profile", default=None, help="seed profile of dbtool_db (default: settings file, else dev)")
    group.addoption("--dbtool-seed", type=int, default=None, help="PRNG seed of dbtool_db (default: settings file, else 42)")
    group.addoption("--dbtool-alembic-config", default=None,
                    help="the project's alembic.ini or pyproject.toml (default: found in the rootdir, else the built-in example)")
    group.addoption("--dbtool-warm", type=int, default=None,
                    help=f"clones made ahead per template, on as many background threads (default {DEFAULT_WARM}; 0: none)")
    group.addoption("--dbtool-clone-strategy", default=None, choices=("wal_log", "file_copy"),
                    help="how clones are copied: wal_log (default) or file_copy (with file cloning on Postgres 18; "
                         "faster on copy-on-write file systems)")
    parser.addini("dbtool_profile", "seed profile of dbtool_db")
    parser.addini("dbtool_clone_strategy", "wal_log or file_copy")
    parser.addini("dbtool_seed", "PRNG seed of dbtool_db")
    parser.addini("dbtool_alembic_config", "the project's alembic.ini or pyproject.toml, relative to the rootdir")
    parser.addini("dbtool_warm", "clones made ahead per template")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}(profile=None, seed=None, scale=None): the seeded state of this test's dbtool_db"
    )


def session_options(config: pytest.Config) -> dict[str, Any]:
    """Settings options for the session: command line > ini > settings file in the rootdir."""
    from dbtool.settings_file import read_settings_file

    root = config.rootpath
    options: dict[str, Any] = dict(read_settings_file(root).values)
    options.pop("log_format", None)
    options.pop("database_url", None)  # the server is the plugin's choice (DATABASE_URL or one it starts)
    if options.get("alembic_config"):
        options["alembic_config"] = str(root / options["alembic_config"])
    for name in ("profile", "seed", "alembic_config"):
        value = config.getini(f"dbtool_{name}")
        if value:
            options[name] = int(value) if name == "seed" else str(root / value) if name == "alembic_config" else value
    invoked = config.invocation_params.dir
    for name in ("profile", "seed", "alembic_config"):
        value = config.getoption(f"dbtool_{name}")
        if value is not None:
            options[name] = str(invoked / value) if name == "alembic_config" else value
    return options


def clone_strategy(config: pytest.Config) -> str:
    """How clones are copied (see dbtool.template.clone_statement)."""
    return str(config.getoption("dbtool_clone_strategy") or config.getini("dbtool_clone_strategy") or "wal_log")


def warm_count(config: pytest.Config) -> int:
    """How many clones to make ahead per template."""
    value = config.getoption("dbtool_warm")
    if value is None:
        value = int(config.getini("dbtool_warm") or DEFAULT_WARM)
    return max(0, int(value))


class Clones:
    """Hands out clones of templates; with `warm` > 0, `warm` background threads (one connection each)
    make them ahead and drop used ones. CREATE DATABASE waits mostly on the disk, and concurrent ones
    share its flushes: 8 clones took 159 ms each on one connection and 54 ms each on two, here."""

    def __init__(self, server_url: str, warm: int, strategy: str = "wal_log") -> None:
        from dbtool import template

        self._template = template
        self.server_url = server_url
        self.warm = warm
        self.strategy = strategy
        self._conn = self._connect()
        self._ready: dict[str, deque[Future[str]]] = {}
        self._pending: list[Future[Any]] = []
        self._executor = ThreadPoolExecutor(max_workers=warm, thread_name_prefix="dbtool-clones") if warm else None
        self._local = threading.local()
        self._thread_conns: list[psycopg.Connection[Any]] = []
        self._conns_lock = threading.Lock()

    @property
    def conn(self) -> psycopg.Connection[Any]:
        """The session's connection to the maintenance database (main thread only)."""
        return self._conn

    def _connect(self) -> psycopg.Connection[Any]:
        conn = self._template.admin_connection(self.server_url, "pytest")
        if self.strategy == "file_copy":
            self._template.prefer_file_clone(conn)
        return conn

    def _worker_conn(self) -> psycopg.Connection[Any]:
        conn = getattr(self._local, "conn", None)
        if conn is None:  # one connection per background thread, made when it first works
            conn = self._local.conn = self._connect()
            with self._conns_lock:
                self._thread_conns.append(conn)
        return conn

    def _make(self, template: Template, conn: psycopg.Connection[Any] | None = None) -> str:
        name = self._template.new_clone_name(template.state.key)
        self._template.create_clone(conn or self._worker_conn(), template.name, name, self.strategy)
        return name

    def take(self, template: Template) -> str:
        """The name of a fresh clone of `template`, made now or ahead."""
        if self._executor is None:
            return self._make(template, self._conn)
        ready = self._ready.setdefault(template.name, deque())
        while len(ready) < self.warm + 1:
            ready.append(self._executor.submit(self._make, template))
        return ready.popleft().result()

    def give_back(self, name: str) -> None:
        """Drop clone `name` (on the background thread when there is one)."""
        if self._executor is None:
            self._template.drop_clone(self._conn, name)
        else:
            self._pending.append(self._executor.submit(self._drop, name))

    def _drop(self, name: str) -> None:
        self._template.drop_clone(self._worker_conn(), name)

    def close(self) -> None:
        """Drop every clone made ahead and not used, wait for pending drops, close the connections."""
        try:
            if self._executor is not None:
                leftovers = [f for ready in self._ready.values() for f in ready]
                for future in leftovers:
                    try:
                        name = future.result()
                    except Exception:
                        continue  # never made: nothing to drop
                    self._pending.append(self._executor.submit(self._drop, name))
                self._executor.shutdown(wait=True)
                for future in self._pending:
                    future.result()  # a failed drop is a failure of the session, not a silent leftover
        finally:
            for conn in self._thread_conns:
                conn.close()
            self._conn.close()


class Databases:
    """The session's templates (one per state asked for) and its clones."""

    def __init__(self, server_url: str, options: dict[str, Any], warm: int, root: Path, strategy: str = "wal_log") -> None:
        from dbtool.config import Settings
        from dbtool.project import find_project
        from dbtool.template import drop_orphan_clones

        self.server_url = server_url
        self.options = options
        self.project = find_project(options.pop("alembic_config", None), root)
        self.clones = Clones(server_url, warm, strategy)
        self.orphans = drop_orphan_clones(self.clones.conn)
        self.templates: dict[tuple[Any, ...], Template] = {}
        self._settings_type = Settings

    def settings(self, overrides: dict[str, Any]) -> Settings:
        """Validated settings for one state (ConfigError for a bad profile, seed or scale)."""
        settings = self._settings_type.from_options(**{**self.options, **overrides, "database_url": self.server_url})
        settings.__dict__["project"] = self.project  # found once, from the rootdir (see template._pinned)
        return settings

    def template(self, overrides: dict[str, Any]) -> Template:
        """The template for this state, found or built once per session."""
        from dbtool.template import ensure_template

        key = tuple(sorted(overrides.items()))
        if key not in self.templates:
            self.templates[key] = ensure_template(self.clones.conn, self.settings(overrides))
        return self.templates[key]

    def close(self) -> None:
        """Drop every clone this session made or made ahead, and what killed sessions left meanwhile."""
        from dbtool.template import drop_orphan_clones

        try:
            # Again at the end: a killed session's last CREATE DATABASE may still have been running
            # on the server when this session started, and appear only after the first sweep.
            self.orphans += drop_orphan_clones(self.clones.conn)
        finally:
            self.clones.close()


def _marker_overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker(MARKER)
    if marker is None:
        return {}
    if marker.args or set(marker.kwargs) - set(MARKER_KEYS):
        pytest.fail(f"@pytest.mark.{MARKER} takes keyword arguments {', '.join(MARKER_KEYS)} only; "
                    f"got {marker.args or ''} {marker.kwargs}", pytrace=False)
    return {k: v for k, v in marker.kwargs.items() if v is not None}


@pytest.fixture(scope="session")
def dbtool_server_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """URL of the maintenance database on the server the session's dbtool_db clones are made on."""
    from dbtool.server_lookup import NoServer, find_server

    terminal = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")

    def log(line: str) -> None:
        if terminal is not None and capture is not None:
            with capture.global_and_fixture_disabled():
                terminal.write_line(f"dbtool: {line}")

    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    # xdist workers of one run share one embedded server (and so one template build).
    shared = os.path.join(tempfile.gettempdir(), f"dbtool-pytest-{run}") if run else None
    with ExitStack() as stack:
        try:
            url = find_server(stack, log, SERVER_VARIABLE, shared)
        except NoServer as exc:
            pytest.exit(f"dbtool: {exc}", returncode=pytest.ExitCode.USAGE_ERROR)
        yield url


@pytest.fixture(scope="session")
def dbtool_databases(request: pytest.FixtureRequest, dbtool_server_url: str) -> Iterator[Databases]:
    """The session's templates and clones; every clone is dropped when the session ends."""
    from dbtool.errors import DbtoolError

    try:
        databases = Databases(dbtool_server_url, session_options(request.config), warm_count(request.config),
                              request.config.rootpath, clone_strategy(request.config))
    except DbtoolError as exc:
        pytest.fail(f"dbtool: {exc}", pytrace=False)
    try:
        yield databases
    finally:
        databases.close()


@pytest.fixture
def dbtool_db(request: pytest.FixtureRequest, dbtool_databases: Databases) -> Iterator[str]:
    """URL of a fresh database of this test's own, holding the seeded state; dropped when the test ends."""
    from dbtool.errors import DbtoolError
    from dbtool.template import with_database

    try:
        template = dbtool_databases.template(_marker_overrides(request))
    except DbtoolError as exc:
        pytest.fail(f"dbtool: {exc}", pytrace=False)
    name = dbtool_databases.clones.take(template)
    try:
        yield with_database(dbtool_databases.server_url, name)
    finally:
        dbtool_databases.clones.give_back(name)
