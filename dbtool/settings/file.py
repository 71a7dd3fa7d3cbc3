"""Settings from a file: ./dbtool.toml (top-level keys) or [tool.dbtool] in ./pyproject.toml.

Precedence is flag > environment > file > default: the CLI hands the values read here to click as its
`default_map` (dbtool/cli/run.py). Keys, their types and choices come from the option table
(dbtool/settings/options.py) and are spelled like the flags (`pool-max` for --pool-max).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dbtool.errors import ConfigError
from dbtool.settings.options import FILE_OPTIONS

DBTOOL_TOML = "dbtool.toml"
PYPROJECT_TOML = "pyproject.toml"

# File key -> (option name, accepted value types), from the option table. --force and --yes are
# deliberately absent: skipping a safety check must be visible on the command line.
FILE_KEYS: dict[str, tuple[str, tuple[type, ...]]] = {o.file_key: (o.name, o.file_types) for o in FILE_OPTIONS if o.file_key}
SEED_DATA_KEYS = {"profiles", "columns", "hooks"}  # what the data looks like, not how a run behaves
CHOICES = {o.file_key: o.choices for o in FILE_OPTIONS if o.file_key and o.choices}
TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}


@dataclass(frozen=True)
class FileSettings:
    """Option values read from a settings file (`path` is None when there is none)."""

    path: Path | None = None
    values: dict[str, Any] = field(default_factory=dict)
    ignored: Path | None = None  # a pyproject.toml whose [tool.dbtool] is not read, because dbtool.toml is


def settings_table(document: dict[str, Any], file_name: str) -> dict[str, Any] | None:
    """The dbtool table of a parsed TOML document: all of dbtool.toml, or pyproject's [tool.dbtool]."""
    if file_name == PYPROJECT_TOML:
        table = document.get("tool", {}).get("dbtool")
        if table is not None and not isinstance(table, dict):
            raise ConfigError(f"{file_name}: tool.dbtool must be a table ([tool.dbtool])")
        return table
    return document


def parse_settings(table: dict[str, Any], origin: str) -> dict[str, Any]:
    """Option name -> value for one dbtool table; ConfigError (exit 2) on an unknown key or a wrong type."""
    values: dict[str, Any] = {}
    if SEED_DATA_KEYS & set(table):
        values["profiles"] = parse_seed_data(table, origin)
    for key, value in table.items():
        if key in SEED_DATA_KEYS:
            continue
        if key not in FILE_KEYS:
            raise ConfigError(f"{origin}: unknown setting {key!r}{_hint(key, origin)}; known: {', '.join(FILE_KEYS)}")
        name, types = FILE_KEYS[key]
        if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
            wanted = " or ".join(TYPE_NAMES[t] for t in types)
            raise ConfigError(f"{origin}: {key} = {value!r} must be {wanted}")
        if key in CHOICES and value not in CHOICES[key]:
            raise ConfigError(f"{origin}: {key} = {value!r} must be one of {', '.join(CHOICES[key])}")
        values[name] = float(value) if float in types and isinstance(value, int | float) else value  # (int, float): passed above
    return values


def parse_seed_data(table: dict[str, Any], origin: str) -> dict[str, Any]:
    """The profiles a dbtool table declares (its `profiles`, `columns` and `hooks`), or ConfigError."""
    from dbtool.seed.profiles import parse_profiles

    try:
        return parse_profiles(table, origin, str(Path(origin).parent))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def read_profile_file(path: Path) -> dict[str, Any]:
    """Profiles a project ships beside its migrations (`dbtool.toml` there): only profiles, columns and
    hooks, so that a file inside the migrations cannot point a run at another database."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}; fix or remove it") from None
    other = sorted(set(document) - SEED_DATA_KEYS)
    if other:
        raise ConfigError(f"{path}: unknown key(s) {', '.join(other)}; beside the migrations only "
                          "profiles, columns and hooks belong (settings go in ./dbtool.toml)")
    return parse_seed_data(document, str(path))


def _hint(key: str, origin: str) -> str:
    if key.replace("_", "-") in FILE_KEYS:
        return f" (did you mean {key.replace('_', '-')!r}?)"
    if key == "tool" and origin.endswith(DBTOOL_TOML):
        return " (dbtool.toml takes its keys at the top level, without [tool.dbtool])"
    if key in ("force", "yes"):
        return " (--force and --yes are command-line only, so that skipping a check is always visible)"
    return ""


def read_settings_file(directory: Path) -> FileSettings:
    """Read ./dbtool.toml, else [tool.dbtool] of ./pyproject.toml, in `directory` (not its parents)."""
    for file_name in (DBTOOL_TOML, PYPROJECT_TOML):
        path = directory / file_name
        try:
            text = path.read_text(encoding="utf-8")
        except (FileNotFoundError, IsADirectoryError):
            continue
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read {path}: {exc}; fix or remove it") from None
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML ({exc}); fix or remove it") from None
        table = settings_table(document, file_name)
        if table is None:
            continue  # a pyproject.toml without [tool.dbtool]
        ignored = directory / PYPROJECT_TOML if file_name == DBTOOL_TOML and _has_tool_table(directory) else None
        return FileSettings(path, parse_settings(table, str(path)), ignored)
    return FileSettings()


def _has_tool_table(directory: Path) -> bool:
    """True when ./pyproject.toml holds a [tool.dbtool] table (an unreadable one holds none that counts)."""
    try:
        document = tomllib.loads((directory / PYPROJECT_TOML).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    tool = document.get("tool")
    return isinstance(tool, dict) and "dbtool" in tool


def ignored_note(file: FileSettings) -> str | None:
    """One line saying which settings are not read, or None."""
    if file.ignored is None:
        return None
    return (f"[tool.dbtool] in {file.ignored} is ignored: {file.path} is read instead (only one settings file is "
            "read); move those settings into it, or delete one of the two")


# What `dbtool init` writes: the common settings with their defaults (600, not 600.0).
INIT_DEFAULTS = {o.file_key: int(o.default) if o.type is float and float(o.default).is_integer() else o.default
                 for o in FILE_OPTIONS if o.init and o.file_key}


def init_settings(directory: Path, alembic_config: str | None) -> Path:
    """Write dbtool's settings with their defaults into [tool.dbtool] of ./pyproject.toml, else a new
    ./dbtool.toml; refuse (exit 2) where settings exist already. Returns the file written."""
    existing = read_settings_file(directory)
    if existing.path is not None:
        raise ConfigError(f"{existing.path} already holds dbtool settings; edit it (see `dbtool config`)")
    values: dict[str, object] = {"alembic-config": alembic_config} if alembic_config else {}
    values.update(INIT_DEFAULTS)
    body = "".join(f"{key} = {_toml_value(value)}\n" for key, value in values.items())
    pyproject = directory / PYPROJECT_TOML
    if pyproject.is_file():
        text = pyproject.read_text(encoding="utf-8")
        separator = "" if text.endswith("\n\n") else "\n" if text.endswith("\n") else "\n\n"
        pyproject.write_text(f"{text}{separator}[tool.dbtool]\n{body}", encoding="utf-8")
        return pyproject
    target = directory / DBTOOL_TOML
    target.write_text(f"# dbtool settings; flags and DBTOOL_* variables override them\n{body}", encoding="utf-8")
    return target


def _toml_value(value: object) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value)
