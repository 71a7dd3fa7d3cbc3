"""Postgres features that made the whole reset fail (issue 24): each table is seeded, or left empty
with one line saying why, and never makes the server refuse the reset.

One fixture project per feature under tests/projects/schema_features/: `dbtool reset` exits 0, twice,
`verify` then agrees, and each table holds what the feature allows (a unique boolean: two rows, and
the cut said; an exclusion constraint dbtool cannot satisfy: an empty table and its reason).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from tests.alembic_projects import SCHEMA_FEATURE_PROJECTS, assert_features
from tests.integration.test_load_shapes import dump
from tests.integration.test_projects import run_dbtool

# NULLS NOT DISTINCT exists from Postgres 15 on; exclusion constraints, generated columns: every major.
pytestmark = pytest.mark.versions

NULLS_NOT_DISTINCT_MIN_VERSION = 150000


def reset_twice_and_verify(name: str, new_database: Callable[[], str], tmp_path: Path) -> tuple[str, str]:
    """Reset the project `name` twice and verify: each exits 0. Returns the URL and the first reset's output."""
    project = SCHEMA_FEATURE_PROJECTS[name]
    url = new_database()
    first = run_dbtool("reset", project, url, "--yes", cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    assert_features(project, dump(url))
    second = run_dbtool("reset", project, url, "--yes", cwd=tmp_path)
    assert second.returncode == 0, f"second reset: {second.stdout}{second.stderr}"
    verify = run_dbtool("verify", project, url, cwd=tmp_path)
    assert verify.returncode == 0, f"verify: {verify.stdout}{verify.stderr}"
    return url, first.stdout + first.stderr


def query(url: str, statement: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(statement).fetchall()


def count(url: str, table: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0]  # type: ignore[index]


def server_version(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.info.server_version


def test_a_unique_key_whose_nulls_are_equal_holds_null_once(new_database: Callable[[], str], tmp_path: Path) -> None:
    # slots.period (int4range) and devices.mac (macaddr) have no generator and are left NULL: under
    # NULLS NOT DISTINCT a second NULL is a duplicate, so each table gets one row and says why.
    url, output = reset_twice_and_verify("nulls_not_distinct", new_database, tmp_path)
    rows = {t: count(url, t) for t in ("slots", "devices")}
    if server_version(url) < NULLS_NOT_DISTINCT_MIN_VERSION:
        assert all(n > 1 for n in rows.values()), rows  # NULLs are distinct: no cut
        assert "treats NULLs as equal" not in output, output
        return
    assert rows == {"slots": 1, "devices": 1}, output
    assert "slots: cut to 1 row: unique key slots_period_key treats NULLs as equal" in output, output
    assert "devices: cut to 1 row: unique key ux_devices_mac treats NULLs as equal" in output, output


def test_a_unique_boolean_caps_its_table_at_two_rows_and_says_so(new_database: Callable[[], str], tmp_path: Path) -> None:
    url, output = reset_twice_and_verify("unique_boolean", new_database, tmp_path)
    assert sorted(r[0] for r in query(url, "SELECT is_default FROM settings")) == [False, True], output
    assert "settings: " in output and "cut to 2: unique column is_default (boolean)" in output, output


def test_char_and_varchar_array_elements_fit_their_length(new_database: Callable[[], str], tmp_path: Path) -> None:
    url, output = reset_twice_and_verify("char_arrays", new_database, tmp_path)
    assert count(url, "labels") > 0, output
    longest = query(url, "SELECT (SELECT max(octet_length(rtrim(c))) FROM labels, unnest(codes) c),"
                         " (SELECT max(length(t)) FROM labels, unnest(tags) t)")[0]
    assert longest[0] is not None and longest[0] <= 2 and longest[1] is not None and longest[1] <= 3, longest


def test_exclusion_constraints_seed_as_unique_or_leave_the_table_empty(
    new_database: Callable[[], str], tmp_path: Path
) -> None:
    url, output = reset_twice_and_verify("exclusion", new_database, tmp_path)
    colors = count(url, "colors")
    assert colors > 1, output  # EXCLUDE (color WITH =) is a unique key on color
    assert query(url, "SELECT count(DISTINCT color) FROM colors")[0][0] == colors
    assert count(url, "bookings") == 0
    lines = [line for line in output.splitlines() if "bookings: left empty: exclusion constraint bookings_no_overlap" in line]
    assert len(lines) == 1, output


def test_unique_or_checked_generated_columns_leave_their_table_empty_with_a_reason(
    new_database: Callable[[], str], tmp_path: Path
) -> None:
    url, output = reset_twice_and_verify("generated_columns", new_database, tmp_path)
    assert {t: count(url, t) for t in ("people", "invoices")} == {"people": 0, "invoices": 0}, output
    assert count(url, "notes") > 0, output
    assert "people: left empty: unique key people_full_name_key is on the generated column full_name" in output, output
    assert "invoices: left empty: CHECK invoices_gross_small reads the generated column gross_cents" in output, output
