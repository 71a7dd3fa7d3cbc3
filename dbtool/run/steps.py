"""The steps of a run, each written once as a function of a connection and a Run: guard, drop, migrate,
seed (plan, and load with the keys off), digest and record, notify. reset.py and swap.py compose them."""

from __future__ import annotations

import importlib
import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, TypeVar

import psycopg

from dbtool.db import digest, meta
from dbtool.db import objects as schema
from dbtool.db.objects import BOOKKEEPING_TABLES
from dbtool.errors import ConfigError, RefusedError
from dbtool.migrate import upgrade as migrate
from dbtool.run.context import Run
from dbtool.seed.profiles import generic_rows

logger = logging.getLogger(__name__)

NOTIFY_CHANNEL = "dbtool_reset"  # applications LISTEN here to drop cached plans after a reset
REFUSED_CLASSES = ("22", "23", "P0")  # data exceptions, integrity violations, errors raised by PL/pgSQL
_COPY_CONTEXT = re.compile(r'COPY "?([^",]+)"?, line')

T = TypeVar("T")
Saved = list[tuple[int, str, str, str]]  # schema.saved_constraints: (kind, table, name, definition)


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

    def describe(self) -> str:
        """This result in a few words (a fleet's line per target)."""
        if self.note:
            return self.note
        parts = [f"{self.command} done"]
        if self.revision:
            parts.append(f"at {self.revision}")
        if self.digest:
            parts.append(f"digest {self.digest[:16]}")
        return ", ".join(parts)


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def guard(conn: psycopg.Connection[Any], run: Run, found: meta.Inspection, destructive: bool = True) -> None:
    """Refuse (exit 3) a protected database, and one whose data dbtool did not produce unless --force.

    dbtool may wipe, without --force, a schema that holds nothing; one whose data came from its own
    reset or seed (the latest reset, seed or drop in dbtool_meta is a reset or seed); one whose
    tables hold no rows; and one whose tables hold exactly what dbtool recorded last (e.g. the rows
    a `dbtool migrate` left). Everything else is someone's data. Whatever it holds, a schema another
    Alembic project made (as dbtool_meta recorded it) is refused too: the wrong project found (the
    built-in example, run from a subdirectory) must not replace a team's schema.
    """
    settings = run.settings
    target = settings.target
    if destructive and found.protected:
        raise RefusedError(
            f"database {target.dbname} on {target.host}:{target.port} is protected (dbtool protect); "
            "--force does not override this; run `dbtool unprotect --force` first if you really mean to wipe it"
        )
    if not found.objects or settings.force:
        return
    ours = project_identity(run) if found.project is not None else None
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


def drop(conn: psycopg.Connection[Any], run: Run) -> meta.Inspection:
    """The drop step: guard, then drop every object of the schema (refusing what CASCADE would take outside it)."""
    settings, reporter = run.settings, run.reporter
    with reporter.step("drop") as step:
        found = meta.inspect(conn, settings.schema)
        guard(conn, run, found)
        outside = schema.outside_dropped(conn, settings.schema)
        shown = "; ".join(outside[:5]) + (f" and {len(outside) - 5} more" if len(outside) > 5 else "")
        if outside and not settings.force:
            # DROP ... CASCADE would take them silently and for good; they are someone else's objects.
            raise RefusedError(
                f"dropping schema {settings.schema}'s objects would also drop {plural(len(outside), 'object')} "
                f"outside it that depend on them: {shown}; refusing; nothing was changed; remove them first, "
                "or pass --force to drop them with the schema's objects"
            )
        if outside:
            reporter.note(f"dropped with --force outside schema {settings.schema}: {shown}", dropped_outside=outside)
        dropped = schema.drop_objects(conn, settings.schema, found.objects)
        step.message = f"Dropped {plural(dropped, 'object')} in schema {settings.schema}"
        step.fields.update(dropped=dropped, schema=settings.schema)
    return found


def upgrade(conn: psycopg.Connection[Any], run: Run, revision: str, version_table: str | None) -> migrate.Upgrade:
    """The migrate step: run the project's migrations to `revision` on `conn`, in its transaction."""
    settings, reporter = run.settings, run.reporter
    with reporter.step("migrate") as step:
        before = migrate.shown(migrate.current_heads(conn, version_table_of(run, version_table)))
        upgraded = migrate.migrate(conn, settings.project, settings.schema, revision, version_table)
        for note in upgraded.notes:
            reporter.note(note, revision=upgraded.revision)
        step.message = f"Migrated {before} -> {upgraded.revision}" if before != "base" else f"Migrated to {upgraded.revision}"
        step.fields.update(revision=upgraded.revision, previous=before, project=str(settings.project))
    return upgraded


def version_table_of(run: Run, recorded: str | None) -> str:
    """Alembic's version table: as dbtool_meta recorded it, else the default one in the managed schema."""
    return recorded or f"{run.settings.schema}.{schema.VERSION_TABLE}"


def preload_generator() -> None:
    """Import the generator in the background while the run waits on the network (pool, lock, drop, migrate)."""
    # numpy and the generator take ~0.1 s to import; the import lock makes the seed wait if it is not finished.
    threading.Thread(target=importlib.import_module, args=("dbtool.seed.load",), name="preload", daemon=True).start()


_ALEMBIC_PRELOADS: list[threading.Thread] = []


def preload_alembic() -> None:
    """Import Alembic in the background: the same overlap with the network, for migrate."""
    # Alembic and SQLAlchemy take ~0.2 s to import.
    thread = threading.Thread(target=migrate.preload, name="preload-alembic", daemon=True)
    _ALEMBIC_PRELOADS[:] = [t for t in _ALEMBIC_PRELOADS if t.is_alive()] + [thread]
    thread.start()


def project_identity(run: Run) -> str | None:
    """The run's Alembic project by its base revision(s)."""
    # Reading the revisions imports Alembic: wait for a preload still doing that, since first imports
    # of it racing in two threads fail.
    for thread in list(_ALEMBIC_PRELOADS):
        thread.join()
    return migrate.project_identity(run.settings.project)


def made_by(run: Run) -> dict[str, Any]:
    """The dbtool_meta fields that name the run's project (the guard compares them next time)."""
    return {"project": project_identity(run), "project_name": str(run.settings.project)}


def seed(conn: psycopg.Connection[Any], run: Run, version_table: str | None) -> tuple[Any, dict[str, int], dict[str, str]]:
    """The seed step in one transaction: plan the migrated schema and COPY what can be generated by
    construction, with the keys off; return the plan, rows per table and the tables whose rows the server refused.

    A table whose generated rows the server refuses (a constraint or an index the plan cannot see
    through) is left empty with its reason, with the tables that need it, and the seed runs again from
    a savepoint: one table never fails the whole reset."""
    from dbtool.seed import load

    settings, reporter = run.settings, run.reporter
    refused: dict[str, str] = {}
    with reporter.step("seed") as step:
        while True:
            planned, sequences, notes = plan_any_schema(conn, run, settings.schema, version_table, refused)
            generated = [t.name for t in planned.tables if t.generated]
            try:
                with conn.transaction():  # a savepoint
                    counts = load_without_keys(conn, settings.schema, generated, partial(
                        load.load_plan, conn, settings.schema, settings.seed, planned, sequences, reporter.progress, settings.workers))
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
        describe_plan_seed(step, run, planned, counts)
    return planned, counts, refused


def load_without_keys(
    conn: psycopg.Connection[Any], in_schema: str, tables: Sequence[str], load: Callable[[], T],
    rebuild: Callable[[Saved], None] | None = None, check: Callable[[str], None] | None = None,
    restore_on_failure: bool = True,
) -> T:
    """Drop the tables' foreign keys, keys and indexes and switch off their user triggers, `load`, then
    switch the triggers back on and re-create the rest from their saved definitions (`rebuild`, else
    in one statement on `conn`); `check("load")` and `check("rebuild")` run before the writes (the swap's lock check).

    Building indexes and validating keys once, set-based, after the load is 2-3x faster than
    maintaining them row by row (pg_restore orders a restore the same way). Triggers are off as in
    pg_dump's data-only restore: the generated rows are planned to satisfy the constraints themselves,
    and a trigger that refuses direct inserts or reads rows not loaded yet must not fail the reset.
    In a transaction, a re-created constraint that fails rolls everything back."""
    saved = schema.saved_constraints(conn, in_schema, tables)
    triggers = schema.user_triggers(conn, in_schema, tables)
    if triggers:
        logger.info("disabled %s user triggers for the load: %s", len(triggers), ", ".join(t[1] for t in triggers))
    if check is not None:
        check("load")
    # foreign keys go before the keys they reference
    before = [schema.drop_statement_of(k, t, n) for k, t, n, _ in reversed(saved)] + schema.disable_trigger_statements(triggers)
    if before:
        conn.execute("; ".join(before))
    try:
        loaded = load()
    except BaseException:
        if restore_on_failure:
            schema._enable_after_failure(conn, triggers)
        raise
    if check is not None:
        check("rebuild")
    after = schema.enable_trigger_statements(triggers) + ([] if rebuild else [schema.create_statement_of(*row) for row in saved])
    if after:
        conn.execute("; ".join(after))
    if rebuild is not None:
        rebuild(saved)
    return loaded


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


def plan_tables(settings: Any, tables: list[Any], refused: dict[str, str] | None = None) -> Any:
    """The plan for `tables` under the run's profile: its rows, per-table counts, column overrides and hooks;
    `refused` tables stay empty (the server refused their rows in this run, or the run `verify` checks)."""
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
    planned = plan.plan(tables, rows, counts, own.columns, refused=refused, epoch=own.epoch_days)
    if not own.hooks:
        return planned
    loaded = {t: load_hook(spec, own.directory, t) for t, spec in own.hooks.items()}
    settable = {t.name: {c.name for c in t.columns if not c.generated} for t in tables}
    sets = hook_columns(planned, settable, loaded, own.hooks, settings.seed)
    return replace(plan.plan(tables, rows, counts, own.columns, sets, refused, own.epoch_days), hooks=loaded,
                   directory=own.directory)


def plan_any_schema(
    conn: psycopg.Connection[Any], run: Run, in_schema: str, version_table: str | None,
    refused: dict[str, str] | None = None,
) -> tuple[Any, dict[str, list[tuple[str, str]]], list[tuple[str, dict[str, Any]]]]:
    """Read the migrated tables of `in_schema` and plan them: (plan, each table's sequences, the notes to
    show once the seed is done: enum values left out, tables left empty); with --strict, a table left
    empty is refused (exit 2), the notes shown first."""
    from dbtool.db import catalog

    exclude = [*BOOKKEEPING_TABLES, schema.table_of(version_table, in_schema)]
    unusable = [f"{oid}:{label}" for oid, label in catalog.unusable_enum_values(conn)]
    tables = catalog.read(conn, in_schema, exclude, unusable)
    notes: list[tuple[str, dict[str, Any]]] = [
        (f"{table.name}.{column.name}: enum value(s) {', '.join(column.unusable_labels)} were added in this "
         f"transaction and Postgres {conn.info.server_version // 10000} cannot store them before it commits "
         "(Postgres 17 can): left out of the seed", {"table": table.name, "column": column.name})
        for table in tables for column in table.columns if column.unusable_labels
    ]
    planned = replace(plan_tables(run.settings, tables, refused), left_out_enum_values=tuple(unusable))
    skipped = [t for t in planned.tables if t.skipped]
    notes += [(f"{t.name}: left empty: {t.skipped}", {"table": t.name, "skipped": t.skipped}) for t in skipped]
    notes += [(f"{t.name}: {t.capped}", {"table": t.name, "capped": t.capped}) for t in planned.tables if t.capped]
    if skipped and run.settings.strict:
        for message, fields in notes:
            run.reporter.note(message, **fields)
        raise ConfigError(
            f"--strict: {len(skipped)} table(s) cannot be filled automatically ({', '.join(t.name for t in skipped)}); "
            "see the lines above; nothing was changed"
        )
    return planned, {t.name: [(c.name, c.sequence) for c in t.columns if c.sequence] for t in tables}, notes


def describe_plan_seed(step: Any, run: Run, planned: Any, counts: dict[str, int]) -> None:
    """The seed step's line and fields for a planned (any-schema) seed."""
    settings = run.settings
    skipped = [t for t in planned.tables if t.skipped]
    kept = sum(1 for t in planned.tables if t.kept)
    rate = sum(counts.values()) / max(time.perf_counter() - step.started, 1e-9)
    step.message = (f"Seeded {settings.profile} profile: {sum(counts.values())} rows in {plural(len(counts), 'table')}"
                    + (f", {kept} kept as the migrations left them" if kept else "")
                    + (f", {len(skipped)} left empty" if skipped else "") + f" ({rate:,.0f} rows/s)")
    step.fields.update(profile=settings.profile, seed=settings.seed, scale=settings.scale, row_counts=counts,
                       skipped={t.name: t.skipped for t in skipped})


def digest_seeded(conn: psycopg.Connection[Any], run: Run, result: RunResult, in_schema: str,
                  version_table: str | None) -> dict[str, dict[str, object]]:
    """The digest step: digest every data table of `in_schema` into `result` (with the seed it ran); return the table digests."""
    settings = run.settings
    result.profile, result.seed, result.scale = settings.profile, settings.seed, settings.scale
    with run.reporter.step("digest") as step:
        tables = digest.table_digests(conn, in_schema, digest.data_tables(conn, in_schema, version_table))
        result.digest = digest.combined_digest(tables)
        result.row_counts = {name: int(d["rows"]) for name, d in tables.items()}  # type: ignore[call-overload]  # digest.table_digests puts the int count under "rows"
        step.message = f"Digest {result.digest[:16]}"
        step.fields.update(digest=result.digest)
    return tables


def record_seeded(
    conn: psycopg.Connection[Any], run: Run, result: RunResult, tables: dict[str, dict[str, object]],
    version_table: str | None, planned: Any, refused: dict[str, str] | None,
) -> None:
    """Record the seeded run in dbtool_meta: what `verify` checks and the guard trusts next time."""
    meta.record(conn, run.settings.schema, meta.MetaRecord(
        event=result.command, revision=result.revision, profile=result.profile, seed=result.seed, scale=result.scale,
        row_counts=result.row_counts, table_digests=tables, digest=result.digest, version_table=version_table,
        generated_tables=sorted(t.name for t in planned.tables if t.generated),
        left_out_enum_values=list(planned.left_out_enum_values), refused_tables=refused, **made_by(run),
    ))


def notify(conn: psycopg.Connection[Any], result: RunResult) -> None:
    """Tell listeners of NOTIFY_CHANNEL what ran; delivered at commit only, so never for a run that rolled back."""
    conn.execute("SELECT pg_notify(%s, %s)", (NOTIFY_CHANNEL, f"{result.command} {result.revision or ''}".strip()))
