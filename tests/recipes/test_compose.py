"""docker-compose.yml and the Dockerfile: the dbtool service's command runs against a real database;
tests/containers runs `docker compose up` end to end on a container engine."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest

from tests.helpers import counts, example_rows
from tests.recipes.manifest import (
    COMPOSE,
    DOCKERFILE,
    ROOT,
    dbtool_argv,
    dockerfile_entrypoint,
    json_lines,
    load,
    run,
    with_password,
)


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
    profile, scale = env.get("DBTOOL_PROFILE", "dev"), int(env.get("DBTOOL_SCALE", "1"))
    with psycopg.connect(database_url) as conn:
        assert counts(conn)["clients"] == example_rows(profile, "clients", scale)


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
    # `ARG NAME=default` before the first FROM: the base image a plain `docker build .` uses.
    defaults = dict(words[1].split("=", 1) for words in lines if words[0] == "ARG" and "=" in words[1])
    bases = [re.sub(r"\$\{(\w+)\}", lambda m: defaults[m.group(1)], words[1]) for words in lines if words[0] == "FROM"]
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


# `docker compose up` end to end, the image and the CronJob's container: tests/containers (marker `containers`).
