"""Fleet targets: parse a targets file (`name = URL` or a bare URL per line) and pick one shard of it."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from dbtool.errors import ConfigError
from dbtool.settings.urls import conninfo, mask_url, parse_target

# A name tags every log line and report row of its target: keep it to what shells, logs and
# Kubernetes labels take without quoting.
TARGET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
TRAILING_COMMENT = re.compile(r"\s+#.*$")  # a URL holds no whitespace, so " #" always starts a comment
SHARD = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


@dataclass(frozen=True)
class TargetEntry:
    """One database of a fleet: its name, its URL (may hold a password: never print it) and where it was given."""

    name: str
    url: str
    origin: str  # "targets.txt:3" or "--database-url #2", for error messages

    def __repr__(self) -> str:
        return f"TargetEntry({self.name!r}, {mask_url(self.url)!r}, {self.origin!r})"


def parse_targets(text: str, source: str, environ: Mapping[str, str]) -> list[TargetEntry]:
    """Parse a targets file's text; ConfigError names the first bad line (and never shows a password)."""
    entries: list[TargetEntry] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = TRAILING_COMMENT.sub("", raw).strip()
        if not line or line.startswith("#"):
            continue
        where = f"{source}:{number}"
        name, sep, rest = line.partition("=")
        if sep and "://" not in name and not _is_key_values(line):
            name, url = name.strip(), rest.strip()
            if not TARGET_NAME.fullmatch(name):
                raise ConfigError(
                    f"{where}: target name {name[:40]!r} is not valid; use letters, digits, '.', '_' and '-' "
                    "(at most 63), then ' = postgresql://…'"
                )
            if not url:
                raise ConfigError(f"{where}: no URL after '{name} ='; expected 'name = postgresql://user@host:port/dbname'")
        else:
            name, url = "", line
        url = _expand(url, where, environ)
        try:
            target = parse_target(url)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        entries.append(TargetEntry(name or str(target), url, where))
    check_unique(entries)
    return entries


def _is_key_values(line: str) -> bool:
    """True for a bare libpq key=value string (`host=db dbname=app`), as opposed to `name = URL`."""
    if "://" in line:
        return False
    try:
        conninfo(line)
    except ConfigError:
        return False
    return True


def _expand(url: str, where: str, environ: Mapping[str, str]) -> str:
    """Replace ${VAR} with the environment's value, so passwords stay out of the file."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            raise ConfigError(f"{where}: environment variable {name} is not set (used as ${{{name}}})")
        return environ[name]

    return VARIABLE.sub(value, url)


def check_unique(entries: Sequence[TargetEntry]) -> None:
    """Refuse two entries with one name, or two entries for one database (they would only wait for each other's lock)."""
    names: dict[str, str] = {}
    databases: dict[tuple[str, int, str], str] = {}
    for entry in entries:
        if entry.name in names:
            raise ConfigError(f"{entry.origin}: target name {entry.name!r} is already used at {names[entry.name]}")
        target = parse_target(entry.url)
        key = (target.host, target.port, target.dbname)
        if key in databases:
            raise ConfigError(
                f"{entry.origin}: database {target.dbname} on {target.host}:{target.port} is already a target at "
                f"{databases[key]}; list each database once"
            )
        names[entry.name] = databases[key] = entry.origin


def read_targets(path: str, environ: Mapping[str, str]) -> list[TargetEntry]:
    """Read and parse a targets file; an unreadable or empty one is a ConfigError."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise ConfigError(f"cannot read targets file {path}: {reason}; pass --targets with a readable file") from None
    entries = parse_targets(text, path, environ)
    if not entries:
        raise ConfigError(f"targets file {path} lists no database; add one 'name = postgresql://…' line per target")
    return entries


def url_entries(urls: Sequence[str]) -> list[TargetEntry]:
    """Entries for repeated --database-url flags, named user@host:port/dbname."""
    entries = []
    for number, url in enumerate(urls, start=1):
        try:
            target = parse_target(url)
        except ConfigError as exc:
            raise ConfigError(f"--database-url #{number}: {exc}") from None
        entries.append(TargetEntry(str(target), url, f"--database-url #{number}"))
    check_unique(entries)
    return entries


def parse_shard(spec: str) -> tuple[int, int]:
    """'INDEX/COUNT' (0-based index, as JOB_COMPLETION_INDEX is) -> (index, count)."""
    match = SHARD.fullmatch(spec)
    if not match:
        raise ConfigError(f"--shard {spec!r} is not INDEX/COUNT; e.g. --shard 0/4 (index 0..3 of 4 shards)")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1 or index >= count:
        raise ConfigError(f"--shard {spec}: the index must be 0..{max(count - 1, 0)} and the count at least 1")
    return index, count


def shard(entries: Sequence[TargetEntry], index: int, count: int) -> list[TargetEntry]:
    """Every count-th entry from `index`: each entry lands in exactly one shard, and shards differ by at most one."""
    return list(entries[index::count])
