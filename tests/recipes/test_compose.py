"""docker-compose.yml and the Dockerfile: the dbtool service's command runs against a real database;
with a container engine, `docker compose up` runs end to end."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import tomllib
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest

from dbtool.seed.profiles import PROFILES
from tests.helpers import counts
from tests.recipes.manifest import COMPOSE, DOCKERFILE, ROOT, dbtool_argv, dockerfile_entrypoint, json_lines, load, run, with_password


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load(COMPOSE)


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A compose service's environment (mapping or KEY=VALUE list form)."""
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def command_line(service: dict[str, Any]) -> list[str]:
    """dbtool's arguments as the container runs them: entrypoint (compose's, else the image's) + command."""
    entrypoint = service.get("entrypoint") or dockerfile_entrypoint()
    command = service.get("command", [])
    if isinstance(command, str):
        command = shlex.split(command)
    return dbtool_argv([*entrypoint, *command])


def test_the_dbtool_service_command_resets_a_real_database(compose: dict[str, Any], database_url: str, tmp_path: Path) -> None:
    service = compose["services"]["dbtool"]
    url, password = with_password(database_url)
    env = {**environment(service), "DATABASE_URL": url}
    result = run(command_line(service), env, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    events = json_lines(result.stdout) if env.get("DBTOOL_LOG_FORMAT") == "json" else []
    assert not events or (events[-1]["event"], events[-1]["profile"]) == ("result", env.get("DBTOOL_PROFILE", "dev"))
    assert password not in result.stdout + result.stderr
    profile = PROFILES[env.get("DBTOOL_PROFILE", "dev")].scaled(int(env.get("DBTOOL_SCALE", "1")))
    with psycopg.connect(database_url) as conn:
        assert counts(conn)["clients"] == profile.clients


def test_the_database_url_points_at_the_postgres_service(compose: dict[str, Any]) -> None:
    postgres, dbtool = compose["services"]["postgres"], compose["services"]["dbtool"]
    db_env = environment(postgres)
    url = urlsplit(environment(dbtool)["DATABASE_URL"])
    assert (url.hostname, url.port or 5432) == ("postgres", 5432)
    assert (url.username, url.password, url.path.lstrip("/")) == (
        db_env["POSTGRES_USER"], db_env["POSTGRES_PASSWORD"], db_env.get("POSTGRES_DB", db_env["POSTGRES_USER"])
    )
    assert dbtool["depends_on"]["postgres"]["condition"] == "service_healthy"
    check = " ".join(postgres["healthcheck"]["test"])
    assert "pg_isready" in check and "-h 127.0.0.1" in check  # TCP: not the init-time socket-only server
    assert int(environment(dbtool)["DBTOOL_POOL_MAX"]) >= 2
    # Throwaway data, tuned like pgtestdb's compose file.
    assert "/var/lib/postgresql/data" in postgres["tmpfs"] and "fsync=off" in postgres["command"]


def test_the_image_is_slim_non_root_with_dbtool_as_entrypoint_and_migrations_inside() -> None:
    lines = [line.split() for line in DOCKERFILE.read_text().splitlines() if line and not line.startswith("#")]
    bases = [words[1] for words in lines if words[0] == "FROM"]
    assert bases and all(base.endswith("-slim") for base in bases), bases
    users = [words[1] for words in lines if words[0] == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert users[-1].split(":")[0].isdigit()  # numeric, so Kubernetes can verify runAsNonRoot
    assert dockerfile_entrypoint() == ["dbtool"]
    assert ["COPY", "migrations", "./migrations"] in lines
    # The wheel the image installs carries the Alembic environment where dbtool looks for it.
    build = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"]["wheel"]
    assert build["force-include"]["migrations"] == "dbtool/migrations"
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".dbtool" in ignored and ".venv" in ignored  # the local server's data never enters the build context


def _engine_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:
        return False


@pytest.mark.skipif(not _engine_answers(), reason="no container engine answers (docker ping failed); "
                    "the compose recipe's dbtool command is still run against a real database above")
def test_docker_compose_up_end_to_end(tmp_path: Path) -> None:
    if shutil.which("docker") is None:
        pytest.fail("a container engine answers but the docker CLI is missing")
    # Do not publish 5432 on the host (it may be taken); `!reset` needs Compose >= 2.24.
    override = tmp_path / "compose.override.yml"
    override.write_text("services:\n  postgres:\n    ports: !reset []\n")
    base = ["docker", "compose", "-p", f"dbtool-recipe-{uuid.uuid4().hex[:8]}", "-f", str(COMPOSE), "-f", str(override)]
    try:
        up = subprocess.run([*base, "up", "--build", "--abort-on-container-exit", "--exit-code-from", "dbtool"],
                            cwd=ROOT, capture_output=True, text=True, timeout=900)
        assert up.returncode == 0, up.stdout[-4000:] + up.stderr[-4000:]
        logs = subprocess.run([*base, "logs", "--no-log-prefix", "dbtool"], cwd=ROOT, capture_output=True, text=True,
                              timeout=60)
        events = json_lines(logs.stdout)
        assert events[-1]["event"] == "result" and events[-1]["command"] == "reset"
        assert "app-dev-password" not in logs.stdout + logs.stderr
    finally:
        subprocess.run([*base, "down", "-v", "--remove-orphans"], cwd=ROOT, capture_output=True, timeout=300)
