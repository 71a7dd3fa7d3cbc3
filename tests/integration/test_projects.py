"""dbtool runs any team's own Alembic project (`--alembic-config`): the contract, on the fixtures.

A project dbtool accepts must end up exactly as plain `alembic upgrade head` leaves it (compared by
schema dump), however often it is reset. A project whose env.py bypasses dbtool's connection, or
whose revision leaves the transaction, must be refused with the database untouched.

dbtool runs as a real process from a directory that is not the project's: teams call it from their
repository root or CI, not from inside the Alembic directory.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.alembic_projects import DBTOOL_TABLES, MIGRATABLE, PROJECTS, FixtureProject, assert_features
from tests.helpers import dbtool_process
from tests.schema_dump import plain_alembic_downgrade, plain_alembic_upgrade, schema_dump


def run_dbtool(command: str, project: FixtureProject, url: str, *args: str, cwd: Path,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`dbtool <command> --alembic-config <project> --database-url <url> [--schema ...] <args>`."""
    options = ["--alembic-config", str(project.config), "--database-url", url]
    if project.schema is not None:
        options += ["--schema", project.schema]
    return dbtool_process(command, *options, *args, cwd=cwd, env=env)


def dump(url: str, project: FixtureProject) -> str:
    return schema_dump(url, project.schema, exclude_tables=DBTOOL_TABLES)


def tables(url: str, schema: str) -> set[str]:
    """Ordinary and partitioned tables in `schema`."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'p')",
            (schema,),
        ).fetchall()
    return {r[0] for r in rows}


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


@pytest.mark.parametrize("name", MIGRATABLE)
def test_dbtool_leaves_the_schema_plain_alembic_leaves(name: str, new_database: Callable[[], str], tmp_path: Path) -> None:
    project = PROJECTS[name]
    reference = new_database()
    plain_alembic_upgrade(project.config, reference, schema=project.schema)
    expected = dump(reference, project)
    assert_features(project, expected)

    url = new_database()
    for attempt in (1, 2):
        reset = run_dbtool("reset", project, url, "--yes", cwd=tmp_path)
        assert reset.returncode == 0, f"reset #{attempt}: {reset.stderr}"
        assert dump(url, project) == expected, f"reset #{attempt} differs from plain alembic"
    if project.schema is not None:
        assert not tables(url, "public") & {"tenants", "users", project.version_table}

    status = run_dbtool("status", project, url, "--json", cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    revision = json.loads(status.stdout)["revision"]
    assert revision["current"] == revision["head"] == project.head

    verify = run_dbtool("verify", project, url, cwd=tmp_path)
    assert verify.returncode == 0, verify.stderr

    down = run_dbtool("migrate", project, url, "--revision", "base", cwd=tmp_path)
    assert down.returncode == 0, down.stderr
    # Alembic keeps its (now empty) version table at base; nothing else of the project may remain.
    assert tables(url, project.dump_schema) <= {*DBTOOL_TABLES, project.version_table}
    plain_alembic_downgrade(project.config, reference, schema=project.schema)
    assert dump(url, project) == dump(reference, project)

    drop = run_dbtool("drop", project, url, "--yes", cwd=tmp_path)
    assert drop.returncode == 0, drop.stderr


def test_own_engine_is_refused_and_its_database_untouched(new_database: Callable[[], str], tmp_path: Path) -> None:
    project = PROJECTS["own_engine"]
    target, app_database = new_database(), new_database()
    app_before, target_before = schema_dump(app_database), dump(target, project)

    result = run_dbtool("reset", project, target, "--yes", cwd=tmp_path, env={"APP_DATABASE_URL": app_database})

    assert result.returncode == 2, result.stderr
    message = one_line(result.stderr)
    assert "Sharing a Connection" in message or "config.attributes" in message, message
    assert schema_dump(app_database) == app_before
    assert dump(target, project) == target_before


def test_concurrently_is_refused_naming_the_revision(new_database: Callable[[], str], tmp_path: Path) -> None:
    project = PROJECTS["concurrently"]
    url = new_database()
    before = dump(url, project)

    result = run_dbtool("reset", project, url, "--yes", cwd=tmp_path)

    assert result.returncode == 1, result.stderr
    message = one_line(result.stderr)
    assert project.head in message, message
    assert dump(url, project) == before
    with psycopg.connect(url, autocommit=True) as conn:
        leftover = conn.execute(
            sql.SQL("SELECT to_regclass('public.search_terms'), to_regclass('public.ix_search_terms_term')")
        ).fetchone()
    assert leftover == (None, None)


def test_enum_values_added_in_the_reset_are_seeded_only_where_the_server_can_store_them(
    new_database: Callable[[], str], tmp_path: Path
) -> None:
    # The enums project's last revisions ADD VALUE 'refunded' to a type its first one created: all in
    # the reset's one transaction. Postgres 17 stores such a value at once; older servers refuse it
    # until commit, so dbtool leaves it out of the seed and says so instead of failing the reset.
    url = new_database()
    result = run_dbtool("reset", PROJECTS["enums"], url, "--profile", "demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    with psycopg.connect(url) as conn:
        major = conn.info.server_version // 10000
        statuses = {row[0] for row in conn.execute("SELECT DISTINCT status::text FROM orders")}
    noted = "enum value(s) refunded were added in this transaction" in result.stdout
    assert noted == (major < 17), result.stdout
    assert ("refunded" in statuses) == (major >= 17), statuses
