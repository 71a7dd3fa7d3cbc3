"""Project: the Alembic project dbtool migrates, found the way the `alembic` command finds it.

`--alembic-config PATH` (an alembic.ini, or a pyproject.toml with [tool.alembic]); without it
./alembic.ini, else [tool.alembic] in ./pyproject.toml, else the built-in example. The database URL
never comes from the project: dbtool supplies it.
"""

from __future__ import annotations

import configparser
import tomllib
from dataclasses import dataclass
from pathlib import Path

import dbtool
from dbtool.errors import ConfigError

ALEMBIC_INI = "alembic.ini"
PYPROJECT_TOML = "pyproject.toml"

_PACKAGE_DIR = Path(dbtool.__file__).resolve().parent
# Installed wheels carry the example as dbtool/migrations; a source checkout has it at the top.
EXAMPLE_DIR = next(
    (d for d in (_PACKAGE_DIR / "migrations", _PACKAGE_DIR.parent / "migrations") if (d / "env.py").is_file()),
    _PACKAGE_DIR.parent / "migrations",
)


@dataclass(frozen=True)
class Project:
    """Where an Alembic project's configuration lives (both None: the built-in example)."""

    ini: Path | None = None
    toml: Path | None = None

    @property
    def builtin(self) -> bool:
        """True for the built-in example project."""
        return self.ini is None and self.toml is None

    @property
    def config_path(self) -> Path | None:
        """The file the user named or dbtool found (the ini when there are both)."""
        return self.ini or self.toml

    def __str__(self) -> str:
        return "built-in example" if self.builtin else str(self.config_path)

    def script_location(self) -> Path | None:
        """Where the migrations are, read as Alembic reads it (without importing it); None when they
        live in a package (`pkg:dir`) or the files name no script_location."""
        if self.builtin:
            return EXAMPLE_DIR
        location = None
        if self.ini is not None:
            parser = configparser.ConfigParser(defaults={"here": str(self.ini.parent)})
            try:
                parser.read(self.ini, encoding="utf-8")
                location = parser.get("alembic", "script_location", fallback=None)
            except (configparser.Error, UnicodeDecodeError):
                return None
        if location is None and self.toml is not None:
            table = tomllib.loads(self.toml.read_text(encoding="utf-8")).get("tool", {}).get("alembic", {})
            location = str(table.get("script_location", "")).replace("%(here)s", str(self.toml.parent)) or None
        if location is None or (":" in location and not Path(location).is_absolute()):
            return None
        base = self.config_path.parent if self.config_path else Path.cwd()
        return (base / location).resolve()


def _has_alembic_table(path: Path) -> bool:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}; fix it or pass --alembic-config") from None
    return isinstance(document.get("tool", {}).get("alembic"), dict)


def find_project(explicit: str | None, cwd: Path) -> Project:
    """The project named by `explicit`, else the one in `cwd`, else the built-in example."""
    if explicit:
        path = (cwd / explicit).resolve()
        if path.is_dir():
            path = next((path / n for n in (ALEMBIC_INI, PYPROJECT_TOML) if (path / n).is_file()), path / ALEMBIC_INI)
        if not path.is_file():
            raise ConfigError(
                f"--alembic-config {explicit}: no such file; name your project's alembic.ini or pyproject.toml"
            )
        if path.name == PYPROJECT_TOML:
            if not _has_alembic_table(path):
                raise ConfigError(f"{path} has no [tool.alembic] table; name the project's alembic.ini instead")
            sibling = path.parent / ALEMBIC_INI
            return Project(ini=sibling if sibling.is_file() else None, toml=path)
        return Project(ini=path, toml=_sibling_toml(path.parent))
    ini, toml = cwd / ALEMBIC_INI, cwd / PYPROJECT_TOML
    if ini.is_file():
        return Project(ini=ini.resolve(), toml=_sibling_toml(cwd))
    if toml.is_file() and _has_alembic_table(toml):
        return Project(toml=toml.resolve())
    return Project()


def _sibling_toml(directory: Path) -> Path | None:
    # The pyproject template keeps script_location in pyproject.toml and only the URL in alembic.ini.
    toml = directory / PYPROJECT_TOML
    return toml.resolve() if toml.is_file() and _has_alembic_table(toml) else None


def fallback_note(project: Project) -> str | None:
    """The line a command says when it found no project and takes the built-in example (None otherwise)."""
    if not project.builtin:
        return None
    return (f"no Alembic project in {Path.cwd()} (no alembic.ini, no [tool.alembic] in pyproject.toml): "
            "using the built-in example; pass --alembic-config or run from your project's directory")
