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
def test_a_database_dbtool_did_not_create_is_refused(command: str, database_url: str, foreign: psycopg.Connection) -> None:
    result = dbtool(command, "--database-url", database_url)
    assert result.exit_code == 3, result.output
    assert "table customers" in result.output and "no dbtool_meta" in result.output and "--force" in result.output
    assert foreign.execute("SELECT name FROM customers").fetchone()[0] == "keep me"


def test_force_resets_a_foreign_database(database_url: str, foreign: psycopg.Connection) -> None:
    result = dbtool("reset", "--database-url", database_url, "--force", "--profile", "ci")
    assert result.exit_code == 0, result.output
    assert foreign.execute("SELECT to_regclass('customers')").fetchone()[0] is None


@pytest.mark.parametrize("command", ["reset", "drop", "seed"])
def test_a_protected_database_is_refused_even_with_force(command: str, database_url: str, conn: psycopg.Connection) -> None:
    assert dbtool("reset", "--database-url", database_url, "--profile", "ci").exit_code == 0
    assert dbtool("protect", "--database-url", database_url).exit_code == 0
    result = dbtool(command, "--database-url", database_url, "--force", "--profile", "ci")
    assert result.exit_code == 3, result.output
    assert "protected" in result.output
    assert conn.execute("SELECT count(*) FROM clients").fetchone()[0] == 10
    assert dbtool("unprotect", "--database-url", database_url).exit_code == 0
    assert dbtool(command, "--database-url", database_url, "--profile", "ci").exit_code == 0


def test_protecting_a_foreign_database_does_not_make_it_resettable(database_url: str, foreign: psycopg.Connection) -> None:
    assert dbtool("protect", "--database-url", database_url).exit_code == 0
    assert dbtool("unprotect", "--database-url", database_url).exit_code == 0
    assert dbtool("reset", "--database-url", database_url).exit_code == 3


def test_the_target_is_printed_without_its_password(server_url: str, database_url: str) -> None:
    from urllib.parse import urlsplit, urlunsplit

    with psycopg.connect(database_url, autocommit=True) as c:
        c.execute("CREATE ROLE dbtool_pw_user LOGIN PASSWORD 'Sup3rSecret' SUPERUSER")
    try:
        parts = urlsplit(database_url)
        url = urlunsplit(parts._replace(netloc=f"dbtool_pw_user:Sup3rSecret@{parts.hostname or ''}"))
        result = dbtool("reset", "--database-url", url, "--profile", "ci")
        assert result.exit_code == 0, result.output  # a run that failed early might print no target at all
        assert "Sup3rSecret" not in result.output
        assert "dbtool_pw_user@" in result.output
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute("DROP DATABASE IF EXISTS " + urlsplit(database_url).path.strip("/") + " WITH (FORCE)")
            admin.execute("DROP ROLE dbtool_pw_user")
