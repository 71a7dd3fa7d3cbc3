"""The test suite's own server lookup (tests/server_lookup.py): an engine that answers but cannot start
a container falls through to the embedded server, and a missing server stops pytest in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.server_lookup import NoServer, container_server

ROOT = Path(__file__).resolve().parent.parent
ONE_TEST = "tests/integration/test_guard.py::test_force_resets_a_foreign_database"


@pytest.fixture
def fake_engine(tmp_path: Path) -> Iterator[str]:
    """DOCKER_HOST of a real local engine process that answers pings but fails to create containers."""
    socket = tmp_path / "docker.sock"
    process = subprocess.Popen([sys.executable, "-m", "tests.fake_container_engine", str(socket)], cwd=ROOT,
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        yield f"unix://{socket}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _pytest(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k not in ("DBTOOL_TEST_DATABASE_URL", "DOCKER_HOST")}
    full_env.update(env)
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=ROOT, env=full_env,
                          capture_output=True, text=True, timeout=240)


def test_an_engine_that_cannot_start_the_container_is_not_used(fake_engine: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", fake_engine)
    monkeypatch.delenv("TESTCONTAINERS_RYUK_DISABLED", raising=False)
    with ExitStack() as stack, pytest.raises(NoServer) as exc:
        container_server(stack)
    message = str(exc.value)
    assert "answers but could not start" in message and "\n" not in message
    assert "TESTCONTAINERS_RYUK_DISABLED" in message


def test_the_suite_falls_back_to_the_embedded_server_in_one_line(fake_engine: str) -> None:
    result = _pytest(ONE_TEST, env={"DOCKER_HOST": fake_engine})
    assert result.returncode == 0, result.stdout[-3000:]
    fallbacks = [line for line in result.stdout.splitlines() if "answers but could not start" in line]
    assert len(fallbacks) == 1, result.stdout[-3000:]


def test_no_server_stops_the_run_in_one_line_instead_of_an_error_per_test() -> None:
    # Nothing listens on port 1.
    result = _pytest("tests/integration/test_guard.py", env={"DBTOOL_TEST_DATABASE_URL": "postgresql://u:pw@127.0.0.1:1/x"})
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, result.stdout[-3000:]
    assert "does not answer" in result.stdout and " error" not in result.stdout.splitlines()[-1]
