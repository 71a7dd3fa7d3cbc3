"""Reset end to end on a real server: counts, invariants, determinism, idempotence, atomicity."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

from dbtool.errors import MigrationError
from dbtool.report import Reporter
from dbtool.run.reset import reset_database
from dbtool.settings.config import Settings
from dbtool.settings.project import EXAMPLE_DIR
from tests.helpers import advisory_locks, counts, dbtool, invariant_violations, last_digest

# The end-to-end reset (extensions, NOTIFY after commit, rollback): on every major (pg_matrix).
pytestmark = pytest.mark.versions

DEV_COUNTS = {"staff": 4, "services": 10, "clients": 100, "pets": 176, "invoices": 1000, "grooming_visit_logs": 1000}


def test_reset_from_empty_gives_the_dev_profile(database_url: str, conn: psycopg.Connection) -> None:
    result = dbtool("reset", "--database-url", database_url)
    assert result.exit_code == 0, result.output
    found = counts(conn)
    assert {t: found[t] for t in DEV_COUNTS} == DEV_COUNTS
    assert found["invoice_line_items"] > 1000 and found["invoice_tip_splits"] > 0
    assert invariant_violations(conn) == {}
    roles = dict(conn.execute("SELECT role::text, count(*) FROM staff GROUP BY role").fetchall())
    assert roles == {"manager": 1, "receptionist": 1, "groomer": 2}
    assert "✓ Acquired advisory lock (key=1196576591)" in result.output
    assert f"✓ Seeded dev profile: {sum(found.values())} rows in 8 tables" in result.output


def test_reset_of_a_reset_database_is_idempotent(database_url: str, conn: psycopg.Connection) -> None:
    assert dbtool("reset", "--database-url", database_url, "--profile", "ci").exit_code == 0
    first = last_digest(conn)
    conn.execute("UPDATE clients SET full_name = 'changed'")
    second_run = dbtool("reset", "--database-url", database_url, "--profile", "ci")
    assert second_run.exit_code == 0, second_run.output
    assert last_digest(conn) == first
    assert conn.execute("SELECT count(*) FROM clients WHERE full_name = 'changed'").fetchone()[0] == 0


def test_resets_with_pool_max_2_and_8_both_succeed_with_the_same_digest(server_url: str, database_url: str) -> None:
    # A reset uses two connections (lock + work) whatever --pool-max allows, so this checks that both
    # values are accepted and that a second reset repeats the data, not that a bigger pool loads alike.
    digests = []
    for pool_max in ("2", "8"):
        assert dbtool("reset", "--database-url", database_url, "--pool-max", pool_max).exit_code == 0
        with psycopg.connect(database_url) as c:
            digests.append(last_digest(c))
    assert digests[0] == digests[1]


def test_same_seed_gives_the_same_rows_on_two_databases(new_database) -> None:  # type: ignore[no-untyped-def]
    rows = []
    for url in (new_database(), new_database()):
        assert dbtool("reset", "--database-url", url, "--profile", "ci").exit_code == 0
        with psycopg.connect(url) as c:
            c.execute("SET TimeZone = 'UTC'")
            rows.append(c.execute("SELECT i.*, c.* FROM invoices i JOIN clients c ON c.id = i.client_id ORDER BY i.id").fetchall())
    assert rows[0] == rows[1] and rows[0]


def test_different_seeds_give_different_digests(database_url: str, conn: psycopg.Connection) -> None:
    assert dbtool("reset", "--database-url", database_url, "--profile", "ci", "--seed", "1").exit_code == 0
    one = last_digest(conn)
    assert dbtool("reset", "--database-url", database_url, "--profile", "ci", "--seed", "2").exit_code == 0
    assert last_digest(conn) != one


def test_reset_keeps_extensions_and_dbtool_meta_history(database_url: str, conn: psycopg.Connection) -> None:
    assert dbtool("reset", "--database-url", database_url, "--profile", "ci").exit_code == 0
    # pgvector ships with the embedded server and the usual images; any extension would do.
    available = conn.execute("SELECT name FROM pg_available_extensions WHERE name IN ('vector', 'pgcrypto') ORDER BY name DESC LIMIT 1").fetchone()
    assert available is not None, "no extension available to test with"
    conn.execute(f"CREATE EXTENSION IF NOT EXISTS {available[0]}")
    conn.execute("CREATE VIEW pet_names AS SELECT name FROM pets")
    conn.execute("CREATE FUNCTION answer() RETURNS int LANGUAGE sql AS 'SELECT 42'")
    assert dbtool("reset", "--database-url", database_url, "--profile", "ci").exit_code == 0
    assert conn.execute("SELECT count(*) FROM pg_extension WHERE extname = %s", available).fetchone()[0] == 1
    assert conn.execute("SELECT to_regclass('pet_names')").fetchone()[0] is None
    assert conn.execute("SELECT count(*) FROM pg_proc WHERE proname = 'answer'").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM dbtool_meta WHERE event = 'reset'").fetchone()[0] == 2


def _failing_migrations(tmp_path: Path) -> Path:
    """A copy of the example project with a third revision that fails halfway; returns its alembic.ini."""
    target = tmp_path / "migrations"
    shutil.copytree(EXAMPLE_DIR, target)
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/migrations\n")
    (target / "versions" / "0003_broken.py").write_text(
        '"""a migration that fails halfway"""\n'
        "from alembic import op\n"
        'revision = "0003_broken"\ndown_revision = "0002_invoices_and_visits"\n'
        "branch_labels = None\ndepends_on = None\n\n"
        "def upgrade():\n"
        '    op.execute("CREATE TABLE half_done (id int)")\n'
        '    op.execute("SELECT no_such_function()")\n\n'
        "def downgrade():\n    pass\n"
    )
    return tmp_path / "alembic.ini"


def test_a_failing_migration_rolls_back_and_keeps_the_previous_data(
    database_url: str, conn: psycopg.Connection, tmp_path: Path
) -> None:
    assert dbtool("reset", "--database-url", database_url, "--profile", "ci").exit_code == 0
    before, digest = counts(conn), last_digest(conn)
    project = str(_failing_migrations(tmp_path))
    with pytest.raises(MigrationError, match="0003_broken.*no_such_function"):
        reset_database(Settings.from_options(database_url=database_url, profile="ci", alembic_config=project), Reporter(as_json=True))
    assert counts(conn) == before
    assert last_digest(conn) == digest
    assert conn.execute("SELECT to_regclass('half_done')").fetchone()[0] is None
    assert advisory_locks(conn) == 0


def test_the_lock_is_released_after_a_failure(database_url: str, conn: psycopg.Connection) -> None:
    conn.execute("CREATE TABLE customers (id int); INSERT INTO customers VALUES (1)")  # someone's data: refused
    assert dbtool("reset", "--database-url", database_url).exit_code == 3
    assert advisory_locks(conn) == 0
    assert dbtool("reset", "--database-url", database_url, "--force", "--lock-timeout", "0", "--profile", "ci").exit_code == 0


def test_notify_is_sent_only_after_commit(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as listener:
        listener.execute("LISTEN dbtool_reset")
        assert dbtool("reset", "--database-url", database_url, "--profile", "ci").exit_code == 0
        notes = list(listener.notifies(timeout=2, stop_after=1))
    assert notes and notes[0].payload.startswith("reset 0002_")
