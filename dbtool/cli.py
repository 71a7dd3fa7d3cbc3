"""The typer app: parse options, call one pipeline function, turn DbtoolError into its exit code; no SQL here.

Exit codes: 0 done; 1 failed and rolled back (database unchanged); 2 bad usage or configuration;
3 refused by the safety guard; 69 database unreachable; 75 lock not acquired in time (another
run holds it); 130/143 interrupted by SIGINT/SIGTERM (rolled back, lock released).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

from dbtool import __version__
from dbtool.config import ADVISORY_LOCK_KEY, DEFAULT_LOCK_TIMEOUT, DEFAULT_POOL_MAX, DEFAULT_SEED, Settings
from dbtool.errors import EXIT_USAGE, ConfigError, DbtoolError, Terminated

T = TypeVar("T")

EXIT_CODES_HELP = (
    "Exit codes: 0 done; 1 failed, rolled back; 2 bad usage; 3 refused by the safety guard; "
    "69 database unreachable; 75 lock busy (another run holds it); 130/143 interrupted, rolled back."
)

app = typer.Typer(
    help=f"Reset, migrate and seed Postgres databases safely. {EXIT_CODES_HELP}",
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # locals hold the DSN; failures are one line anyway
    rich_markup_mode=None,
    add_completion=True,
)
local_app = typer.Typer(help="Manage the embedded local Postgres (needs the dbtool[embedded] extra).", no_args_is_help=True)
app.add_typer(local_app, name="local")

DatabaseUrl = Annotated[
    str | None,
    typer.Option("--database-url", envvar="DATABASE_URL", show_envvar=True,
                 help="Target database, postgresql://user:password@host:port/dbname. Default: the embedded local server."),
]
PoolMax = Annotated[int, typer.Option(envvar="DBTOOL_POOL_MAX", help="Pool max size, >= 2 (one connection holds the lock).")]
LockTimeout = Annotated[float, typer.Option(envvar="DBTOOL_LOCK_TIMEOUT", help="Seconds to wait for the lock; 0 = try once.")]
LockKey = Annotated[int, typer.Option(envvar="DBTOOL_LOCK_KEY", help="Advisory lock key (bigint).")]
Profile = Annotated[str, typer.Option(envvar="DBTOOL_PROFILE", help="Seed profile (see `dbtool profiles`).")]
Seed = Annotated[int, typer.Option(envvar="DBTOOL_SEED", help="PRNG seed, 0..4294967295.")]
Scale = Annotated[int, typer.Option(envvar="DBTOOL_SCALE", help="Multiply the profile's row counts.")]
Workers = Annotated[int, typer.Option(envvar="DBTOOL_WORKERS", help="Generator processes; 0 = automatic. Never changes the data.")]
Schema = Annotated[str, typer.Option(envvar="DBTOOL_SCHEMA", help="Managed schema.")]
AlembicConfig = Annotated[
    str | None,
    typer.Option("--alembic-config", envvar="DBTOOL_ALEMBIC_CONFIG", show_envvar=True,
                 help="The project's alembic.ini or pyproject.toml. Default: ./alembic.ini, else [tool.alembic] "
                      "in ./pyproject.toml, else the built-in example."),
]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Debug logs on stderr (also before the command).")]
Force = Annotated[bool, typer.Option("--force", help="Reset a non-empty database dbtool did not create (never a protected one).")]
Yes = Annotated[bool, typer.Option("--yes", "-y", envvar="DBTOOL_YES", help="Do not ask for confirmation.")]
Strict = Annotated[bool, typer.Option("--strict", envvar="DBTOOL_STRICT",
                                      help="Exit 2 when a table cannot be filled automatically, instead of leaving it empty.")]
Strategy = Annotated[str, typer.Option(envvar="DBTOOL_STRATEGY",
                                        help="reset only: transaction (one transaction), swap (build a shadow schema on "
                                             "the other pool connections, then rename it in), or auto.")]
LogFormat = Annotated[str, typer.Option(envvar="DBTOOL_LOG_FORMAT", help="text or json (one JSON object per step).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
# Fleet options: several targets in one command (see dbtool/fleet.py).
DatabaseUrls = Annotated[
    list[str] | None,
    typer.Option("--database-url", envvar="DATABASE_URL", show_envvar=True,
                 help="Target database, postgresql://user:password@host:port/dbname; repeat it for several. "
                      "Default: the embedded local server."),
]
Targets = Annotated[
    str | None,
    typer.Option("--targets", envvar="DBTOOL_TARGETS", show_envvar=True,
                 help="File listing the targets, one 'name = URL' or URL per line; ${VAR} is taken from the environment."),
]
Shard = Annotated[
    str | None,
    typer.Option("--shard", envvar="DBTOOL_SHARD", show_envvar=True,
                 help="Only shard INDEX/COUNT of the targets (0-based: a Kubernetes Indexed Job's completion index)."),
]
Parallel = Annotated[
    int, typer.Option(envvar="DBTOOL_PARALLEL", help="Targets in flight at once; 0 = automatic (4 per core, at most 16)."),
]


_before_command: dict[str, Any] = {}  # common options given before the command name


def _reporter(log_format: str, as_json: bool = False, verbose: bool = False) -> Any:
    from dbtool.report import Reporter

    if verbose:
        _configure_logging(True)
    if _parameter_source("log_format") == "default":
        log_format = _before_command.get("log_format") or _file_settings(strict=False).values.get("log_format", log_format)
    if log_format not in ("text", "json"):
        raise typer.BadParameter(f"{log_format!r} is not text or json", param_hint="'--log-format'")
    return Reporter(log_format, as_json)


def _settings(reporter: Any, start_local: bool = True, **options: Any) -> Settings:
    """Validate options (flag > env > settings file > default); with no database URL, use the embedded server
    (started if needed, unless `start_local` is False: commands that only look report it stopped)."""
    options, sources, _ = _with_file(options)
    settings = Settings.from_options(**options, sources=sources)
    if settings.database_url is None:
        from dbtool import local

        server = local.ensure() if start_local else local.require_running()
        reporter.note(f"Using embedded Postgres in {server.data_dir} (no DATABASE_URL given)", embedded=True)
        settings = Settings.from_options(**{**options, "database_url": server.url}, sources={**sources, "database_url": "embedded"})
    return settings


def _parameter_source(name: str) -> str | None:
    """Where option `name` of the running command got its value: flag, env or default (None: no such option)."""
    try:
        from typer._click.globals import get_current_context  # typer >= 0.28 vendors click
    except ImportError:  # pragma: no cover - older typer runs on click itself
        from click import get_current_context
    ctx = get_current_context(silent=True)
    source = ctx.get_parameter_source(name) if ctx is not None else None
    if source is None:
        return None
    return {"COMMANDLINE": "flag", "ENVIRONMENT": "env"}.get(source.name, "default")


def _file_settings(strict: bool = True) -> Any:
    """The settings file of the current directory (an unreadable one raises ConfigError only when strict)."""
    from pathlib import Path

    from dbtool.errors import ConfigError
    from dbtool.settings_file import FileSettings, read_settings_file

    try:
        return read_settings_file(Path.cwd())
    except ConfigError:
        if strict:
            raise
        return FileSettings()  # _settings reports it, through the reporter the caller is building


def _with_file(options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str], Any]:
    """Fill the options left at their defaults from the settings file; say where each value came from."""
    file = _file_settings()
    merged, sources = dict(options), {}
    for name in options:
        source = _parameter_source(name) or "default"
        if source == "default" and name in file.values:
            merged[name], source = file.values[name], "file"
        sources[name] = source
    if "profiles" in file.values:
        merged["profiles"] = file.values["profiles"]  # file-only: profiles of the team's own project
        sources["profiles"] = "file"
    return merged, sources, file.path


def _confirm(settings: Settings, action: str, yes: bool) -> None:
    """Interactive terminals confirm destructive commands; scripts (no TTY) never block on a prompt."""
    if yes or not (sys.stdin.isatty() and sys.stdout.isatty()):
        return
    if not typer.confirm(f"{action} {settings.target} (schema {settings.schema})?", default=False):
        raise DbtoolError("not confirmed; nothing was changed (pass --yes to skip the question)")


def _urls(values: list[str] | None) -> list[str]:
    """The --database-url values; DATABASE_URL from the environment is one URL, never split on whitespace."""
    if values and _parameter_source("database_url") == "env":
        return [os.environ["DATABASE_URL"]]
    return list(values or [])


def _is_fleet(urls: list[str], targets: str | None, shard: str | None) -> bool:
    """A fleet run: a targets file, a shard, or more than one --database-url; one URL runs exactly as it always did."""
    return targets is not None or shard is not None or len(urls) > 1


def _lazy(module: str, name: str) -> Callable[..., Any]:
    """A pipeline imported only when it runs (`dbtool --help` stays fast)."""

    def call(*args: Any, **kwargs: Any) -> Any:
        import importlib

        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    return call


def _settings_only(pipeline: Callable[[Settings], Any]) -> Callable[[Settings, Any], Any]:
    """Adapt a read-only command, which takes no reporter, to the fleet's (settings, reporter) pipelines."""
    return lambda settings, reporter: pipeline(settings)


def _fleet(
    reporter: Any, command: str, pipeline: Callable[..., Any], options: dict[str, Any], urls: list[str],
    targets: str | None, shard: str | None, parallel: int, confirm: tuple[str, bool] | None = None, single: bool = False,
) -> None:
    """Run `pipeline` on every target (see dbtool/fleet.py), print one line per target and a summary, exit by the rule."""

    def action() -> Any:
        from dbtool import fleet
        from dbtool import targets as targets_module

        if single:  # repair with one URL or none: a fleet of one, the embedded server included
            settings = _settings(reporter, database_url=urls[0] if urls else None, **options)
            members = [fleet.Member(str(settings.target), settings)]
        else:
            merged, sources, _ = _with_file(options)
            # DATABASE_URL from the environment is a default, not a fleet member: only flags join a targets file.
            given = [] if targets is not None and _parameter_source("database_url") != "flag" else urls
            entries = targets_module.url_entries(given)
            if targets is not None:
                entries = entries + targets_module.read_targets(targets, os.environ)
                targets_module.check_unique(entries)
            if shard is not None:
                entries = targets_module.shard(entries, *targets_module.parse_shard(shard))
            members = [
                fleet.Member(e.name, Settings.from_options(**merged, database_url=e.url,
                                                           sources={**sources, "database_url": e.origin}))
                for e in entries
            ]
        count = fleet.resolve_parallel(parallel, len(members))
        if confirm is not None:
            _confirm_fleet(members, *confirm)
        return fleet.run_fleet(command, members, pipeline, reporter, count)

    result = _run(reporter, action)
    reporter.summary(result.summary_line(), result.document(), result.exit_code, result.error_line())
    if result.exit_code:
        raise typer.Exit(code=result.exit_code)


def _confirm_fleet(members: list[Any], action: str, yes: bool) -> None:
    """Interactive terminals confirm a destructive fleet run once, naming the targets; scripts never block."""
    if yes or not members or not (sys.stdin.isatty() and sys.stdout.isatty()):
        return
    names = ", ".join(m.name for m in members[:5]) + (f" and {len(members) - 5} more" if len(members) > 5 else "")
    if not typer.confirm(f"{action} {len(members)} database(s): {names}?", default=False):
        raise DbtoolError("not confirmed; nothing was changed (pass --yes to skip the question)")


def _run(reporter: Any, action: Callable[[], T]) -> T:
    """Call `action`; map every failure to one line and its exit code."""
    from dbtool import classify

    # psycopg warns about the cleanup it did after an interruption or a lost connection (a cancel cut
    # short, a rollback it could not send); dbtool says what happened itself, in one line. --verbose
    # shows them.
    psycopg_logger = logging.getLogger("psycopg")
    previous_level = psycopg_logger.level
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        psycopg_logger.setLevel(logging.ERROR)
    try:
        return action()
    except (typer.Exit, typer.Abort, typer.TyperException):
        raise
    except (Exception, KeyboardInterrupt, Terminated) as exc:
        failure = classify.failure(exc)
    finally:
        psycopg_logger.setLevel(previous_level)
    reporter.failure(failure)
    raise typer.Exit(code=failure.exit_code)


def _destructive(command: str, action_word: str, pipeline: str) -> Callable[..., None]:
    def run(
        database_url: DatabaseUrls = None,
        pool_max: PoolMax = DEFAULT_POOL_MAX,
        lock_timeout: LockTimeout = DEFAULT_LOCK_TIMEOUT,
        lock_key: LockKey = ADVISORY_LOCK_KEY,
        profile: Profile = "dev",
        seed: Seed = DEFAULT_SEED,
        scale: Scale = 1,
        workers: Workers = 0,
        schema: Schema = "public",
        alembic_config: AlembicConfig = None,
        force: Force = False,
        yes: Yes = False,
        strict: Strict = False,
        strategy: Strategy = "auto",
        log_format: LogFormat = "text",
        as_json: AsJson = False,
        verbose: Verbose = False,
        targets: Targets = None,
        shard: Shard = None,
        parallel: Parallel = 0,
    ) -> None:
        reporter = _reporter(log_format, as_json, verbose)
        urls = _urls(database_url)
        if _is_fleet(urls, targets, shard):
            options = dict(pool_max=pool_max, lock_timeout=lock_timeout, lock_key=lock_key, profile=profile, seed=seed,
                           scale=scale, schema=schema, force=force, workers=workers, alembic_config=alembic_config,
                           strategy=strategy)
            _fleet(reporter, command, _lazy("dbtool.reset", pipeline), options, urls, targets, shard, parallel,
                   (action_word, yes))
            return
        database_url = urls[0] if urls else None

        def action() -> Any:
            from dbtool import reset

            settings = _settings(
                reporter, database_url=database_url, pool_max=pool_max, lock_timeout=lock_timeout,
                lock_key=lock_key, profile=profile, seed=seed, scale=scale, schema=schema, force=force,
                workers=workers, alembic_config=alembic_config, strict=strict, strategy=strategy,
            )
            _confirm(settings, action_word, yes)
            reporter.note(f"Target {settings.target}", target=str(settings.target), command=command)
            return getattr(reset, pipeline)(settings, reporter)

        result = _run(reporter, action)
        reporter.result(_summary(result), result.document())

    return run


def _summary(result: Any) -> str:
    if result.note:
        return str(result.note)
    if result.digest:
        return f"{result.command} done: {result.target} at {result.revision}, digest {result.digest[:16]}"
    return f"{result.command} done: {result.target}"


reset_cmd = _destructive("reset", "Drop, migrate and seed", "reset_database")
reset_cmd.__doc__ = "Drop the schema's objects, migrate to head and seed, in one locked transaction."
app.command("reset")(reset_cmd)

seed_cmd = _destructive("seed", "Replace all seeded data in", "seed_database")
seed_cmd.__doc__ = "Replace the seed data (truncate + COPY) in one transaction; the schema must be at head."
app.command("seed")(seed_cmd)

drop_cmd = _destructive("drop", "Drop every object in", "drop_database")
drop_cmd.__doc__ = "Drop everything a reset would drop (keeps extensions, owner, grants and dbtool_meta)."
app.command("drop")(drop_cmd)


@app.command()
def migrate(
    revision: Annotated[str, typer.Option(help="Target revision: head, base, or an id.")] = "head",
    database_url: DatabaseUrls = None,
    pool_max: PoolMax = DEFAULT_POOL_MAX,
    lock_timeout: LockTimeout = DEFAULT_LOCK_TIMEOUT,
    lock_key: LockKey = ADVISORY_LOCK_KEY,
    schema: Schema = "public",
    alembic_config: AlembicConfig = None,
    force: Force = False,
    log_format: LogFormat = "text",
    as_json: AsJson = False,
    verbose: Verbose = False,
    targets: Targets = None,
    shard: Shard = None,
    parallel: Parallel = 0,
) -> None:
    """Migrate the schema to a revision (up or down) with Alembic, in one locked transaction."""
    reporter = _reporter(log_format, as_json, verbose)
    urls = _urls(database_url)
    if _is_fleet(urls, targets, shard):
        from functools import partial

        options = dict(pool_max=pool_max, lock_timeout=lock_timeout, lock_key=lock_key, schema=schema, force=force,
                       alembic_config=alembic_config)
        _fleet(reporter, "migrate", partial(_lazy("dbtool.reset", "migrate_database"), revision=revision), options,
               urls, targets, shard, parallel)
        return
    database_url = urls[0] if urls else None

    def action() -> Any:
        from dbtool import reset

        settings = _settings(reporter, database_url=database_url, pool_max=pool_max, lock_timeout=lock_timeout,
                             lock_key=lock_key, schema=schema, force=force, alembic_config=alembic_config)
        reporter.note(f"Target {settings.target}", target=str(settings.target), command="migrate")
        return reset.migrate_database(settings, reporter, revision)

    result = _run(reporter, action)
    reporter.result(_summary(result), result.document())


def _protection(protected: bool) -> Callable[..., None]:
    def run(
        database_url: DatabaseUrl = None,
        pool_max: PoolMax = DEFAULT_POOL_MAX,
        lock_timeout: LockTimeout = DEFAULT_LOCK_TIMEOUT,
        lock_key: LockKey = ADVISORY_LOCK_KEY,
        schema: Schema = "public",
        force: Annotated[bool, typer.Option("--force", help="Required by unprotect: undoing protection is deliberate.")] = False,
        yes: Yes = False,
        log_format: LogFormat = "text",
        as_json: AsJson = False,
        verbose: Verbose = False,
    ) -> None:
        reporter = _reporter(log_format, as_json, verbose)

        def action() -> Any:
            from dbtool import reset

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
    def run(
        database_url: DatabaseUrls = None,
        schema: Schema = "public",
        alembic_config: AlembicConfig = None,
        lock_key: LockKey = ADVISORY_LOCK_KEY,
        log_format: LogFormat = "text",
        as_json: AsJson = False,
        verbose: Verbose = False,
        targets: Targets = None,
        shard: Shard = None,
        parallel: Parallel = 0,
    ) -> None:
        reporter = _reporter(log_format, as_json, verbose)
        urls = _urls(database_url)
        if _is_fleet(urls, targets, shard):
            options = dict(schema=schema, lock_key=lock_key, alembic_config=alembic_config)
            _fleet(reporter, name, _settings_only(_lazy("dbtool.status", name)), options, urls, targets, shard, parallel)
            return
        database_url = urls[0] if urls else None

        def action() -> Any:
            from dbtool import status as status_module

            settings = _settings(reporter, start_local=False, database_url=database_url, schema=schema,
                                 lock_key=lock_key, alembic_config=alembic_config)
            return getattr(status_module, name)(settings)

        document = _run(reporter, action)
        reporter.result(_render(document), document)

    return run


TEXT_OMITS = ("table_digests", "row_counts")  # per-table detail: in --json; the live counts are shown anyway


def _render(document: dict[str, Any], indent: str = "") -> str:
    lines = []
    for key, value in document.items():
        if indent and key in TEXT_OMITS:
            continue
        if isinstance(value, dict) and value:
            lines.append(f"{indent}{key}:")
            lines.append(_render(value, indent + "  "))
        else:
            lines.append(f"{indent}{key}: {_shown(value)}")
    return "\n".join(lines)


def _shown(value: Any) -> str:
    """A value as a person reads it: no Python reprs (None, {}, [{...}])."""
    if value is None or value == {} or value == []:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return "; ".join(_shown(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k} {_shown(v)}" for k, v in value.items())
    return str(value)


status_cmd = _read_only("status")
status_cmd.__doc__ = "Show reachability, server version, revisions, the last seed, row counts and the lock holder (takes no lock)."
app.command("status")(status_cmd)
verify_cmd = _read_only("verify")
verify_cmd.__doc__ = "Check that the live data is exactly the recorded seed (exit 1 naming the tables that differ)."
app.command("verify")(verify_cmd)


@app.command("plan")
def plan_cmd(
    database_url: DatabaseUrl = None,
    profile: Profile = "dev",
    scale: Scale = 1,
    schema: Schema = "public",
    alembic_config: AlembicConfig = None,
    as_json: AsJson = False,
) -> None:
    """Show what a reset would generate: rows per table, and per column the rule chosen and why (reads the migrated schema)."""
    reporter = _reporter("text", as_json)

    def action() -> Any:
        from dbtool.explain import explain

        settings = _settings(reporter, start_local=False, database_url=database_url, profile=profile, scale=scale,
                             schema=schema, alembic_config=alembic_config)
        return explain(settings)

    document = _run(reporter, action)
    reporter.result(_render(document), document)


@app.command()
def clone(
    name: Annotated[str, typer.Argument(help="Name of the new database, created next to --database-url's.")],
    database_url: DatabaseUrl = None,
    lock_timeout: LockTimeout = DEFAULT_LOCK_TIMEOUT,
    profile: Profile = "dev",
    seed: Seed = DEFAULT_SEED,
    scale: Scale = 1,
    schema: Schema = "public",
    alembic_config: AlembicConfig = None,
    strategy: Annotated[str, typer.Option(help="wal_log, or file_copy (file cloning on Postgres 18: fast on "
                                                "copy-on-write file systems).")] = "wal_log",
    log_format: LogFormat = "text",
    as_json: AsJson = False,
    verbose: Verbose = False,
) -> None:
    """Create database NAME holding the seeded state, cloned from its template (built first if needed); print its URL."""
    reporter = _reporter(log_format, as_json, verbose)

    def action() -> Any:
        from dbtool import template

        settings = _settings(reporter, database_url=database_url, lock_timeout=lock_timeout, profile=profile,
                             seed=seed, scale=scale, schema=schema, alembic_config=alembic_config)
        return template.clone_database(settings, name, reporter, strategy)

    made = _run(reporter, action)
    reporter.result(made.url, {"database": made.name, "url": made.url, "template": made.template.name,
                               "built": made.template.built})


@app.command()
def templates(
    database_url: DatabaseUrl = None,
    lock_timeout: LockTimeout = DEFAULT_LOCK_TIMEOUT,
    schema: Schema = "public",
    alembic_config: AlembicConfig = None,
    prune: Annotated[bool, typer.Option("--prune", help="Drop this project's templates of older migrations "
                                        "unused for --unused-for minutes, and clones left by killed runs.")] = False,
    unused_for: Annotated[float, typer.Option(help="Minutes a stale template must have been unused to be pruned.")] = 10.0,
    as_json: AsJson = False,
    verbose: Verbose = False,
) -> None:
    """List dbtool's templates and clones on the server (--prune drops stale ones; never a template in use)."""
    reporter = _reporter("text", as_json, verbose)

    def action() -> Any:
        from dbtool import template

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
def repair(
    database_url: DatabaseUrls = None,
    targets: Targets = None,
    shard: Shard = None,
    parallel: Parallel = 0,
    pool_max: PoolMax = DEFAULT_POOL_MAX,
    lock_timeout: LockTimeout = DEFAULT_LOCK_TIMEOUT,
    lock_key: LockKey = ADVISORY_LOCK_KEY,
    schema: Schema = "public",
    alembic_config: AlembicConfig = None,
    force: Force = False,
    yes: Yes = False,
    log_format: LogFormat = "text",
    as_json: AsJson = False,
    verbose: Verbose = False,
) -> None:
    """Verify every target and reset only those that drifted from their recorded seed, reporting what was found and done."""
    reporter = _reporter(log_format, as_json, verbose)
    urls = _urls(database_url)
    options = dict(pool_max=pool_max, lock_timeout=lock_timeout, lock_key=lock_key, schema=schema, force=force,
                   alembic_config=alembic_config)
    _fleet(reporter, "repair", _lazy("dbtool.repair", "repair_database"), options, urls, targets, shard, parallel,
           ("Verify, and reset if drifted,", yes), single=not _is_fleet(urls, targets, shard))


@app.command()
def init(alembic_config: AlembicConfig = None) -> None:
    """Write dbtool's settings, with their defaults, next to an existing Alembic project."""
    from pathlib import Path

    from dbtool.settings_file import init_settings

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
def profiles(alembic_config: AlembicConfig = None, as_json: AsJson = False) -> None:
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
def config_cmd(
    database_url: DatabaseUrl = None,
    pool_max: PoolMax = DEFAULT_POOL_MAX,
    lock_timeout: LockTimeout = DEFAULT_LOCK_TIMEOUT,
    lock_key: LockKey = ADVISORY_LOCK_KEY,
    profile: Profile = "dev",
    seed: Seed = DEFAULT_SEED,
    scale: Scale = 1,
    workers: Workers = 0,
    schema: Schema = "public",
    alembic_config: AlembicConfig = None,
    log_format: LogFormat = "text",
    as_json: AsJson = False,
) -> None:
    """Print the effective settings and where each comes from (flag, env, file or default), password masked."""
    from dbtool.config import mask_url

    reporter = _reporter(log_format, as_json)

    def action() -> dict[str, Any]:
        options, sources, path = _with_file(dict(
            database_url=database_url, pool_max=pool_max, lock_timeout=lock_timeout, lock_key=lock_key,
            profile=profile, seed=seed, scale=scale, workers=workers, schema=schema, log_format=log_format,
            alembic_config=alembic_config,
        ))
        options["log_format"] = reporter.log_format  # already taken from the file by _reporter
        profiles = options.pop("profiles", {})
        settings = Settings.from_options(**{k: v for k, v in options.items() if k != "log_format"}, profiles=profiles)
        if options["database_url"] is not None:
            options["database_url"] = mask_url(options["database_url"])
        return {
            "file": str(path) if path else None,
            "project": str(settings.project),
            "project_profiles": sorted(profiles),
            "settings": {k.replace("_", "-"): {"value": v, "source": sources[k]} for k, v in options.items()},
        }

    document = _run(reporter, action)
    shown = {
        k: ("(embedded local server)" if k == "database-url" else "(found in the working directory)")
        if e["value"] is None else f"{e['value']:g}" if isinstance(e["value"], float)
        else str(e["value"])
        for k, e in document["settings"].items()
    }
    key_width, value_width = max(map(len, shown)), max(map(len, shown.values()))
    lines = [f"settings file: {document['file'] or 'none (./dbtool.toml or [tool.dbtool] in ./pyproject.toml)'}",
             f"alembic project: {document['project']}"]
    lines += [f"{k:<{key_width}}  {v:<{value_width}}  {document['settings'][k]['source']}" for k, v in shown.items()]
    reporter.result("\n".join(lines), document)


DataDir = Annotated[str | None, typer.Option(envvar="DBTOOL_LOCAL_DIR", help="Data directory (default .dbtool/pgdata).")]


@local_app.command("up")
def local_up(data_dir: DataDir = None, as_json: AsJson = False) -> None:
    """Start the embedded Postgres (reusing its data directory) and print its URL."""
    from dbtool import local

    reporter = _reporter("text", as_json)
    server = _run(reporter, lambda: local.up(data_dir))
    reporter.result(f"embedded Postgres running in {server.data_dir}\n{server.url}",
                    {"data_dir": str(server.data_dir), "url": server.url, "pid": server.pid})


@local_app.command("url")
def local_url(data_dir: DataDir = None) -> None:
    """Print the embedded database URL (starting the server if needed, and saying so on stderr)."""
    from dbtool import local

    reporter = _reporter("text")
    server = _run(reporter, lambda: local.up(data_dir))
    if server.started:
        reporter.aside(f"started embedded Postgres in {server.data_dir} (it was not running)")
    reporter.result(server.url, {"url": server.url})


@local_app.command("env")
def local_env(data_dir: DataDir = None) -> None:
    """Print a shell line putting the server's own psql/pg_dump first on PATH and setting DATABASE_URL: eval "$(dbtool local env)"."""
    from dbtool import local

    reporter = _reporter("text")
    server = _run(reporter, lambda: local.up(data_dir))
    if server.started:
        reporter.aside(f"started embedded Postgres in {server.data_dir} (it was not running)")
    reporter.result(local.env_line(server), {"path": str(server.bin_dir), "url": server.url})


@local_app.command("status")
def local_status(data_dir: DataDir = None, as_json: AsJson = False) -> None:
    """Say whether the embedded Postgres is running (exit 1 when it is not)."""
    from dbtool import local

    reporter = _reporter("text", as_json)
    server = _run(reporter, lambda: local.running(data_dir) if local.available() else None)
    directory = local.data_dir(data_dir)
    reporter.result(
        f"running (pid {server.pid}) in {directory}" if server else f"not running ({directory})",
        {"running": server is not None, "data_dir": str(directory), "pid": server.pid if server else None},
    )
    if server is None:
        raise typer.Exit(code=1)


@local_app.command("down")
def local_down(data_dir: DataDir = None) -> None:
    """Stop the embedded Postgres (the data directory is kept)."""
    from dbtool import local

    reporter = _reporter("text")
    stopped = _run(reporter, lambda: local.down(data_dir))
    reporter.result("stopped" if stopped else "was not running", {"stopped": stopped})


@local_app.command("destroy")
def local_destroy(data_dir: DataDir = None, yes: Yes = False) -> None:
    """Stop the embedded Postgres and delete its data directory."""
    from dbtool import local

    reporter = _reporter("text")
    directory = local.data_dir(data_dir)
    if not yes and sys.stdin.isatty() and not typer.confirm(f"Delete {directory} and all its databases?"):
        reporter.failure(DbtoolError("not confirmed; nothing was deleted"))
        raise typer.Exit(code=1)
    removed = _run(reporter, lambda: local.destroy(data_dir))
    reporter.result(f"deleted {directory}" if removed else f"nothing at {directory}", {"deleted": removed})


def _version_callback(value: bool) -> None:
    if value:
        print(f"dbtool {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version_callback, is_eager=True, help="Show the version.")] = False,
    verbose: Verbose = False,
    log_format: Annotated[str | None, typer.Option(help="text or json; also accepted after the command.")] = None,
) -> None:
    _before_command.clear()
    _before_command["log_format"] = log_format
    _configure_logging(verbose)


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s",
                        force=True)
    # The pool logs every failed connect attempt; dbtool reports the reason once, in one line.
    logging.getLogger("psycopg.pool").setLevel(logging.NOTSET if verbose else logging.CRITICAL)


def _terminate(signum: int, frame: Any) -> None:
    # One SIGTERM stops the run; a second one (a supervisor and the process group both send it) must
    # not interrupt the rollback and cancellation that the first one started.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Terminated()


def main(argv: list[str] | None = None) -> None:
    """Console entry point: one-line errors for usage mistakes, exit codes as documented."""
    signal.signal(signal.SIGTERM, _terminate)
    command = typer.main.get_command(app)
    try:
        code = command.main(args=argv, prog_name="dbtool", standalone_mode=False)
    except typer.TyperException as exc:
        ctx = getattr(exc, "ctx", None)
        where = f"`{ctx.command_path} --help`" if ctx is not None and ctx.command_path != "dbtool" else "`dbtool --help`"
        print(f"dbtool: error: {' '.join(exc.format_message().split()).rstrip('.')}; see {where}", file=sys.stderr)
        sys.exit(EXIT_USAGE)
    except typer.Abort:
        print("dbtool: error: aborted; nothing was changed", file=sys.stderr)
        sys.exit(130)
    except KeyboardInterrupt:
        print("dbtool: error: interrupted by SIGINT; nothing was changed", file=sys.stderr)
        sys.exit(130)
    except Terminated:
        print("dbtool: error: interrupted by SIGTERM; nothing was changed", file=sys.stderr)
        sys.exit(143)
    code = code if isinstance(code, int) else 0
    if argv is None:  # the console script: nothing is left to clean up, skip interpreter finalization
        _exit_now(code)
    sys.exit(code)


def _exit_now(code: int) -> None:
    # Tearing down numpy, psycopg and typer's modules at exit costs ~0.1 s, a sixth of a dev reset.
    # By now the pool is closed, the lock released and the transaction over; flush and leave.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
