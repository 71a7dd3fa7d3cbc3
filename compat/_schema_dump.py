"""Plain-Alembic upgrades inside a published project's own venv; dumps come from tests/schema_dump.py.

Like `tests.schema_dump.plain_alembic_upgrade`, plus the keywords `python` and `env`: a published
project's migrations may import their own package, which lives in a throwaway venv, so the upgrade
runs as a process of that venv's interpreter.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, for tests.schema_dump
from tests.schema_dump import libpq_url, schema_dump  # noqa: F401  (re-exported to published.py)

RUNNER = Path(__file__).with_name("_alembic_runner.py")
UPGRADE_TIMEOUT = 900.0
# SQLAlchemy ends an error with the statement, its parameters and a link; the cause is above them.
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Failure)\b.*:")
TRAILER_PREFIXES = ("[SQL:", "[parameters:", "(Background on this error")


def sqlalchemy_url(url: str, driver: str = "psycopg") -> str:
    """`url` with a SQLAlchemy driver (psycopg 3 unless told), unless it already names one."""
    scheme, sep, rest = url.partition("://")
    if "+" in scheme:
        return url
    return f"postgresql+{driver}{sep}{rest}"


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
