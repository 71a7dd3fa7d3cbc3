"""The commands on a database: reset, seed, drop, migrate, protect, status, verify, plan, clone,
templates, repair, init, profiles and config. Each reads its options and calls one pipeline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from dbtool.cli.app import (
    AlembicConfig,
    AsJson,
    CloneStrategy,
    DatabaseUrl,
    DatabaseUrls,
    Force,
    LockKey,
    LockTimeout,
    LogFormat,
    Parallel,
    PoolMax,
    Profile,
    ProtectionForce,
    Prune,
    Revision,
    Scale,
    Schema,
    Seed,
    Shard,
    Strategy,
    Strict,
    Targets,
    UnusedFor,
    Verbose,
    Workers,
    Yes,
    app,
    declared,
)
from dbtool.cli.run import (
    _confirm,
    _fleet,
    _is_fleet,
    _lazy,
    _render,
    _reporter,
    _run,
    _settings,
    _settings_only,
    _summary,
    _urls,
    _with_file,
)
from dbtool.errors import ConfigError
from dbtool.settings.config import Settings
from dbtool.settings.options import FILE_OPTIONS


def _destructive(command: str, action_word: str, pipeline: str) -> Callable[..., None]:
    @declared
    def run(
        *,
        database_url: DatabaseUrls,
        pool_max: PoolMax,
        lock_timeout: LockTimeout,
        lock_key: LockKey,
        profile: Profile,
        seed: Seed,
        scale: Scale,
        workers: Workers,
        schema: Schema,
        alembic_config: AlembicConfig,
        force: Force,
        yes: Yes,
        strict: Strict,
        strategy: Strategy,
        log_format: LogFormat,
        as_json: AsJson,
        verbose: Verbose,
        targets: Targets,
        shard: Shard,
        parallel: Parallel,
    ) -> None:
        reporter = _reporter(log_format, as_json, verbose)
        urls = _urls(database_url)
        if _is_fleet(urls, targets, shard):
            options = dict(pool_max=pool_max, lock_timeout=lock_timeout, lock_key=lock_key, profile=profile, seed=seed,
                           scale=scale, schema=schema, force=force, workers=workers, alembic_config=alembic_config,
                           strategy=strategy, strict=strict)
            _fleet(reporter, command, _lazy("dbtool.run.reset", pipeline), options, urls, targets, shard, parallel,
                   (action_word, yes))
            return
        url = urls[0] if urls else None

        def action() -> Any:
            from dbtool.run import reset

            settings = _settings(
                reporter, database_url=url, pool_max=pool_max, lock_timeout=lock_timeout,
                lock_key=lock_key, profile=profile, seed=seed, scale=scale, schema=schema, force=force,
                workers=workers, alembic_config=alembic_config, strict=strict, strategy=strategy,
            )
            _confirm(settings, action_word, yes)
            reporter.note(f"Target {settings.target}", target=str(settings.target), command=command)
            return getattr(reset, pipeline)(settings, reporter)

        result = _run(reporter, action)
        reporter.result(_summary(result), result.document())

    return run


reset_cmd = _destructive("reset", "Drop, migrate and seed", "reset_database")
reset_cmd.__doc__ = "Drop the schema's objects, migrate to head and seed, in one locked transaction."
app.command("reset")(reset_cmd)

seed_cmd = _destructive("seed", "Replace all seeded data in", "seed_database")
seed_cmd.__doc__ = "Replace the generated data (truncate + COPY) in one transaction, keeping the migrations' rows; the schema must be at head."
app.command("seed")(seed_cmd)

drop_cmd = _destructive("drop", "Drop every object in", "drop_database")
drop_cmd.__doc__ = "Drop everything a reset would drop (keeps extensions, owner, grants and dbtool_meta)."
app.command("drop")(drop_cmd)


@app.command()
@declared
def migrate(
    *,
    revision: Revision,
    database_url: DatabaseUrls,
    pool_max: PoolMax,
    lock_timeout: LockTimeout,
    lock_key: LockKey,
    schema: Schema,
    alembic_config: AlembicConfig,
    force: Force,
    log_format: LogFormat,
    as_json: AsJson,
    verbose: Verbose,
    targets: Targets,
    shard: Shard,
    parallel: Parallel,
) -> None:
    """Migrate the schema to a revision (up or down) with Alembic, in one locked transaction."""
    reporter = _reporter(log_format, as_json, verbose)
    urls = _urls(database_url)
    if _is_fleet(urls, targets, shard):
        from functools import partial

        options = dict(pool_max=pool_max, lock_timeout=lock_timeout, lock_key=lock_key, schema=schema, force=force,
                       alembic_config=alembic_config)
        _fleet(reporter, "migrate", partial(_lazy("dbtool.run.reset", "migrate_database"), revision=revision), options,
               urls, targets, shard, parallel)
        return
    url = urls[0] if urls else None

    def action() -> Any:
        from dbtool.run import reset

        settings = _settings(reporter, database_url=url, pool_max=pool_max, lock_timeout=lock_timeout,
                             lock_key=lock_key, schema=schema, force=force, alembic_config=alembic_config)
        reporter.note(f"Target {settings.target}", target=str(settings.target), command="migrate")
        return reset.migrate_database(settings, reporter, revision)

    result = _run(reporter, action)
    reporter.result(_summary(result), result.document())


def _protection(protected: bool) -> Callable[..., None]:
    @declared
    def run(
        *,
        database_url: DatabaseUrl,
        pool_max: PoolMax,
        lock_timeout: LockTimeout,
        lock_key: LockKey,
        schema: Schema,
        force: ProtectionForce,
        yes: Yes,
        log_format: LogFormat,
        as_json: AsJson,
        verbose: Verbose,
    ) -> None:
        reporter = _reporter(log_format, as_json, verbose)

        def action() -> Any:
            from dbtool.run import reset

            settings = _settings(reporter, database_url=database_url, pool_max=pool_max,
                                 lock_timeout=lock_timeout, lock_key=lock_key, schema=schema, force=force)
            if not protected and force:
                _confirm(settings, "Remove the protection of", yes)
            return reset.set_protection(settings, reporter, protected)

        result = _run(reporter, action)
        reporter.result(_summary(result), result.document())

    return run


protect_cmd = _protection(True)
protect_cmd.__doc__ = "Mark the database protected: reset, drop and seed refuse it, even with --force."
app.command("protect")(protect_cmd)
unprotect_cmd = _protection(False)
unprotect_cmd.__doc__ = "Remove the protection mark set by `dbtool protect` (needs --force, and confirmation on a terminal)."
app.command("unprotect")(unprotect_cmd)


def _read_only(name: str) -> Callable[..., None]:
    @declared
    def run(
        *,
        database_url: DatabaseUrls,
        schema: Schema,
        alembic_config: AlembicConfig,
        lock_key: LockKey,
        log_format: LogFormat,
        as_json: AsJson,
        verbose: Verbose,
        targets: Targets,
        shard: Shard,
        parallel: Parallel,
    ) -> None:
        reporter = _reporter(log_format, as_json, verbose)
        urls = _urls(database_url)
        if _is_fleet(urls, targets, shard):
            options = dict(schema=schema, lock_key=lock_key, alembic_config=alembic_config)
            _fleet(reporter, name, _settings_only(_lazy("dbtool.run.status", name)), options, urls, targets, shard, parallel)
            return
        url = urls[0] if urls else None

        def action() -> Any:
            from dbtool.run import status as status_module

            settings = _settings(reporter, start_local=False, database_url=url, schema=schema,
                                 lock_key=lock_key, alembic_config=alembic_config)
            return getattr(status_module, name)(settings)

        document = _run(reporter, action)
        reporter.result(_render(document), document)

    return run


status_cmd = _read_only("status")
status_cmd.__doc__ = "Show reachability, server version, revisions, the last seed, row counts and the lock holder (takes no lock)."
app.command("status")(status_cmd)
verify_cmd = _read_only("verify")
verify_cmd.__doc__ = "Check that the live data is exactly the recorded seed (exit 1 naming the tables that differ)."
app.command("verify")(verify_cmd)


@app.command("plan")
@declared
def plan_cmd(
    *,
    database_url: DatabaseUrl,
    profile: Profile,
    scale: Scale,
    schema: Schema,
    alembic_config: AlembicConfig,
    as_json: AsJson,
) -> None:
    """Show what a reset would generate: rows per table, and per column the rule chosen and why (reads the migrated schema)."""
    reporter = _reporter("text", as_json)

    def action() -> Any:
        from dbtool.run.explain import explain

        settings = _settings(reporter, start_local=False, database_url=database_url, profile=profile, scale=scale,
                             schema=schema, alembic_config=alembic_config)
        return explain(settings)

    document = _run(reporter, action)
    reporter.result(_render(document), document)


@app.command()
@declared
def clone(
    name: Annotated[str, typer.Argument(help="Name of the new database, created next to --database-url's.")],
    *,
    database_url: DatabaseUrl,
    lock_timeout: LockTimeout,
    profile: Profile,
    seed: Seed,
    scale: Scale,
    schema: Schema,
    alembic_config: AlembicConfig,
    clone_strategy: CloneStrategy,
    log_format: LogFormat,
    as_json: AsJson,
    verbose: Verbose,
) -> None:
    """Create database NAME holding the seeded state, cloned from its template (built first if needed); print its URL."""
    reporter = _reporter(log_format, as_json, verbose)

    def action() -> Any:
        from dbtool.testdb import template

        settings = _settings(reporter, database_url=database_url, lock_timeout=lock_timeout, profile=profile,
                             seed=seed, scale=scale, schema=schema, alembic_config=alembic_config)
        return template.clone_database(settings, name, reporter, clone_strategy)

    made = _run(reporter, action)
    reporter.result(made.url, {"database": made.name, "url": made.url, "template": made.template.name,
                               "built": made.template.built})


@app.command()
@declared
def templates(
    *,
    database_url: DatabaseUrl,
    lock_timeout: LockTimeout,
    schema: Schema,
    alembic_config: AlembicConfig,
    prune: Prune,
    unused_for: UnusedFor,
    as_json: AsJson,
    verbose: Verbose,
) -> None:
    """List dbtool's templates and clones on the server (--prune drops stale ones; never a template in use)."""
    reporter = _reporter("text", as_json, verbose)

    def action() -> Any:
        from dbtool.testdb import template

        settings = _settings(reporter, database_url=database_url, lock_timeout=lock_timeout, schema=schema,
                             alembic_config=alembic_config)
        pruned = template.prune(settings, unused_for * 60) if prune else None
        with template.admin_connection(settings.database_url or "", "templates") as conn:
            found, clones = template.list_templates(conn)
        return found, clones, pruned

    found, clones, pruned = _run(reporter, action)
    document: dict[str, Any] = {
        "templates": [{"name": t.name, "size": t.size, **{k: t.comment.get(k) for k in (
            "project", "profile", "seed", "scale", "server_major", "built", "used")}} for t in found],
        "clones": clones,
    }
    lines = [f"{t.name}  {t.size / 1e6:.1f} MB  {t.comment.get('project', '?')}  profile {t.comment.get('profile')}"
             f" seed {t.comment.get('seed')}" for t in found] or ["no templates"]
    lines += [f"clone {c}" for c in clones]
    if pruned is not None:
        document["pruned"] = {"templates": pruned.templates, "clones": pruned.clones, "builds": pruned.builds}
        lines.append(f"pruned {len(pruned.templates)} templates, {len(pruned.clones)} orphan clones, "
                     f"{len(pruned.builds)} unfinished builds")
    reporter.result("\n".join(lines), document)


@app.command()
@declared
def repair(
    *,
    database_url: DatabaseUrls,
    targets: Targets,
    shard: Shard,
    parallel: Parallel,
    pool_max: PoolMax,
    lock_timeout: LockTimeout,
    lock_key: LockKey,
    schema: Schema,
    alembic_config: AlembicConfig,
    force: Force,
    yes: Yes,
    log_format: LogFormat,
    as_json: AsJson,
    verbose: Verbose,
) -> None:
    """Verify every target and reset only those that drifted from their recorded seed, reporting what was found and done."""
    reporter = _reporter(log_format, as_json, verbose)
    urls = _urls(database_url)
    options = dict(pool_max=pool_max, lock_timeout=lock_timeout, lock_key=lock_key, schema=schema, force=force,
                   alembic_config=alembic_config)
    _fleet(reporter, "repair", _lazy("dbtool.run.repair", "repair_database"), options, urls, targets, shard, parallel,
           ("Verify, and reset if drifted,", yes), single=not _is_fleet(urls, targets, shard))


@app.command()
@declared
def init(*, alembic_config: AlembicConfig) -> None:
    """Write dbtool's settings, with their defaults, next to an existing Alembic project."""
    from pathlib import Path

    from dbtool.settings.file import init_settings

    reporter = _reporter("text")

    def action() -> Any:
        settings = Settings.from_options(alembic_config=alembic_config)
        if settings.project.builtin:
            raise ConfigError("no Alembic project here (./alembic.ini or [tool.alembic] in ./pyproject.toml); "
                              "run `dbtool init` in your project's directory or pass --alembic-config")
        return init_settings(Path.cwd(), alembic_config), settings.project

    written, project = _run(reporter, action)
    reporter.result(
        f"wrote dbtool settings to {written} for {project}\nnext:\n"
        "  dbtool reset     # drop, migrate and fill: the embedded Postgres, or $DATABASE_URL\n"
        "  dbtool status    # the project's revision and what the database holds",
        {"file": str(written), "project": str(project)},
    )


@app.command()
@declared
def profiles(*, alembic_config: AlembicConfig, as_json: AsJson) -> None:
    """List the seed profiles: rows per table, per-table counts and hooks (the project's, else the generic ones)."""
    from dbtool.report import Reporter
    from dbtool.seed.profiles import GENERIC_ROWS

    reporter = Reporter("text", as_json)

    def action() -> Any:
        options, _, _ = _with_file({"alembic_config": alembic_config})
        settings = Settings.from_options(**options)
        found: dict[str, dict[str, Any]] = {name: {"rows": n, "tables": {}} for name, n in GENERIC_ROWS.items()}
        found["load"]["rows"] = f"{GENERIC_ROWS['load']} x --scale"
        for name, own in settings.seed_profiles.items():
            found.setdefault(name, {"rows": GENERIC_ROWS["dev"], "tables": {}})
            if own.rows is not None:
                found[name]["rows"] = own.rows
            found[name]["tables"] = {t: c if isinstance(c, int) else f"{c[0]} per {c[1]}" for t, c in own.tables.items()}
            if own.hooks:
                found[name]["hooks"] = dict(own.hooks)
        text = "\n".join(f"{name:6} {r['rows']} rows per table"
                         + "".join(f"; {t}: {c}" for t, c in r["tables"].items())
                         + (f"; hooks for {len(r['hooks'])} tables" if r.get("hooks") else "") for name, r in found.items())
        return text, {"project": str(settings.project), "profiles": found}

    text, document = _run(reporter, action)
    reporter.result(text, document)


@app.command("config")
@declared
def config_cmd(
    *,
    database_url: DatabaseUrl,
    pool_max: PoolMax,
    lock_timeout: LockTimeout,
    lock_key: LockKey,
    profile: Profile,
    seed: Seed,
    scale: Scale,
    workers: Workers,
    schema: Schema,
    alembic_config: AlembicConfig,
    strategy: Strategy,
    strict: Strict,
    log_format: LogFormat,
    as_json: AsJson,
) -> None:
    """Print the effective settings and where each comes from (flag, env, file or default), password masked."""
    from dbtool.settings.file import ignored_note
    from dbtool.settings.urls import mask_url

    reporter = _reporter(log_format, as_json, note_ignored=False)  # said below, in the output itself

    def action() -> dict[str, Any]:
        given = dict(
            database_url=database_url, pool_max=pool_max, lock_timeout=lock_timeout, lock_key=lock_key,
            profile=profile, seed=seed, scale=scale, workers=workers, schema=schema, log_format=log_format,
            alembic_config=alembic_config, strategy=strategy, strict=strict,
        )
        options, sources, file = _with_file({o.name: given[o.name] for o in FILE_OPTIONS})  # every file key, in order
        profiles = options.pop("profiles", {})
        settings = Settings.from_options(**{k: v for k, v in options.items() if k != "log_format"}, profiles=profiles)
        if options["database_url"] is not None:
            options["database_url"] = mask_url(options["database_url"])
        return {
            "file": str(file.path) if file.path else None,
            "ignored": [str(file.ignored)] if file.ignored else [],
            "ignored_note": ignored_note(file),
            "project": str(settings.project),
            "project_profiles": sorted(profiles),
            "settings": {o.file_key: {"value": options[o.name], "source": sources[o.name]} for o in FILE_OPTIONS},
        }

    document = _run(reporter, action)
    shown = {
        k: ("(embedded local server)" if k == "database-url" else "(found in the working directory)")
        if e["value"] is None else f"{e['value']:g}" if isinstance(e["value"], float)
        else ("on" if e["value"] else "off") if isinstance(e["value"], bool) else str(e["value"])
        for k, e in document["settings"].items()
    }
    key_width, value_width = max(map(len, shown)), max(map(len, shown.values()))
    lines = [f"settings file: {document['file'] or 'none (./dbtool.toml or [tool.dbtool] in ./pyproject.toml)'}",
             *([f"note: {document['ignored_note']}"] if document["ignored_note"] else []),
             f"alembic project: {document['project']}"]
    document.pop("ignored_note")
    lines += [f"{k:<{key_width}}  {v:<{value_width}}  {document['settings'][k]['source']}" for k, v in shown.items()]
    reporter.result("\n".join(lines), document)
