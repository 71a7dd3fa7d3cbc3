"""`dbtool local ...` and `dbtool reset` without a URL, on a fresh embedded server in a temporary data directory."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg
import pytest

from dbtool.servers import local
from tests.recipes.manifest import json_lines, run

NO_ENV: dict[str, str] = {}


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    """A data directory of its own; whatever the test leaves running there is stopped and deleted."""
    directory = tmp_path / "pgdata"
    yield directory
    run(["local", "destroy", "--yes", "--data-dir", str(directory)], NO_ENV, cwd=tmp_path)
    for process in psutil.process_iter():  # what a test that failed half-way left running
        try:
            if process.cwd() == str(directory.resolve()):
                process.kill()
        except psutil.Error:
            pass


def dbtool_local(command: str, data_dir: Path, *args: str) -> tuple[int, str]:
    result = run(["local", command, "--data-dir", str(data_dir), *args], NO_ENV, cwd=data_dir.parent)
    assert "Traceback" not in result.stderr, result.stderr
    if result.returncode and result.stderr:
        print(f"dbtool local {command} exited {result.returncode}: {result.stderr}")  # shown when the test fails
    return result.returncode, result.stdout


def status(data_dir: Path) -> dict[str, object]:
    code, out = dbtool_local("status", data_dir, "--json")
    document = json.loads(out)
    assert (code == 0) == document["running"]
    return document


def wait_until_dead(pid: int) -> None:
    """Block until SIGKILL has taken effect (the process is gone or a zombie)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.05)
    pytest.fail(f"pid {pid} survived SIGKILL")


def test_up_url_status_down_up_destroy_keeps_data_between_runs(data_dir: Path) -> None:
    assert status(data_dir) == {"running": False, "data_dir": str(data_dir.resolve()), "pid": None}
    code, out = dbtool_local("up", data_dir)
    assert code == 0, out
    url = out.splitlines()[-1]
    assert url.startswith("postgresql://") and url.endswith(f"host={data_dir.resolve()}")
    assert dbtool_local("url", data_dir) == (0, url + "\n")
    by_env = run(["local", "url"], {"DBTOOL_LOCAL_DIR": str(data_dir)}, cwd=data_dir.parent)
    assert (by_env.returncode, by_env.stdout) == (0, url + "\n")
    first = status(data_dir)
    assert first["running"] is True and isinstance(first["pid"], int)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE survivor (answer int)")
        conn.execute("INSERT INTO survivor VALUES (42)")

    assert dbtool_local("down", data_dir) == (0, "stopped\n")
    assert status(data_dir)["running"] is False
    assert dbtool_local("down", data_dir) == (0, "was not running\n")

    assert dbtool_local("up", data_dir)[0] == 0  # reuses the data directory
    second = status(data_dir)
    assert second["running"] is True and second["pid"] != first["pid"]
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT answer FROM survivor").fetchall() == [(42,)]

    assert dbtool_local("destroy", data_dir, "--yes") == (0, f"deleted {data_dir.resolve()}\n")
    assert not data_dir.exists()
    assert not psutil.pid_exists(second["pid"]) or psutil.Process(second["pid"]).status() == psutil.STATUS_ZOMBIE  # type: ignore[arg-type]
    assert status(data_dir)["running"] is False


def test_a_server_killed_with_sigkill_does_not_block_the_next_up(data_dir: Path) -> None:
    assert dbtool_local("up", data_dir)[0] == 0
    pid = status(data_dir)["pid"]
    assert isinstance(pid, int)
    os.kill(pid, signal.SIGKILL)
    wait_until_dead(pid)  # a zombie until something reaps it: its pid still "exists"
    assert (data_dir / "postmaster.pid").exists()  # stale, naming the dead postmaster
    assert status(data_dir)["running"] is False

    code, out = dbtool_local("up", data_dir)
    assert code == 0, out
    restarted = status(data_dir)
    assert restarted["running"] is True and restarted["pid"] != pid
    with psycopg.connect(out.splitlines()[-1]) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_a_pid_file_naming_another_live_process_does_not_block_up(data_dir: Path) -> None:
    # After a crash the old postmaster's pid can belong to some other process by the next start;
    # Postgres would then refuse ("Is another postmaster running?").
    assert dbtool_local("up", data_dir)[0] == 0
    assert dbtool_local("down", data_dir) == (0, "stopped\n")
    pid_file = data_dir / "postmaster.pid"
    pid_file.write_text(f"{os.getpid()}\n{data_dir.resolve()}\n1700000000\n5432\n{data_dir.resolve()}\n\n0 0\nready\n")
    assert status(data_dir)["running"] is False
    code, out = dbtool_local("up", data_dir)
    assert code == 0, out
    assert status(data_dir)["pid"] != os.getpid()


def test_reset_without_a_database_url_uses_the_local_server_and_says_so_once(tmp_path: Path) -> None:
    # The default data directory is ./.dbtool/pgdata: run where that is a temporary directory.
    directory = tmp_path / ".dbtool" / "pgdata"
    try:
        result = run(["reset", "--profile", "ci"], NO_ENV, cwd=tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr
        mentions = [line for line in result.stdout.splitlines() if "embedded Postgres" in line]
        assert mentions == [f"  Using embedded Postgres in {directory} (no DATABASE_URL given)"]
        again = run(["reset", "--profile", "ci", "--log-format", "json"], NO_ENV, cwd=tmp_path)
        assert again.returncode == 0, again.stdout + again.stderr
        notes = [e for e in json_lines(again.stdout) if e.get("embedded")]
        assert len(notes) == 1 and str(directory) in notes[0]["message"]
        with psycopg.connect(local.running(directory).url) as conn:  # type: ignore[union-attr]
            assert conn.execute("SELECT count(*) FROM clients").fetchone() == (10,)
    finally:
        run(["local", "destroy", "--yes"], NO_ENV, cwd=tmp_path)
    assert not directory.exists()


def test_local_env_puts_the_servers_own_clients_first_on_path(data_dir: Path) -> None:
    # A machine's pg_dump may be older than the wheel's Postgres 18 and refuse it ("server version mismatch").
    import subprocess
    import sys

    script = (
        f'eval "$({sys.executable} -m dbtool local env --data-dir {data_dir})" && '
        'command -v pg_dump && pg_dump --version && psql "$DATABASE_URL" -Atc "SHOW server_version_num" && '
        'pg_dump --schema-only "$DATABASE_URL" > /dev/null && echo "$DATABASE_URL"'
    )
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120, cwd=data_dir.parent,
                            env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"})
    assert result.returncode == 0, result.stdout + result.stderr
    where, version, server_version, url = result.stdout.splitlines()
    assert Path(where).parent == local.up(data_dir).bin_dir
    assert version.split()[-1].split(".")[0] == server_version[:2]  # the same major version as the server
    assert url == local.running(data_dir).url  # type: ignore[union-attr]


def test_status_reports_a_stopped_embedded_server_and_local_url_says_when_it_starts_one(tmp_path: Path) -> None:
    directory = tmp_path / ".dbtool" / "pgdata"  # the default data directory, under the working directory
    try:
        stopped = run(["status"], NO_ENV, cwd=tmp_path)
        assert stopped.returncode == 69, stopped.stdout + stopped.stderr
        lines = stopped.stderr.strip().splitlines()
        assert len(lines) == 1 and "not running" in lines[0] and "dbtool local up" in lines[0], stopped.stderr
        assert local.running(directory) is None, "status started the server"
        document = json.loads(run(["status", "--json"], NO_ENV, cwd=tmp_path).stdout)
        assert (document["exit_code"], document["reachable"]) == (69, False)

        first = run(["local", "url"], NO_ENV, cwd=tmp_path)
        assert first.returncode == 0 and first.stdout.startswith("postgresql://"), first.stderr
        assert "started embedded Postgres" in first.stderr and first.stdout.count("\n") == 1
        second = run(["local", "url"], NO_ENV, cwd=tmp_path)
        assert (second.returncode, second.stdout, second.stderr) == (0, first.stdout, "")
        assert run(["status"], NO_ENV, cwd=tmp_path).returncode == 0

        assert run(["local", "down"], NO_ENV, cwd=tmp_path).returncode == 0
        assert run(["status"], NO_ENV, cwd=tmp_path).returncode == 69
        assert local.running(directory) is None
    finally:
        run(["local", "destroy", "--yes"], NO_ENV, cwd=tmp_path)
