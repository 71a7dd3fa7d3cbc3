"""What every command does around its pipeline: settings (flag > env > file > default), the
reporter, confirmation, fleets, and one line with the documented exit code for any failure."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from dbtool.config import (
    Settings,
)
from dbtool.errors import ConfigError, DbtoolError, Terminated

T = TypeVar("T")


_before_command: dict[str, Any] = {}  # common options given before the command name


def _reporter(log_format: str, as_json: bool = False, verbose: bool = False, note_ignored: bool = True) -> Any:
    """The command's reporter; it first says, in one line, when a settings file is not read (`note_ignored`)."""
    from dbtool.report import Reporter
    from dbtool.settings_file import ignored_note

    if verbose:
        _configure_logging(True)
    file = _file_settings(strict=False)
    if _parameter_source("log_format") == "default":
        log_format = _before_command.get("log_format") or file.values.get("log_format", log_format)
    if log_format not in ("text", "json"):
        raise typer.BadParameter(f"{log_format!r} is not text or json", param_hint="'--log-format'")
    reporter = Reporter(log_format, as_json)
    note = ignored_note(file) if note_ignored else None
    if note and reporter.json_lines:
        reporter.note(note, ignored=str(file.ignored))
    elif note:
        print(f"dbtool: note: {note}", file=sys.stderr)  # stdout may be one --json document
    return reporter


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
    _note_fallback(reporter, settings)
    return settings


def _note_fallback(reporter: Any, settings: Settings) -> None:
    """Say in one line when no project was found and the built-in example runs."""
    from dbtool.project import fallback_note

    note = fallback_note(settings.project)
    if note:
        # A note like the embedded server's, not stderr: stderr carries one line, the error, if any.
        reporter.note(note, project="built-in example")


def _parameter_source(name: str) -> str | None:
    """Where option `name` of the running command got its value: flag, env or default (None: no such option)."""
    try:
        from typer._click.globals import (
            get_current_context,  # typer >= 0.28 vendors click
        )
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

    from dbtool.settings_file import FileSettings, read_settings_file

    try:
        return read_settings_file(Path.cwd())
    except ConfigError:
        if strict:
            raise
        return FileSettings()  # _settings reports it, through the reporter the caller is building


def _with_file(options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str], Any]:
    """Fill the options left at their defaults from the settings file; say where each value came from (and
    return the FileSettings read)."""
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
    return merged, sources, file


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


def _summary(result: Any) -> str:
    if result.note:
        return str(result.note)
    if result.digest:
        return f"{result.command} done: {result.target} at {result.revision}, digest {result.digest[:16]}"
    return f"{result.command} done: {result.target}"


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


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s",
                        force=True)
    # The pool logs every failed connect attempt; dbtool reports the reason once, in one line.
    logging.getLogger("psycopg.pool").setLevel(logging.NOTSET if verbose else logging.CRITICAL)
