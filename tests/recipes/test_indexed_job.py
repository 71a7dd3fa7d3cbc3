"""deploy/k8s/indexed-job.yaml: each completion index runs its shard against real databases, and the policy reads dbtool's fleet exit codes."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import yaml

from dbtool.settings.config import ADVISORY_LOCK_KEY
from dbtool.settings.targets import parse_targets
from tests.recipes.manifest import INDEXED_JOB, dbtool_argv, dockerfile_entrypoint, json_lines, run

TEST_PASSWORD = "Fleet-Recipe-S3cret"  # the test servers trust local connections: never checked, never to be shown
DEPENDENT = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


@pytest.fixture(scope="module")
def documents() -> dict[str, Any]:
    return {d["kind"]: d for d in yaml.safe_load_all(INDEXED_JOB.read_text())}


def job_spec(documents: dict[str, Any]) -> dict[str, Any]:
    return documents["Job"]["spec"]


def container(documents: dict[str, Any]) -> dict[str, Any]:
    (only,) = job_spec(documents)["template"]["spec"]["containers"]
    return only


def secret_keys() -> list[str]:
    """The variables the header's `kubectl create secret` puts in the Secret."""
    return re.findall(r"--from-literal=([A-Z_][A-Z0-9_]*)=", INDEXED_JOB.read_text())


def targets_path(documents: dict[str, Any]) -> str:
    """Where the pod sees the ConfigMap's targets file."""
    spec = job_spec(documents)["template"]["spec"]
    (mount,) = [m for m in container(documents)["volumeMounts"] if m["name"] == "targets"]
    (volume,) = [v for v in spec["volumes"] if v["name"] == "targets"]
    assert volume["configMap"]["name"] == documents["ConfigMap"]["metadata"]["name"]
    (item,) = volume["configMap"]["items"]
    return f"{mount['mountPath']}/{item['path']}"


def environment(documents: dict[str, Any], index: int, targets_file: Path) -> dict[str, str]:
    """The container's environment for completion `index`, as the kubelet builds it ($(VAR) from earlier entries)."""
    env = {key: TEST_PASSWORD for key in secret_keys()}  # envFrom: the Secret
    for var in container(documents)["env"]:
        if "value" in var:
            env[var["name"]] = DEPENDENT.sub(lambda m: env.get(m.group(1), m.group(0)), str(var["value"]))
        else:
            path = var["valueFrom"]["fieldRef"]["fieldPath"]
            assert path == "metadata.annotations['batch.kubernetes.io/job-completion-index']", path
            env[var["name"]] = str(index)
    assert env["DBTOOL_TARGETS"] == targets_path(documents)
    env["DBTOOL_TARGETS"] = str(targets_file)  # the ConfigMap, mounted
    return env


def command_line(documents: dict[str, Any]) -> list[str]:
    spec = container(documents)
    return dbtool_argv([*(spec.get("command") or dockerfile_entrypoint()), *spec.get("args", [])])


def rule_for(documents: dict[str, Any], exit_code: int) -> str:
    """The action the first matching podFailurePolicy rule takes for a container exit code."""
    for rule in job_spec(documents)["podFailurePolicy"]["rules"]:
        on = rule.get("onExitCodes")
        if on and on.get("containerName") in (None, container(documents)["name"]):
            if (exit_code in on["values"]) == (on["operator"] == "In"):
                return str(rule["action"])
    return "Count"


def fleet_file(urls: dict[str, str]) -> str:
    """A targets file written like the ConfigMap's: passwords as ${TENANTS_PASSWORD}."""
    lines = ["# test fleet"]
    for name, url in urls.items():
        parts = urlsplit(url)
        host = parts.netloc.rsplit("@", 1)[-1]
        lines.append(f"{name} = " + urlunsplit(parts._replace(netloc=f"{parts.username or 'postgres'}:${{TENANTS_PASSWORD}}@{host}")))
    return "\n".join(lines) + "\n"


def test_every_index_resets_its_shard_and_together_they_reset_every_target_once(
    documents: dict[str, Any], new_database: Callable[[], str], tmp_path: Path
) -> None:
    urls = {f"tenant-{i}": new_database() for i in range(5)}
    targets = tmp_path / "targets"
    targets.write_text(fleet_file(urls))
    seen: list[str] = []
    for index in range(job_spec(documents)["completions"]):
        env = environment(documents, index, targets)
        result = run(command_line(documents), env, cwd=tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr
        assert TEST_PASSWORD not in result.stdout + result.stderr
        events = json_lines(result.stdout)  # DBTOOL_LOG_FORMAT=json: every line an object, each tagged
        assert all("target" in e for e in events[:-1])
        summary = events[-1]
        assert summary["event"] == "summary" and summary["exit_code"] == 0
        assert summary["parallel"] <= int(env["DBTOOL_PARALLEL"])
        seen += [r["target"] for r in summary["results"]]
        assert all(r["result"]["profile"] == env["DBTOOL_PROFILE"] for r in summary["results"])
    assert sorted(seen) == sorted(urls)  # every target in exactly one shard
    for url in urls.values():
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT count(*) FROM dbtool_meta WHERE event = 'reset'").fetchone()[0] == 1  # type: ignore[index]


def test_a_shard_whose_only_failure_is_a_busy_lock_exits_75_and_fails_only_its_index(
    documents: dict[str, Any], new_database: Callable[[], str], tmp_path: Path
) -> None:
    count = job_spec(documents)["completions"]
    urls = {f"tenant-{i}": new_database() for i in range(count + 1)}  # index 0 gets tenant-0 and tenant-<count>
    targets = tmp_path / "targets"
    targets.write_text(fleet_file(urls))
    env = environment(documents, 0, targets)
    env["DBTOOL_LOCK_TIMEOUT"] = "0"  # try once instead of waiting 300 s
    with psycopg.connect(urls["tenant-0"], autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))
        result = run(command_line(documents), env, cwd=tmp_path)
    assert result.returncode == 75, result.stdout + result.stderr
    summary = json_lines(result.stdout)[-1]
    assert {r["target"]: r["exit_code"] for r in summary["results"]} == {"tenant-0": 75, f"tenant-{count}": 0}
    assert rule_for(documents, 75) == "FailIndex"


def test_the_shipped_targets_file_parses_with_the_secret_s_variables(documents: dict[str, Any]) -> None:
    text = documents["ConfigMap"]["data"]["targets"]
    entries = parse_targets(text, "configmap", {key: TEST_PASSWORD for key in secret_keys()})
    assert len(entries) >= job_spec(documents)["completions"]
    assert all("${" in line or not line.strip() or line.lstrip().startswith("#")
               for line in text.splitlines() if "://" in line and "@" in line)  # passwords only as ${VAR}
    assert "kind: Secret" not in INDEXED_JOB.read_text()


def test_the_policy_reads_the_fleet_exit_codes(documents: dict[str, Any]) -> None:
    spec = job_spec(documents)
    assert spec["completionMode"] == "Indexed" and 1 <= spec["parallelism"] <= spec["completions"]
    env = {v["name"]: v for v in container(documents)["env"]}
    assert env["DBTOOL_SHARD"]["value"] == f"$(JOB_COMPLETION_INDEX)/{spec['completions']}"
    assert spec["template"]["spec"]["restartPolicy"] == "Never"
    assert rule_for(documents, 2) == "FailJob"  # the same file fails every shard alike
    assert rule_for(documents, 3) == rule_for(documents, 75) == "FailIndex"  # this shard only; the others go on
    for code in (1, 69, 143):
        assert rule_for(documents, code) == "Count", code
    assert 1 <= spec["backoffLimitPerIndex"] <= 5
    disruption = [r for r in spec["podFailurePolicy"]["rules"] if "onPodConditions" in r]
    assert [(r["action"], r["onPodConditions"][0]["type"]) for r in disruption] == [("Ignore", "DisruptionTarget")]
    assert container(documents).get("command") in (None, ["dbtool"])  # SIGTERM must reach dbtool
    assert "--force" not in command_line(documents)
    assert float(env["DBTOOL_LOCK_TIMEOUT"]["value"]) < spec["activeDeadlineSeconds"]
