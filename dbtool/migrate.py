"""Alembic on dbtool's own connection, plus the rendered-script cache that lets a reset skip importing it.

Alembic is the source of truth. On a cache miss dbtool runs `alembic upgrade` on its connection
(inside the reset transaction) and records every statement Alembic executed, rendered with its
parameters. The record is keyed by `scripts_hash()`, a hash of the migration scripts and the
Alembic/SQLAlchemy versions, so any edit to a migration invalidates it. A later reset of an empty
schema with the same hash replays that rendering in one round trip: the same SQL, without the
~0.2 s it costs to import Alembic and SQLAlchemy.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import psycopg

import dbtool
from dbtool.errors import ConfigError, MigrationError

logger = logging.getLogger(__name__)

_PACKAGE_DIR = Path(dbtool.__file__).resolve().parent
# Installed wheels carry the environment as dbtool/migrations; a source checkout has it at the top.
MIGRATIONS_DIR = next(
    (d for d in (_PACKAGE_DIR / "migrations", _PACKAGE_DIR.parent / "migrations") if (d / "env.py").is_file()),
    _PACKAGE_DIR.parent / "migrations",
)
VERSION_TABLE = "alembic_version"


@lru_cache(maxsize=1)
def scripts_hash() -> str:
    """sha256 of the migration environment and the tool versions that render it."""
    h = hashlib.sha256()
    for name in ("dbtool", "alembic", "sqlalchemy"):
        h.update(f"{name}={metadata.version(name)}\n".encode())
    for path in sorted([MIGRATIONS_DIR / "env.py", *MIGRATIONS_DIR.glob("versions/*.py")]):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def _script_directory() -> Any:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS_DIR))


def head_revision() -> str:
    """The single head revision of the migration scripts (imports Alembic)."""
    heads = _script_directory().get_heads()
    if len(heads) != 1:
        raise MigrationError(f"migrations have {len(heads)} heads ({', '.join(heads)}); merge them into one")
    return str(heads[0])


def resolve_revision(revision: str) -> str:
    """Return the full revision id for `revision` ('head', 'base', an id or a unique prefix)."""
    from alembic.util import CommandError

    if not revision.strip():
        raise ConfigError("empty revision; use head, base or a revision id (see `dbtool status`)")
    if revision in ("head", "heads"):
        return head_revision()
    if revision == "base":
        return "base"
    try:
        script = _script_directory().get_revision(revision)
    except CommandError as exc:
        raise ConfigError(f"unknown revision {revision!r} ({exc}); run `dbtool status` to list revisions") from None
    if script is None:
        raise ConfigError(f"unknown revision {revision!r}; run `dbtool status` to list revisions")
    return str(script.revision)


def all_revisions() -> list[str]:
    """Revision ids from base to head."""
    return [s.revision for s in reversed(list(_script_directory().walk_revisions()))]


def is_downgrade(current: str | None, target: str) -> bool:
    """True when migrating from `current` to `target` goes down (drops what later revisions made)."""
    if current is None:
        return False
    order = ["base", *all_revisions()]
    return current not in order or order.index(target) < order.index(current)


def current_revision(conn: psycopg.Connection, schema: str) -> str | None:  # type: ignore[type-arg]
    """The revision recorded in the schema's alembic_version table, or None."""
    row = conn.execute("SELECT to_regclass(%s)", (f"{schema}.{VERSION_TABLE}",)).fetchone()
    if not row or row[0] is None:
        return None
    found = conn.execute(f'SELECT version_num FROM "{schema}".{VERSION_TABLE}').fetchone()
    return found[0] if found else None


def _shared_engine(conn: psycopg.Connection) -> Any:  # type: ignore[type-arg]
    """A SQLAlchemy engine whose only connection is `conn`, already inside dbtool's transaction."""
    from sqlalchemy import create_engine
    from sqlalchemy.dialects import registry
    from sqlalchemy.pool import NullPool

    registry.register("postgresql.dbtool_shared", "dbtool.migrate_dialect", "SharedConnectionDialect")
    return create_engine("postgresql+dbtool_shared://", creator=lambda: conn, poolclass=NullPool)


@dataclass(frozen=True)
class Upgrade:
    """What a migration did: the revision reached and the SQL that got it there."""

    revision: str
    script: str


def migrate(conn: psycopg.Connection, schema: str, revision: str = "head") -> Upgrade:  # type: ignore[type-arg]
    """Run Alembic to `revision` (up or down) on `conn`, inside its open transaction; return the rendered SQL."""
    from alembic import command
    from alembic.config import Config
    from alembic.util import CommandError
    from sqlalchemy import event
    from sqlalchemy.exc import DBAPIError

    target = resolve_revision(revision)
    going_down = is_downgrade(current_revision(conn, schema), target)
    engine = _shared_engine(conn)
    rendered: list[str] = []
    renderer = psycopg.ClientCursor(conn)

    def record(_c: Any, _cur: Any, statement: str, params: Any, _ctx: Any, many: bool) -> None:
        for p in params if many else [params]:
            rendered.append(renderer.mogrify(statement, p or None).rstrip().rstrip(";"))

    try:
        with engine.connect() as sa_conn:
            event.listen(sa_conn, "before_cursor_execute", record)
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS_DIR))
            config.attributes["connection"] = sa_conn
            (command.downgrade if going_down else command.upgrade)(config, target)
    except CommandError as exc:
        raise MigrationError(f"alembic could not migrate to {revision!r}: {exc}") from None
    except DBAPIError as exc:
        if isinstance(exc.orig, (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected)):
            raise exc.orig from None  # the transaction retries these with backoff
        raise MigrationError(f"migration to {revision!r} failed: {_first_line(exc.orig or exc)}; nothing was changed") from None
    finally:
        engine.dispose()
    reached = current_revision(conn, schema) or "base"
    return Upgrade(reached, ";\n".join(rendered) + ";\n" if rendered else "")


def replay(conn: psycopg.Connection, script: str) -> None:  # type: ignore[type-arg]
    """Execute a cached rendering of an upgrade from an empty schema, in one round trip."""
    try:
        conn.execute(script.encode())
    except psycopg.Error as exc:
        raise MigrationError(f"replaying cached migrations failed: {_first_line(exc)}; nothing was changed") from None


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
