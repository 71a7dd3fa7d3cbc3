"""The pipelines: reset = drop + migrate + seed in one transaction under the advisory lock; each step alone too."""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from dbtool import meta, migrate, schema
from dbtool.config import Settings
from dbtool.errors import NotAtHeadError, RefusedError
from dbtool.report import Reporter
from dbtool.seed.profiles import PROFILES, TABLES
from dbtool.session import locked_session, transaction

logger = logging.getLogger(__name__)

NOTIFY_CHANNEL = "dbtool_reset"  # applications LISTEN here to drop cached plans after a reset


@dataclass
class RunResult:
    """What a pipeline did, for the summary line and --json."""

    command: str
    target: str
    revision: str | None = None
    profile: str | None = None
    seed: int | None = None
    scale: int | None = None
    row_counts: dict[str, int] = field(default_factory=dict)
    digest: str | None = None
    dropped: int = 0
    migration_source: str | None = None  # "alembic" or "cache"

    def document(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def guard(settings: Settings, found: meta.Inspection, destructive: bool = True) -> None:
    """Refuse (exit 3) a protected database, or a non-empty one dbtool did not create unless --force."""
    target = settings.target
    if destructive and found.protected:
        raise RefusedError(
            f"database {target.dbname} on {target.host}:{target.port} is protected (dbtool protect); "
            "--force does not override this; run `dbtool unprotect` first if you really mean to wipe it"
        )
    objects = found.objects
    if objects and not found.created_by_dbtool and not settings.force:
        shown = ", ".join(map(str, objects[:5])) + (f" and {len(objects) - 5} more" if len(objects) > 5 else "")
        raise RefusedError(
            f"database {target.dbname} on {target.host}:{target.port} has {len(objects)} objects in schema "
            f"{settings.schema} ({shown}) but no dbtool_meta, so dbtool did not create it; refusing to touch it; "
            "pass --force if you are sure"
        )


def _inspect(conn: psycopg.Connection, settings: Settings) -> meta.Inspection:  # type: ignore[type-arg]
    return meta.inspect(conn, settings.schema, migrate.scripts_hash())


def _drop(conn: psycopg.Connection, settings: Settings, reporter: Reporter) -> meta.Inspection:  # type: ignore[type-arg]
    with reporter.step("drop") as step:
        found = _inspect(conn, settings)
        guard(settings, found)
        dropped = schema.drop_objects(conn, settings.schema, found.objects)
        step.message = f"Dropped {dropped} objects in schema {settings.schema}"
        step.fields.update(dropped=dropped, schema=settings.schema)
    return found


def _migrate_from_empty(
    conn: psycopg.Connection, settings: Settings, reporter: Reporter, cached: tuple[str, str] | None  # type: ignore[type-arg]
) -> tuple[str, str]:
    """Upgrade an empty schema to head, replaying Alembic's cached rendering when the scripts match."""
    with reporter.step("migrate") as step:
        if cached:
            revision, script = cached
            migrate.replay(conn, script)
            source = "cache"
        else:
            upgraded = migrate.migrate(conn, settings.schema, "head")
            revision, source = upgraded.revision, "alembic"
            meta.store_script(conn, settings.schema, migrate.scripts_hash(), revision, upgraded.script)
        step.message = f"Migrated to {revision}" + (" (cached Alembic rendering)" if source == "cache" else "")
        step.fields.update(revision=revision, source=source)
    return revision, source


def _preload_generator() -> None:
    # numpy and the generator take ~0.1 s to import; do it while this run waits on the network
    # (pool, lock, drop, migrate). The import lock makes _seed wait if it is not finished.
    threading.Thread(target=importlib.import_module, args=("dbtool.seed.load",), name="preload", daemon=True).start()


def _seed(conn: psycopg.Connection, settings: Settings, reporter: Reporter, result: RunResult) -> None:  # type: ignore[type-arg]
    from dbtool.seed import load

    profile = PROFILES[settings.profile].scaled(settings.scale)
    with reporter.step("seed") as step:
        with schema.bulk_load(conn, settings.schema, TABLES):
            counts = load.load(conn, settings.schema, settings.seed, profile, reporter.progress, settings.workers)
        shown = ", ".join(f"{n} {t.replace('_', ' ')}" for t, n in counts.items())
        scale = f" x{settings.scale}" if settings.scale != 1 else ""
        rate = sum(counts.values()) / max(time.perf_counter() - step.started, 1e-9)
        step.message = f"Seeded {settings.profile}{scale} profile: {shown} ({rate:,.0f} rows/s)"
        step.fields.update(profile=settings.profile, seed=settings.seed, scale=settings.scale, row_counts=counts)
    with reporter.step("digest") as step:
        tables = load.table_digests(conn, settings.schema)
        digest = load.combined_digest(tables)
        step.message = f"Digest {digest[:16]}"
        step.fields.update(digest=digest)
    result.row_counts, result.digest = counts, digest
    result.profile, result.seed, result.scale = settings.profile, settings.seed, settings.scale
    meta.record(
        conn,
        settings.schema,
        meta.MetaRecord(
            event=result.command,
            revision=result.revision,
            profile=settings.profile,
            seed=settings.seed,
            scale=settings.scale,
            row_counts=counts,
            table_digests=tables,
            digest=digest,
        ),
    )


def _notify(conn: psycopg.Connection, result: RunResult) -> None:  # type: ignore[type-arg]
    # Delivered at commit only, so listeners never hear of a reset that rolled back.
    conn.execute("SELECT pg_notify(%s, %s)", (NOTIFY_CHANNEL, f"{result.command} {result.revision or ''}".strip()))


def _locked_transaction(
    settings: Settings,
    reporter: Reporter,
    result: RunResult,
    work: Callable[[psycopg.Connection], None],  # type: ignore[type-arg]
    step_name: str = "commit",
    message: str = "Committed",
) -> RunResult:
    """Run `work` in one transaction on a work session while the advisory lock is held."""
    with locked_session(settings, reporter, result.command) as conn, reporter.step(step_name) as step:
        transaction(conn, settings, reporter, work)
        step.message = message
    return result


def reset_database(settings: Settings, reporter: Reporter) -> RunResult:
    """Drop, migrate to head and seed in one transaction under the advisory lock."""
    result = RunResult("reset", str(settings.target))
    _preload_generator()

    def work(conn: psycopg.Connection) -> None:  # type: ignore[type-arg]
        found = _drop(conn, settings, reporter)
        result.dropped = len(found.objects)
        result.revision, result.migration_source = _migrate_from_empty(conn, settings, reporter, found.cached)
        _seed(conn, settings, reporter, result)
        _notify(conn, result)

    return _locked_transaction(settings, reporter, result, work)


def seed_database(settings: Settings, reporter: Reporter) -> RunResult:
    """Replace the seeded data (truncate + COPY) in one transaction; the schema must be at head."""
    result = RunResult("seed", str(settings.target))
    _preload_generator()

    def work(conn: psycopg.Connection) -> None:  # type: ignore[type-arg]
        found = _inspect(conn, settings)
        guard(settings, found)
        current = migrate.current_revision(conn, settings.schema)
        head = found.cached[0] if found.cached else migrate.head_revision()
        if current != head:
            raise NotAtHeadError(
                f"schema {settings.schema} is at revision {current or 'none (not migrated)'}, head is {head}; "
                "run `dbtool migrate` first (or `dbtool reset`)"
            )
        result.revision = current
        with reporter.step("truncate") as step:
            schema.truncate(conn, settings.schema, TABLES)
            step.message = "Truncated seeded tables"
        _seed(conn, settings, reporter, result)
        _notify(conn, result)

    return _locked_transaction(settings, reporter, result, work)


def migrate_database(settings: Settings, reporter: Reporter, revision: str = "head") -> RunResult:
    """Upgrade (or downgrade) the schema to `revision` in one transaction under the advisory lock."""
    target = migrate.resolve_revision(revision)  # an unknown revision is bad input: refuse before connecting
    result = RunResult("migrate", str(settings.target))

    def work(conn: psycopg.Connection) -> None:  # type: ignore[type-arg]
        found = _inspect(conn, settings)
        before = migrate.current_revision(conn, settings.schema)
        # A downgrade drops tables: the guard treats it like reset/drop (a protected database refuses).
        guard(settings, found, destructive=migrate.is_downgrade(before, target))
        with reporter.step("migrate") as step:
            result.revision = migrate.migrate(conn, settings.schema, revision).revision
            step.message = f"Migrated {before or 'base'} -> {result.revision}"
            step.fields.update(revision=result.revision, previous=before)
        meta.record(conn, settings.schema, meta.MetaRecord(event="migrate", revision=result.revision))
        _notify(conn, result)

    return _locked_transaction(settings, reporter, result, work)


def drop_database(settings: Settings, reporter: Reporter) -> RunResult:
    """Drop every object a reset would drop, keeping dbtool's bookkeeping, in one transaction."""
    result = RunResult("drop", str(settings.target))

    def work(conn: psycopg.Connection) -> None:  # type: ignore[type-arg]
        result.dropped = len(_drop(conn, settings, reporter).objects)
        meta.record(conn, settings.schema, meta.MetaRecord(event="drop"))

    return _locked_transaction(settings, reporter, result, work)


def set_protection(settings: Settings, reporter: Reporter, protected: bool) -> RunResult:
    """Mark the database protected (reset/drop/seed refuse, even with --force) or remove the mark."""
    event = "protect" if protected else "unprotect"
    result = RunResult(event, str(settings.target))

    def work(conn: psycopg.Connection) -> None:  # type: ignore[type-arg]
        meta.ensure_tables(conn, settings.schema)
        meta.record(conn, settings.schema, meta.MetaRecord(event=event))

    message = f"{'Protected' if protected else 'Unprotected'} {settings.target}"
    return _locked_transaction(settings, reporter, result, work, event, message)
