"""pytest plugin (entry point pytest11): seeded Postgres databases for tests, cloned from a template.

Fixtures: `dbtool_db` (URL of a database of the test's own), `dbtool_conn` (a psycopg connection in a
transaction rolled back at the end), `dbtool_engine` / `dbtool_session` (SQLAlchemy, the same two ways)
and `dbtool_async_engine` / `dbtool_async_sessionmaker` (SQLAlchemy asyncio, on a database of the test's
own). SQLAlchemy is imported only by the fixtures that hand it out.

Which state: `@pytest.mark.dbtool(profile=..., seed=..., scale=...)` on a test, class or module, else
--dbtool-profile / --dbtool-seed / --dbtool-alembic-config, else the ini keys dbtool_profile,
dbtool_seed, dbtool_alembic_config, else the settings file (./dbtool.toml or [tool.dbtool]) in the
rootdir, else dbtool's defaults. Which server: DATABASE_URL (clones are created next to the database
it names), else a testcontainers Postgres, else an embedded one in RAM where the machine has it,
started once per session (shared by pytest-xdist workers).
"""

from __future__ import annotations

import os
import statistics
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from dbtool.settings.options import PLUGIN_OPTIONS  # the option table: plain data

# Nothing else of dbtool (psycopg, alembic, numpy) is imported here: a session that never asks for
# dbtool_db must not pay for it. The fixtures import what they need.
if TYPE_CHECKING:
    import psycopg
    from sqlalchemy import Engine
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
    from sqlalchemy.orm import Session

    from dbtool.settings.config import Settings
    from dbtool.testdb.savepoints import TransactionalSession
    from dbtool.testdb.template import DatabaseMark, Template

MARKER = "dbtool"
MARKER_KEYS = ("profile", "seed", "scale")
DEFAULT_WARM = 2  # clones made ahead per template, on as many threads; 0 makes each clone when a test asks
SERVER_VARIABLE = "DATABASE_URL"
PROBE_ROUNDS = 3  # clones per strategy timed at session start (they are then handed to tests, not wasted)
SQLALCHEMY_DRIVER = "postgresql+psycopg"

Log = Callable[[str], None]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dbtool", "dbtool test databases (the dbtool_db fixture)")
    for entry in PLUGIN_OPTIONS:  # from dbtool's option table
        group.addoption(f"--dbtool-{entry.file_key}", type=entry.type, default=None, help=entry.plugin[0])
    group.addoption("--dbtool-warm", type=int, default=None,
                    help=f"clones made ahead per template, on as many background threads (default {DEFAULT_WARM}; 0: none)")
    group.addoption("--dbtool-clone-strategy", default=None, choices=("auto", "wal_log", "file_copy"),
                    help="how clones are copied: auto (default: time both on the server at session start, keep "
                         "the faster), wal_log, or file_copy (with file cloning on Postgres 18)")
    for entry in PLUGIN_OPTIONS:
        parser.addini(f"dbtool_{entry.name}", entry.plugin[1])
    parser.addini("dbtool_clone_strategy", "auto, wal_log or file_copy")
    parser.addini("dbtool_warm", "clones made ahead per template")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}(profile=None, seed=None, scale=None): the seeded state of this test's dbtool_db"
    )


def session_options(config: pytest.Config) -> dict[str, Any]:
    """Settings options for the session: command line > ini > settings file in the rootdir."""
    from dbtool.settings.file import read_settings_file

    root = config.rootpath
    options: dict[str, Any] = dict(read_settings_file(root).values)
    options.pop("log_format", None)
    options.pop("database_url", None)  # the server is the plugin's choice (DATABASE_URL or one it starts)
    if options.get("alembic_config"):
        options["alembic_config"] = str(root / options["alembic_config"])
    for entry in PLUGIN_OPTIONS:
        name, value = entry.name, config.getini(f"dbtool_{entry.name}")
        if value:
            options[name] = str(root / value) if name == "alembic_config" else entry.type(value)
    invoked = config.invocation_params.dir
    for entry in PLUGIN_OPTIONS:
        name, value = entry.name, config.getoption(f"dbtool_{entry.name}")
        if value is not None:
            options[name] = str(invoked / value) if name == "alembic_config" else value
    return options


def clone_strategy(config: pytest.Config) -> str:
    """How clones are copied (see dbtool.testdb.template.clone_statement)."""
    return str(config.getoption("dbtool_clone_strategy") or config.getini("dbtool_clone_strategy") or "auto")


def warm_count(config: pytest.Config) -> int:
    """How many clones to make ahead per template."""
    value = config.getoption("dbtool_warm")
    if value is None:
        value = int(config.getini("dbtool_warm") or DEFAULT_WARM)
    return max(0, int(value))


def _done(name: str) -> Future[str]:
    future: Future[str] = Future()
    future.set_result(name)
    return future


class Clones:
    """Hands out clones of templates; with `warm` > 0, `warm` background threads (one connection each)
    make them ahead and drop used ones. CREATE DATABASE waits mostly on the disk, and concurrent ones
    share its flushes: 8 clones took 159 ms each on one connection and 54 ms each on two, here.
    A clone handed back provably untouched (nobody connected to it) is handed out again instead."""

    def __init__(self, server_url: str, warm: int, strategy: str = "auto", log: Log | None = None) -> None:
        from dbtool.testdb import template

        self._template = template
        self.server_url = server_url
        self.warm = warm
        self.strategy = strategy  # "auto" until the first clone: then the faster one measured
        self.probe: dict[str, list[float]] = {}
        self.reused = 0
        self._log = log or (lambda line: None)
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
        if self.strategy != "wal_log":
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

    def _choose_strategy(self, template: Template) -> None:
        """Time PROBE_ROUNDS clones of `template` with each strategy, alternately, and keep the faster;
        the clones become the first ones handed out."""
        t = self._template
        if self._conn.info.server_version < t.FILE_COPY_MIN_VERSION:
            self.strategy = t.DEFAULT_STRATEGY  # one way to copy only
            return
        ready = self._ready.setdefault(template.name, deque())
        timings: dict[str, list[float]] = {name: [] for name in t.STRATEGIES}
        for _ in range(PROBE_ROUNDS):
            for strategy in t.STRATEGIES:
                name = t.new_clone_name(template.state.key)
                timings[strategy].append(t.time_clone(self._conn, template.name, name, strategy))
                ready.append(_done(name))
        self.probe, self.strategy = timings, t.pick_strategy(timings)
        medians = ", ".join(f"{k.upper()} {statistics.median(v) * 1000:.0f} ms" for k, v in timings.items())
        self._log(f"clone strategy {self.strategy.upper()} (median of {PROBE_ROUNDS} clones of {template.name}: {medians})")

    def take(self, template: Template) -> str:
        """The name of a fresh clone of `template`, made now or ahead (or handed back untouched)."""
        if self.strategy == self._template.AUTO_STRATEGY:
            self._choose_strategy(template)
        ready = self._ready.setdefault(template.name, deque())
        if self._executor is None:
            return ready.popleft().result() if ready else self._make(template, self._conn)
        while len(ready) < self.warm + 1:
            ready.append(self._executor.submit(self._make, template))
        return ready.popleft().result()

    def mark(self, name: str) -> DatabaseMark | None:
        """What proves later that nobody touched clone `name` (None when nothing can prove it)."""
        marked = self._template.mark_database(self._conn, name)
        return marked[0] if marked is not None and marked[1] == 0 else None

    def give_back(self, template: Template, name: str, mark: DatabaseMark | None = None) -> None:
        """Hand clone `name` out again when `mark` proves it untouched; else drop it (in the background when there is one)."""
        if mark is not None and self._template.is_untouched(self._conn, name, mark):
            self._ready.setdefault(template.name, deque()).appendleft(_done(name))
            self.reused += 1
        elif self._executor is None:
            self._template.drop_clone(self._conn, name)
        else:
            self._pending.append(self._executor.submit(self._drop, name))

    def _drop(self, name: str) -> None:
        self._template.drop_clone(self._worker_conn(), name)

    def close(self) -> None:
        """Drop every clone made ahead and not used, wait for pending drops, close the connections."""
        try:
            leftovers = [f for ready in self._ready.values() for f in ready]
            for future in leftovers:
                try:
                    name = future.result()
                except Exception:
                    continue  # never made: nothing to drop
                if self._executor is None:
                    self._template.drop_clone(self._conn, name)
                else:
                    self._pending.append(self._executor.submit(self._drop, name))
            if self._executor is not None:
                self._executor.shutdown(wait=True)
                for future in self._pending:
                    future.result()  # a failed drop is a failure of the session, not a silent leftover
        finally:
            for conn in self._thread_conns:
                conn.close()
            self._conn.close()


class SharedDatabase:
    """A clone kept for the session, on which `dbtool_conn` tests take turns in rolled-back transactions."""

    def __init__(self, template: Template, name: str, url: str, session: TransactionalSession, mark: DatabaseMark | None) -> None:
        self.template = template
        self.name = name
        self.url = url
        self.session = session
        self.mark = mark


class Databases:
    """The session's templates (one per state asked for), its clones and its shared databases."""

    def __init__(self, server_url: str, options: dict[str, Any], warm: int, root: Path, strategy: str = "auto",
                 log: Log | None = None) -> None:
        from dbtool.settings.config import Settings
        from dbtool.settings.project import find_project
        from dbtool.testdb.template import describe_server, drop_orphan_clones

        self.server_url = server_url
        self.options = options
        self.project = find_project(options.pop("alembic_config", None), root)
        self.clones = Clones(server_url, warm, strategy, log)
        if log is not None:
            log(describe_server(self.clones.conn))
        self.orphans = drop_orphan_clones(self.clones.conn)
        self.templates: dict[tuple[Any, ...], Template] = {}
        self.shared: dict[tuple[Any, ...], SharedDatabase] = {}
        self.replaced = 0  # shared databases a test may have changed, given up for fresh clones
        self._settings_type = Settings

    def settings(self, overrides: dict[str, Any]) -> Settings:
        """Validated settings for one state (ConfigError for a bad profile, seed or scale)."""
        # The project was found once, from the rootdir: not looked up again in the working directory.
        return self._settings_type.from_options(**{**self.options, **overrides, "database_url": self.server_url},
                                                project=self.project)

    def template(self, overrides: dict[str, Any]) -> Template:
        """The template for this state, found or built once per session."""
        from dbtool.testdb.template import ensure_template

        key = tuple(sorted(overrides.items()))
        if key not in self.templates:
            self.templates[key] = ensure_template(self.clones.conn, self.settings(overrides))
        return self.templates[key]

    def shared_database(self, overrides: dict[str, Any]) -> SharedDatabase:
        """The session's shared database of this state, opened on first use or after a test spoiled it."""
        from dbtool.db.pool import application_name
        from dbtool.testdb.savepoints import TransactionalSession
        from dbtool.testdb.template import mark_database, with_database

        key = tuple(sorted(overrides.items()))
        shared = self.shared.get(key)
        if shared is not None:
            return shared
        template = self.template(overrides)
        name = self.clones.take(template)
        url = with_database(self.server_url, name)
        try:
            session = TransactionalSession(url, application_name("pytest dbtool_conn"))
        except BaseException:
            self.clones.give_back(template, name)
            raise
        marked = mark_database(self.clones.conn, name)
        mark = marked[0] if marked is not None and marked[1] == 1 else None
        self.shared[key] = shared = SharedDatabase(template, name, url, session, mark)
        return shared

    def end_test(self, shared: SharedDatabase) -> None:
        """Roll back the test's transaction; give the database up unless it is proven unchanged."""
        from dbtool.testdb.template import is_untouched

        intact = shared.session.end()
        # Another session on it (the test's own connection, even closed by now) might have committed.
        if intact and is_untouched(self.clones.conn, shared.name, shared.mark, own_sessions=1):
            return
        self.replaced += 1
        del self.shared[next(k for k, v in self.shared.items() if v is shared)]
        shared.session.close()
        self.clones.give_back(shared.template, shared.name)

    def close(self) -> None:
        """Drop every clone this session made or made ahead, and what killed sessions left meanwhile."""
        from dbtool.testdb.template import drop_orphan_clones

        try:
            for shared in self.shared.values():
                shared.session.close()
                self.clones.give_back(shared.template, shared.name)
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


def _log(config: pytest.Config) -> Log:
    """Write a `dbtool: ` line to the terminal, outside captured output (nothing under xdist workers)."""
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")

    def log(line: str) -> None:
        if terminal is not None and capture is not None:
            with capture.global_and_fixture_disabled():
                terminal.write_line(f"dbtool: {line}")

    return log


@pytest.fixture(scope="session")
def dbtool_server_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """URL of the maintenance database on the server the session's databases are made on."""
    from dbtool.servers.lookup import NoServer, find_server

    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    # xdist workers of one run share one embedded server (and so one template build); a relative
    # directory is placed where the embedded server runs (RAM when the machine has it).
    shared = f"dbtool-pytest-{run}" if run else None
    with ExitStack() as stack:
        try:
            url = find_server(stack, _log(request.config), SERVER_VARIABLE, shared)
        except NoServer as exc:
            pytest.exit(f"dbtool: {exc}", returncode=pytest.ExitCode.USAGE_ERROR)
        yield url


@pytest.fixture(scope="session")
def dbtool_databases(request: pytest.FixtureRequest, dbtool_server_url: str) -> Iterator[Databases]:
    """The session's templates and clones; every clone is dropped when the session ends."""
    from dbtool.errors import DbtoolError

    try:
        databases = Databases(dbtool_server_url, session_options(request.config), warm_count(request.config),
                              request.config.rootpath, clone_strategy(request.config), _log(request.config))
    except DbtoolError as exc:
        pytest.fail(f"dbtool: {exc}", pytrace=False)
    try:
        yield databases
    finally:
        databases.close()


def _template(request: pytest.FixtureRequest, databases: Databases) -> Template:
    from dbtool.errors import DbtoolError

    try:
        return databases.template(_marker_overrides(request))
    except DbtoolError as exc:
        pytest.fail(f"dbtool: {exc}", pytrace=False)


@pytest.fixture
def dbtool_db(request: pytest.FixtureRequest, dbtool_databases: Databases) -> Iterator[str]:
    """URL of a fresh database of this test's own, holding the seeded state; dropped when the test ends
    (or handed to the next test when it is proven that nobody connected to it)."""
    from dbtool.testdb.template import with_database

    template = _template(request, dbtool_databases)
    clones = dbtool_databases.clones
    name = clones.take(template)
    mark = clones.mark(name)
    try:
        yield with_database(dbtool_databases.server_url, name)
    finally:
        clones.give_back(template, name, mark)


@pytest.fixture
def dbtool_conn(request: pytest.FixtureRequest, dbtool_databases: Databases) -> Iterator[psycopg.Connection[Any]]:
    """A psycopg connection to a seeded database, in a transaction rolled back when the test ends; the
    test's commit() and rollback() act on a savepoint. For tests that need no database of their own."""
    from dbtool.errors import DbtoolError

    try:
        shared = dbtool_databases.shared_database(_marker_overrides(request))
    except DbtoolError as exc:
        pytest.fail(f"dbtool: {exc}", pytrace=False)
    conn = shared.session.begin()
    try:
        yield conn
    finally:
        dbtool_databases.end_test(shared)


def sqlalchemy_url(url: str) -> str:
    """`url` (libpq form) for SQLAlchemy's psycopg dialect."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername=SQLALCHEMY_DRIVER).render_as_string(hide_password=False)


@pytest.fixture
def dbtool_engine(dbtool_db: str) -> Iterator[Engine]:
    """A SQLAlchemy Engine on a database of this test's own (dbtool_db); disposed when the test ends."""
    from sqlalchemy import create_engine

    engine = create_engine(sqlalchemy_url(dbtool_db))
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def dbtool_session(dbtool_conn: psycopg.Connection[Any]) -> Iterator[Session]:
    """A SQLAlchemy Session on dbtool_conn's connection and transaction (rolled back when the test ends;
    session.commit() keeps the work in a savepoint)."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session
    from sqlalchemy.pool import StaticPool

    # The engine's one connection is the test's: never dispose it (that would close the session
    # the next tests use); returning it to the pool rolls back to the test's savepoint.
    engine = create_engine(f"{SQLALCHEMY_DRIVER}://", creator=lambda: dbtool_conn, poolclass=StaticPool)
    with Session(engine) as session:
        yield session


@pytest.fixture
def dbtool_async_engine(dbtool_db: str) -> AsyncEngine:
    """A SQLAlchemy AsyncEngine on a database of this test's own; no pool, so it needs no disposing."""
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    return create_async_engine(sqlalchemy_url(dbtool_db), poolclass=NullPool)


@pytest.fixture
def dbtool_async_sessionmaker(dbtool_async_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """An async_sessionmaker on dbtool_async_engine (`async with dbtool_async_sessionmaker() as session:`)."""
    from sqlalchemy.ext.asyncio import async_sessionmaker

    return async_sessionmaker(dbtool_async_engine, expire_on_commit=False)
