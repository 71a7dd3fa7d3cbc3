"""deploy/k8s/cronjob.yaml: its dbtool command runs against a real database, and its policy matches dbtool's exit codes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import psycopg
import pytest

from dbtool.settings.config import ADVISORY_LOCK_KEY
from tests.helpers import counts
from tests.recipes.manifest import CRONJOB, dbtool_argv, dockerfile_entrypoint, json_lines, load, run, with_password

SIGTERM_BUDGET = 5  # dbtool exits within 5 s of SIGTERM, after rolling back
GRACE_HEADROOM = 10  # at least this much more before the kubelet's SIGKILL


@pytest.fixture(scope="module")
def cronjob() -> dict[str, Any]:
    return load(CRONJOB)


def job_spec(cronjob: dict[str, Any]) -> dict[str, Any]:
    return cronjob["spec"]["jobTemplate"]["spec"]


def pod_spec(cronjob: dict[str, Any]) -> dict[str, Any]:
    return job_spec(cronjob)["template"]["spec"]


def container(cronjob: dict[str, Any]) -> dict[str, Any]:
    (only,) = pod_spec(cronjob)["containers"]
    return only


def command_line(cronjob: dict[str, Any]) -> list[str]:
    """dbtool's arguments as the pod runs them: `command` replaces the image's ENTRYPOINT, `args` its CMD."""
    spec = container(cronjob)
    return dbtool_argv([*(spec.get("command") or dockerfile_entrypoint()), *spec.get("args", [])])


def environment(cronjob: dict[str, Any], database_url: str) -> dict[str, str]:
    """The container's env; a value from a Secret becomes `database_url` (the only secret is the URL)."""
    env = {}
    for var in container(cronjob)["env"]:
        if "value" in var:
            env[var["name"]] = str(var["value"])
        else:
            assert "secretKeyRef" in var["valueFrom"], f"{var['name']}: only literal values and Secrets are supported"
            env[var["name"]] = database_url
    return env


def rule_for(cronjob: dict[str, Any], exit_code: int) -> dict[str, Any]:
    """The first podFailurePolicy rule matching a container exit code (the order Kubernetes applies)."""
    for rule in job_spec(cronjob)["podFailurePolicy"]["rules"]:
        on = rule.get("onExitCodes")
        if on and on.get("containerName") in (None, container(cronjob)["name"]):
            matches = exit_code in on["values"]
            if matches == (on["operator"] == "In"):
                return rule
    return {"action": "Count"}  # no rule: the failure counts toward backoffLimit


def test_the_nightly_command_resets_a_real_database(cronjob: dict[str, Any], database_url: str, tmp_path: Path) -> None:
    url, password = with_password(database_url)
    env = environment(cronjob, url)
    result = run(command_line(cronjob), env, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    events = json_lines(result.stdout)  # DBTOOL_LOG_FORMAT=json: every line is a JSON object
    steps = {e["step"]: e for e in events if e["event"] == "step"}
    assert steps["connect"]["pool_max"] == int(env["DBTOOL_POOL_MAX"])
    assert steps["lock"]["lock_key"] == int(env.get("DBTOOL_LOCK_KEY", ADVISORY_LOCK_KEY))
    assert events[-1]["event"] == "result" and events[-1]["exit_code"] == 0
    assert events[-1]["profile"] == env["DBTOOL_PROFILE"] and events[-1]["seed"] == int(env["DBTOOL_SEED"])
    assert password not in result.stdout + result.stderr
    with psycopg.connect(database_url) as conn:
        assert counts(conn)["invoices"] == events[-1]["row_counts"]["invoices"] > 0


@pytest.mark.parametrize("exit_code", [2, 3, 75])
def test_exit_codes_the_policy_names_are_what_the_command_returns(
    exit_code: int, cronjob: dict[str, Any], database_url: str, tmp_path: Path
) -> None:
    env = environment(cronjob, database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        if exit_code == 2:
            env["DBTOOL_POOL_MAX"] = "1"  # a configuration mistake
        elif exit_code == 3:
            conn.execute("CREATE TABLE customers_of_another_app (id int); INSERT INTO customers_of_another_app VALUES (1)")  # data dbtool did not produce
        else:
            # Another run holds the lock. Try once instead of waiting DBTOOL_LOCK_TIMEOUT seconds.
            conn.execute("SELECT pg_advisory_lock(%s)", (int(env.get("DBTOOL_LOCK_KEY", ADVISORY_LOCK_KEY)),))
            env["DBTOOL_LOCK_TIMEOUT"] = "0"
        result = run(command_line(cronjob), env, cwd=tmp_path)
    assert result.returncode == exit_code, result.stdout + result.stderr
    last = json_lines(result.stdout)[-1]
    assert (last["event"], last["exit_code"]) == ("error", exit_code)
    expected = {2: {"FailJob"}, 3: {"FailJob"}, 75: {"FailJob", "Ignore"}}[exit_code]
    assert rule_for(cronjob, exit_code)["action"] in expected


def test_retryable_failures_are_counted_and_bounded(cronjob: dict[str, Any]) -> None:
    for code in (1, 69, 143):  # rolled back / unreachable / terminated: worth a retry
        assert rule_for(cronjob, code)["action"] == "Count", code
    assert 1 <= job_spec(cronjob)["backoffLimit"] <= 5
    disruption = [r for r in job_spec(cronjob)["podFailurePolicy"]["rules"] if "onPodConditions" in r]
    assert [r["action"] for r in disruption] == ["Ignore"]
    assert disruption[0]["onPodConditions"][0]["type"] == "DisruptionTarget"


def test_schedule_and_pod_settings_are_safe(cronjob: dict[str, Any]) -> None:
    assert cronjob["kind"] == "CronJob" and cronjob["apiVersion"] == "batch/v1"
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    assert pod_spec(cronjob)["restartPolicy"] == "Never"  # podFailurePolicy requires it
    assert pod_spec(cronjob)["terminationGracePeriodSeconds"] >= SIGTERM_BUDGET + GRACE_HEADROOM
    env = {v["name"]: v for v in container(cronjob)["env"]}
    lock_timeout = float(env["DBTOOL_LOCK_TIMEOUT"]["value"])
    assert 0 < lock_timeout < job_spec(cronjob)["activeDeadlineSeconds"]
    assert int(env["DBTOOL_POOL_MAX"]["value"]) >= 2  # one connection holds the advisory lock
    assert env["DBTOOL_LOG_FORMAT"]["value"] == "json"
    assert "--force" not in command_line(cronjob)
    assert container(cronjob).get("command") in (None, ["dbtool"])  # SIGTERM must reach dbtool, not a shell


def test_the_database_url_comes_from_a_secret_and_no_password_is_in_the_file(cronjob: dict[str, Any]) -> None:
    (url,) = [v for v in container(cronjob)["env"] if v["name"] == "DATABASE_URL"]
    assert set(url) == {"name", "valueFrom"} and set(url["valueFrom"]["secretKeyRef"]) >= {"name", "key"}
    text = CRONJOB.read_text()
    assert "kind: Secret" not in text
    for userinfo in re.findall(r"postgres(?:ql)?://([^\s'\"@/]*)@", text):
        password = userinfo.partition(":")[2]
        assert not password or re.fullmatch(r"<[^>]+>", password), f"a plaintext password in {CRONJOB.name}"
