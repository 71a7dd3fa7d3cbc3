"""The swap strategy on a real server: the same data as the one-transaction reset, what the schema carries
over, leftovers from killed runs, and the hazards that make it fall back (or refuse with --strategy swap)."""

from __future__ import annotations

import psycopg
import pytest

from tests.helpers import dbtool, last_digest

# Schema publications (15+), BEGIN ATOMIC (14+), what a schema carries over: differ by major (pg_matrix).
pytestmark = pytest.mark.versions

CI = ("--profile", "ci", "--seed", "5")
SCHEMA_STATE = """
SELECT n.nspowner::regrole::text, n.nspacl::text, obj_description(n.oid, 'pg_namespace'),
       (SELECT array_agg(d.defaclacl::text) FROM pg_default_acl d WHERE d.defaclnamespace = n.oid),
       (SELECT array_agg(c.relname::text || ' ' || coalesce(c.relacl::text, '-') ORDER BY c.relname)
        FROM pg_class c WHERE c.relnamespace = n.oid AND c.relkind = 'r')
FROM pg_namespace n WHERE n.nspname = 'public'
"""

CONSTRAINTS = """
SELECT conrelid::regclass::text, conname::text, pg_get_constraintdef(oid) FROM pg_constraint
WHERE connamespace = 'public'::regnamespace
UNION ALL SELECT tablename::text, indexname::text, indexdef FROM pg_indexes WHERE schemaname = 'public'
ORDER BY 1, 2, 3
"""


def _reset(url: str, *args: str) -> str:
    result = dbtool("reset", "--database-url", url, *CI, *args)
    assert result.exit_code == 0, result.output
    return str(result.output)


def test_swap_gives_the_transaction_strategys_data_and_keeps_the_history(database_url: str, conn: psycopg.Connection) -> None:
    _reset(database_url, "--strategy", "transaction")
    by_transaction = last_digest(conn)
    by_transaction_constraints = conn.execute(CONSTRAINTS).fetchall()
    meta_rows = conn.execute("SELECT count(*) FROM dbtool_meta").fetchone()[0]  # type: ignore[index]
    output = _reset(database_url, "--strategy", "swap")
    assert "✓ Swapped dbtool_shadow_public in as public" in output
    assert last_digest(conn) == by_transaction
    assert conn.execute("SELECT count(*) FROM dbtool_meta").fetchone()[0] == meta_rows + 1  # type: ignore[index]
    assert conn.execute("SELECT version_table FROM dbtool_meta ORDER BY id DESC LIMIT 1").fetchone()[0] == "public.alembic_version"  # type: ignore[index]
    assert conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'dbtool_%'").fetchall() == []
    verified = dbtool("verify", "--database-url", database_url)
    assert verified.exit_code == 0, verified.output
    # Keys, indexes and foreign keys are all back, exactly as the transaction strategy leaves them.
    assert conn.execute(CONSTRAINTS).fetchall() == by_transaction_constraints


def test_swap_carries_the_schemas_owner_grants_comment_and_default_privileges(database_url: str, conn: psycopg.Connection) -> None:
    conn.execute("DO $$ BEGIN CREATE ROLE dbtool_swap_reader; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
    _reset(database_url, "--strategy", "transaction")
    conn.execute("GRANT USAGE ON SCHEMA public TO dbtool_swap_reader; COMMENT ON SCHEMA public IS 'the app'; "
                 "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO dbtool_swap_reader")
    _reset(database_url, "--strategy", "transaction")
    by_transaction = conn.execute(SCHEMA_STATE).fetchone()
    assert "dbtool_swap_reader=r/" in str(by_transaction[4])  # the default privileges reached the new tables  # type: ignore[index]
    _reset(database_url, "--strategy", "swap")
    assert conn.execute(SCHEMA_STATE).fetchone() == by_transaction


def test_a_leftover_shadow_is_shown_by_status_and_removed_never_adopted(database_url: str, conn: psycopg.Connection) -> None:
    _reset(database_url)
    conn.execute("CREATE SCHEMA dbtool_shadow_public; CREATE TABLE dbtool_shadow_public.staff (half_built int)")
    status = dbtool("status", "--database-url", database_url, "--json")
    assert '"leftovers": [\n    "dbtool_shadow_public"' in status.output or '"dbtool_shadow_public"' in status.output
    output = _reset(database_url, "--strategy", "swap")
    assert "removed a leftover dbtool_shadow_public" in output
    assert conn.execute("SELECT count(*) FROM staff").fetchone()[0] > 0  # type: ignore[index]


def test_auto_picks_the_transaction_for_small_data_and_says_so(database_url: str) -> None:
    output = _reset(database_url)
    assert "Strategy transaction: schema public holds under 50,000 rows" in output
    assert "✓ Committed" in output


def test_a_view_in_another_schema_makes_auto_fall_back_and_swap_refuse(database_url: str, conn: psycopg.Connection) -> None:
    _reset(database_url)
    conn.execute("CREATE SCHEMA reports; CREATE VIEW reports.busy AS SELECT count(*) AS n FROM public.invoices")
    before = last_digest(conn)
    refused = dbtool("reset", "--database-url", database_url, "--profile", "ci", "--seed", "6", "--strategy", "swap")
    assert refused.exit_code == 2, refused.output
    assert "--strategy swap refused: swap is unsafe: view reports.busy" in refused.output
    assert last_digest(conn) == before
    assert conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'dbtool_%'").fetchall() == []
    # auto says why in one line and runs the one-transaction reset (whose DROP ... CASCADE takes the view, as before)
    output = _reset(database_url, "--strategy", "auto", "--force")
    assert [line for line in output.splitlines() if "Strategy transaction" in line] == [
        "  Strategy transaction: swap is unsafe: view reports.busy outside schema public depends on it"]


def test_a_begin_atomic_function_in_another_schema_is_a_hazard(database_url: str, conn: psycopg.Connection) -> None:
    if conn.info.server_version < 140000:
        pytest.skip("SQL-standard (BEGIN ATOMIC) function bodies exist from Postgres 14 on")
    _reset(database_url)
    before = last_digest(conn)
    # Its body is bound to the tables by OID: after a rename it would count the old rows.
    conn.execute("CREATE SCHEMA elsewhere; CREATE FUNCTION elsewhere.f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT count(*) FROM public.staff; END")
    refused = dbtool("reset", "--database-url", database_url, *CI, "--strategy", "swap")
    assert refused.exit_code == 2, refused.output
    assert "function elsewhere.f()" in refused.output
    assert last_digest(conn) == before
