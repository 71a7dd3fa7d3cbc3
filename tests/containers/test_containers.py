"""The recipes run for real in containers: the project's image, `docker compose up`, the CronJob's
container, and the test suite's testcontainers server (marker `containers`: `pytest -m containers`)."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import psycopg
import pytest

from dbtool.servers.lookup import POSTGRES_IMAGE_VARIABLE, container_server
from tests.containers.conftest import docker, new_name
from tests.helpers import dbtool_process
from tests.recipes.manifest import COMPOSE, CRONJOB, ROOT, dockerfile_entrypoint, json_lines, load
from tests.recipes.test_cronjob import command_line as cronjob_command_line
from tests.recipes.test_cronjob import environment as cronjob_environment

pytestmark = pytest.mark.containers

NON_ROOT_UID = "10001"  # the Dockerfile's user; deploy/k8s/cronjob.yaml runs as it


def test_the_image_is_non_root_with_dbtool_as_entrypoint(dbtool_image: str, measured: Callable[[str], None]) -> None:
    config = json.loads(docker("image", "inspect", dbtool_image).stdout)[0]["Config"]
    assert config["User"].split(":")[0] == NON_ROOT_UID
    assert config["Entrypoint"] == dockerfile_entrypoint() == ["dbtool"]
    started = time.monotonic()
    result = docker("run", "--rm", dbtool_image, "--help")
    measured(f"docker run IMAGE --help: {time.monotonic() - started:.2f}s (container start included)")
    assert "reset" in result.stdout
    whoami = docker("run", "--rm", "--entrypoint", "id", dbtool_image, "-u")
    assert whoami.stdout.strip() == NON_ROOT_UID


def test_docker_compose_up_end_to_end(tmp_path: Path, python_image: str, postgres_image: str,
                                      measured: Callable[[str], None]) -> None:
    # Do not publish 5432 on the host (it may be taken); `!reset` needs Compose >= 2.24. Data on the
    # container's disk instead of tmpfs, so that it outlives the stop that --exit-code-from causes and
    # can be verified afterwards.
    override = tmp_path / "compose.override.yml"
    override.write_text("services:\n  postgres:\n    ports: !reset []\n    tmpfs: !reset []\n")
    project = f"dbtool-test-{uuid.uuid4().hex[:8]}"
    base = ["docker", "compose", "-p", project, "-f", str(COMPOSE), "-f", str(override)]
    env = {**os.environ, "PYTHON_IMAGE": python_image, "POSTGRES_IMAGE": postgres_image}

    def compose(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*base, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)

    try:
        started = time.monotonic()
        up = compose("up", "--build", "--exit-code-from", "dbtool")
        measured(f"docker compose up --exit-code-from dbtool: exit {up.returncode} in {time.monotonic() - started:.1f}s "
                 f"(postgres {postgres_image}, build on {python_image})")
        assert up.returncode == 0, up.stdout[-4000:] + up.stderr[-4000:]
        logs = compose("logs", "--no-log-prefix", "dbtool", timeout=60)
        events = json_lines(logs.stdout)
        assert events[-1]["event"] == "result" and events[-1]["command"] == "reset"
        assert "app-dev-password" not in logs.stdout + logs.stderr
        # The database it left: `dbtool verify` in the same image recomputes every table's digest.
        verify = compose("run", "--rm", "dbtool", "verify", timeout=300)
        assert verify.returncode == 0, verify.stdout[-4000:] + verify.stderr[-4000:]
        result = json_lines(verify.stdout)[-1]
        assert result["event"] == "result" and result["identical"] is True
        assert result["digest"] == events[-1]["digest"]
    finally:
        compose("down", "--volumes", "--remove-orphans", "--rmi", "local", timeout=300)


def test_the_cronjob_container_resets_a_postgres_container(dbtool_image: str, postgres_image: str,
                                                            postgres_container: str, network: str,
                                                            measured: Callable[[str], None]) -> None:
    cronjob = load(CRONJOB)
    url = "postgresql://app:container-pw@db:5432/app"
    env = cronjob_environment(cronjob, url)
    # The pod's securityContext, as far as docker can say it: uid 10001, read-only root, /tmp a scratch volume.
    pod = ["--rm", "--network", network, "--user", f"{NON_ROOT_UID}:{NON_ROOT_UID}", "--read-only", "--tmpfs", "/tmp",
           "--cap-drop", "ALL", "--security-opt", "no-new-privileges"]
    variables = [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
    started = time.monotonic()
    # No --entrypoint: the CronJob sets only args, so the image's ENTRYPOINT ["dbtool"] is PID 1.
    reset = docker("run", *pod, *variables, dbtool_image, *cronjob_command_line(cronjob), check=False, timeout=600)
    measured(f"CronJob command in the image against a {postgres_image} container: "
             f"exit {reset.returncode} in {time.monotonic() - started:.1f}s")
    assert reset.returncode == 0, reset.stdout[-4000:] + reset.stderr[-4000:]
    events = json_lines(reset.stdout)
    assert events[-1]["event"] == "result" and events[-1]["profile"] == env["DBTOOL_PROFILE"]
    assert "container-pw" not in reset.stdout + reset.stderr
    verify = docker("run", *pod, *variables, dbtool_image, "verify", check=False)
    assert verify.returncode == 0, verify.stdout[-4000:] + verify.stderr[-4000:]
    assert json_lines(verify.stdout)[-1]["identical"] is True


def test_the_test_server_lookup_starts_the_configured_postgres_image(postgres_image: str, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch,
                                                                      measured: Callable[[str], None]) -> None:
    monkeypatch.setenv(POSTGRES_IMAGE_VARIABLE, postgres_image)
    monkeypatch.setenv("TESTCONTAINERS_RYUK_DISABLED", "true")  # no registry for the ryuk image; the stack stops it
    before = set(docker("ps", "--all", "--quiet", "--filter", f"ancestor={postgres_image}").stdout.split())
    with ExitStack() as stack:
        started = time.monotonic()
        url = container_server(stack)
        measured(f"testcontainers {postgres_image}: answering in {time.monotonic() - started:.1f}s")
        name = new_name().replace("-", "_")
        with psycopg.connect(url, autocommit=True) as admin:
            version = admin.execute("SHOW server_version").fetchone()[0]
            admin.execute(f"CREATE DATABASE {name}")
        target = url.rsplit("/", 1)[0] + f"/{name}"
        reset = dbtool_process("reset", "--yes", "--profile", "ci", "--database-url", target, cwd=tmp_path)
        assert reset.returncode == 0, reset.stdout[-3000:] + reset.stderr[-3000:]
        assert version.split(".")[0].isdigit()
    after = set(docker("ps", "--all", "--quiet", "--filter", f"ancestor={postgres_image}").stdout.split())
    assert after <= before, "the test server's container outlived its session"
