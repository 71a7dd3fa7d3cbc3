"""`dbtool clone` and `dbtool templates` on a real server."""

from __future__ import annotations

import psycopg
import pytest
from typer.testing import CliRunner

from dbtool.cli import app
from tests.conftest import _with_database

# Clones: CREATE DATABASE ... STRATEGY (15+) and file_copy_method (18): differ by major (pg_matrix).
pytestmark = pytest.mark.versions

runner = CliRunner()


def test_clone_prints_a_url_without_password_and_the_clone_holds_the_seeded_state(
    database_url: str, server_url: str
) -> None:
    name = database_url.rsplit("/", 1)[1].split("?")[0] + "_copy"
    result = runner.invoke(app, ["clone", name, "--profile", "ci", "--database-url", database_url, "--json"])
    try:
        assert result.exit_code == 0, result.output
        assert '"url": "' in result.output and ":***@" not in result.output
        with psycopg.connect(_with_database(server_url, name)) as conn:
            assert conn.execute("SELECT count(*) FROM clients").fetchone()[0] == 10
        again = runner.invoke(app, ["clone", name, "--database-url", database_url])
        assert again.exit_code == 2 and "already exists" in again.output
        listed = runner.invoke(app, ["templates", "--database-url", database_url, "--prune"])
        assert listed.exit_code == 0 and "dbtool_tpl_" in listed.output and "pruned" in listed.output
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')


def test_clone_refuses_dbtools_own_names_before_connecting() -> None:
    result = runner.invoke(app, ["clone", "dbtool_clone_x", "--database-url", "postgresql://u@nowhere.invalid/x"])
    assert result.exit_code == 2 and "own namespace" in result.output
