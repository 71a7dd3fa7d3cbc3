"""Read the deployment recipes (compose, CronJob, CI workflow) and run the dbtool commands they contain."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
CRONJOB = ROOT / "deploy" / "k8s" / "cronjob.yaml"
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
INDEXED_JOB = ROOT / "deploy" / "k8s" / "indexed-job.yaml"
# The files the recipe tests run, which the docs include verbatim where they show them (tests/unit/test_docs.py).
RECIPE_FILES = (COMPOSE, DOCKERFILE, CRONJOB, INDEXED_JOB, WORKFLOW)

# Put into test URLs that have none. The test servers trust local connections, so it is never
# checked, but it must never show up in anything dbtool prints.
TEST_PASSWORD = "Recipe-S3cret-pw"


def load(path: Path) -> Any:
    """Parse one YAML file."""
    return yaml.safe_load(path.read_text())


def with_password(url: str) -> tuple[str, str]:
    """`url` with a password in it (the test one if it had none), and that password."""
    parts = urlsplit(url)
    if parts.password:
        return url, parts.password
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{parts.username or 'postgres'}:{TEST_PASSWORD}@{host}")), TEST_PASSWORD


def dockerfile_entrypoint() -> list[str]:
    """The exec-form ENTRYPOINT of the Dockerfile."""
    lines = [line for line in DOCKERFILE.read_text().splitlines() if line.startswith("ENTRYPOINT ")]
    assert len(lines) == 1, "the Dockerfile needs exactly one ENTRYPOINT"
    return json.loads(lines[0].removeprefix("ENTRYPOINT "))


def dbtool_argv(argv: list[str]) -> list[str]:
    """dbtool's arguments from a full command line that starts with `dbtool`."""
    assert argv and argv[0] == "dbtool", f"not a dbtool command: {argv}"
    return argv[1:]


def run(argv: list[str], env: dict[str, str], cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """Run `python -m dbtool ARGV` with exactly the recipe's dbtool environment (none of ours), like a container."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("DBTOOL_") and k != "DATABASE_URL"}
    return subprocess.run(
        [sys.executable, "-m", "dbtool", *argv], env={**inherited, **env}, cwd=cwd, capture_output=True,
        text=True, timeout=timeout, stdin=subprocess.DEVNULL,
    )


def json_lines(stdout: str) -> list[dict[str, Any]]:
    """Every stdout line as a JSON object (fails on any line that is not one)."""
    events = []
    for line in stdout.splitlines():
        event = json.loads(line)
        assert isinstance(event, dict), line
        events.append(event)
    assert events, "no output on stdout"
    return events


def shell_commands(script: str) -> list[list[str]]:
    """The command lines of a workflow `run:` script (comments and blank lines dropped)."""
    return [shlex.split(line) for line in script.splitlines() if line.strip() and not line.strip().startswith("#")]
