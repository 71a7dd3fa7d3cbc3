"""The settings file parser: pure, no database."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbtool.errors import ConfigError
from dbtool.settings.file import FILE_KEYS, parse_settings, read_settings_file, settings_table


def test_keys_are_spelled_like_flags_and_map_to_options() -> None:
    values = parse_settings({"pool-max": 3, "lock-timeout": 30, "profile": "ci", "database-url": "postgresql://h/db"}, "f")
    assert values == {"pool_max": 3, "lock_timeout": 30.0, "profile": "ci", "database_url": "postgresql://h/db"}
    assert isinstance(values["lock_timeout"], float)


@pytest.mark.parametrize(
    ("table", "fragment"),
    [
        ({"pool_max": 3}, "did you mean 'pool-max'?"),
        ({"nope": 1}, "unknown setting 'nope'"),
        ({"force": True}, "command-line only"),
        ({"yes": True}, "command-line only"),
        ({"pool-max": True}, "must be an integer"),  # a TOML boolean is not a number
        ({"pool-max": 2.5}, "must be an integer"),
        ({"lock-timeout": "10"}, "must be an integer or a number"),
        ({"log-format": "yaml"}, "must be one of text, json"),
    ],
)
def test_bad_keys_and_values_are_config_errors(table: dict[str, object], fragment: str) -> None:
    with pytest.raises(ConfigError, match="^origin: ") as caught:
        parse_settings(table, "origin")
    assert fragment in str(caught.value) and caught.value.exit_code == 2


def test_force_and_yes_cannot_come_from_a_file() -> None:
    assert "force" not in FILE_KEYS and "yes" not in FILE_KEYS


def test_pyproject_uses_the_tool_dbtool_table_and_dbtool_toml_the_top_level() -> None:
    assert settings_table({"project": {}, "tool": {"dbtool": {"seed": 1}}}, "pyproject.toml") == {"seed": 1}
    assert settings_table({"project": {}, "tool": {"ruff": {}}}, "pyproject.toml") is None
    assert settings_table({"seed": 1}, "dbtool.toml") == {"seed": 1}
    with pytest.raises(ConfigError, match="top level"):
        parse_settings(settings_table({"tool": {"dbtool": {}}}, "dbtool.toml"), "./dbtool.toml")  # type: ignore[arg-type]


def test_read_prefers_dbtool_toml_and_ignores_parent_directories(tmp_path: Path) -> None:
    (tmp_path / "dbtool.toml").write_text("seed = 1\n")
    child = tmp_path / "child"
    child.mkdir()
    assert read_settings_file(child).path is None
    (child / "pyproject.toml").write_text("[tool.dbtool]\nseed = 2\n")
    assert read_settings_file(child).values == {"seed": 2}
    (child / "dbtool.toml").write_text("seed = 3\n")
    found = read_settings_file(child)
    assert (found.path, found.values) == (child / "dbtool.toml", {"seed": 3})


def test_strict_is_a_boolean_setting_like_its_environment_variable() -> None:
    assert parse_settings({"strict": True, "strategy": "swap"}, "f") == {"strict": True, "strategy": "swap"}
    with pytest.raises(ConfigError, match="strict = 'yes' must be true or false"):
        parse_settings({"strict": "yes"}, "f")


def test_a_pyproject_table_hidden_by_dbtool_toml_is_reported(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.dbtool]\nseed = 2\n")
    assert read_settings_file(tmp_path).ignored is None
    (tmp_path / "dbtool.toml").write_text("seed = 3\n")
    assert read_settings_file(tmp_path).ignored == tmp_path / "pyproject.toml"
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\n')
    assert read_settings_file(tmp_path).ignored is None


@pytest.mark.parametrize(
    ("profile", "fragment"),
    [
        ({"row": 50}, "'row' (did you mean 'rows'?)"),
        ({"table": {"t": 1}}, "'table' (did you mean 'tables'?)"),
        ({"columns": {"t.c": {"value": [1]}}}, "'value' (did you mean 'values'?)"),
    ],
)
def test_an_unknown_profile_key_is_named_with_a_suggestion(profile: dict[str, object], fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings({"profiles": {"dev": profile}}, "f")
    assert fragment in str(caught.value), str(caught.value)
