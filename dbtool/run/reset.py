"""The transaction strategy's pipelines, composed from the steps (steps.py): reset = drop + migrate + seed in one
transaction under the advisory lock (or by swap.py's strategy); drop, migrate, seed and protect alone."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import psycopg

from dbtool.db import digest, meta
from dbtool.db import objects as schema
from dbtool.errors import ConfigError, NotAtHeadError, RefusedError
from dbtool.migrate import upgrade as migrate
from dbtool.report import Reporter
from dbtool.run import steps, swap
from dbtool.run.context import Run
from dbtool.run.session import locked_session, transaction
from dbtool.run.steps import (  # noqa: F401 - the names importers of reset.py use
    NOTIFY_CHANNEL,
    RunResult,
    describe_plan_seed,
    guard,
    made_by,
    notify,
    plan_any_schema,
    plan_tables,
    refused_rows,
)
from dbtool.settings.config import Settings

logger = logging.getLogger(__name__)

Work = Callable[[psycopg.Connection[Any]], None]


def _locked_transaction(run: Run, result: RunResult, work: Work, step_name: str = "commit", message: str = "Committed") -> RunResult:
    """Run `work` in one transaction on a work session while the advisory lock is held."""
    with locked_session(run.settings, run.reporter, result.command) as session, run.reporter.step(step_name) as step:
        transaction(session, run.settings, run.reporter, work)
        step.message = message
    return result


def reset_database(settings: Settings, reporter: Reporter) -> RunResult:
    """Drop, migrate to head and seed under the advisory lock: in one transaction, or built in a shadow
    schema and swapped in by one short transaction (--strategy)."""
    run = Run.of(settings, reporter)
    result = RunResult("reset", str(settings.target))
    steps.preload_alembic()
    steps.preload_generator()

    def work(conn: psycopg.Connection[Any]) -> None:
        found = steps.drop(conn, run)
        result.dropped = len(found.objects)
        upgraded = steps.upgrade(conn, run, "heads", found.version_table)
        result.revision = upgraded.revision
        _seed(conn, run, result, upgraded.version_table)

    with locked_session(settings, reporter, result.command) as session:
        if settings.strategy != "transaction" and swap.run(session, run, result):
            return result
        with reporter.step("commit") as step:
            transaction(session, settings, reporter, work)
            step.message = "Committed"
    return result


def _seed(conn: psycopg.Connection[Any], run: Run, result: RunResult, version_table: str | None) -> None:
    """Seed (keeping what the migrations inserted), digest every data table, record the run and notify."""
    planned, _, refused = steps.seed(conn, run, version_table)
    tables = steps.digest_seeded(conn, run, result, run.settings.schema, version_table)
    steps.record_seeded(conn, run, result, tables, version_table, planned, refused)
    steps.notify(conn, result)


def seed_database(settings: Settings, reporter: Reporter) -> RunResult:
    """Replace the seeded data (truncate + COPY) in one transaction; the schema must be at head."""
    run = Run.of(settings, reporter)
    result = RunResult("seed", str(settings.target))
    head = migrate.heads(settings.project)
    steps.preload_generator()

    def work(conn: psycopg.Connection[Any]) -> None:
        found = meta.inspect(conn, settings.schema)
        steps.guard(conn, run, found)
        current = migrate.current_heads(conn, steps.version_table_of(run, found.version_table))
        if current != head:
            raise NotAtHeadError(
                f"schema {settings.schema} is at revision {migrate.shown(current) if current else 'none (not migrated)'}, "
                f"head is {migrate.shown(head)}; run `dbtool migrate` first (or `dbtool reset`)"
            )
        result.revision = migrate.shown(current)
        generated = found.generated_tables
        if generated is None and found.last_data_event in ("reset", "seed"):
            raise RefusedError(f"schema {settings.schema} was seeded by an older dbtool that did not record which tables "
                               "it filled (rows the migrations inserted must stay); run `dbtool reset` once")
        # Never seeded: the guard let through only empty tables or the rows the migrations left.
        with reporter.step("truncate") as step:
            schema.truncate(conn, settings.schema, generated or [])
            step.message = f"Truncated {steps.plural(len(generated or []), 'seeded table')}"
        _seed(conn, run, result, found.version_table)

    return _locked_transaction(run, result, work)


def migrate_database(settings: Settings, reporter: Reporter, revision: str = "head") -> RunResult:
    """Upgrade (or downgrade) the schema to `revision` in one transaction under the advisory lock."""
    target = migrate.resolve_revision(settings.project, revision)  # an unknown revision: refuse before connecting
    run = Run.of(settings, reporter)
    result = RunResult("migrate", str(settings.target))

    def work(conn: psycopg.Connection[Any]) -> None:
        found = meta.inspect(conn, settings.schema)
        before = migrate.current_heads(conn, steps.version_table_of(run, found.version_table))
        # A downgrade drops tables: the guard treats it like reset/drop (a protected database refuses).
        steps.guard(conn, run, found, destructive=migrate.is_downgrade(settings.project, before, target))
        upgraded = steps.upgrade(conn, run, target, found.version_table)
        result.revision = upgraded.revision
        # What the migrations left is dbtool's doing: a reset may replace it without --force while unchanged.
        tables = digest.table_digests(conn, settings.schema, digest.data_tables(conn, settings.schema, upgraded.version_table))
        meta.record(conn, settings.schema, meta.MetaRecord(
            event="migrate", revision=result.revision, table_digests=tables, version_table=upgraded.version_table,
            **steps.made_by(run),
        ))
        steps.notify(conn, result)

    return _locked_transaction(run, result, work)


def drop_database(settings: Settings, reporter: Reporter) -> RunResult:
    """Drop every object a reset would drop, keeping dbtool's bookkeeping, in one transaction."""
    run = Run.of(settings, reporter)
    result = RunResult("drop", str(settings.target))

    def work(conn: psycopg.Connection[Any]) -> None:
        result.dropped = len(steps.drop(conn, run).objects)
        meta.record(conn, settings.schema, meta.MetaRecord(event="drop", **steps.made_by(run)))

    return _locked_transaction(run, result, work)


def set_protection(settings: Settings, reporter: Reporter, protected: bool) -> RunResult:
    """Mark the database protected (reset/drop/seed refuse, even with --force) or remove the mark."""
    event = "protect" if protected else "unprotect"
    result = RunResult(event, str(settings.target))
    if not protected and not settings.force:
        raise ConfigError(
            "unprotect removes the protection that makes reset, drop and seed refuse this database; "
            "pass --force to do it deliberately"
        )
    changed = True

    def work(conn: psycopg.Connection[Any]) -> None:
        nonlocal changed
        found = meta.inspect(conn, settings.schema)
        changed = found.protected != protected
        if changed:
            meta.record(conn, settings.schema, meta.MetaRecord(event=event))

    _locked_transaction(Run.of(settings, reporter), result, work, event, "")
    word = "Protected" if protected else "Unprotected"
    result.note = f"{word} {settings.target}" if changed else f"{settings.target} was already {'protected' if protected else 'unprotected'}"
    return result
