"""Newcomer mistakes of issue 24, round 3: settings a role carries, refusals and errors that must stay
readable, notes under swap that name the managed schema, and materialized views after the seed."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import psycopg
import pytest

from dbtool.db.classify import classify
from tests.helpers import dbtool_process

GENERIC = Path(__file__).resolve().parents[1] / "projects" / "generic"
GENERIC_HEAD = "c47d1e5a9f32"


def _project(tmp_path: Path, upgrade: str, revision: str = "f1e2d3c4b5a6") -> Path:
    """A copy of the generic fixture project (customers, tickets, ticket_comments) with one more
    revision on top whose upgrade() runs `upgrade` (SQL statements separated by ';;')."""
    target = tmp_path / "project"
    shutil.copytree(GENERIC, target, ignore=shutil.ignore_patterns("__pycache__"))
    statements = [s.strip() for s in upgrade.split(";;") if s.strip()]
    body = "\n".join(f"    op.execute({s!r})" for s in statements)
    (target / "versions" / f"{revision}_round3.py").write_text(textwrap.dedent(f'''\
        """round 3 fixture

        Revision ID: {revision}
        Revises: {GENERIC_HEAD}
        """
        from alembic import op

        revision = {revision!r}
        down_revision = {GENERIC_HEAD!r}
        branch_labels = None
        depends_on = None


        def upgrade() -> None:
        ''') + body + "\n\n\ndef downgrade() -> None:\n    pass\n")
    return target


def _run(project: Path, *args: str, url: str) -> object:
    return dbtool_process(*args, "--database-url", url, cwd=project, timeout=180)


# 1. output settings of the role must not change a digest

def test_verify_is_identical_whatever_output_settings_the_role_has(
    tmp_path: Path, database_url: str, conn: psycopg.Connection,  # type: ignore[type-arg]
) -> None:
    project = _project(tmp_path, """
        CREATE TABLE blobs (id integer PRIMARY KEY, data bytea NOT NULL, span interval NOT NULL) ;;
        INSERT INTO blobs VALUES (1, '\\x00ff10'::bytea, interval '1 day 02:03:04'),
                                 (2, 'hello'::bytea, interval '-3 months 5 seconds')
    """)
    done = _run(project, "reset", "--profile", "ci", url=database_url)
    assert done.returncode == 0, done.stdout + done.stderr  # type: ignore[attr-defined]
    assert conn.execute("SELECT count(*) FROM blobs").fetchone() == (2,)
    dbname = conn.info.dbname
    # (DateStyle is left alone here: psycopg reads only ISO timestamps, so the connection needs it anyway.)
    for setting, value in [("bytea_output", "escape"), ("IntervalStyle", "iso_8601"),
                           ("extra_float_digits", "-3"), ("TimeZone", "Pacific/Kiritimati")]:
        conn.execute(f"ALTER ROLE CURRENT_USER IN DATABASE {dbname} SET {setting} = '{value}'")
    try:
        done = _run(project, "verify", url=database_url)
        assert done.returncode == 0, done.stdout + done.stderr  # type: ignore[attr-defined]
        assert "identical" in done.stdout, done.stdout  # type: ignore[attr-defined]
        # And a reset under those settings digests the same data the same: verify with defaults agrees.
        done = _run(project, "reset", "--profile", "ci", url=database_url)
        assert done.returncode == 0, done.stdout + done.stderr  # type: ignore[attr-defined]
    finally:
        conn.execute(f"ALTER ROLE CURRENT_USER IN DATABASE {dbname} RESET ALL")
    done = _run(project, "verify", url=database_url)
    assert done.returncode == 0, done.stdout + done.stderr  # type: ignore[attr-defined]


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


# 2. a swap refusal that lists objects names a few of them, then how many more

def test_a_swap_refusal_names_five_objects_then_how_many_more(
    tmp_path: Path, database_url: str, conn: psycopg.Connection,  # type: ignore[type-arg]
) -> None:
    project = _project(tmp_path, "SELECT 1")
    done = _run(project, "reset", "--profile", "ci", url=database_url)
    assert done.returncode == 0, done.stdout + done.stderr  # type: ignore[attr-defined]
    conn.execute("CREATE SCHEMA reports")
    for n in range(40):  # as many outside dependents as an extension's casts and operators make
        conn.execute(f"CREATE VIEW reports.open_tickets_{n:02} AS SELECT id FROM public.tickets WHERE status = 'open'")
    done = _run(project, "reset", "--strategy", "swap", url=database_url)
    assert done.returncode == 2, done.stdout + done.stderr  # type: ignore[attr-defined]
    line = _one_line(done.stderr)  # type: ignore[attr-defined]
    assert "--strategy swap refused" in line and "and 35 more" in line, line
    assert len(line) < 1000, line
    assert line.count("reports.open_tickets_") == 5, line
    # auto falls back with the same short reason, in one line (--force: the reset drops those views).
    done = _run(project, "reset", "--strategy", "auto", "--force", url=database_url)
    assert done.returncode == 0, done.stdout + done.stderr  # type: ignore[attr-defined]
    notes = [ln for ln in (done.stdout + done.stderr).splitlines() if "swap is unsafe" in ln]  # type: ignore[attr-defined]
    assert notes and all(len(ln) < 1000 and "and 35 more" in ln for ln in notes), notes


# 3. a server error that quotes a COPY row quotes its first characters only

WIDE_COLUMNS = 120


def test_a_statement_timeout_during_copy_quotes_a_short_prefix_of_the_row(
    tmp_path: Path, database_url: str, conn: psycopg.Connection,  # type: ignore[type-arg]
) -> None:
    columns = ", ".join(f"note_{n:03} text NOT NULL" for n in range(WIDE_COLUMNS))
    # Real COPY data that the server refuses: its DETAIL quotes the whole failing row (kilobytes).
    message = ""
    conn.execute(f"CREATE TABLE wide_check (id integer PRIMARY KEY, {columns}, CHECK (id < 0))")
    try:
        with conn.cursor().copy("COPY wide_check FROM STDIN") as copy:
            copy.write_row([1, *(f"value {n:03} " + "x" * 50 for n in range(WIDE_COLUMNS))])
    except psycopg.Error as exc:
        message = str(classify(exc))
    assert "Failing row contains (1, value 000" in message and "more characters)" in message, message
    assert len(message) < 700, message
    # A generated column computes during the COPY (triggers are off for the load): a slow one times out.
    project = _project(tmp_path, f"""
        CREATE FUNCTION slow(n integer) RETURNS integer LANGUAGE plpgsql IMMUTABLE AS $$
        BEGIN PERFORM pg_sleep(30); RETURN n; END $$ ;;
        CREATE TABLE wide (id integer PRIMARY KEY, {columns},
                           slow_id integer GENERATED ALWAYS AS (slow(id)) STORED)
    """)
    dbname = conn.info.dbname
    conn.execute(f"ALTER ROLE CURRENT_USER IN DATABASE {dbname} SET statement_timeout = '2s'")
    try:
        done = _run(project, "reset", "--profile", "ci", "--strategy", "transaction", url=database_url)
    finally:
        conn.execute(f"ALTER ROLE CURRENT_USER IN DATABASE {dbname} RESET statement_timeout")
    assert done.returncode == 1, done.stdout + done.stderr  # type: ignore[attr-defined]
    line = _one_line(done.stderr)  # type: ignore[attr-defined]
    assert "statement timeout" in line and "COPY wide, line 1: " in line, line
    assert len(line.split("COPY wide, line 1: ", 1)[1]) < 400, line
    assert len(line) < 1000, line


# 4. notes under swap name the managed schema, never the shadow it is built in

def _notes(output: str) -> list[dict[str, object]]:
    events = [json.loads(ln) for ln in output.splitlines() if ln.startswith("{")]
    return [e for e in events if e.get("event") == "note" and "strategy" not in e and "target" not in e]


def test_notes_under_swap_name_the_managed_schema_not_the_shadow(tmp_path: Path, database_url: str) -> None:
    project = _project(tmp_path, """
        CREATE FUNCTION is_even(n integer) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT n % 2 = 0' ;;
        CREATE TABLE scores (id integer PRIMARY KEY, points integer NOT NULL CHECK (is_even(points)))
    """)
    by_strategy = {}
    for strategy in ("transaction", "swap"):
        done = _run(project, "reset", "--strategy", strategy, "--log-format", "json", url=database_url)
        assert done.returncode == 0, done.stdout + done.stderr  # type: ignore[attr-defined]
        output = done.stdout + done.stderr  # type: ignore[attr-defined]
        by_strategy[strategy] = _notes(output)
        seeded = [json.loads(ln) for ln in output.splitlines() if ln.startswith("{") and '"seed"' in ln]
        assert seeded and "dbtool_shadow_" not in json.dumps(seeded[-1]), seeded
    swap_notes = by_strategy["swap"]
    assert any(n.get("table") == "scores" for n in swap_notes), swap_notes
    assert "dbtool_shadow_" not in json.dumps(swap_notes), swap_notes
    assert [n["message"] for n in swap_notes] == [n["message"] for n in by_strategy["transaction"]]


# 5. materialized views show the seeded rows, one built on another refreshed after it

@pytest.mark.parametrize("command", [("reset", "--strategy", "transaction"), ("reset", "--strategy", "swap"), ("seed",)])
def test_materialized_views_show_the_seeded_rows(
    command: tuple[str, ...], tmp_path: Path, database_url: str, conn: psycopg.Connection,  # type: ignore[type-arg]
) -> None:
    # Named so that name order refreshes the dependent views first: only dependency order is right.
    project = _project(tmp_path, """
        CREATE MATERIALIZED VIEW ticket_counts AS SELECT status, count(*) AS n FROM tickets GROUP BY status ;;
        CREATE MATERIALIZED VIEW a_ticket_total AS SELECT coalesce(sum(n), 0)::bigint AS total FROM ticket_counts ;;
        CREATE VIEW b_counts AS SELECT * FROM ticket_counts ;;
        CREATE MATERIALIZED VIEW a_via_view AS SELECT coalesce(sum(n), 0)::bigint AS total FROM b_counts ;;
        CREATE MATERIALIZED VIEW customer_count AS SELECT count(*) AS n FROM customers WITH NO DATA
    """)
    if command == ("seed",):
        done = _run(project, "migrate", url=database_url)
        assert done.returncode == 0, done.stdout + done.stderr  # type: ignore[attr-defined]
    done = _run(project, *command, url=database_url)
    assert done.returncode == 0, done.stdout + done.stderr  # type: ignore[attr-defined]
    tickets, customers = conn.execute("SELECT (SELECT count(*) FROM tickets), (SELECT count(*) FROM customers)").fetchone()  # type: ignore[misc]
    assert tickets > 0 and customers > 0
    assert conn.execute("SELECT sum(n) FROM ticket_counts").fetchone() == (tickets,)
    assert conn.execute("SELECT total FROM a_ticket_total").fetchone() == (tickets,)
    assert conn.execute("SELECT total FROM a_via_view").fetchone() == (tickets,)
    assert conn.execute("SELECT n FROM customer_count").fetchone() == (customers,)
    assert "not refreshed" not in done.stdout + done.stderr  # type: ignore[attr-defined]
