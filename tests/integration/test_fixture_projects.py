"""The fixture Alembic projects work with plain Alembic, as their teams would run them (no dbtool).

These are the reference side of tests/integration/test_projects.py: if a fixture fails here, the
fixture is broken, not dbtool.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import alembic
import psycopg
import pytest
from alembic.script import ScriptDirectory
from psycopg import sql

from tests import schema_dump as schema_dump_module
from tests.alembic_projects import MIGRATABLE, PROJECTS, assert_features
from tests.schema_dump import plain_alembic, plain_alembic_downgrade, plain_alembic_upgrade, schema_dump

ALEMBIC_TEMPLATES = Path(alembic.__file__).resolve().parent / "templates"


def recorded_revision(url: str, schema: str, version_table: str) -> str | None:
    """The revision in the project's version table, or None when the table is empty."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            sql.SQL("SELECT version_num FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(version_table))
        ).fetchone()
    return row[0] if row else None


def base_dump_creates(dump: str) -> list[str]:
    """The CREATE statements left in a dump at base (only the schema and the version table may be)."""
    return [line for line in dump.splitlines() if line.startswith("CREATE ")]


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_each_project_has_one_head_the_catalog_names(name: str) -> None:
    project = PROJECTS[name]
    assert project.config.is_file()
    heads = ScriptDirectory(str(project.directory)).get_heads()
    assert heads == [project.head]


@pytest.mark.parametrize("name", MIGRATABLE)
def test_upgrade_downgrade_upgrade_gives_the_same_schema(name: str, new_database: Callable[[], str]) -> None:
    project = PROJECTS[name]
    url = new_database()

    plain_alembic_upgrade(project.config, url, schema=project.schema)
    head = schema_dump(url, project.schema)
    assert_features(project, head)
    assert recorded_revision(url, project.dump_schema, project.version_table) == project.head

    plain_alembic_downgrade(project.config, url, schema=project.schema)
    base = schema_dump(url, project.schema)
    allowed = {f"CREATE TABLE {project.dump_schema}.{project.version_table} (", f"CREATE SCHEMA {project.schema};"}
    assert set(base_dump_creates(base)) <= allowed, base
    assert recorded_revision(url, project.dump_schema, project.version_table) is None

    plain_alembic_upgrade(project.config, url, schema=project.schema)
    assert schema_dump(url, project.schema) == head


def test_app_schema_lands_in_the_search_path_schema_only(new_database: Callable[[], str]) -> None:
    project = PROJECTS["app_schema"]
    url = new_database()
    plain_alembic_upgrade(project.config, url, schema="app")
    assert "CREATE TABLE" not in schema_dump(url, "public")


def test_naming_convention_is_what_makes_the_later_revision_work(new_database: Callable[[], str], tmp_path: Path) -> None:
    # The point of the fixture: run its revisions without env.py's target_metadata (as a tool that
    # replaced the team's env.py would) and the drop by convention name fails.
    project = PROJECTS["naming_convention"]
    copy = tmp_path / project.name
    shutil.copytree(project.directory, copy, ignore=shutil.ignore_patterns("__pycache__"))
    env = copy / "env.py"
    text = env.read_text()
    assert "target_metadata = models.Base.metadata" in text
    env.write_text(text.replace("target_metadata = models.Base.metadata", "target_metadata = None"))
    with pytest.raises(RuntimeError, match='constraint "uq_coupons_code" of relation "coupons" does not exist'):
        plain_alembic_upgrade(copy / "alembic.ini", new_database())


def test_pyproject_splits_config_between_pyproject_toml_and_alembic_ini() -> None:
    project = PROJECTS["pyproject"]
    toml = (project.directory / "pyproject.toml").read_text()
    ini = (project.directory / "alembic.ini").read_text()
    assert "[tool.alembic]" in toml and 'script_location = "%(here)s"' in toml
    assert "script_location" not in ini and "sqlalchemy.url = driver://user:pass@localhost/dbname" in ini


def test_async_template_env_py_is_alembics_own() -> None:
    env = (PROJECTS["async_template"].directory / "env.py").read_bytes()
    assert env == (ALEMBIC_TEMPLATES / "async" / "env.py").read_bytes()
    assert b"async_engine_from_config" in env and b'config.attributes' not in env


def test_own_engine_migrates_the_app_database_not_sqlalchemy_url(new_database: Callable[[], str]) -> None:
    project = PROJECTS["own_engine"]
    configured, app_database = new_database(), new_database()
    untouched = schema_dump(configured)

    plain_alembic(project.config, configured, "upgrade", "head", env={"APP_DATABASE_URL": app_database})
    head = schema_dump(app_database)
    assert_features(project, head)
    assert schema_dump(configured) == untouched
    assert recorded_revision(app_database, "public", "alembic_version") == project.head

    plain_alembic(project.config, configured, "downgrade", "base", env={"APP_DATABASE_URL": app_database})
    assert recorded_revision(app_database, "public", "alembic_version") is None
    plain_alembic(project.config, configured, "upgrade", "head", env={"APP_DATABASE_URL": app_database})
    assert schema_dump(app_database) == head
    assert schema_dump(configured) == untouched


def test_own_engine_cannot_run_without_its_app_setting(new_database: Callable[[], str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("APP_DATABASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="KeyError: 'APP_DATABASE_URL'"):
        plain_alembic_upgrade(PROJECTS["own_engine"].config, new_database())


def test_concurrently_commits_in_the_middle_of_the_upgrade(new_database: Callable[[], str]) -> None:
    project = PROJECTS["concurrently"]
    url = new_database()
    # Offline rendering shows what autocommit_block does online: end the migration transaction,
    # build the index outside any transaction, open a new one.
    script = plain_alembic(project.config, url, "upgrade", "head", offline=True)
    commit = script.index("COMMIT;")
    index = script.index("CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_search_terms_term")
    assert script.index("CREATE TABLE search_terms") < commit < index < script.index("BEGIN;", index)

    plain_alembic_upgrade(project.config, url)
    head = schema_dump(url)
    assert_features(project, head)
    with psycopg.connect(url, autocommit=True) as conn:
        valid = conn.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_search_terms_term'::regclass").fetchone()
    assert valid == (True,)
    plain_alembic_downgrade(project.config, url)
    assert "ix_search_terms_term" not in schema_dump(url)
    plain_alembic_upgrade(project.config, url)
    assert schema_dump(url) == head


def test_pg_dump_path_says_what_it_needs_when_no_pg_dump_fits(server_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schema_dump_module, "_pg_dump_candidates", lambda: [])
    schema_dump_module._pg_dump_for.cache_clear()
    try:
        with pytest.raises(RuntimeError, match=r"no pg_dump of major version >= \d+ \(the server's\); found: none"):
            schema_dump_module.pg_dump_path(server_url)
    finally:
        schema_dump_module._pg_dump_for.cache_clear()
