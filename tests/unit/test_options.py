"""The option table (dbtool/settings/options.py) is the one declaration: every command's options come from it, each entry
is reachable as the flag, environment variable and settings-file key it declares, and the settings reference lists its file keys."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from dbtool.cli import app
from dbtool.settings.file import CHOICES, FILE_KEYS, INIT_DEFAULTS, parse_settings
from dbtool.settings.options import FILE_OPTIONS, OPTIONS

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "tests" / "projects" / "pyproject" / "alembic.ini"
# A value other than the default for every file key, as the file, the environment and the flag spell it.
OTHER: dict[str, tuple[Any, str]] = {
    "database_url": ("postgresql://app:s3cret-pw@db.example:5433/app", "postgresql://app:s3cret-pw@db.example:5433/app"),
    "pool_max": (3, "3"),
    "lock_timeout": (5.0, "5"),
    "lock_key": (7, "7"),
    "profile": ("ci", "ci"),
    "seed": (7, "7"),
    "scale": (2, "2"),
    "workers": (1, "1"),
    "schema": ("app", "app"),
    "log_format": ("json", "json"),
    "alembic_config": (str(PROJECT), str(PROJECT)),
    "strategy": ("swap", "swap"),
    "strict": (True, "true"),
}
TOML_VALUES = {str: lambda v: json.dumps(v), int: str, float: str, bool: lambda v: "true" if v else "false"}


def _commands(command: Any = None, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    command = command or typer.main.get_command(app)
    found = [(path, command)]
    for name, sub in getattr(command, "commands", {}).items():
        found += _commands(sub, (*path, name))
    return found


def _options(command: Any) -> list[Any]:
    typer_own = ("help", "install_completion", "show_completion")  # typer adds these; dbtool declares none of them
    return [p for p in command.params if p.param_type_name == "option" and p.name not in typer_own]


def test_every_option_of_every_command_comes_from_the_table() -> None:
    used = set()
    for path, command in _commands():
        for param in _options(command):
            entry = OPTIONS.get(param.name)
            assert entry is not None, f"{' '.join(path)} {param.opts}: not in dbtool/settings/options.py"
            used.add(entry.name)
            assert set(param.opts) | set(param.secondary_opts) == set(entry.flags), (path, param.name)
            before_command = path == () and param.name == "log_format"  # no environment variable there
            assert param.envvar == (None if before_command else entry.env), (path, param.name)
            assert param.help in (entry.help, *entry.variants.values()), (path, param.name)
            if not before_command:
                assert param.default == entry.default, (path, param.name)
    assert used == set(OPTIONS), f"declared but no command takes them: {sorted(set(OPTIONS) - used)}"


def test_the_settings_file_and_init_read_the_table() -> None:
    assert list(FILE_KEYS) == [o.file_key for o in FILE_OPTIONS]
    assert CHOICES == {"log-format": ("text", "json"), "strategy": ("auto", "transaction", "swap")}
    assert "force" not in FILE_KEYS and "yes" not in FILE_KEYS  # skipping a check stays visible
    assert INIT_DEFAULTS == {"pool-max": 6, "lock-timeout": 600, "profile": "dev", "seed": 42, "schema": "public"}
    assert set(OTHER) == {o.name for o in FILE_OPTIONS}
    table = {o.file_key: OTHER[o.name][0] for o in FILE_OPTIONS if o.file_key}
    assert parse_settings(table, "f") == {name: value for name, (value, _) in OTHER.items()}


def _config(runner: CliRunner, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    result = runner.invoke(app, ["config", "--json", *args], env={**{o.env: None for o in OPTIONS.values() if o.env},
                                                                    **(env or {})})
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])["settings"]  # type: ignore[no-any-return]


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)  # no settings file but the test's own
    return CliRunner()


def test_every_file_key_is_read_from_the_file_with_its_source(runner: CliRunner, tmp_path: Path) -> None:
    assert all(e["source"] == "default" for e in _config(runner).values())
    (tmp_path / "dbtool.toml").write_text("".join(
        f"{o.file_key} = {TOML_VALUES[o.type](OTHER[o.name][0])}\n" for o in FILE_OPTIONS))
    settings = _config(runner)
    for o in FILE_OPTIONS:
        assert settings[o.file_key]["source"] == "file", o.name
        if o.name != "database_url":  # shown with the password masked
            assert settings[o.file_key]["value"] == OTHER[o.name][0], o.name
    assert "s3cret" not in json.dumps(settings)


def test_every_variable_and_flag_is_read_and_beats_the_file(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "dbtool.toml").write_text("".join(
        f"{o.file_key} = {TOML_VALUES[o.type](o.default)}\n" for o in FILE_OPTIONS if o.default is not None))
    env = {o.env: text for o in FILE_OPTIONS for name, (_, text) in OTHER.items() if o.name == name and o.env}
    from_env = _config(runner, env=env)
    assert {k: e["source"] for k, e in from_env.items()} == {o.file_key: "env" for o in FILE_OPTIONS}
    flags = [arg for o in FILE_OPTIONS for arg in ((o.flags[0],) if o.type is bool else (o.flags[0], OTHER[o.name][1]))]
    from_flags = _config(runner, *flags)
    assert {k: e["source"] for k, e in from_flags.items()} == {o.file_key: "flag" for o in FILE_OPTIONS}
    assert from_flags["seed"]["value"] == 7 and from_flags["strict"]["value"] is True


def test_log_format_before_the_command_counts_as_a_flag(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "dbtool.toml").write_text('log-format = "text"\n')
    result = runner.invoke(app, ["--log-format", "json", "config", "--json"])
    assert result.exit_code == 0, result.output
    settings = json.loads(result.stdout.strip().splitlines()[-1])["settings"]
    assert settings["log-format"] == {"value": "json", "source": "flag"}


def test_the_readme_lists_exactly_the_table_file_keys() -> None:
    readme = (ROOT / "docs" / "reference" / "settings.md").read_text()  # the settings file's reference page
    known = readme.split("Known keys:", 1)[1].split(".", 1)[0]
    assert re.findall(r"`([a-z-]+)`", known) == [o.file_key for o in FILE_OPTIONS]
