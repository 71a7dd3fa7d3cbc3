"""The pipelines: reset = drop + migrate + seed in one transaction under the advisory lock; each step alone too."""

from __future__ import annotations

import importlib
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg

from dbtool import digest, meta, migrate, project, schema
from dbtool.config import Settings
from dbtool.errors import ConfigError, NotAtHeadError, RefusedError
from dbtool.report import Reporter
from dbtool.schema import BOOKKEEPING_TABLES
from dbtool.seed.profiles import generic_rows
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
    dropped: int | None = None
    note: str | None = None  # what happened, when the summary line alone would not say it

    def document(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None and v != {}}


def guard(conn: psycopg.Connection, settings: Settings, found: meta.Inspection, destructive: bool = True) -> None:  # type: ignore[type-arg]
    """Refuse (exit 3) a protected database, and one whose data dbtool did not produce unless --force.

    dbtool may wipe, without --force, a schema that holds nothing; one whose data came from its own
    reset or seed (the latest reset, seed or drop in dbtool_meta is a reset or seed); one whose
    tables hold no rows; and one whose tables hold exactly what dbtool recorded last (e.g. the rows
    a `dbtool migrate` left). Everything else is someone's data. Whatever it holds, a schema another
    Alembic project made (as dbtool_meta recorded it) is refused too: the wrong project found (the
    built-in example, run from a subdirectory) must not replace a team's schema.
    """
    target = settings.target
    if destructive and found.protected:
        raise RefusedError(
            f"database {target.dbname} on {target.host}:{target.port} is protected (dbtool protect); "
            "--force does not override this; run `dbtool unprotect --force` first if you really mean to wipe it"
        )
    if not found.objects or settings.force:
        return
    ours = _project_identity(settings) if found.project is not None else None
    if ours is not None and found.project != ours:
        raise RefusedError(
            f"schema {settings.schema} of database {target.dbname} on {target.host}:{target.port} was made by another "
            f"Alembic project, {found.project_name or 'unnamed'} ({found.project}); this run's project is "
            f"{settings.project} ({ours}); refusing to touch it; run dbtool in that project's directory or pass "
            "--alembic-config, or pass --force to replace it"
        )
    if found.last_data_event in ("reset", "seed"):
        return
    present = digest.data_tables(conn, settings.schema, found.version_table)
    counts = digest.row_counts(conn, settings.schema, present)
    holding = [t for t, n in counts.items() if n]
    if not holding:
        return
    if found.recorded_digests is not None and digest.table_digests(conn, settings.schema, present) == found.recorded_digests:
        return
    shown = ", ".join(holding[:5]) + (f" and {len(holding) - 5} more" if len(holding) > 5 else "")
    raise RefusedError(
        f"database {target.dbname} on {target.host}:{target.port} holds data dbtool did not produce "
        f"(rows in {shown} of schema {settings.schema}); refusing to touch it; pass --force if you are sure"
    )


def _drop(conn: psycopg.Connection, settings: Settings, reporter: Reporter) -> meta.Inspection:  # type: ignore[type-arg]
    with reporter.step("drop") as step:
        found = meta.inspect(conn, settings.schema)
        guard(conn, settings, found)
        outside = schema.outside_dropped(conn, settings.schema)
        shown = "; ".join(outside[:5]) + (f" and {len(outside) - 5} more" if len(outside) > 5 else "")
        if outside and not settings.force:
            # DROP ... CASCADE would take them silently and for good; they are someone else's objects.
            raise RefusedError(
                f"dropping schema {settings.schema}'s objects would also drop {_plural(len(outside), 'object')} "
                f"outside it that depend on them: {shown}; refusing; nothing was changed; remove them first, "
                "or pass --force to drop them with the schema's objects"
            )
        if outside:
            reporter.note(f"dropped with --force outside schema {settings.schema}: {shown}", dropped_outside=outside)
        dropped = schema.drop_objects(conn, settings.schema, found.objects)
        step.message = f"Dropped {_plural(dropped, 'object')} in schema {settings.schema}"
        step.fields.update(dropped=dropped, schema=settings.schema)
    return found


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _migrate(
    conn: psycopg.Connection, settings: Settings, reporter: Reporter, revision: str, version_table: str | None  # type: ignore[type-arg]
) -> migrate.Upgrade:
    with reporter.step("migrate") as step:
        before = migrate.shown(migrate.current_heads(conn, _version_table(settings, version_table)))
        upgraded = migrate.migrate(conn, settings.project, settings.schema, revision, version_table)
        for note in upgraded.notes:
            reporter.note(note, revision=upgraded.revision)
        step.message = f"Migrated {before} -> {upgraded.revision}" if before != "base" else f"Migrated to {upgraded.revision}"
        step.fields.update(revision=upgraded.revision, previous=before, project=str(settings.project))
    return upgraded


def _version_table(settings: Settings, recorded: str | None) -> str:
    return recorded or f"{settings.schema}.{migrate.VERSION_TABLE}"


def _preload_generator() -> None:
    # numpy and the generator take ~0.1 s to import; do it while this run waits on the network
    # (pool, lock, drop, migrate). The import lock makes _seed wait if it is not finished.
    threading.Thread(target=importlib.import_module, args=("dbtool.seed.load",), name="preload", daemon=True).start()


_ALEMBIC_PRELOADS: list[threading.Thread] = []


def _preload_alembic() -> None:
    # Alembic and SQLAlchemy take ~0.2 s to import; the same overlap with the network, for migrate.
    thread = threading.Thread(target=migrate.preload, name="preload-alembic", daemon=True)
    _ALEMBIC_PRELOADS[:] = [t for t in _ALEMBIC_PRELOADS if t.is_alive()] + [thread]
    thread.start()


def _project_identity(settings: Settings) -> str | None:
    # Reading the revisions imports Alembic: wait for a preload still doing that, since first imports
    # of it racing in two threads fail.
    for thread in list(_ALEMBIC_PRELOADS):
        thread.join()
    return project.identity(settings.project)


def _seed(
    conn: psycopg.Connection, settings: Settings, reporter: Reporter, result: RunResult, version_table: str | None  # type: ignore[type-arg]
) -> None:
    """Fill the tables the plan generates (keeping what the migrations inserted), then digest every
    data table and record the run."""
    counts, left_out, refused = _seed_any_schema(conn, settings, reporter, version_table)
    result.profile, result.seed, result.scale = settings.profile, settings.seed, settings.scale
    with reporter.step("digest") as step:
        tables = digest.table_digests(conn, settings.schema, digest.data_tables(conn, settings.schema, version_table))
        combined = digest.combined_digest(tables)
        step.message = f"Digest {combined[:16]}"
        step.fields.update(digest=combined)
    result.row_counts = {name: int(d["rows"]) for name, d in tables.items()}  # type: ignore[call-overload]
    result.digest = combined
    meta.record(
        conn,
        settings.schema,
        meta.MetaRecord(
            event=result.command,
            revision=result.revision,
            profile=result.profile,
            seed=result.seed,
            scale=result.scale,
            row_counts=result.row_counts,
            table_digests=tables,
            digest=combined,
            version_table=version_table,
            generated_tables=sorted(counts),
            left_out_enum_values=left_out,
            refused_tables=refused,
            **made_by(settings),
        ),
    )


def made_by(settings: Settings) -> dict[str, Any]:
    """The dbtool_meta fields that name the run's project (the guard compares them next time)."""
    return {"project": _project_identity(settings), "project_name": str(settings.project)}


def _seed_any_schema(conn: psycopg.Connection, settings: Settings, reporter: Reporter,  # type: ignore[type-arg]
                     version_table: str | None) -> tuple[dict[str, int], list[str], dict[str, str]]:
    """Read the migrated schema, plan every table and COPY what can be generated by construction;
    return rows per table, the enum values left out and the tables whose rows the server refused.

    A table whose generated rows the server refuses (a constraint or an index the plan cannot see
    through) is left empty with its reason, with the tables that need it, and the seed runs again from
    a savepoint: one table never fails the whole reset."""
    from dbtool.seed import load

    refused: dict[str, str] = {}
    with reporter.step("seed") as step:
        while True:
            planned, sequences, notes = plan_any_schema(conn, settings, reporter, settings.schema, version_table, refused)
            generated = [t.name for t in planned.tables if t.generated]
            try:
                with conn.transaction():  # a savepoint
                    with schema.bulk_load(conn, settings.schema, generated):
                        counts = load.load_plan(conn, settings.schema, settings.seed, planned, sequences,
                                                reporter.progress, settings.workers)
                    conn.execute("SET CONSTRAINTS ALL IMMEDIATE")  # deferred keys answer here, not at COMMIT
                break
            except psycopg.Error as exc:
                table = _refusing_table(exc, settings.schema, generated)
                if table is None or table in refused:
                    raise
                refused[table] = f"the server refused its generated rows ({_one_line(exc)})"
                if settings.strict:
                    raise ConfigError(f"--strict: {table} cannot be filled automatically: {refused[table]}; "
                                      "nothing was changed") from None
        for message, fields in notes:
            reporter.note(message, **fields)
        describe_plan_seed(step, settings, planned, counts)
    return counts, list(planned.left_out_enum_values), refused


REFUSED_CLASSES = ("22", "23", "P0")  # data exceptions, integrity violations, errors raised by PL/pgSQL
_COPY_CONTEXT = re.compile(r'COPY "?([^",]+)"?, line')


def refused_rows(exc: psycopg.Error) -> bool:
    """True when the server refused rows (a constraint, a data error, a trigger's exception)."""
    return (exc.sqlstate or "").startswith(REFUSED_CLASSES)


def _refusing_table(exc: psycopg.Error, in_schema: str, generated: list[str]) -> str | None:
    """The generated table whose rows the server refused, when that is what `exc` says."""
    if not refused_rows(exc):
        return None
    diag = exc.diag
    if diag.table_name in generated and diag.schema_name in (None, in_schema):
        return diag.table_name
    copied = _COPY_CONTEXT.search(diag.context or "")
    return copied.group(1) if copied and copied.group(1) in generated else None


def _one_line(exc: psycopg.Error) -> str:
    text = " ".join(f"{exc.diag.message_primary or exc}".split())
    detail = exc.diag.constraint_name
    return f"{text}" + (f"; constraint {detail}" if detail and detail not in text else "")


def plan_tables(settings: Settings, tables: list[Any], refused: dict[str, str] | None = None) -> Any:
    """The plan for `tables` under the run's profile: its rows, per-table counts, column overrides and hooks;
    `refused` tables stay empty (the server refused their rows in this run, or the run `verify` checks)."""
    from dataclasses import replace

    from dbtool.seed import plan
    from dbtool.seed.evaluate import hook_columns
    from dbtool.seed.hooks import load_hook
    from dbtool.seed.profiles import unknown_names

    own = settings.seed_profile()
    # Where the profile meets the schema: a name it gives that no table or column has is a typo. Raised before
    # anything is generated, inside the run's transaction (or the shadow schema), so nothing is changed.
    problem = unknown_names(own, {t.name: [c.name for c in t.columns] for t in tables})
    if problem:
        raise ConfigError(f"profile {settings.profile!r}: {problem}; fix the profile (see `dbtool profiles`); "
                          "nothing was changed")
    rows, counts = generic_rows(settings.profile, settings.scale, own), own.counts(settings.scale)
    planned = plan.plan(tables, rows, counts, own.columns, refused=refused)
    if not own.hooks:
        return planned
    loaded = {t: load_hook(spec, own.directory, t) for t, spec in own.hooks.items()}
    settable = {t.name: {c.name for c in t.columns if not c.generated} for t in tables}
    sets = hook_columns(planned, settable, loaded, own.hooks, settings.seed)
    return replace(plan.plan(tables, rows, counts, own.columns, sets, refused), hooks=loaded, directory=own.directory)


def plan_any_schema(
    conn: psycopg.Connection, settings: Settings, reporter: Reporter, in_schema: str, version_table: str | None,  # type: ignore[type-arg]
    refused: dict[str, str] | None = None,
) -> tuple[Any, dict[str, list[tuple[str, str]]], list[tuple[str, dict[str, Any]]]]:
    """Read the migrated tables of `in_schema` and plan them: (plan, each table's sequences, the notes to
    show once the seed is done: enum values left out, tables left empty); with --strict, a table left
    empty is refused (exit 2), the notes shown first."""
    from dbtool import catalog

    from dataclasses import replace

    exclude = [*BOOKKEEPING_TABLES, migrate.table_of(version_table, in_schema)]
    unusable = [f"{oid}:{label}" for oid, label in catalog.unusable_enum_values(conn)]
    tables = catalog.read(conn, in_schema, exclude, unusable)
    notes: list[tuple[str, dict[str, Any]]] = [
        (f"{table.name}.{column.name}: enum value(s) {', '.join(column.unusable_labels)} were added in this "
         f"transaction and Postgres {conn.info.server_version // 10000} cannot store them before it commits "
         "(Postgres 17 can): left out of the seed", {"table": table.name, "column": column.name})
        for table in tables for column in table.columns if column.unusable_labels
    ]
    planned = replace(plan_tables(settings, tables, refused), left_out_enum_values=tuple(unusable))
    skipped = [t for t in planned.tables if t.skipped]
    notes += [(f"{t.name}: left empty: {t.skipped}", {"table": t.name, "skipped": t.skipped}) for t in skipped]
    if skipped and settings.strict:
        for message, fields in notes:
            reporter.note(message, **fields)
        raise ConfigError(
            f"--strict: {len(skipped)} table(s) cannot be filled automatically ({', '.join(t.name for t in skipped)}); "
            "see the lines above; nothing was changed"
        )
    return planned, {t.name: [(c.name, c.sequence) for c in t.columns if c.sequence] for t in tables}, notes


def describe_plan_seed(step: Any, settings: Settings, planned: Any, counts: dict[str, int]) -> None:
    """The seed step's line and fields for a planned (any-schema) seed."""
    skipped = [t for t in planned.tables if t.skipped]
    kept = sum(1 for t in planned.tables if t.kept)
    rate = sum(counts.values()) / max(time.perf_counter() - step.started, 1e-9)
    step.message = (f"Seeded {settings.profile} profile: {sum(counts.values())} rows in {_plural(len(counts), 'table')}"
                    + (f", {kept} kept as the migrations left them" if kept else "")
                    + (f", {len(skipped)} left empty" if skipped else "") + f" ({rate:,.0f} rows/s)")
    step.fields.update(profile=settings.profile, seed=settings.seed, scale=settings.scale, row_counts=counts,
                       skipped={t.name: t.skipped for t in skipped})


def notify(conn: psycopg.Connection, result: RunResult) -> None:  # type: ignore[type-arg]
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
    with locked_session(settings, reporter, result.command) as session, reporter.step(step_name) as step:
        transaction(session, settings, reporter, work)
        step.message = message
    return result


def reset_database(settings: Settings, reporter: Reporter) -> RunResult:
    """Drop, migrate to head and seed under the advisory lock: in one transaction, or built in a shadow
    schema and swapped in by one short transaction (--strategy)."""
    from dbtool import swap

    result = RunResult("reset", str(settings.target))
    _preload_alembic()
    _preload_generator()

    def work(conn: psycopg.Connection) -> None:  # type: ignore[type-arg]
        found = _drop(conn, settings, reporter)
        result.dropped = len(found.objects)
        upgraded = _migrate(conn, settings, reporter, "heads", found.version_table)
        result.revision = upgraded.revision
        _seed(conn, settings, reporter, result, upgraded.version_table)
        notify(conn, result)

    with locked_session(settings, reporter, result.command) as session:
        if settings.strategy != "transaction" and swap.run(session, settings, reporter, result):
            return result
        with reporter.step("commit") as step:
            transaction(session, settings, reporter, work)
            step.message = "Committed"
    return result


def seed_database(settings: Settings, reporter: Reporter) -> RunResult:
    """Replace the seeded data (truncate + COPY) in one transaction; the schema must be at head."""
    result = RunResult("seed", str(settings.target))
    head = migrate.heads(settings.project)
    _preload_generator()

    def work(conn: psycopg.Connection) -> None:  # type: ignore[type-arg]
        found = meta.inspect(conn, settings.schema)
        guard(conn, settings, found)
        current = migrate.current_heads(conn, _version_table(settings, found.version_table))
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
            step.message = f"Truncated {_plural(len(generated or []), 'seeded table')}"
        _seed(conn, settings, reporter, result, found.version_table)
        notify(conn, result)

    return _locked_transaction(settings, reporter, result, work)


def migrate_database(settings: Settings, reporter: Reporter, revision: str = "head") -> RunResult:
    """Upgrade (or downgrade) the schema to `revision` in one transaction under the advisory lock."""
    target = migrate.resolve_revision(settings.project, revision)  # an unknown revision: refuse before connecting
    result = RunResult("migrate", str(settings.target))

    def work(conn: psycopg.Connection) -> None:  # type: ignore[type-arg]
        found = meta.inspect(conn, settings.schema)
        before = migrate.current_heads(conn, _version_table(settings, found.version_table))
        # A downgrade drops tables: the guard treats it like reset/drop (a protected database refuses).
        guard(conn, settings, found, destructive=migrate.is_downgrade(settings.project, before, target))
        upgraded = _migrate(conn, settings, reporter, target, found.version_table)
        result.revision = upgraded.revision
        # What the migrations left is dbtool's doing: a reset may replace it without --force while unchanged.
        tables = digest.table_digests(conn, settings.schema, digest.data_tables(conn, settings.schema, upgraded.version_table))
        meta.record(conn, settings.schema, meta.MetaRecord(
            event="migrate", revision=result.revision, table_digests=tables, version_table=upgraded.version_table,
            **made_by(settings),
        ))
        notify(conn, result)

    return _locked_transaction(settings, reporter, result, work)


def drop_database(settings: Settings, reporter: Reporter) -> RunResult:
    """Drop every object a reset would drop, keeping dbtool's bookkeeping, in one transaction."""
    result = RunResult("drop", str(settings.target))

    def work(conn: psycopg.Connection) -> None:  # type: ignore[type-arg]
        result.dropped = len(_drop(conn, settings, reporter).objects)
        meta.record(conn, settings.schema, meta.MetaRecord(event="drop", **made_by(settings)))

    return _locked_transaction(settings, reporter, result, work)


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

    def work(conn: psycopg.Connection) -> None:  # type: ignore[type-arg]
        nonlocal changed
        found = meta.inspect(conn, settings.schema)
        changed = found.protected != protected
        if changed:
            meta.record(conn, settings.schema, meta.MetaRecord(event=event))

    _locked_transaction(settings, reporter, result, work, event, "")
    word = "Protected" if protected else "Unprotected"
    result.note = f"{word} {settings.target}" if changed else f"{settings.target} was already {'protected' if protected else 'unprotected'}"
    return result
