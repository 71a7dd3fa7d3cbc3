"""CHECK shapes from published schemas are seeded, not skipped: `dbtool reset --strict` on seed_check_shapes.

Each table of the fixture holds one family of shapes (case-insensitive regexes and ILIKE; NULL tests
compared as booleans; a boolean column as a predicate; predicates compared as booleans;
jsonb_typeof). Postgres judges every generated row, so a reset that exits 0 under --strict with
rows in every table proves the rows satisfy the CHECKs; the queries below restate each shape so a
failure names it, and the JSON kinds show the generator made an array where the CHECK asks for one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from tests.alembic_projects import SEED_PROJECTS
from tests.helpers import dbtool_process
from tests.table_contents import contents

# Each major judges the CHECKs itself (regexes, ILIKE, jsonb_typeof): run on every major (pg_matrix).
pytestmark = pytest.mark.versions

PROJECT = SEED_PROJECTS["seed_check_shapes"]

# Per shape, a query counting the generated rows that show it (every row must).
SHAPES = {
    "~* and !~*": "SELECT count(*) FROM handles WHERE handle ~* '^[a-z]{3}-[0-9]{3}$' AND nickname !~* '^(admin|root)$'",
    "ILIKE and NOT ILIKE": "SELECT count(*) FROM handles WHERE display_name ILIKE 'member %' AND team NOT ILIKE 'core'",
    "(a IS NULL) <> (b IS NULL)": "SELECT count(*) FROM contacts WHERE (email IS NULL) <> (phone IS NULL)",
    "a boolean column as a predicate": "SELECT count(*) FROM members WHERE is_banned = (ban_reason IS NOT NULL)",
    "predicates compared as booleans": (
        "SELECT count(*) FROM ledger_entries WHERE (type = 'dispute') = (dispute_id IS NOT NULL)"
        " AND (type = 'refund') = (amount_cents < 0)"
    ),
    "jsonb_typeof": (
        "SELECT count(*) FROM documents WHERE jsonb_typeof(payload) = 'object' AND jsonb_typeof(tags) = 'array'"
        " AND (settings IS NULL OR json_typeof(settings) = 'object')"
    ),
}
TABLE_OF = {shape: query.split(" FROM ")[1].split()[0] for shape, query in SHAPES.items()}


def test_reset_strict_seeds_every_table_and_every_row_shows_its_shape(
    new_database: Callable[[], str], tmp_path: Path
) -> None:
    url = new_database()

    done = dbtool_process("reset", "--alembic-config", str(PROJECT.config), "--database-url", url, "--yes",
                          "--profile", "ci", "--strict", cwd=tmp_path)

    assert done.returncode == 0, done.stdout + done.stderr
    rows = {t: c.rows for t, c in contents(url).items()}
    assert rows and all(rows.values()), f"tables left empty: {rows}\n{done.stdout}{done.stderr}"
    with psycopg.connect(url, autocommit=True) as conn:
        shown = {shape: conn.execute(query).fetchone()[0] for shape, query in SHAPES.items()}  # type: ignore[index]
        kinds = conn.execute("SELECT DISTINCT jsonb_typeof(payload), jsonb_typeof(tags) FROM documents").fetchall()
    short = {shape: f"{count} of {rows[TABLE_OF[shape]]} rows" for shape, count in shown.items() if count != rows[TABLE_OF[shape]]}
    assert not short, short
    assert kinds == [("object", "array")]
