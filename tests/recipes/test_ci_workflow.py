""".github/workflows/ci.yml: its dbtool steps run, in order, against a real database; its service matches its URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest

from tests.helpers import counts, example_rows
from tests.recipes.manifest import WORKFLOW, dbtool_argv, json_lines, load, run, shell_commands, with_password


@pytest.fixture(scope="module")
def job() -> dict[str, Any]:
    workflow = load(WORKFLOW)
    assert workflow.get("on", workflow.get(True))  # YAML 1.1 reads the key `on` as true
    (only,) = workflow["jobs"].values()
    return only


def dbtool_steps(job: dict[str, Any]) -> list[tuple[list[str], dict[str, str]]]:
    """(dbtool arguments, environment) of every dbtool command line in the job's `run:` steps, in order."""
    found = []
    for step in job["steps"]:
        env = {k: str(v) for k, v in {**job.get("env", {}), **step.get("env", {})}.items()}
        for argv in shell_commands(step.get("run", "")):
            if argv[0] == "dbtool":
                found.append((dbtool_argv(argv), env))
    return found


def test_the_workflow_migrates_seeds_and_verifies_a_real_database(job: dict[str, Any], database_url: str, tmp_path: Path) -> None:
    steps = dbtool_steps(job)
    assert [argv[0] for argv, _ in steps] == ["migrate", "seed", "verify"]
    url, password = with_password(database_url)
    for argv, env in steps:
        assert "${{" not in " ".join(argv) + " ".join(env.values()), "expressions cannot be run outside Actions"
        result = run(argv, {**env, "DATABASE_URL": url}, cwd=tmp_path)
        assert result.returncode == 0, f"dbtool {' '.join(argv)}: {result.stdout}{result.stderr}"
        if env.get("DBTOOL_LOG_FORMAT") == "json":
            assert json_lines(result.stdout)[-1]["event"] == "result"
        assert password not in result.stdout + result.stderr
    profile = steps[1][0][steps[1][0].index("--profile") + 1]
    with psycopg.connect(database_url) as conn:
        assert counts(conn)["invoices"] == example_rows(profile, "invoices")


def test_the_postgres_service_matches_the_database_url(job: dict[str, Any]) -> None:
    service = job["services"]["postgres"]
    url = urlsplit(job["env"]["DATABASE_URL"])
    assert (url.hostname, url.port) == ("localhost", 5432)
    assert "5432:5432" in [str(p) for p in service["ports"]]
    assert (url.username, url.password, url.path.lstrip("/")) == (
        service["env"]["POSTGRES_USER"], service["env"]["POSTGRES_PASSWORD"], service["env"]["POSTGRES_DB"]
    )
    assert "--health-cmd" in service["options"]  # steps start only once the server accepts connections
    assert service["image"].startswith("postgres:")
