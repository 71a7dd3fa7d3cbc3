"""Templates: a seeded database built once per state, cloned per test or script in milliseconds.

A template is named by a hash of everything that defines its contents (the migrations tree, env.py
and config file, the generator version, profile, seed, scale, schema, dbtool's version and the
server's major version), so an edited migration names a new template and a stale one is never used.
It is built by `reset_database` under a scratch name, under an advisory lock on the maintenance
database (concurrent builders wait, then find it), and renamed into place only when complete.
Clones are named after the process that made them, so a later run can drop those whose maker died.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
import re
import socket
import statistics
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg import sql

import dbtool
from dbtool.db.lock import lock_holders
from dbtool.errors import ConfigError, LockBusyError
from dbtool.report import Reporter
from dbtool.settings import urls
from dbtool.settings.config import Settings

logger = logging.getLogger(__name__)

TEMPLATE_PREFIX = "dbtool_tpl_"
BUILD_PREFIX = "dbtool_build_"  # a template being built; renamed to TEMPLATE_PREFIX when complete
CLONE_PREFIX = "dbtool_clone_"
KEY_LENGTH = 20  # hex digits of sha256 in a template's name: 80 bits
CLONE_KEY_LENGTH = 8  # hex digits of the template key in a clone's name: enough to tell templates apart
HOST_ID_LENGTH = 6
TEMPLATE_LOCK_KEY = 0x44425450  # "DBTP"; held on the maintenance database while building or pruning
LOCK_POLL_INTERVAL = 0.05  # seconds between pg_try_advisory_lock attempts while another process builds
DEFAULT_UNUSED_MINUTES = 10.0  # a stale template untouched this long may be dropped
FILE_COPY_MIN_VERSION = 150000  # CREATE DATABASE ... STRATEGY arrived in Postgres 15
FILE_COPY_METHOD_MIN_VERSION = 180000  # file_copy_method = clone arrived in Postgres 18
FORCE_DROP_MIN_VERSION = 130000
COMMENT_MARK = "dbtool-template"
SKIPPED_DIRS = {"__pycache__", ".mypy_cache", ".pytest_cache"}
SKIPPED_SUFFIXES = (".pyc", ".pyo")
CLONE_NAME = re.compile(rf"{CLONE_PREFIX}([0-9a-f]{{{CLONE_KEY_LENGTH}}})_([0-9a-f]{{{HOST_ID_LENGTH}}})_(\d+)_(\d+)")
MAX_IDENTIFIER_BYTES = 63


# --- pure: names and keys -------------------------------------------------------------------------


@dataclass(frozen=True)
class State:
    """Everything that defines a template's contents; its hash names the template."""

    migrations: str  # digest of the migrations tree, env.py and the config file
    generator_version: int | None
    profile: str | None
    seed: int | None
    scale: int | None
    schema: str
    server_major: int
    dbtool_version: str

    @property
    def key(self) -> str:
        """The hex key naming this state's template."""
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:KEY_LENGTH]

    @property
    def lineage(self) -> str:
        """What every template of one migrations tree shares, whatever its profile or seed."""
        parts = (self.migrations, self.generator_version, self.server_major, self.dbtool_version)
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:KEY_LENGTH]


def migrations_digest(files: Mapping[str, bytes]) -> str:
    """sha256 over (name, content digest) of every file, in name order; names are project-relative."""
    outer = hashlib.sha256()
    for name in sorted(files):
        outer.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return outer.hexdigest()


def template_name(key: str) -> str:
    """The database name of the template with `key`."""
    return f"{TEMPLATE_PREFIX}{key}"


def build_name(key: str) -> str:
    """The scratch name a template is built under before it is renamed into place."""
    return f"{BUILD_PREFIX}{key}"


def host_id(hostname: str) -> str:
    """A short, stable id of a host, for clone names."""
    return hashlib.sha256(hostname.encode()).hexdigest()[:HOST_ID_LENGTH]


@dataclass(frozen=True)
class CloneName:
    """Who made a clone: the template key prefix, the host id and the process id, and its number."""

    key: str
    host: str
    pid: int
    number: int

    def __str__(self) -> str:
        return f"{CLONE_PREFIX}{self.key[:CLONE_KEY_LENGTH]}_{self.host}_{self.pid}_{self.number}"


def parse_clone_name(name: str) -> CloneName | None:
    """The CloneName for a database name made by `CloneName.__str__`, else None."""
    match = CLONE_NAME.fullmatch(name)
    if match is None:
        return None
    key, host, pid, number = match.groups()
    return CloneName(key, host, int(pid), int(number))


def is_orphan(clone: CloneName, this_host: str, alive: Callable[[int], bool]) -> bool:
    """True when `clone` was made on this host by a process that is gone (clones of other hosts are left alone)."""
    return clone.host == this_host and not alive(clone.pid)


def is_stale(comment: Mapping[str, Any], current: State, project: str, now: float, unused_for: float) -> bool:
    """True when a template (described by its comment) belongs to `project`, comes from another lineage
    (an older migrations tree, generator, dbtool or server), and was not used for `unused_for` seconds."""
    if comment.get("project") != project or comment.get("lineage") == current.lineage:
        return False
    used = comment.get("used")
    return isinstance(used, (int, float)) and now - used >= unused_for


def with_database(url: str, dbname: str) -> str:
    """`url` pointing at database `dbname` instead (a dbname= parameter too)."""
    return urls.with_dbname(url, dbname)


STRATEGIES = ("wal_log", "file_copy")
DEFAULT_STRATEGY = "wal_log"
AUTO_STRATEGY = "auto"  # measure both on the server at hand and keep the faster (see pick_strategy)


def pick_strategy(timings: Mapping[str, Sequence[float]]) -> str:
    """The strategy with the lowest median clone time (seconds); DEFAULT_STRATEGY on a tie or with no timings."""
    medians = {name: statistics.median(values) for name, values in timings.items() if values}
    if not medians:
        return DEFAULT_STRATEGY
    best = min(medians.values())
    return DEFAULT_STRATEGY if medians.get(DEFAULT_STRATEGY) == best else min(medians, key=lambda n: medians[n])


def file_system_type(path: str, mounts: str) -> str | None:
    """The type of the file system holding `path` (absolute, resolved), from /proc/mounts text; None if unknown."""
    best: tuple[int, str] | None = None
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        inside = path == point or path.startswith(point.rstrip("/") + "/")
        if inside and (best is None or len(point) > best[0]):
            best = (len(point), fields[2])
    return best[1] if best else None


def clone_statement(template: str, clone: str, server_version: int, strategy: str = DEFAULT_STRATEGY) -> sql.Composed:
    """CREATE DATABASE `clone` from `template`; `file_copy` copies files where the server can (Postgres >= 15)."""
    if strategy not in STRATEGIES:
        raise ConfigError(f"clone strategy {strategy!r} is unknown; use one of {', '.join(STRATEGIES)}")
    statement = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(clone), sql.Identifier(template))
    if strategy == "file_copy" and server_version >= FILE_COPY_MIN_VERSION:
        # Not the default: FILE_COPY checkpoints before and after every copy. Measured on ext4 (no
        # reflink), a small template cloned no faster than with WAL_LOG with fsync off, and 1-3x slower
        # with fsync on. It pays on copy-on-write file systems (btrfs, XFS, APFS) with Postgres 18's
        # file_copy_method = clone, where a large template costs almost nothing to copy.
        statement = statement + sql.SQL(" STRATEGY FILE_COPY")
    return statement


def without_password(url: str) -> str:
    """`url` with its password removed (not masked: the result still connects, through ~/.pgpass or trust)."""
    return urls.without_password(url)


def check_database_name(name: str) -> None:
    """Raise ConfigError for a name Postgres would truncate, or one in dbtool's own namespaces."""
    if not name or len(name.encode()) > MAX_IDENTIFIER_BYTES:
        raise ConfigError(f"database name {name!r} must be 1 to {MAX_IDENTIFIER_BYTES} bytes long")
    if name.startswith((TEMPLATE_PREFIX, BUILD_PREFIX, CLONE_PREFIX)):
        raise ConfigError(f"database name {name!r} is in dbtool's own namespace ({TEMPLATE_PREFIX}, "
                          f"{BUILD_PREFIX}, {CLONE_PREFIX}); choose another name")


# --- I/O: reading the project ---------------------------------------------------------------------


def project_files(settings: Settings) -> dict[str, bytes]:
    """Every file that defines the project's migrations: the script location and version locations
    (recursively, env.py included) and the config file(s), named relative to the script location."""
    from dbtool.migrate.upgrade import script_directory

    project = settings.project
    script = script_directory(project)
    base = Path(script.dir).resolve()
    config_dir = project.config_path.parent if project.config_path else base
    roots = {base}
    for location in script.version_locations or ():
        path = Path(location)
        roots.add((path if path.is_absolute() else config_dir / path).resolve())
    files: dict[str, bytes] = {}
    for root in sorted(roots):
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.name.endswith(SKIPPED_SUFFIXES) and not SKIPPED_DIRS & set(path.parts):
                files[os.path.relpath(path, base)] = path.read_bytes()
    for config in (project.ini, project.toml):
        if config is not None:
            files[f"config:{config.name}"] = config.read_bytes()
    return files


def project_id(settings: Settings) -> str:
    """Which project a template belongs to (pruning only ever drops a project's own old templates)."""
    project = settings.project
    return "builtin" if project.builtin else str(project.config_path)


def describe_state(settings: Settings, server_version: int) -> State:
    """The State `settings` would produce on a server of `server_version` (reads the project's files)."""
    from dbtool.seed.hooks import hook_source
    from dbtool.seed.profiles import GENERATOR_VERSION

    own = settings.seed_profiles.get(settings.profile)
    # A project's own profile (counts, overrides, hooks and the hooks' code) is part of the state it names.
    named = repr(own) + "".join(hook_source(spec, own.directory) for spec in sorted(own.hooks.values())) if own else ""
    return State(
        migrations=migrations_digest(project_files(settings)),
        generator_version=GENERATOR_VERSION,
        profile=settings.profile + (f"+{hashlib.sha256(named.encode()).hexdigest()[:8]}" if own else ""),
        seed=settings.seed,
        scale=settings.scale,
        schema=settings.schema,
        server_major=server_version // 10000,
        dbtool_version=dbtool.__version__,
    )


# --- I/O: the server ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    """A template ready to clone."""

    name: str
    state: State
    built: bool  # this call built it
    seconds: float  # time spent finding or building it (waiting for another builder included)


@dataclass(frozen=True)
class TemplateInfo:
    """A template on the server, as `dbtool templates` lists it."""

    name: str
    size: int
    comment: dict[str, Any]


@dataclass(frozen=True)
class Pruned:
    """What a prune dropped."""

    templates: list[str]
    clones: list[str]
    builds: list[str]


def owner_alive(pid: int) -> bool:
    """True when process `pid` exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


THIS_HOST = host_id(socket.gethostname())
_clone_numbers = itertools.count(1)


def new_clone_name(key: str) -> str:
    """A clone name no other process or call uses: template key prefix, host, pid and a counter."""
    return str(CloneName(key, THIS_HOST, os.getpid(), next(_clone_numbers)))


def _pinned(settings: Settings, url: str) -> Settings:
    """`settings` aimed at `url`, keeping the project already found (not looked up again in the cwd)."""
    return replace(settings, database_url=url)  # replace carries the project along


def _exists(conn: psycopg.Connection[Any], name: str, template: bool = False) -> bool:
    row = conn.execute(
        "SELECT 1 FROM pg_database WHERE datname = %s AND (datistemplate OR NOT %s)", (name, template)
    ).fetchone()
    return row is not None


@contextmanager
def template_lock(conn: psycopg.Connection[Any], timeout: float) -> Iterator[None]:
    """Hold the template lock on `conn` (a session advisory lock on the maintenance database)."""
    started = time.monotonic()
    while not conn.execute("SELECT pg_try_advisory_lock(%s)", (TEMPLATE_LOCK_KEY,)).fetchone()[0]:  # type: ignore[index]  # SELECT without FROM: one row
        waited = time.monotonic() - started
        if waited >= timeout:
            holders = "; ".join(map(str, lock_holders(conn, TEMPLATE_LOCK_KEY))) or "a session that just ended"
            raise LockBusyError(
                f"template lock {TEMPLATE_LOCK_KEY} still held after {waited:.1f}s by {holders} (building a "
                "template); wait for it or raise --lock-timeout"
            )
        time.sleep(LOCK_POLL_INTERVAL)
    try:
        yield
    finally:
        try:
            conn.execute("SELECT pg_advisory_unlock(%s)", (TEMPLATE_LOCK_KEY,))
        except psycopg.Error as exc:
            # Cleanup never hides the original error; closing the session frees the lock anyway.
            logger.info("could not release template lock (%s); closing the session releases it", exc)
            conn.close()


def _comment(conn: psycopg.Connection[Any], name: str) -> dict[str, Any]:
    row = conn.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", (name,)
    ).fetchone()
    try:
        document = json.loads(row[0]) if row and row[0] else {}
    except ValueError:
        return {}
    return document if isinstance(document, dict) and document.get(COMMENT_MARK) else {}


def _set_comment(conn: psycopg.Connection[Any], name: str, document: dict[str, Any]) -> None:
    conn.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(name), sql.Literal(json.dumps(document))))


def _touch(conn: psycopg.Connection[Any], name: str) -> None:
    """Record that a session uses template `name` now (pruning spares recently used templates)."""
    try:
        document = _comment(conn, name)
        if document:
            _set_comment(conn, name, {**document, "used": time.time()})
    except psycopg.Error as exc:
        # Two sessions touching at once ("tuple concurrently updated"), or another user's template:
        # the other session's time is as good as ours.
        logger.debug("could not record use of %s: %s", name, exc)


def ensure_template(
    conn: psycopg.Connection[Any], settings: Settings, reporter: Reporter | None = None, prune_unused_for: float | None = None
) -> Template:
    """The template for `settings` on `conn`'s server (autocommit, on the maintenance database),
    built once under the template lock if missing; then the project's stale templates are pruned."""
    started = time.monotonic()
    state = describe_state(settings, conn.info.server_version)
    name = template_name(state.key)
    if _exists(conn, name, template=True):
        _touch(conn, name)
        return Template(name, state, False, time.monotonic() - started)
    with template_lock(conn, settings.lock_timeout):
        if _exists(conn, name, template=True):  # another process built it while we waited
            _touch(conn, name)
            return Template(name, state, False, time.monotonic() - started)
        _build(conn, settings, state, reporter or Reporter("text", as_json=True))
        unused_for = DEFAULT_UNUSED_MINUTES * 60 if prune_unused_for is None else prune_unused_for
        _prune_locked(conn, state, project_id(settings), unused_for)
    return Template(name, state, True, time.monotonic() - started)


def _build(conn: psycopg.Connection[Any], settings: Settings, state: State, reporter: Reporter) -> None:
    from dbtool.run.reset import reset_database

    scratch, name = build_name(state.key), template_name(state.key)
    logger.info("building template %s", name)
    # A scratch database of this key is a builder's that died: only the lock holder builds.
    _drop(conn, scratch)
    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(scratch)))
    try:
        reset_database(_pinned(settings, with_database(settings.database_url or "", scratch)), reporter)
        now = time.time()
        _set_comment(conn, scratch, {
            COMMENT_MARK: 1, "key": state.key, "lineage": state.lineage, "project": project_id(settings),
            **asdict(state), "built": now, "used": now,
        })
        # Sealed before it is published: no session may connect to it (a connection would make every
        # clone fail with "source database is being accessed by other users").
        conn.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false IS_TEMPLATE true").format(sql.Identifier(scratch)))
        # The rename is the one step that makes it visible, so no one ever clones a half-built template.
        conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(scratch), sql.Identifier(name)))
    except BaseException:
        try:
            _drop(conn, scratch)
        except Exception as exc:  # cleanup never hides the original error
            logger.info("could not drop scratch database %s (%s); the next build removes it", scratch, exc)
        raise


def _drop(conn: psycopg.Connection[Any], name: str) -> None:
    """Drop database `name` if it exists (a template is unmarked first: Postgres refuses to drop one)."""
    if _exists(conn, name, template=True):
        conn.execute(sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE false").format(sql.Identifier(name)))
    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


def create_clone(conn: psycopg.Connection[Any], template: str, clone: str, strategy: str = DEFAULT_STRATEGY) -> None:
    """Create database `clone` as a copy of `template`."""
    conn.execute(clone_statement(template, clone, conn.info.server_version, strategy))


def prefer_file_clone(conn: psycopg.Connection[Any]) -> bool:
    """Ask Postgres >= 18 to clone files (copy-on-write where the file system can) for this session's clones."""
    if conn.info.server_version < FILE_COPY_METHOD_MIN_VERSION:
        return False
    try:
        conn.execute("SET file_copy_method = clone")
    except psycopg.Error as exc:
        logger.debug("file_copy_method = clone not available: %s", exc)
        return False
    return True


def time_clone(conn: psycopg.Connection[Any], template: str, clone: str, strategy: str) -> float:
    """Create `clone` from `template` with `strategy` and return the seconds it took."""
    started = time.perf_counter()
    create_clone(conn, template, clone, strategy)
    return time.perf_counter() - started


UNTOUCHED_MIN_VERSION = 150000  # shared-memory statistics: a session's counts are flushed before it leaves pg_stat_activity


@dataclass(frozen=True)
class DatabaseMark:
    """What proves a database unchanged since it was marked: its oid, the sessions ever opened on it
    (pg_stat_database.sessions) and its own pg_database row, settings and comment."""

    oid: int
    sessions: int
    catalog: str


# One round trip. Autovacuum workers are left out of the count: they change no contents.
_MARK_QUERY = """
SELECT d.oid, coalesce(s.sessions, 0),
       (SELECT count(*) FROM pg_stat_activity a WHERE a.datid = d.oid AND a.backend_type <> 'autovacuum worker'),
       concat_ws('|', d.datname, d.datdba, d.datallowconn, d.datconnlimit, d.datacl::text, d.dattablespace,
                 (SELECT string_agg(r.setrole || '=' || r.setconfig::text, ',' ORDER BY r.setrole)
                    FROM pg_db_role_setting r WHERE r.setdatabase = d.oid),
                 shobj_description(d.oid, 'pg_database'))
FROM pg_database d LEFT JOIN pg_stat_database s ON s.datid = d.oid
WHERE d.datname = %s
"""


def mark_database(conn: psycopg.Connection[Any], name: str) -> tuple[DatabaseMark, int] | None:
    """Database `name`'s mark and how many sessions are on it now; None where the server cannot prove
    anything (before Postgres 15 statistics were sent over UDP and could be lost)."""
    if conn.info.server_version < UNTOUCHED_MIN_VERSION:
        return None
    row = conn.execute(_MARK_QUERY, (name,)).fetchone()
    if row is None:
        return None
    return DatabaseMark(int(row[0]), int(row[1]), str(row[3])), int(row[2])


def is_untouched(conn: psycopg.Connection[Any], name: str, mark: DatabaseMark | None, own_sessions: int = 0) -> bool:
    """True only when it is proven that nobody but `own_sessions` sessions (still open) connected to
    database `name` since `mark` was taken on this same connection, and nobody altered it from outside.

    Sound because a backend flushes its statistics (the session count included) before it leaves
    pg_stat_activity, and because a crash restart, which forgets statistics, would have ended `conn`.
    """
    if mark is None:
        return False
    now = mark_database(conn, name)
    return now is not None and now == (mark, own_sessions)


def describe_server(conn: psycopg.Connection[Any], mounts_path: str = "/proc/mounts") -> str:
    """One line saying which server `conn` is on, where its data lives (and on what) and how durable it is."""
    version = conn.info.parameter_status("server_version") or str(conn.info.server_version)
    try:
        rows = dict(conn.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN "
            "('data_directory', 'fsync', 'full_page_writes', 'synchronous_commit')"
        ).fetchall())
    except psycopg.Error:
        rows = {}
    directory = rows.get("data_directory")
    where = "data directory not visible to this role"
    if directory:
        where = f"data in {directory}"
        try:
            with open(mounts_path) as f:
                kind = file_system_type(os.path.realpath(directory), f.read()) if os.path.isdir(directory) else None
        except OSError:
            kind = None
        if kind:
            where += f" ({'RAM, ' if kind in ('tmpfs', 'ramfs') else ''}{kind})"
    tuning = ", ".join(f"{k} {rows[k]}" for k in ("fsync", "full_page_writes", "synchronous_commit") if k in rows)
    return f"Postgres {version}, {where}" + (f"; {tuning}" if tuning else "")


def drop_clone(conn: psycopg.Connection[Any], name: str) -> None:
    """Drop clone `name`; forcibly only when a test left sessions open on it (never a template)."""
    try:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
    except pg_errors.ObjectInUse:
        if conn.info.server_version < FORCE_DROP_MIN_VERSION:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        else:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _names(conn: psycopg.Connection[Any], prefix: str) -> list[str]:
    pattern = prefix.replace("_", r"\_") + "%"
    return [r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s ORDER BY 1", (pattern,))]


def drop_orphan_clones(conn: psycopg.Connection[Any]) -> list[str]:
    """Drop the clones whose maker (a process on this host) is gone: what killed runs left behind."""
    dropped = []
    for name in _names(conn, CLONE_PREFIX):
        clone = parse_clone_name(name)
        if clone is not None and is_orphan(clone, THIS_HOST, owner_alive):
            drop_clone(conn, name)
            dropped.append(name)
    return dropped


def _prune_locked(conn: psycopg.Connection[Any], current: State, project: str, unused_for: float) -> Pruned:
    """Drop the project's stale templates and leftover scratch builds; the caller holds the template lock."""
    builds = _names(conn, BUILD_PREFIX)
    for name in builds:  # every builder holds the lock we hold: these are dead builders' leftovers
        _drop(conn, name)
    live_keys = {c.key for c in map(parse_clone_name, _names(conn, CLONE_PREFIX)) if c is not None}
    dropped, now = [], time.time()
    for name in _names(conn, TEMPLATE_PREFIX):
        comment = _comment(conn, name)
        key = name[len(TEMPLATE_PREFIX):]
        if not is_stale(comment, current, project, now, unused_for) or key[:CLONE_KEY_LENGTH] in live_keys:
            continue
        try:
            # Never WITH (FORCE): a template nobody may connect to has no sessions to end, and a clone
            # in progress holds a lock that makes this DROP wait for it rather than break it.
            _drop(conn, name)
        except psycopg.Error as exc:
            logger.info("kept stale template %s: %s", name, exc)
            conn.execute(sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE true").format(sql.Identifier(name)))
            continue
        dropped.append(name)
    return Pruned(dropped, [], builds)


def admin_connection(url: str, command: str) -> psycopg.Connection[Any]:
    """An autocommit connection to the maintenance database at `url`."""
    from dbtool.db.pool import application_name

    return psycopg.connect(url, autocommit=True, application_name=application_name(command), connect_timeout=10)


@dataclass(frozen=True)
class Clone:
    """A database cloned for a script, and the template it came from."""

    name: str
    url: str  # without password
    template: Template


def clone_database(settings: Settings, name: str, reporter: Reporter, strategy: str = DEFAULT_STRATEGY) -> Clone:
    """Create database `name` next to settings.database_url from the current template, building it if needed."""
    check_database_name(name)
    clone_statement(name, name, 0, strategy)  # an unknown strategy is bad input: say so before building
    assert settings.database_url is not None
    with admin_connection(settings.database_url, "clone") as conn:
        if _exists(conn, name):
            raise ConfigError(f"database {name} already exists on {settings.target.host}; choose another name or drop it")
        with reporter.step("template") as step:
            template = ensure_template(conn, settings, reporter)
            step.message = f"{'Built' if template.built else 'Found'} template {template.name}"
            step.fields.update(template=template.name, built=template.built)
        with reporter.step("clone") as step:
            if strategy == "file_copy":
                prefer_file_clone(conn)
            create_clone(conn, template.name, name, strategy)
            step.message = f"Cloned {template.name} into {name}"
    return Clone(name, without_password(with_database(settings.database_url, name)), template)


def list_templates(conn: psycopg.Connection[Any]) -> tuple[list[TemplateInfo], list[str]]:
    """dbtool's templates on the server (with size and description) and the clones that exist now."""
    rows = conn.execute(
        "SELECT datname, pg_database_size(oid) FROM pg_database WHERE datname LIKE %s ORDER BY 1",
        (TEMPLATE_PREFIX.replace("_", r"\_") + "%",),
    ).fetchall()
    return [TemplateInfo(n, int(s), _comment(conn, n)) for n, s in rows], _names(conn, CLONE_PREFIX)


def prune(settings: Settings, unused_for: float) -> Pruned:
    """Drop this project's stale templates unused for `unused_for` seconds, and clones and builds left by dead runs."""
    assert settings.database_url is not None
    with admin_connection(settings.database_url, "templates") as conn:
        state = describe_state(settings, conn.info.server_version)
        with template_lock(conn, settings.lock_timeout):
            pruned = _prune_locked(conn, state, project_id(settings), unused_for)
        return Pruned(pruned.templates, drop_orphan_clones(conn), pruned.builds)
