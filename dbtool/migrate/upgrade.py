"""Alembic on dbtool's own connection: the project's unmodified env.py runs inside dbtool's transaction.

dbtool points the config's `sqlalchemy.url` at `postgresql+dbtool://` (see migrate_dialect) and also
lends its connection through `config.attributes["connection"]` (Alembic's cookbook, "Sharing a
Connection"), so an env.py written either way migrates on dbtool's connection. `configure()` checks
that it does: an env.py that builds its engine from elsewhere is refused before it migrates.

The transaction stays dbtool's while the project's code runs: statements that would end it are made
harmless (dbtool.migrate.in_transaction), a COMMIT sent past SQLAlchemy is refused by the server (the commit
guard) and the client's transaction status is checked before every statement and after every step.
"""

from __future__ import annotations

import builtins
import contextlib
import logging
import os
import site
import sys
import threading
import types
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from dbtool.db.objects import version_table_name
from dbtool.errors import ConfigError, MigrationError, TransactionEndedError
from dbtool.migrate.commit_guard import Guard, refused_commit
from dbtool.settings.project import EXAMPLE_DIR, Project

logger = logging.getLogger(__name__)

SHARED_URL = "postgresql+dbtool://"
# URL schemes whose driver binds parameters on the client, as psycopg's ClientCursor does: migrations
# written for them (literal("0") into an integer column) run the way they were tested.
CLIENT_BINDING_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg2", "postgresql+psycopg2cffi", "postgresql+pg8000")
COOKBOOK_HINT = (
    "make env.py use the connection dbtool lends, as Alembic's cookbook 'Sharing a Connection' shows: "
    "connectable = config.attributes.get('connection') or engine_from_config(...), "
    "or build the engine from config's sqlalchemy.url"
)

# Alembic keeps process-wide state (alembic.context and op, the working directory, sys.path), so a
# process runs one migration at a time; a fleet's targets take turns here.
_ALEMBIC = threading.Lock()
ALEMBIC_WAIT_POLL = 0.1  # seconds between checks of WHILE_WAITING
# Called while this thread waits for its turn; a fleet raises its interrupt here.
WHILE_WAITING: ContextVar[Callable[[], None] | None] = ContextVar("dbtool_alembic_while_waiting", default=None)


def preload() -> None:
    """Import Alembic and SQLAlchemy in this thread: first imports of them racing in several threads fail (KeyError in importlib)."""
    import alembic.command
    import alembic.runtime.environment
    import alembic.script  # noqa: F401 - imported for the import itself (see the docstring)
    import sqlalchemy  # noqa: F401 - imported for the import itself

    import dbtool.migrate.dialect  # noqa: F401 - imported for the import itself


@contextmanager
def _one_at_a_time() -> Iterator[None]:
    check = WHILE_WAITING.get()
    while not _ALEMBIC.acquire(timeout=ALEMBIC_WAIT_POLL):
        if check is not None:
            check()
    try:
        yield
    finally:
        _ALEMBIC.release()


@contextmanager
def _in_project(project: Project) -> Iterator[None]:
    # `alembic` runs from the project's directory: relative script_location and prepend_sys_path
    # are relative to it, and env.py files read files relative to it. Afterwards the process is as
    # before: the directory, sys.path, and no module imported from the project's directory (two
    # projects in one process may both have a `models` module).
    directory = project.config_path.parent if project.config_path else None
    previous, path, modules = os.getcwd(), list(sys.path), set(sys.modules)
    if directory:
        os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(previous)
        sys.path[:] = path
        if directory:
            for name in set(sys.modules) - modules:
                origin = getattr(sys.modules.get(name), "__file__", None) or ""
                if origin and _from_project(Path(origin).resolve(), directory.resolve()):
                    sys.modules.pop(name, None)


def _from_project(origin: Path, directory: Path) -> bool:
    """True for a module the project's env.py imported from its own directory, not dbtool's or an installed package
    (a virtualenv inside the project directory, or another fleet target's thread importing meanwhile)."""
    if not origin.is_relative_to(directory):
        return False
    installed = {Path(p).resolve() for p in site.getsitepackages()} | {Path(__file__).resolve().parent}
    return not any(origin.is_relative_to(root) for root in installed)


def alembic_config(project: Project) -> Any:
    """An alembic Config for `project` (the built-in example has no file)."""
    from alembic.config import Config

    if project.builtin:
        config = Config()
        config.set_main_option("script_location", str(EXAMPLE_DIR))
        return config
    return Config(
        file_=str(project.ini) if project.ini else None,
        toml_file=str(project.toml) if project.toml else None,
    )


@lru_cache(maxsize=32)
def project_identity(project: Project) -> str | None:
    """The project as dbtool_meta records it: its base revision ids ("base 1a2b3c4d5e6f"), the same on
    every machine and checkout and unchanged as revisions are added (a path is neither); None when it
    has no revisions yet."""
    bases = sorted(script_directory(project).get_bases())
    return f"base {','.join(bases)}" if bases else None


def script_directory(project: Project) -> Any:
    """The project's ScriptDirectory; a project without script_location is bad configuration (exit 2)."""
    from alembic.util import CommandError

    # Whatever importing the revisions prints (importing airflow points its logs at stdout) must not
    # break --json: a handler made now keeps the stream it was given.
    with _in_project(project), contextlib.redirect_stdout(sys.stderr):
        try:
            script = _script_directory(project)
            # The revision map is read lazily, importing every revision file: do it here, where the
            # project's sys.path and working directory hold (prepend_sys_path = . finds its modules).
            _ = script.revision_map.heads
            return script
        except CommandError as exc:
            raise ConfigError(f"{project}: {_first_line(exc)}; check the project's script_location") from None


def _script_directory(project: Project) -> Any:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(project))


def heads(project: Project) -> list[str]:
    """The head revisions of the project's migrations, sorted."""
    return sorted(script_directory(project).get_heads())


def resolve_revision(project: Project, revision: str) -> str:
    """'heads', 'base', or the full revision id for `revision` (an id or a unique prefix)."""
    from alembic.util import CommandError

    if not revision.strip():
        raise ConfigError("empty revision; use head, base or a revision id (see `dbtool status`)")
    if revision in ("head", "heads"):
        return "heads"
    if revision == "base":
        return "base"
    try:
        found = script_directory(project).get_revision(revision)
    except CommandError as exc:
        raise ConfigError(f"unknown revision {revision!r} ({_first_line(exc)}); run `dbtool status` to see the heads") from None
    if found is None:
        raise ConfigError(f"unknown revision {revision!r}; run `dbtool status` to see the heads")
    return str(found.revision)


def is_downgrade(project: Project, current: list[str], target: str) -> bool:
    """True when going from the `current` heads to `target` goes down (drops what later revisions made)."""
    if not current or target == "heads":
        return False
    if target == "base":
        return True
    script = script_directory(project)
    below: set[str] = set()
    for head in current:
        below.update(s.revision for s in script.walk_revisions(base="base", head=head))
    return target in below and target not in current


def current_heads(conn: psycopg.Connection[Any], version_table: str) -> list[str]:
    """The revisions recorded in `version_table` ('schema.table'), sorted; [] when it does not exist."""
    name = sql.Identifier(*version_table.split(".", 1))
    row = conn.execute(sql.SQL("SELECT to_regclass({})").format(sql.Literal(name.as_string(conn)))).fetchone()
    if not row or row[0] is None:
        return []
    return sorted(r[0] for r in conn.execute(sql.SQL("SELECT version_num FROM {}").format(name)))


def shown(revisions: list[str]) -> str:
    """Heads as one word: 'base' for none, comma-joined for several."""
    return ",".join(revisions) or "base"


@dataclass(frozen=True)
class Upgrade:
    """What a migration did: the heads reached and where Alembic keeps its version table."""

    heads: list[str]
    version_table: str
    notes: tuple[str, ...] = ()  # statements dbtool adapted to keep its one transaction

    @property
    def revision(self) -> str:
        return shown(self.heads)


class _OwnConnection(Exception):
    """env.py configured Alembic with a connection that is not dbtool's."""


class _RunningStep:
    """Remembers which revision Alembic is running, to name it when it fails: Alembic takes its steps
    one at a time from `steps`, running each before it asks for the next."""

    def __init__(self, lending: Any) -> None:
        self.step = ""
        self.lending = lending

    def steps(self, revisions: Iterable[Any]) -> Iterator[Any]:
        for running in revisions:
            self.step = str(running)
            reached = getattr(running, "to_revisions_no_deps", None)  # a RevisionStep: the revision it applies
            self.lending.revision = ", ".join(reached) if reached else str(running)
            yield running


class _LoggingConfigWithoutFileConfig(types.ModuleType):
    """logging.config as env.py sees it: fileConfig() does nothing (it is for the `alembic` command;
    the process's logging is not env.py's to reset), the rest is logging.config's."""

    def __init__(self) -> None:
        super().__init__("logging.config")

    def __getattr__(self, name: str) -> Any:
        import logging.config

        return getattr(logging.config, name)

    @staticmethod
    def fileConfig(*args: Any, **kwargs: Any) -> None:
        return None


class _LoggingForEnvPy(types.ModuleType):
    """logging as env.py sees it: logging itself, but its `config` is _LoggingConfigWithoutFileConfig."""

    def __init__(self) -> None:
        super().__init__("logging")
        self.config = _LoggingConfigWithoutFileConfig()

    def __getattr__(self, name: str) -> Any:
        return getattr(logging, name)


_ENV_PY_LOGGING = _LoggingForEnvPy()


def _env_py_import(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (), level: int = 0) -> Any:
    """__import__ for env.py's own code: `from logging.config import fileConfig`, `import logging.config`
    and `from logging import config` give it a fileConfig that does nothing; every other import is Python's."""
    module = builtins.__import__(name, globals, locals, fromlist, level)
    if level == 0 and name == "logging.config" and fromlist:
        return _ENV_PY_LOGGING.config
    if level == 0 and name in ("logging", "logging.config"):
        return _ENV_PY_LOGGING
    return module


def _run_env(script: Any) -> None:
    """script.run_env() (Alembic's load_python_file of env.py), with env.py's imports through _env_py_import:
    only env.py's own code sees it, nothing is patched for the rest of the process."""
    import importlib.util

    from alembic.util.pyfiles import pyc_file_from_path

    path: Any = Path(script.dir) / "env.py"
    if not path.exists():
        path = pyc_file_from_path(path)
        if path is None:
            raise ImportError(f"Can't find Python file {Path(script.dir) / 'env.py'}")
    spec = importlib.util.spec_from_file_location("env_py", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    module.__dict__["__builtins__"] = {**vars(builtins), "__import__": _env_py_import}
    spec.loader.exec_module(module)


def driver_binds_on_client(url: str | None) -> bool:
    """True when the project's own URL names a driver that binds parameters on the client (psycopg2)."""
    scheme = (url or "").partition("://")[0].lower()
    return scheme in CLIENT_BINDING_SCHEMES


def _project_url(config: Any) -> str | None:
    try:
        return config.get_main_option("sqlalchemy.url")
    except Exception:  # an interpolation error in the ini: its URL is not ours to judge
        return None


def migrate(
    conn: psycopg.Connection[Any], project: Project, schema: str, revision: str = "heads", version_table: str | None = None
) -> Upgrade:
    """Run the project's env.py to `revision` (up or down) on `conn`, inside its open transaction;
    `version_table` is where an earlier run found Alembic's version table (default: in `schema`)."""
    from alembic.runtime.environment import EnvironmentContext
    from alembic.util import CommandError
    from sqlalchemy import create_engine
    from sqlalchemy.dialects import registry
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.pool import NullPool

    from dbtool.migrate.dialect import SHARED, Lending, TransactionEnded, driver_connection
    from dbtool.migrate.in_transaction import TransactionControl

    registry.register("postgresql.dbtool", "dbtool.migrate.dialect", "SharedConnectionDialect")
    target = resolve_revision(project, revision)
    seen: dict[str, Any] = {}

    lending = Lending(conn)
    step = _RunningStep(lending)
    token = SHARED.set(lending)
    engine = create_engine(SHARED_URL, poolclass=NullPool)
    cursor_factory = conn.cursor_factory
    guard = Guard(conn)
    try:
        with _one_at_a_time(), _in_project(project), engine.connect() as lent:
            config = alembic_config(project)
            if driver_binds_on_client(_project_url(config)):
                lending.client_binding = True
                conn.cursor_factory = psycopg.ClientCursor
            config.set_main_option("sqlalchemy.url", SHARED_URL)
            config.attributes["connection"] = lent
            script = _script_directory(project)
            before = current_heads(conn, version_table or version_table_name(schema))
            going_down = is_downgrade(project, before, target)

            def steps(rev: Any, _context: Any) -> Any:
                return step.steps(script._downgrade_revs(target, rev) if going_down else script._upgrade_revs(target, rev))

            environment = EnvironmentContext(config, script, fn=steps, destination_rev=target)

            def configure(connection: Any = None, **kwargs: Any) -> None:
                # env.py calls this as alembic.context.configure(): the one place to see its connection.
                if connection is None or driver_connection(connection) is not conn:
                    raise _OwnConnection()
                seen.update(version_table=kwargs.get("version_table"), version_table_schema=kwargs.get("version_table_schema"))
                theirs = kwargs.pop("on_version_apply", None)

                def applied(**info: Any) -> None:
                    lending.check_open()  # after every step: the transaction is still the one dbtool began
                    if theirs is not None:
                        theirs(**info)

                EnvironmentContext.configure(environment, connection=connection, on_version_apply=applied, **kwargs)  # type: ignore[arg-type]  # Alembic calls it with keywords ctx, step, heads, run_args; its hint is positional

            environment.configure = configure  # type: ignore[method-assign, assignment]  # on purpose: env.py's context.configure() reaches dbtool first
            guard.arm()
            # Whatever env.py or a migration prints (some apps log to stdout) must not break --json.
            with environment, contextlib.redirect_stdout(sys.stderr):
                _run_env(script)
            if not guard.disarm():
                raise TransactionEnded()
    except _OwnConnection:
        raise ConfigError(f"env.py of {project} migrates on a connection of its own, outside dbtool's transaction; {COOKBOOK_HINT}") from None
    except TransactionControl as exc:
        raise TransactionEndedError(
            f"migration {step.step or '(env.py)'} sends {exc.statement}, which would undo dbtool's one transaction; "
            "rolled back, database unchanged; remove it from the migration (raise an exception to abort instead)"
        ) from None
    except TransactionEnded:
        raise TransactionEndedError(_ended(step.step)) from None
    except CommandError as exc:
        raise MigrationError(f"alembic could not migrate to {revision!r}: {_first_line(exc)}") from None
    except DBAPIError as exc:
        if refused_commit(exc.orig):
            raise TransactionEndedError(_ended(step.step)) from None
        if isinstance(exc.orig, (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected)):
            raise exc.orig from None  # the transaction retries these with backoff
        raise MigrationError(
            f"migration {step.step or 'env.py'} failed: {_first_line(exc.orig or exc)}; nothing was changed"
        ) from None
    except ImportError as exc:
        raise ConfigError(
            f"env.py of {project} could not import {exc.name or exc}; install the project's packages where dbtool runs"
        ) from None
    except psycopg.Error as exc:
        if refused_commit(exc):
            raise TransactionEndedError(_ended(step.step)) from None
        raise
    except KeyboardInterrupt:
        raise
    except SystemExit as exc:
        from dbtool.errors import Terminated

        if isinstance(exc, Terminated):  # SIGTERM: stop the run, as for SIGINT
            raise
        # sys.exit() in the project's code ends a migration, not dbtool: its code would pass for one of
        # dbtool's exit codes (3 reads as the safety guard's refusal).
        raise MigrationError(
            f"{'migration ' + step.step if step.step else 'env.py of ' + str(project)} called sys.exit({exc.code!r}); "
            "rolled back, nothing was changed; raise an exception to abort a migration"
        ) from None
    except Exception as exc:  # the project's own code (env.py, a migration) failed: say where, in one line
        detail = " ".join(str(exc).split())
        raise MigrationError(
            f"{'migration ' + step.step if step.step else 'env.py of ' + str(project)} failed: "
            f"{type(exc).__name__}: {detail}; nothing was changed"
        ) from None
    finally:
        SHARED.reset(token)
        conn.cursor_factory = cursor_factory
        engine.dispose()
    reached = version_table_name(schema, seen.get("version_table"), seen.get("version_table_schema"))
    return Upgrade(current_heads(conn, reached), reached, tuple(lending.notes))


def _ended(revision: str) -> str:
    return (
        f"migration {revision or '(env.py)'} ended dbtool's transaction on the connection itself (a COMMIT or "
        "ROLLBACK sent past SQLAlchemy); the server refused it and rolled everything back, database unchanged; "
        "send such statements with op.execute() (dbtool skips them inside its transaction) or remove them"
    )


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
