"""A run that says it succeeded lost nothing outside what dbtool manages: other schemas' rows and foreign
keys, a swap that lost its lock, inherited tables, and another project's database."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import psycopg
import pytest

from dbtool.migrate import upgrade as migrate_module
from dbtool.run import swap
from tests.alembic_projects import PROJECTS
from tests.helpers import dbtool

# What the catalog says of other schemas, inheritance and extensions: differs by major (pg_matrix).
pytestmark = pytest.mark.versions

CI = ("--profile", "ci", "--seed", "5")
AUDIT = """
CREATE SCHEMA audit;
CREATE TABLE audit.user_events (id int PRIMARY KEY, client_id uuid NOT NULL
  CONSTRAINT user_events_client_id_fkey REFERENCES public.clients (id), note text);
INSERT INTO audit.user_events SELECT n, (SELECT id FROM public.clients ORDER BY id LIMIT 1), 'keep me'
FROM generate_series(1, 5) n;
"""
OUTSIDE_FK = "SELECT count(*) FROM pg_constraint WHERE conname = 'user_events_client_id_fkey'"


def _ok(*args: str, env: dict[str, str] | None = None) -> Any:
    result = dbtool(*args, env=env)
    assert result.exit_code == 0, result.output
    return result


def test_seed_never_empties_a_table_in_another_schema(database_url: str, conn: psycopg.Connection) -> None:
    _ok("reset", "--database-url", database_url, *CI)
    conn.execute(AUDIT)
    before = conn.execute("SELECT count(*) FROM clients").fetchone()

    for args in ((), ("--force",)):  # --force lets data in the managed schema go, never another schema's
        result = dbtool("seed", "--database-url", database_url, *CI, *args)
        assert result.exit_code == 3, result.output
        assert "audit.user_events" in result.output and "outside schema public" in result.output, result.output
        assert conn.execute("SELECT count(*) FROM audit.user_events").fetchone() == (5,)
        assert conn.execute("SELECT count(*) FROM clients").fetchone() == before


def test_seed_empties_tables_that_reference_each_other_in_one_statement(database_url: str, conn: psycopg.Connection) -> None:
    _ok("reset", "--database-url", database_url, *CI)
    first = conn.execute("SELECT digest FROM dbtool_meta ORDER BY id DESC LIMIT 1").fetchone()
    _ok("seed", "--database-url", database_url, *CI)
    assert conn.execute("SELECT digest FROM dbtool_meta ORDER BY id DESC LIMIT 1").fetchone() == first


def test_reset_refuses_to_drop_another_schemas_foreign_key_without_force(database_url: str, conn: psycopg.Connection) -> None:
    _ok("reset", "--database-url", database_url, *CI)
    conn.execute(AUDIT)
    conn.execute("DELETE FROM audit.user_events")
    digest_before = conn.execute("SELECT digest FROM dbtool_meta ORDER BY id DESC LIMIT 1").fetchone()

    refused = dbtool("reset", "--database-url", database_url, *CI, "--seed", "6")
    assert refused.exit_code == 3, refused.output
    assert "constraint user_events_client_id_fkey on audit.user_events" in refused.output, refused.output
    assert "--force" in refused.output
    assert conn.execute(OUTSIDE_FK).fetchone() == (1,)
    assert conn.execute("SELECT digest FROM dbtool_meta ORDER BY id DESC LIMIT 1").fetchone() == digest_before
    drop = dbtool("drop", "--database-url", database_url)
    assert drop.exit_code == 3 and "user_events_client_id_fkey" in drop.output, drop.output

    forced = _ok("reset", "--database-url", database_url, *CI, "--force")
    assert "dropped with --force" in forced.output and "user_events_client_id_fkey" in forced.output, forced.output
    assert conn.execute(OUTSIDE_FK).fetchone() == (0,)


INHERITANCE_REVISION = '''"""vehicles and cars that inherit them

Revision ID: 7a2c4e6f8b10
Revises: c47d1e5a9f32
"""
from alembic import op

revision = "7a2c4e6f8b10"
down_revision = "c47d1e5a9f32"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE TABLE vehicles (id integer PRIMARY KEY, name text NOT NULL)")
    op.execute("CREATE TABLE cars (doors integer NOT NULL DEFAULT 4) INHERITS (vehicles)")
    op.execute("ALTER TABLE cars ADD PRIMARY KEY (id)")
    op.execute("INSERT INTO cars (id, name) VALUES (1001, 'lookup car'), (1002, 'second lookup car')")


def downgrade() -> None:
    pass
'''


def _inheritance_project(tmp_path: Path) -> Path:
    copied = tmp_path / "project"
    shutil.copytree(PROJECTS["generic"].config.parent, copied)
    (copied / "versions" / "7a2c4e6f8b10_vehicles.py").write_text(INHERITANCE_REVISION)
    return copied / "alembic.ini"


def test_inherited_rows_count_once_and_verify_passes(database_url: str, conn: psycopg.Connection, tmp_path: Path) -> None:
    ini = str(_inheritance_project(tmp_path))
    result = _ok("reset", "--alembic-config", ini, "--database-url", database_url, *CI)
    own = dict(conn.execute("SELECT 'vehicles', count(*) FROM ONLY vehicles UNION ALL "
                            "SELECT 'cars', count(*) FROM ONLY cars").fetchall())
    assert own["cars"] == 2, own  # the migration's rows stay
    assert own["vehicles"] > 0 or "vehicles:" in result.output, result.output  # filled, or said why not
    counts = conn.execute("SELECT row_counts FROM dbtool_meta ORDER BY id DESC LIMIT 1").fetchone()[0]
    assert counts["vehicles"] == own["vehicles"] and counts["cars"] == 2, counts
    verify = dbtool("verify", "--alembic-config", ini, "--database-url", database_url)
    assert verify.exit_code == 0, verify.output
    # a seed keeps the child's rows (TRUNCATE of the parent must not reach it) and the parent's count
    _ok("seed", "--alembic-config", ini, "--database-url", database_url, *CI)
    assert conn.execute("SELECT count(*) FROM ONLY cars").fetchone() == (2,)
    _ok("verify", "--alembic-config", ini, "--database-url", database_url)


def _lock_pid(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()").fetchone()[0]


def test_a_swap_that_lost_its_lock_stops_before_the_next_step(
    database_url: str, conn: psycopg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ok("reset", "--database-url", database_url, *CI)
    before = conn.execute("SELECT digest FROM dbtool_meta ORDER BY id DESC LIMIT 1").fetchone()
    original = migrate_module.migrate

    def migrate_then_lose_the_lock(*args: Any, **kwargs: Any) -> Any:
        done = original(*args, **kwargs)
        conn.execute("SELECT pg_terminate_backend(%s)", (_lock_pid(conn),))
        return done

    monkeypatch.setattr(migrate_module, "migrate", migrate_then_lose_the_lock)
    result = dbtool("reset", "--database-url", database_url, *CI, "--strategy", "swap", "--log-format", "json")
    assert result.exit_code == 1, result.output
    assert "no longer serialized" in result.output, result.output
    assert '"step": "seed"' not in result.output, result.output  # it stopped: nothing was loaded
    assert conn.execute("SELECT digest FROM dbtool_meta ORDER BY id DESC LIMIT 1").fetchone() == before


def test_a_swap_that_lost_its_lock_never_drops_the_shadow_of_the_run_holding_it(
    database_url: str, conn: psycopg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ok("reset", "--database-url", database_url, *CI)
    shadow = swap.shadow_name("public")

    def another_run_takes_over(*args: Any, **kwargs: Any) -> Any:
        # the lock session ends; the next run removes our shadow as a leftover and builds its own
        conn.execute("SELECT pg_terminate_backend(%s)", (_lock_pid(conn),))
        conn.execute(f"DROP SCHEMA {shadow} CASCADE; CREATE SCHEMA {shadow}; CREATE TABLE {shadow}.theirs (id int)")
        raise migrate_module.MigrationError("migration 0002 failed")

    monkeypatch.setattr(migrate_module, "migrate", another_run_takes_over)
    result = dbtool("reset", "--database-url", database_url, *CI, "--strategy", "swap")
    assert result.exit_code != 0, result.output
    assert conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{shadow}.theirs",)).fetchone() == (True,)


def test_a_run_with_another_project_is_refused_naming_both(
    database_url: str, conn: psycopg.Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a directory without a project: the built-in example, the newcomer's mistake
    generic = str(PROJECTS["generic"].config)
    _ok("reset", "--alembic-config", generic, "--database-url", database_url, *CI)
    before = conn.execute("SELECT count(*) FROM customers").fetchone()

    for command in ("reset", "seed", "drop", "migrate"):
        result = dbtool(command, "--database-url", database_url, *(CI if command in ("reset", "seed") else ()))
        assert result.exit_code == 3, (command, result.output)
        assert "built-in example" in result.output and generic in result.output, result.output
        assert conn.execute("SELECT count(*) FROM customers").fetchone() == before
    # the same project, found from its own directory, is the same project
    _ok("seed", "--alembic-config", str(Path(generic).parent), "--database-url", database_url, *CI)
    _ok("reset", "--database-url", database_url, *CI, "--force")
    assert conn.execute("SELECT to_regclass('customers')").fetchone() == (None,)
    _ok("seed", "--database-url", database_url, *CI)  # now it is the example's


def test_falling_back_to_the_built_in_example_says_so(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = _ok("reset", "--database-url", database_url, *CI)
    lines = [line for line in result.stdout.splitlines() if "built-in example" in line]
    assert len(lines) == 1 and "alembic.ini" in lines[0], result.stdout
    status = _ok("status", "--database-url", database_url)
    assert "using the built-in example" in status.stdout, status.stdout
    _ok("protect", "--database-url", database_url)
    failed = dbtool("drop", "--database-url", database_url)
    assert failed.exit_code == 3 and "using the built-in example" in failed.stdout, failed.output
    assert len(failed.stderr.strip().splitlines()) == 1, failed.stderr  # the error alone


def test_reset_names_every_outside_object_a_drop_would_take(database_url: str, conn: psycopg.Connection) -> None:
    _ok("reset", "--database-url", database_url, *CI)
    conn.execute("CREATE SCHEMA reports; CREATE VIEW reports.busy AS SELECT count(*) AS n FROM public.invoices;"
                 "CREATE TABLE reports.pets_seen (species public.pet_species)")
    refused = dbtool("reset", "--database-url", database_url, *CI)
    assert refused.exit_code == 3, refused.output
    assert "view reports.busy" in refused.output and "reports.pets_seen.species" in refused.output, refused.output
    assert conn.execute("SELECT to_regclass('reports.busy') IS NOT NULL").fetchone() == (True,)


def test_objects_outside_that_use_only_an_extension_in_the_schema_are_not_in_the_way(
    database_url: str, conn: psycopg.Connection
) -> None:
    found = conn.execute("SELECT min(name) FROM pg_available_extensions WHERE name IN ('citext', 'vector')").fetchone()[0]
    if found is None:
        pytest.skip("neither citext nor vector is available on this server")
    _ok("reset", "--database-url", database_url, *CI)
    # a reset keeps extensions: what depends on them alone is not dropped, so it is no reason to refuse
    conn.execute(f"CREATE EXTENSION {found} SCHEMA public; CREATE SCHEMA crm;"
                 f"CREATE TABLE crm.notes (tags public.{found}[], t public.{found})")
    _ok("reset", "--database-url", database_url, *CI)
    assert conn.execute("SELECT to_regclass('crm.notes') IS NOT NULL").fetchone() == (True,)
