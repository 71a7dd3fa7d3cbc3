"""Structured output: `--log-format json` is one JSON object per line on stdout and nothing else; `--json` is one document."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest

from dbtool.settings.config import ADVISORY_LOCK_KEY
from tests.recipes.manifest import json_lines, run, with_password

HEAD = "0002_invoices_and_visits"


def dbtool_json(args: list[str], url: str, cwd: Path) -> tuple[int, list[dict[str, Any]], str]:
    """Run with --log-format json; every stdout line must parse, stderr must stay empty."""
    result = run([*args, "--database-url", url, "--log-format", "json"], {}, cwd=cwd)
    events = json_lines(result.stdout)
    assert result.stderr == "", result.stderr
    return result.returncode, events, result.stdout


@pytest.fixture
def seeded(seeded_url: str) -> str:
    """A password-bearing URL of a database reset to the ci profile (tests/conftest.py's clone)."""
    url, _ = with_password(seeded_url)
    return url


@pytest.mark.parametrize(
    ("args", "steps"),
    [
        (["reset", "--profile", "ci"], ["connect", "lock", "drop", "migrate", "seed", "digest", "commit"]),
        (["seed", "--profile", "ci"], ["connect", "lock", "truncate", "seed", "digest", "commit"]),
        (["migrate"], ["connect", "lock", "migrate", "commit"]),
        (["drop"], ["connect", "lock", "drop", "commit"]),
        (["status"], []),
        (["verify"], []),
    ],
)
def test_every_command_prints_json_lines_ending_in_a_result(
    args: list[str], steps: list[str], seeded: str, tmp_path: Path
) -> None:
    code, events, stdout = dbtool_json(args, seeded, tmp_path)
    assert code == 0, stdout
    assert [e["step"] for e in events if e["event"] == "step"] == steps
    assert {e["event"] for e in events} <= {"step", "note", "result"}
    assert all(isinstance(e["duration_ms"], float) for e in events if e["event"] == "step")
    assert (events[-1]["event"], events[-1]["exit_code"]) == ("result", 0)
    assert with_password(seeded)[1] not in stdout


def test_reset_steps_carry_lock_key_revision_and_counts(seeded: str, tmp_path: Path) -> None:
    code, events, _ = dbtool_json(["reset", "--profile", "ci"], seeded, tmp_path)
    assert code == 0
    step = {e["step"]: e for e in events if e["event"] == "step"}
    assert step["lock"]["lock_key"] == ADVISORY_LOCK_KEY
    assert step["migrate"]["revision"] == HEAD
    assert step["seed"]["row_counts"]["clients"] == 10 and step["seed"]["profile"] == "ci"
    assert step["digest"]["digest"] == events[-1]["digest"]
    assert events[-1]["command"] == "reset" and events[-1]["revision"] == HEAD


@pytest.mark.parametrize(
    ("args", "exit_code", "error", "step"),
    [
        (["reset", "--pool-max", "1"], 2, "ConfigError", None),  # refused before connecting
        (["reset", "--profile", "nope"], 2, "ConfigError", None),
        (["migrate", "--revision", "9999_nope"], 2, "ConfigError", None),
        (["reset"], 3, "RefusedError", "drop"),  # the database holds a table dbtool did not create
        (["verify"], 1, "VerifyMismatchError", None),
        (["reset", "--lock-timeout", "0"], 75, "LockBusyError", "lock"),
    ],
)
def test_failures_end_in_one_error_object_with_the_exit_code(
    args: list[str], exit_code: int, error: str, step: str | None, database_url: str, tmp_path: Path
) -> None:
    url, password = with_password(database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        if exit_code == 3:
            conn.execute("CREATE TABLE not_ours (id int); INSERT INTO not_ours VALUES (1)")
        if exit_code == 1:
            assert run(["reset", "--profile", "ci", "--database-url", url], {}, cwd=tmp_path).returncode == 0
            conn.execute("DELETE FROM invoice_tip_splits")
        if exit_code == 75:
            conn.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))
        code, events, stdout = dbtool_json(args, url, tmp_path)
    assert code == exit_code, stdout
    last = events[-1]
    assert (last["event"], last["exit_code"], last["error"]) == ("error", exit_code, error)
    assert last.get("step") == step
    assert last["message"] and "\n" not in last["message"]
    assert [e for e in events if e["event"] in ("error", "result")] == [last]
    assert password not in stdout


def test_json_flag_prints_one_document(seeded: str, tmp_path: Path) -> None:
    result = run(["reset", "--profile", "ci", "--json", "--database-url", seeded], {}, cwd=tmp_path)
    assert result.returncode == 0 and result.stderr == ""
    (line,) = result.stdout.splitlines()
    document = json.loads(line)
    assert {"command", "target", "revision", "profile", "seed", "scale", "row_counts", "digest", "dropped"} <= set(document)
    status = run(["status", "--json", "--database-url", seeded], {}, cwd=tmp_path)
    assert set(json.loads(status.stdout)) >= {"target", "reachable", "revision", "last_seed", "row_counts", "lock"}
    refused = run(["reset", "--pool-max", "1", "--json", "--database-url", seeded], {}, cwd=tmp_path)
    (line,) = refused.stdout.splitlines()
    assert refused.returncode == 2 and json.loads(line)["exit_code"] == 2


def test_help_offers_shell_completion(tmp_path: Path) -> None:
    result = run(["--help"], {}, cwd=tmp_path)
    assert result.returncode == 0
    assert "--install-completion" in result.stdout and "--show-completion" in result.stdout
