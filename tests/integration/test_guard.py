"""The safety guard: foreign databases need --force, protected ones are never wiped."""

from __future__ import annotations

import psycopg
import pytest

from tests.helpers import dbtool


@pytest.fixture
def foreign(conn: psycopg.Connection) -> psycopg.Connection:
    conn.execute("CREATE TABLE customers (id int PRIMARY KEY, name text); INSERT INTO customers VALUES (1, 'keep me')")
    return conn


@pytest.mark.parametrize("command", ["reset", "drop", "seed"])
@pytest.mark.versions
def test_a_database_dbtool_did_not_create_is_refused(command: str, database_url: str, foreign: psycopg.Connection) -> None:
    result = dbtool(command, "--database-url", database_url)
    assert result.exit_code == 3, result.output
    assert "rows in customers" in result.output and "did not produce" in result.output and "--force" in result.output
    assert foreign.execute("SELECT name FROM customers").fetchone()[0] == "keep me"


def test_force_resets_a_foreign_database(database_url: str, foreign: psycopg.Connection) -> None:
    result = dbtool("reset", "--database-url", database_url, "--force", "--profile", "ci")
    assert result.exit_code == 0, result.output
    assert foreign.execute("SELECT to_regclass('customers')").fetchone()[0] is None


@pytest.mark.parametrize("command", ["reset", "drop", "seed"])
@pytest.mark.seeded
def test_a_protected_database_is_refused_even_with_force(command: str, database_url: str, conn: psycopg.Connection) -> None:
    assert dbtool("protect", "--database-url", database_url).exit_code == 0
    result = dbtool(command, "--database-url", database_url, "--force", "--profile", "ci")
    assert result.exit_code == 3, result.output
    assert "protected" in result.output
    assert conn.execute("SELECT count(*) FROM clients").fetchone()[0] == 10
    assert dbtool("unprotect", "--database-url", database_url, "--force").exit_code == 0
    assert dbtool(command, "--database-url", database_url, "--profile", "ci").exit_code == 0


def test_protecting_a_foreign_database_does_not_make_it_resettable(database_url: str, foreign: psycopg.Connection) -> None:
    assert dbtool("protect", "--database-url", database_url).exit_code == 0
    assert dbtool("unprotect", "--database-url", database_url, "--force").exit_code == 0
    assert dbtool("reset", "--database-url", database_url).exit_code == 3


@pytest.mark.versions
def test_a_database_dbtool_only_migrated_is_not_dbtools_to_wipe(database_url: str, conn: psycopg.Connection) -> None:
    """migrate, then the app writes a real row: that row is the app's, and reset must refuse it."""
    assert dbtool("migrate", "--database-url", database_url).exit_code == 0
    assert dbtool("reset", "--database-url", database_url, "--profile", "ci").exit_code == 0  # nothing in it yet: fine
    assert dbtool("drop", "--database-url", database_url).exit_code == 0
    assert dbtool("migrate", "--database-url", database_url).exit_code == 0
    conn.execute("INSERT INTO services VALUES (gen_random_uuid(), 'real customer service', 30, 100)")
    result = dbtool("reset", "--database-url", database_url, "--profile", "ci")
    assert result.exit_code == 3, result.output
    assert "rows in services" in result.output
    assert conn.execute("SELECT count(*) FROM services").fetchone()[0] == 1


@pytest.mark.versions
def test_unchanged_rows_left_by_dbtool_migrate_may_be_replaced(database_url: str, conn: psycopg.Connection) -> None:
    """Rows a migration inserts are dbtool's doing while nobody changed them."""
    assert dbtool("migrate", "--database-url", database_url).exit_code == 0
    conn.execute("CREATE TABLE lookup (code text PRIMARY KEY)")
    conn.execute("INSERT INTO lookup VALUES ('a')")
    assert dbtool("reset", "--database-url", database_url, "--profile", "ci").exit_code == 3  # not dbtool's rows
    conn.execute("DROP TABLE lookup")
    assert dbtool("reset", "--database-url", database_url, "--profile", "ci").exit_code == 0


@pytest.mark.parametrize("schema", ["information_schema", "pg_catalog", "pg_toast", "pg_temp_3", "pg_toast_temp_1"])
def test_system_schemas_are_refused_before_connecting(schema: str) -> None:
    result = dbtool("drop", "--database-url", "postgresql://u@127.0.0.1:1/x", "--schema", schema, "--force")
    assert result.exit_code == 2, result.output
    assert "system schema" in result.output and "Connected" not in result.output


def test_unprotect_needs_force(database_url: str, conn: psycopg.Connection) -> None:
    assert dbtool("reset", "--database-url", database_url, "--profile", "ci").exit_code == 0
    assert dbtool("protect", "--database-url", database_url).exit_code == 0
    result = dbtool("unprotect", "--database-url", database_url)
    assert result.exit_code == 2, result.output
    assert "--force" in result.output
    assert dbtool("reset", "--database-url", database_url, "--profile", "ci").exit_code == 3
    again = dbtool("unprotect", "--database-url", database_url, "--force")
    assert again.exit_code == 0 and "Unprotected" in again.output
    twice = dbtool("unprotect", "--database-url", database_url, "--force")
    assert twice.exit_code == 0 and "already unprotected" in twice.output


def test_the_target_is_printed_without_its_password(server_url: str, database_url: str) -> None:
    from urllib.parse import urlsplit, urlunsplit

    with psycopg.connect(database_url, autocommit=True) as c:
        c.execute("CREATE ROLE dbtool_pw_user LOGIN PASSWORD 'Sup3rSecret' SUPERUSER")
    try:
        parts = urlsplit(database_url)
        host = f"{parts.hostname or ''}:{parts.port}" if parts.port else parts.hostname or ""
        url = urlunsplit(parts._replace(netloc=f"dbtool_pw_user:Sup3rSecret@{host}"))
        result = dbtool("reset", "--database-url", url, "--profile", "ci")
        assert result.exit_code == 0, result.output  # a run that failed early might print no target at all
        assert "Sup3rSecret" not in result.output
        assert "dbtool_pw_user@" in result.output
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute("DROP DATABASE IF EXISTS " + urlsplit(database_url).path.strip("/") + " WITH (FORCE)")
            admin.execute("DROP ROLE dbtool_pw_user")
