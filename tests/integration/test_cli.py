"""CLI contract: exit codes, one-line errors, the lock, and the read-only commands."""

from __future__ import annotations

import json
import time

import psycopg
import pytest

from tests.helpers import advisory_locks, dbtool, dbtool_process


def test_pool_max_1_exits_2_before_any_connection_attempt() -> None:
    # Nothing listens on port 1: reaching the network would give 69, not 2.
    started = time.monotonic()
    result = dbtool_process("reset", "--database-url", "postgresql://u:p@127.0.0.1:1/db", "--pool-max", "1")
    assert result.returncode == 2
    assert "deadlock" in result.stderr and "--pool-max 2" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert time.monotonic() - started < 10


@pytest.mark.parametrize(
    ("args", "env", "code", "fragment"),
    [
        (["--pool-max", "abc"], {}, 2, "--pool-max"),
        ([], {"DBTOOL_POOL_MAX": "abc"}, 2, "DBTOOL_POOL_MAX"),
        (["--seed", "-1"], {}, 2, "--seed -1"),
        (["--lock-timeout", "-5"], {}, 2, "--lock-timeout"),
        (["--profile", "nope"], {}, 2, "unknown profile 'nope'"),
        (["--schema", "x; DROP TABLE y"], {}, 2, "plain lowercase identifier"),
        (["--log-format", "xml"], {}, 2, "--log-format"),
    ],
)
def test_bad_input_is_one_line_with_exit_2(args: list[str], env: dict[str, str], code: int, fragment: str, database_url: str) -> None:
    result = dbtool_process("reset", "--database-url", database_url, *args, env=env)
    assert result.returncode == code, result.stderr
    assert fragment in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("url_of", "fragment"),
    [
        (lambda u: "postgresql://nobody@127.0.0.1:1/db", "127.0.0.1:1"),
        (lambda u: u.replace("/dbtool_test_", "/missing_"), "does not exist"),
        (lambda u: "postgresql://u:pw@no-such-host.invalid:5432/db", "no-such-host.invalid"),
    ],
)
def test_unreachable_databases_exit_69_with_the_reason(url_of, fragment: str, database_url: str) -> None:  # type: ignore[no-untyped-def]
    result = dbtool_process("reset", "--database-url", url_of(database_url))
    assert result.returncode == 69, result.stderr
    assert fragment in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_lock_busy_exits_75_and_names_the_holder(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True, application_name="nightly-reset-job") as holder:
        holder.execute("SELECT pg_advisory_lock(1196576591)")
        pid = holder.info.backend_pid
        result = dbtool("reset", "--database-url", database_url, "--lock-timeout", "0")
        assert result.exit_code == 75, result.output
        assert f"pid {pid}" in result.output and "nightly-reset-job" in result.output
        waited = dbtool("reset", "--database-url", database_url, "--lock-timeout", "0.6")
        assert waited.exit_code == 75
        assert "waiting for advisory lock" in waited.output
    assert dbtool("reset", "--database-url", database_url, "--lock-timeout", "0", "--profile", "ci").exit_code == 0


def test_a_custom_lock_key_does_not_collide_with_the_default(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(1196576591)")
        result = dbtool("reset", "--database-url", database_url, "--lock-key", "7", "--lock-timeout", "0", "--profile", "ci")
        assert result.exit_code == 0, result.output


@pytest.mark.seeded
@pytest.mark.versions
def test_status_reports_revision_counts_and_lock(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True, application_name="holder-app") as holder:
        holder.execute("SELECT pg_advisory_lock(1196576591)")
        result = dbtool("status", "--database-url", database_url, "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["reachable"] is True and doc["server_version"]
    assert doc["revision"] == {"current": "0002_invoices_and_visits", "head": "0002_invoices_and_visits", "at_head": True}
    assert doc["row_counts"]["clients"] == 10
    assert doc["last_seed"]["profile"] == "ci" and doc["last_seed"]["seed"] == 42
    assert [h["application_name"] for h in doc["lock"]["held_by"]] == ["holder-app"]
    assert doc["protected"] is False


def test_migrate_to_a_revision_and_seed_refuses_until_at_head(database_url: str, conn: psycopg.Connection) -> None:
    result = dbtool("migrate", "--database-url", database_url, "--revision", "0001_people_and_pets")
    assert result.exit_code == 0, result.output
    assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "0001_people_and_pets"
    assert conn.execute("SELECT to_regclass('invoices')").fetchone()[0] is None
    refused = dbtool("seed", "--database-url", database_url, "--profile", "ci")
    assert refused.exit_code == 1
    assert "head is 0002_invoices_and_visits" in refused.output and "dbtool migrate" in refused.output
    assert dbtool("migrate", "--database-url", database_url).exit_code == 0
    seeded = dbtool("seed", "--database-url", database_url, "--profile", "ci")
    assert seeded.exit_code == 0, seeded.output
    assert conn.execute("SELECT count(*) FROM invoices").fetchone()[0] == 50


@pytest.mark.seeded
def test_migrate_down_to_base_and_back(database_url: str, conn: psycopg.Connection) -> None:
    down = dbtool("migrate", "--database-url", database_url, "--revision", "base")
    assert down.exit_code == 0, down.output
    assert conn.execute("SELECT to_regclass('clients')").fetchone()[0] is None
    assert dbtool("migrate", "--database-url", database_url).exit_code == 0
    assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "0002_invoices_and_visits"


def test_unknown_revision_is_bad_input_and_touches_nothing(database_url: str, conn: psycopg.Connection) -> None:
    result = dbtool_process("migrate", "--database-url", database_url, "--revision", "9999_nope")
    assert result.returncode == 2, result.stderr
    assert "unknown revision '9999_nope'" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert conn.execute("SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace").fetchone()[0] == 0


@pytest.mark.seeded
def test_drop_removes_what_reset_created_but_keeps_dbtool_meta(database_url: str, conn: psycopg.Connection) -> None:
    result = dbtool("drop", "--database-url", database_url)
    assert result.exit_code == 0, result.output
    left = {r[0] for r in conn.execute("SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'")}
    assert left == {"dbtool_meta"}
    assert conn.execute("SELECT count(*) FROM pg_type WHERE typname IN ('staff_role', 'pet_species', 'invoice_status')").fetchone()[0] == 0
    assert dbtool("reset", "--database-url", database_url, "--profile", "ci").exit_code == 0


@pytest.mark.seeded
def test_verify_passes_after_reset_and_names_a_changed_table(database_url: str, conn: psycopg.Connection) -> None:
    assert dbtool("verify", "--database-url", database_url).exit_code == 0
    conn.execute("UPDATE pets SET name = 'Changed' WHERE id = (SELECT id FROM pets ORDER BY id LIMIT 1)")
    result = dbtool("verify", "--database-url", database_url, "--json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert [d["table"] for d in doc["differences"]] == ["pets"]
    assert "dbtool reset" in doc["message"]


def test_log_format_json_emits_one_object_per_line(database_url: str) -> None:
    result = dbtool_process("reset", "--database-url", database_url, "--profile", "ci", "--log-format", "json")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    steps = [e["step"] for e in events if e["event"] == "step"]
    assert steps == ["connect", "lock", "drop", "migrate", "seed", "digest", "commit"]
    assert events[-1]["event"] == "result" and events[-1]["digest"]
    assert all("duration_ms" in e for e in events if e["event"] == "step")


def test_two_concurrent_resets_serialize(database_url: str, conn: psycopg.Connection) -> None:
    import os
    import subprocess
    import sys

    from tests.helpers import CLEAN_ENV

    env = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "dbtool", "reset", "--database-url", database_url, "--profile", "ci", "--lock-timeout", timeout],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        for timeout in ("60", "60", "0")
    ]
    outcomes = [(p.wait(timeout=120), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
    for code, err in outcomes:
        assert code in (0, 75), err
        assert "duplicate key" not in err and "does not exist" not in err
    assert [c for c, _ in outcomes[:2]] == [0, 0]
    assert conn.execute("SELECT count(*) FROM dbtool_meta WHERE event = 'reset'").fetchone()[0] >= 2
    assert advisory_locks(conn) == 0


def test_a_reader_that_closes_the_pipe_does_not_abort_the_reset(database_url: str, conn: psycopg.Connection) -> None:
    import os
    import subprocess
    import sys

    reader = subprocess.Popen(["head", "-n", "1"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    writer = subprocess.run(
        [sys.executable, "-m", "dbtool", "reset", "--database-url", database_url, "--profile", "ci"],
        stdout=reader.stdin, stderr=subprocess.PIPE, text=True, timeout=120,
        env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
    )
    reader.stdin.close()  # type: ignore[union-attr]
    reader.wait(timeout=10)
    assert writer.returncode == 0, writer.stderr
    assert conn.execute("SELECT count(*) FROM dbtool_meta WHERE event = 'reset'").fetchone()[0] == 1


SECRET = "s3cr3tpass"


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://u:{SECRET}%zz@127.0.0.1:1/x",  # libpq quotes the bad token: the password
        f"postgresql://u:{SECRET}@127.0.0.1:1/x?connect_timeout=2",  # refused
        f"postgresql://u@127.0.0.1:1/x?password={SECRET}&connect_timeout=2",  # refused, password in the query
        f"postgresql://u:{SECRET}@127.0.0.1:1/x?sslmode=bogus",
    ],
)
def test_verbose_logs_never_show_the_password(url: str) -> None:
    # Nothing listens on port 1; psycopg.pool logs every failed attempt at --verbose.
    result = dbtool_process("-v", "reset", "--database-url", url, timeout=60)
    assert result.returncode in (2, 69), result.stderr
    assert "psycopg" in result.stderr or result.returncode == 2, "expected the pool's debug logs"
    assert SECRET not in result.stdout and SECRET not in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("query", "parameter"),
    [("sslmode=bogus", "sslmode"), ("target_session_attrs=bogus", "target_session_attrs"),
     ("connect_timeout=abc", "connect_timeout"), ("frobnicate=1", "frobnicate")],
)
def test_url_parameters_libpq_rejects_exit_2_before_connecting(query: str, parameter: str) -> None:
    # Nothing listens on port 1: reaching the network would give 69, not 2.
    result = dbtool_process("reset", "--database-url", f"postgresql://u:p@127.0.0.1:1/db?{query}", timeout=60)
    assert result.returncode == 2, result.stderr
    assert parameter in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


@pytest.mark.versions
def test_a_cancelled_statement_exits_1_not_69(database_url: str, conn: psycopg.Connection) -> None:
    """statement_timeout cancels a statement: the server is there, the run failed (1), not unreachable (69)."""
    name = conn.info.dbname
    conn.execute(f'ALTER DATABASE "{name}" SET statement_timeout = 50')
    result = dbtool("reset", "--database-url", database_url, "--profile", "load", "--scale", "20")
    assert result.exit_code == 1, result.output
    assert "cancel" in result.output and "statement_timeout" in result.output


@pytest.mark.parametrize("command", [["drop"], ["migrate", "--revision", "base"]])
@pytest.mark.seeded
def test_verify_on_missing_tables_reports_them_missing(command: list[str], database_url: str) -> None:
    assert dbtool(*command, "--database-url", database_url).exit_code == 0
    result = dbtool("verify", "--database-url", database_url, "--json")
    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout.strip().splitlines()[-1])
    problems = {d["table"]: d["problem"] for d in document["differences"]}
    assert problems and set(problems.values()) == {"missing"}, problems
    assert "does not exist" not in result.output


@pytest.mark.parametrize("order", ["before", "after"])
def test_common_options_work_on_both_sides_of_the_command(order: str, database_url: str) -> None:
    common = ["--log-format", "json", "-v"]
    args = [*common, "status", "--database-url", database_url] if order == "before" else [
        "status", "--database-url", database_url, *common]
    result = dbtool_process(*args, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["event"] == "result"


def test_a_usage_error_points_at_the_commands_own_help() -> None:
    result = dbtool_process("verify", "--no-such-flag", timeout=60)
    assert result.returncode == 2
    assert "dbtool verify --help" in result.stderr


def test_text_output_shows_no_python_values(database_url: str) -> None:
    assert dbtool("migrate", "--database-url", database_url).exit_code == 0
    status = dbtool("status", "--database-url", database_url)
    assert status.exit_code == 0, status.output
    for python_value in ("None", "{}", "[{", "True", "False"):
        assert python_value not in status.stdout, status.stdout
    drop = dbtool("drop", "--database-url", database_url)
    assert "Dropped 1 objects" not in drop.output
    migrate = dbtool("migrate", "--database-url", database_url)
    assert "Target " in migrate.output
    reset = dbtool("reset", "--database-url", database_url, "--profile", "ci", "--json")
    document = json.loads(reset.stdout)
    assert all(value not in ({}, [], None) for value in document.values()), document


def test_init_writes_settings_next_to_an_alembic_project(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    source = Path(__file__).resolve().parents[1] / "projects" / "pyproject"
    for item in source.iterdir():
        if item.is_file():
            (tmp_path / item.name).write_bytes(item.read_bytes())
    result = dbtool_process("init", cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "dbtool reset" in result.stdout and "dbtool status" in result.stdout
    assert "[tool.dbtool]" in (tmp_path / "pyproject.toml").read_text()
    config = dbtool_process("config", "--json", cwd=tmp_path, timeout=60)
    document = json.loads(config.stdout)
    assert document["project"].endswith("alembic.ini") and document["settings"]["profile"]["source"] == "file"
    again = dbtool_process("init", cwd=tmp_path, timeout=60)
    assert again.returncode == 2 and "already holds" in again.stderr
    (tmp_path / "elsewhere").mkdir()
    empty = dbtool_process("init", cwd=tmp_path / "elsewhere", timeout=60)
    assert empty.returncode == 2 and "no Alembic project here" in empty.stderr


@pytest.mark.seeded
def test_a_terminal_is_asked_to_confirm_even_for_a_unix_socket_url(database_url: str) -> None:
    """The prompt depends on the terminal, not on the URL's text (a host= socket URL skipped it)."""
    import os
    import pty
    import subprocess
    import sys

    assert "host=" in database_url or "@" in database_url
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DBTOOL_YES")}
    process = subprocess.Popen([sys.executable, "-m", "dbtool", "drop", "--database-url", database_url],
                               stdin=follower, stdout=follower, stderr=follower, env=env, close_fds=True)
    os.close(follower)
    seen = b""
    deadline = time.monotonic() + 60
    while b"[y/N]" not in seen and time.monotonic() < deadline and process.poll() is None:
        try:
            seen += os.read(leader, 1024)
        except OSError:
            break
    if b"[y/N]" in seen:
        os.write(leader, b"n\n")
    code = process.wait(timeout=60)
    os.close(leader)
    assert b"[y/N]" in seen, seen.decode(errors="replace")
    assert code == 1
    with psycopg.connect(database_url) as c:
        assert c.execute("SELECT count(*) FROM clients").fetchone()[0] == 10
