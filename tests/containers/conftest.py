"""A real container engine for the `containers` tests: skipped in one line when none answers.

Images come from PYTHON_IMAGE / POSTGRES_IMAGE (`eval "$(scripts/containers.sh env)"`), else the
local dbtool-local/* images scripts/containers.sh builds, else the public ones. Everything a test
creates (images, containers, networks) is named dbtool-test-<id> and removed afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import nullcontext

import pytest

from tests.recipes.manifest import ROOT

PUBLIC_PYTHON_IMAGE = "python:3.12-slim"  # the Dockerfile's default
PUBLIC_POSTGRES_IMAGE = "postgres:16-alpine"  # docker-compose.yml's default
LOCAL_PYTHON_IMAGE = "dbtool-local/python:bookworm"
LOCAL_POSTGRES_IMAGE = "dbtool-local/postgres:bookworm"
BUILD_TIMEOUT = 900  # seconds: a first build installs dbtool's dependencies from the package index


def docker(*args: str, timeout: float = 300, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the docker CLI; on failure the assertion shows its output."""
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if check:
        assert result.returncode == 0, f"docker {' '.join(args[:3])}… exited {result.returncode}: {result.stderr[-3000:]}"
    return result


def engine_problem() -> str | None:
    """Why the container tests cannot run here, or None when an engine answers."""
    if shutil.which("docker") is None:
        return "no docker CLI on PATH"
    try:
        import docker as docker_sdk

        docker_sdk.from_env(timeout=2).ping()
    except Exception as exc:
        return f"no container engine answers ({type(exc).__name__}); scripts/containers.sh up starts one"
    return None


def image_exists(name: str) -> bool:
    return docker("image", "inspect", name, check=False, timeout=30).returncode == 0


def chosen_image(variable: str, local: str, public: str) -> str:
    """The image named by `variable`, else the local build, else the public image."""
    return os.environ.get(variable) or (local if image_exists(local) else public)


def new_name() -> str:
    return f"dbtool-test-{uuid.uuid4().hex[:10]}"


def dangling_images() -> set[str]:
    return set(docker("images", "--quiet", "--filter", "dangling=true", check=False).stdout.split())


@pytest.fixture(scope="session")
def engine() -> Iterator[None]:
    problem = engine_problem()
    if problem:
        pytest.skip(problem)
    before = dangling_images()
    yield
    # Multi-stage builds leave their build stage behind, untagged: remove those this session made.
    new = sorted(dangling_images() - before)
    if new:
        docker("rmi", "--force", *new, check=False)


@pytest.fixture(scope="session")
def measured(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Print a measurement on the terminal, outside captured output (shown even when tests pass)."""
    plugins = request.config.pluginmanager
    terminal, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")

    def say(line: str) -> None:
        with capture.global_and_fixture_disabled() if capture is not None else nullcontext():
            if terminal is not None:
                terminal.write_line(f"containers: {line}")
            else:
                print(f"containers: {line}", file=sys.stderr)

    return say


@pytest.fixture(scope="session")
def python_image(engine: None) -> str:
    return chosen_image("PYTHON_IMAGE", LOCAL_PYTHON_IMAGE, PUBLIC_PYTHON_IMAGE)


@pytest.fixture(scope="session")
def postgres_image(engine: None) -> str:
    return chosen_image("POSTGRES_IMAGE", LOCAL_POSTGRES_IMAGE, PUBLIC_POSTGRES_IMAGE)


@pytest.fixture(scope="session")
def dbtool_image(python_image: str, measured: Callable[[str], None]) -> Iterator[str]:
    """The project's image, built from the Dockerfile on `python_image`; removed at the end."""
    tag = f"{new_name()}:latest"
    started = time.monotonic()
    docker("build", "--quiet", "--build-arg", f"PYTHON_IMAGE={python_image}", "-t", tag, str(ROOT), timeout=BUILD_TIMEOUT)
    size = int(json.loads(docker("image", "inspect", tag).stdout)[0]["Size"])
    measured(f"dbtool image on {python_image}: built in {time.monotonic() - started:.1f}s, {size / 1e6:.0f} MB")
    try:
        yield tag
    finally:
        docker("rmi", "--force", tag, check=False)


@pytest.fixture
def network(engine: None) -> Iterator[str]:
    """A user-defined bridge network (containers on it find each other by name); removed afterwards."""
    name = new_name()
    docker("network", "create", name)
    try:
        yield name
    finally:
        docker("network", "rm", name, check=False)


@pytest.fixture
def postgres_container(postgres_image: str, network: str) -> Iterator[str]:
    """A Postgres container on `network`, reachable there as `db` (user, password, database: app); removed afterwards."""
    name = new_name()
    docker("run", "--detach", "--name", name, "--network", network, "--network-alias", "db", "--tmpfs",
           "/var/lib/postgresql/data", "-e", "POSTGRES_USER=app", "-e", "POSTGRES_PASSWORD=container-pw",
           "-e", "POSTGRES_DB=app", postgres_image, "postgres", "-c", "fsync=off")
    try:
        deadline = time.monotonic() + 60
        # Over TCP: during initialization the server listens on its socket only.
        while docker("exec", name, "pg_isready", "-h", "127.0.0.1", "-U", "app", "-d", "app", check=False).returncode:
            assert time.monotonic() < deadline, docker("logs", name, check=False).stderr[-3000:]
            time.sleep(0.5)
        yield name
    finally:
        docker("rm", "--force", "--volumes", name, check=False)
