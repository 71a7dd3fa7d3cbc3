"""dbtool runs any team's own Alembic project (`--alembic-config`): the contract, on the fixtures.

A project dbtool accepts must end up exactly as plain `alembic upgrade head` leaves it (compared by
schema dump), however often it is reset. A project whose env.py bypasses dbtool's connection must be
refused with the database untouched; a revision that tries to leave the transaction is kept inside it.

dbtool runs as a real process from a directory that is not the project's: teams call it from their
repository root or CI, not from inside the Alembic directory.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.alembic_projects import DBTOOL_TABLES, MIGRATABLE, PROJECTS, FixtureProject, assert_features
from tests.helpers import advisory_locks, dbtool_process
from tests.schema_dump import plain_alembic_downgrade, plain_alembic_upgrade, schema_dump
from tests.table_contents import contents


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


def generic_with_revision(tmp_path: Path, revision: str, doc: str, *statements: str) -> Path:
    """A copy of the generic fixture with one more revision on its head running `statements`; its ini."""
    copied = tmp_path / "project"
    shutil.copytree(PROJECTS["generic"].config.parent, copied)
    body = "".join(f"    op.execute({statement!r})\n" for statement in statements)
    (copied / "versions" / f"{revision}_added.py").write_text(
        f'"""{doc}\n\nRevision ID: {revision}\nRevises: c47d1e5a9f32\n"""\nfrom alembic import op\n\n'
        f"revision = {revision!r}\ndown_revision = 'c47d1e5a9f32'\nbranch_labels = None\ndepends_on = None\n\n\n"
        f"def upgrade() -> None:\n{body}\n\ndef downgrade() -> None:\n    pass\n"
    )
    return copied / "alembic.ini"


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


# On every major (pg_matrix): the projects whose point is the server's (catalog, triggers, views, identity,
# enum values, FK cycles, schemas, the commit guard, statements kept in the transaction); the others'
# point is Alembic's (config files, env.py templates, branches, naming, escaping, version table).
@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.versions) if name in {
    "generic", "enums", "functions_triggers", "views", "identity_serial", "fk_cycle", "app_schema", "commit_in_env",
    "concurrently", "public_by_name", "raw_commit"} else name for name in MIGRATABLE])
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


@pytest.mark.versions
def test_autocommit_block_runs_inside_the_transaction_without_concurrently(
    new_database: Callable[[], str], tmp_path: Path
) -> None:
    project = PROJECTS["concurrently"]
    url = new_database()

    result = run_dbtool("reset", project, url, "--yes", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert f"migration {project.head}" in result.stdout and "autocommit_block ran inside" in result.stdout, result.stdout
    assert "without CONCURRENTLY" in result.stdout, result.stdout
    with psycopg.connect(url, autocommit=True) as conn:
        valid = conn.execute(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('public.ix_search_terms_term')"
        ).fetchone()
    assert valid == (True,)


def _state(url: str) -> tuple[str, dict[str, object], list[tuple[object, ...]]]:
    """The schema, every table's content and dbtool's bookkeeping: what 'the old state' means."""
    with psycopg.connect(url, autocommit=True) as conn:
        meta = conn.execute("SELECT * FROM dbtool_meta ORDER BY 1").fetchall()
    return schema_dump(url), {k: v for k, v in contents(url).items()}, meta


@pytest.mark.versions
def test_raw_commit_in_a_migration_is_skipped_and_named(new_database: Callable[[], str], tmp_path: Path) -> None:
    project = PROJECTS["raw_commit"]
    url = new_database()

    result = run_dbtool("reset", project, url, "--yes", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    for revision in ("9d3f6b1e8a27", "e61c0a4f7b93"):
        assert f"migration {revision}: skipped COMMIT" in result.stdout, result.stdout
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM page_views").fetchone()[0] > 0  # type: ignore[index]


@pytest.mark.parametrize("switch, code, says", [
    ("PAGE_VIEWS_FAIL_AFTER_COMMIT", 1, "referrer backfill failed"),
    ("PAGE_VIEWS_COMMIT_ON_DRIVER", 2, "ended dbtool's transaction"),
])
@pytest.mark.versions
def test_a_reset_that_fails_after_a_raw_commit_leaves_the_old_state(
    switch: str, code: int, says: str, new_database: Callable[[], str], tmp_path: Path
) -> None:
    project = PROJECTS["raw_commit"]
    url = new_database()
    assert run_dbtool("reset", project, url, "--yes", cwd=tmp_path).returncode == 0
    before = _state(url)

    result = run_dbtool("reset", project, url, "--yes", "--seed", "7", cwd=tmp_path, env={switch: "1"})

    assert result.returncode == code, result.stderr
    message = one_line(result.stderr)
    assert says in message and "e61c0a4f7b93" in message, message
    assert _state(url) == before
    with psycopg.connect(url, autocommit=True) as conn:
        assert advisory_locks(conn) == 0
    assert run_dbtool("verify", project, url, cwd=tmp_path).returncode == 0


@pytest.mark.versions
def test_plan_of_a_project_with_raw_commits_leaves_nothing_behind(new_database: Callable[[], str], tmp_path: Path) -> None:
    project = PROJECTS["raw_commit"]
    url = new_database()
    before = schema_dump(url)

    result = run_dbtool("plan", project, url, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert schema_dump(url) == before
    with psycopg.connect(url, autocommit=True) as conn:
        schemas = [r[0] for r in conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'dbtool%'")]
    assert schemas == []


@pytest.mark.versions
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


@pytest.mark.parametrize("command", ["status", "reset"])
def test_revisions_importing_a_module_next_to_the_ini_are_read_in_the_projects_context(
    command: str, new_database: Callable[[], str], tmp_path: Path
) -> None:
    # The generic template's `prepend_sys_path = .` lets revision files import modules that sit next
    # to alembic.ini; dbtool runs from elsewhere, so the revision map must load inside the project.
    copied = tmp_path / "project"
    shutil.copytree(PROJECTS["generic"].config.parent, copied)
    (copied / "ticket_levels.py").write_text("DEFAULT_PRIORITY = '3'\n")
    revision = copied / "versions" / "c47d1e5a9f32_add_priority_to_tickets.py"
    text = revision.read_text().replace("import sqlalchemy as sa\n", "import sqlalchemy as sa\n\nimport ticket_levels\n", 1)
    revision.write_text(text.replace('server_default="3"', "server_default=ticket_levels.DEFAULT_PRIORITY"))
    url = new_database()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    result = dbtool_process(command, "--alembic-config", str(copied / "alembic.ini"), "--database-url", url,
                            *(["--yes"] if command == "reset" else []), cwd=elsewhere)

    assert result.returncode == 0, result.stderr
    assert "c47d1e5a9f32" in result.stdout, result.stdout


@pytest.mark.versions
def test_a_project_written_for_psycopg2_runs_its_untyped_literals_as_psycopg2_would(
    new_database: Callable[[], str], tmp_path: Path
) -> None:
    # Airflow's history writes literal("0") into an integer column: psycopg2 sends an untyped '0',
    # psycopg 3's server-side binding a varchar the column refuses. The ini names the driver.
    copied = tmp_path / "project"
    shutil.copytree(PROJECTS["generic"].config.parent, copied)
    ini = copied / "alembic.ini"
    ini.write_text(ini.read_text().replace("driver://user:pass@localhost/dbname", "postgresql+psycopg2://app@db/app"))
    (copied / "versions" / "0d5b1e7c2a94_reset_priorities.py").write_text(
        '"""reset priorities with an untyped literal\n\nRevision ID: 0d5b1e7c2a94\nRevises: c47d1e5a9f32\n"""\n'
        "from alembic import op\nimport sqlalchemy as sa\n\n"
        "revision = '0d5b1e7c2a94'\ndown_revision = 'c47d1e5a9f32'\nbranch_labels = None\ndepends_on = None\n\n\n"
        "def upgrade() -> None:\n"
        "    tickets = sa.table('tickets', sa.column('priority'))\n"
        "    op.execute(tickets.update().values(priority=sa.literal('0')))\n\n\n"
        "def downgrade() -> None:\n    pass\n"
    )
    url = new_database()

    result = dbtool_process("reset", "--alembic-config", str(ini), "--database-url", url, "--yes", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "0d5b1e7c2a94" in result.stdout, result.stdout


def _plan_databases(url: str) -> list[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        return [r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'dbtool_plan%'")]


@pytest.mark.parametrize("after_reset", [False, True], ids=["empty database", "after a reset"])
@pytest.mark.versions
def test_plan_of_migrations_that_name_the_live_schema(after_reset: bool, new_database: Callable[[], str],
                                                       tmp_path: Path) -> None:
    project = PROJECTS["public_by_name"]
    url = new_database()
    if after_reset:
        assert run_dbtool("reset", project, url, "--yes", cwd=tmp_path).returncode == 0
    before = _state(url) if after_reset else schema_dump(url)

    result = run_dbtool("plan", project, url, "--json", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    planned = json.loads(result.stdout)["tables"]
    assert planned["tickets"]["rows"] > 0 and planned["ticket_log"]["rows"] > 0, planned
    assert (_state(url) if after_reset else schema_dump(url)) == before
    assert _plan_databases(url) == []


@pytest.mark.versions
def test_swap_of_migrations_that_name_the_live_schema_is_refused_before_anything_changes(
    new_database: Callable[[], str], tmp_path: Path
) -> None:
    # Built in a shadow schema, `CREATE TYPE "public".ticket_state` meets the live type: the swap
    # cannot work for this project, so it is refused with exit 2 (auto would reset in one transaction).
    project = PROJECTS["public_by_name"]
    url = new_database()
    assert run_dbtool("reset", project, url, "--yes", cwd=tmp_path).returncode == 0
    before = _state(url)

    result = run_dbtool("reset", project, url, "--yes", "--strategy", "swap", "--seed", "9", cwd=tmp_path)

    assert result.returncode == 2, result.stderr
    assert "--strategy swap refused" in one_line(result.stderr)
    assert _state(url) == before
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'dbtool_%'").fetchone() == (0,)


@pytest.mark.versions
def test_a_table_whose_rows_the_server_refuses_is_left_empty_not_the_whole_reset(
    new_database: Callable[[], str], tmp_path: Path
) -> None:
    # A unique index on an expression (n % 3) is one the plan cannot see through: the server refuses
    # the generated rows. That table (and the one whose NOT NULL key needs it) stays empty with one line;
    # the rest is seeded, and verify regenerates the same state.
    ini = generic_with_revision(
        tmp_path, "5e1f9a3c7b26", "add codes with a unique expression index",
        "CREATE TABLE codes (id serial PRIMARY KEY, n integer NOT NULL)",
        "CREATE UNIQUE INDEX codes_n_mod_3 ON codes ((n % 3))",
        "CREATE TABLE code_uses (id serial PRIMARY KEY, code_id integer NOT NULL REFERENCES codes)",
    )
    url = new_database()

    result = dbtool_process("reset", "--alembic-config", str(ini), "--database-url", url, "--yes", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "codes: left empty: the server refused its generated rows" in result.stdout, result.stdout
    assert "codes_n_mod_3" in result.stdout, result.stdout
    with psycopg.connect(url, autocommit=True) as conn:
        counts = {t: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(t))).fetchone()[0]  # type: ignore[index]
                  for t in ("codes", "code_uses", "customers", "tickets")}
    assert counts["codes"] == 0 and counts["code_uses"] == 0, counts
    assert counts["customers"] > 0 and counts["tickets"] > 0, counts
    verify = dbtool_process("verify", "--alembic-config", str(ini), "--database-url", url, cwd=tmp_path)
    assert verify.returncode == 0, verify.stderr
    # A swap commits its COPY pieces one by one and cannot retry a table empty: it refuses (auto falls
    # back to the one-transaction reset), with nothing changed.
    before = _state(url)
    swap = dbtool_process("reset", "--alembic-config", str(ini), "--database-url", url, "--yes", "--strategy", "swap",
                          cwd=tmp_path)
    assert swap.returncode == 2 and "refused generated rows in the shadow" in one_line(swap.stderr), swap.stderr
    assert _state(url) == before


@pytest.mark.versions
def test_a_check_outside_the_shapes_on_nullable_columns_alone_is_met_with_nulls_or_left_to_the_server(
    new_database: Callable[[], str], tmp_path: Path
) -> None:
    # CKAN's package.extras: `jsonb_typeof(extras) = 'object' AND NOT jsonb_path_exists(...)` on a
    # nullable column held NULL in every row, instead of emptying the table and every table needing it.
    # Where NULL does not satisfy the CHECK (coalesce), the server refuses the rows: that table alone stays empty.
    ini = generic_with_revision(
        tmp_path, "7c3d1e9a5f48", "add packages with a jsonpath CHECK",
        """CREATE TABLE packages (id serial PRIMARY KEY, name text NOT NULL, extras jsonb,
             CONSTRAINT package_flat_extras CHECK (jsonb_typeof(extras) = 'object' AND
               NOT jsonb_path_exists(extras, '$.* ? (@.type() <> "string")')))""",
        "CREATE TABLE resources (id serial PRIMARY KEY, package_id integer NOT NULL REFERENCES packages)",
        "CREATE TABLE quotas (id serial PRIMARY KEY, amount integer, CONSTRAINT quotas_positive CHECK (coalesce(amount, 0) > 5))",
    )
    url = new_database()

    result = dbtool_process("reset", "--alembic-config", str(ini), "--database-url", url, "--yes", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    with psycopg.connect(url, autocommit=True) as conn:
        counts = {t: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(t))).fetchone()[0]  # type: ignore[index]
                  for t in ("packages", "resources", "quotas")}
        extras = conn.execute("SELECT count(*) FROM packages WHERE extras IS NOT NULL").fetchone()[0]  # type: ignore[index]
    assert counts["packages"] > 0 and counts["resources"] > 0 and extras == 0, counts
    assert counts["quotas"] == 0 and "quotas: left empty" in result.stdout, result.stdout
    verify = dbtool_process("verify", "--alembic-config", str(ini), "--database-url", url, cwd=tmp_path)
    assert verify.returncode == 0, verify.stderr


@pytest.mark.versions
def test_the_catalog_lists_unique_indexes_by_name_whatever_order_they_were_made_in(
    new_database: Callable[[], str], tmp_path: Path
) -> None:
    # Which column of two overlapping unique indexes is made unique follows the order the catalog lists
    # them in; pg_index's own order changes when the load re-creates indexes, so verify planned otherwise
    # than the reset (langflow's sso_user_profile). Made in reverse name order here.
    from dbtool.db import catalog

    url = new_database()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE profiles (id serial PRIMARY KEY, provider text NOT NULL, subject text NOT NULL,"
                     " handle text NOT NULL)")
        conn.execute("CREATE UNIQUE INDEX z_profiles_provider_subject ON profiles (provider, subject)")
        conn.execute("CREATE UNIQUE INDEX a_profiles_handle_provider ON profiles (handle, provider)")
        (table,) = catalog.read(conn, "public", [])
    assert [i.name for i in table.unique_indexes] == ["a_profiles_handle_provider", "z_profiles_provider_subject"]


def test_what_importing_the_revisions_prints_stays_off_stdout_under_json(
    new_database: Callable[[], str], tmp_path: Path
) -> None:
    # Importing airflow's revisions points its logs at stdout; the guard reads the revisions (the
    # project's identity) on a second reset, before any migration runs: --json must still be one document.
    copied = tmp_path / "project"
    shutil.copytree(PROJECTS["generic"].config.parent, copied)
    revision = copied / "versions" / "c47d1e5a9f32_add_priority_to_tickets.py"
    revision.write_text(revision.read_text().replace("import sqlalchemy as sa\n", "import sqlalchemy as sa\n\nprint('imported')\n", 1))
    url = new_database()
    for attempt in (1, 2):
        done = dbtool_process("reset", "--alembic-config", str(copied / "alembic.ini"), "--database-url", url,
                              "--yes", "--json", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["digest"], f"reset #{attempt}: {done.stdout}"
