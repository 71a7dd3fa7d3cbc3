"""dbtool's bulk load on shapes that broke it in real histories: the reset succeeds, seeds rows and
leaves the schema exactly as plain `alembic upgrade head` does.

The load drops keys and indexes around COPY and re-creates them, COPYs into tables with triggers and
moves sequences past the seeded values; each fixture under tests/projects/load_shapes/ holds one
shape that step must survive (see tests/projects/README.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from dbtool.db import objects as schema
from tests.alembic_projects import DBTOOL_TABLES, FAST_TABLESPACE, LOAD_SHAPE_PROJECTS, FixtureProject, assert_features
from tests.integration.test_projects import run_dbtool
from tests.schema_dump import plain_alembic_upgrade, schema_dump

# Partitions and their triggers and indexes, generated columns, tablespaces: differ by major (pg_matrix).
pytestmark = pytest.mark.versions

# Tables each project's seed must fill: an empty table would hide a load that skipped it.
SEEDED = {
    "triggers": ("accounts", "ledger_entries"),
    "text_sequence": ("customers", "orders"),
    "expression_indexes": ("tickets",),
    "index_storage": ("authors", "articles"),
    # event_notes references the partitioned events: its FK is one FK, not one more per partition.
    "partitioned": ("users", "events", "page_views", "event_notes"),
}
IN_PLACE_TABLESPACES_MIN_VERSION = 150000  # allow_in_place_tablespaces: a tablespace without a directory


@pytest.fixture(scope="session")
def fast_tablespace(server_url: str) -> Iterator[str]:
    """The tablespace index_storage's migration names, created in place (no directory on the server
    host) for the session; dropped afterwards if nothing uses it any more."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        if conn.info.server_version < IN_PLACE_TABLESPACES_MIN_VERSION:
            pytest.skip("in-place tablespaces need Postgres 15")
        exists = conn.execute("SELECT 1 FROM pg_tablespace WHERE spcname = %s", (FAST_TABLESPACE,)).fetchone()
        if not exists:
            try:
                conn.execute("SET allow_in_place_tablespaces = true")
                conn.execute(sql.SQL("CREATE TABLESPACE {} LOCATION ''").format(sql.Identifier(FAST_TABLESPACE)))
            except psycopg.Error as exc:
                pytest.skip(f"cannot create an in-place tablespace: {exc}")
    yield FAST_TABLESPACE
    if not exists:
        with psycopg.connect(server_url, autocommit=True) as conn:
            try:
                conn.execute(sql.SQL("DROP TABLESPACE {}").format(sql.Identifier(FAST_TABLESPACE)))
            except psycopg.Error:
                pass  # a database of another test still uses it; the server goes with the session


def dump(url: str) -> str:
    return schema_dump(url, exclude_tables=DBTOOL_TABLES)


def row_counts(url: str, tables: tuple[str, ...]) -> dict[str, int]:
    with psycopg.connect(url, autocommit=True) as conn:
        return {
            t: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(t))).fetchone()[0]  # type: ignore[index]
            for t in tables
        }


def index_states(url: str) -> list[tuple[str, bool, bool, str | None]]:
    """(index, valid, ready, tablespace) of every index in public: pg_dump shows none of the last three."""
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(
            """
            SELECT c.relname, i.indisvalid, i.indisready, ts.spcname
            FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
            LEFT JOIN pg_tablespace ts ON ts.oid = c.reltablespace
            WHERE c.relnamespace = 'public'::regnamespace AND i.indrelid::regclass::text <> ALL (%s) ORDER BY 1
            """,
            (list(DBTOOL_TABLES),),
        ).fetchall()


def assert_reset_matches_plain_alembic(project: FixtureProject, tables: tuple[str, ...],
                                       new_database: Callable[[], str], tmp_path: Path) -> str:
    """Reset twice with dbtool; each time: exit 0, rows in `tables`, the schema plain Alembic leaves."""
    reference = new_database()
    plain_alembic_upgrade(project.config, reference)
    expected = dump(reference)
    assert_features(project, expected)

    url = new_database()
    for attempt in (1, 2):
        reset = run_dbtool("reset", project, url, "--yes", cwd=tmp_path)
        assert reset.returncode == 0, f"reset #{attempt}: {reset.stderr}"
        counts = row_counts(url, tables)
        assert all(counts.values()), f"reset #{attempt} left tables empty: {counts}\n{reset.stdout}"
        assert dump(url) == expected, f"reset #{attempt} differs from plain alembic"
        assert index_states(url) == index_states(reference), f"reset #{attempt}: indexes differ"
    return url


@pytest.mark.parametrize("name", ["triggers", "text_sequence", "expression_indexes", "partitioned"])
def test_reset_loads_the_shape_and_leaves_plain_alembics_schema(
    name: str, new_database: Callable[[], str], tmp_path: Path
) -> None:
    assert_reset_matches_plain_alembic(LOAD_SHAPE_PROJECTS[name], SEEDED[name], new_database, tmp_path)


def test_index_storage_and_comments_survive_the_load(
    fast_tablespace: str, new_database: Callable[[], str], tmp_path: Path
) -> None:
    url = assert_reset_matches_plain_alembic(
        LOAD_SHAPE_PROJECTS["index_storage"], SEEDED["index_storage"], new_database, tmp_path
    )
    # pg_dump shows a tablespace only as a SET line, which schema_dump drops as noise: check it here.
    placed = {name: space for name, _, _, space in index_states(url)}
    assert placed["authors_handle_key"] == placed["ix_articles_author_id"] == fast_tablespace, placed


@pytest.mark.parametrize("strategy", ["transaction", "swap"])
def test_triggers_do_not_fire_for_seeded_rows(strategy: str, new_database: Callable[[], str], tmp_path: Path) -> None:
    # With its BEFORE INSERT trigger firing, each seeded entry would have moved its account's balance.
    # A swap builds in a shadow schema on several connections: the same rows, the same triggers after.
    project = LOAD_SHAPE_PROJECTS["triggers"]
    url = new_database()
    reference = new_database()
    reset = run_dbtool("reset", project, url, "--yes", "--strategy", strategy, "--json", cwd=tmp_path)
    assert reset.returncode == 0, reset.stderr
    transaction = run_dbtool("reset", project, reference, "--yes", "--strategy", "transaction", "--json", cwd=tmp_path)
    assert json.loads(reset.stdout)["digest"] == json.loads(transaction.stdout)["digest"]
    with psycopg.connect(url, autocommit=True) as conn:
        states = dict(conn.execute(
            "SELECT tgname, tgenabled FROM pg_trigger WHERE NOT tgisinternal AND tgrelid = ANY(%s::regclass[])",
            (["accounts", "ledger_entries"],),
        ).fetchall())
        # The triggers work again after the reset: a direct insert is refused as the migrations intend.
        with pytest.raises(psycopg.errors.RaiseException, match="open_account"):
            conn.execute("INSERT INTO accounts (name) VALUES ('direct')")
    assert states == {
        "accounts_refuse_direct_insert": "A", "accounts_replica_refuse": "R", "ledger_entries_apply": "O",
        "ledger_entries_balanced": "O", "ledger_entries_balanced_at_commit": "O", "ledger_entries_legacy_apply": "D",
    }


def test_sequences_move_only_past_integer_columns(new_database: Callable[[], str], tmp_path: Path) -> None:
    project = LOAD_SHAPE_PROJECTS["text_sequence"]
    url = new_database()
    reset = run_dbtool("reset", project, url, "--yes", cwd=tmp_path)
    assert reset.returncode == 0, reset.stderr
    with psycopg.connect(url, autocommit=True) as conn:
        # The app's next customer must not collide with a seeded one; an order takes its default.
        conn.execute("INSERT INTO customers (email) VALUES ('next@example.com')")
        conn.execute("INSERT INTO orders (customer_id, total_cents) SELECT max(id), 100 FROM customers")


def trigger_states(conn: psycopg.Connection) -> dict[str, str]:  # type: ignore[type-arg]
    return dict(conn.execute("SELECT tgname, tgenabled FROM pg_trigger WHERE NOT tgisinternal").fetchall())


@pytest.mark.parametrize("failure", ["python", "database"])
def test_a_failed_load_leaves_the_triggers_as_they_were(failure: str, database_url: str) -> None:
    # An error raised in Python leaves the transaction usable (a caller could still commit it): the
    # triggers are switched back on at once. A database error aborts it: the rollback restores them.
    plain_alembic_upgrade(LOAD_SHAPE_PROJECTS["triggers"].config, database_url)
    with psycopg.connect(database_url) as conn:
        migrated = trigger_states(conn)
        with pytest.raises((RuntimeError, psycopg.errors.DivisionByZero)):
            with schema.bulk_load(conn, "public", ["accounts", "ledger_entries"]):
                assert set(trigger_states(conn).values()) == {"D"}
                if failure == "python":
                    raise RuntimeError("the generator failed")
                conn.execute("SELECT 1 / 0")
        if failure == "python":
            assert trigger_states(conn) == migrated
        conn.rollback()
        assert trigger_states(conn) == migrated
