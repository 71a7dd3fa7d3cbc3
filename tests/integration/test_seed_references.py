"""`dbtool reset` on reference shapes of real Alembic histories: exclusive arcs, foreign keys that
share a column, polymorphic (id, kind) keys, arrays of JSON, and pairs ordered by their names.

Each shape is one revision of tests/projects/seed_references; a test seeds that revision's DDL
alone as a one-revision project (so it fails for its own shape only), then asks Postgres what
landed. The whole project runs through the contract of test_seed_any_schema.py as well.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.alembic_projects import SEED_PROJECTS
from tests.helpers import dbtool_process
from tests.table_contents import contents

PROJECT = SEED_PROJECTS["seed_references"]
SEED = "7"
REVISION = "0b5e9d1c7a33"


def shape_project(revision_file: str, directory: Path) -> Path:
    """A one-revision copy of the fixture project creating only what `revision_file` creates."""
    spec = importlib.util.spec_from_file_location("revision", PROJECT.directory / "versions" / revision_file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    (directory / "versions").mkdir(parents=True)
    for name in ("alembic.ini", "env.py", "script.py.mako"):
        shutil.copy(PROJECT.directory / name, directory / name)
    (directory / "versions" / f"{REVISION}_shape.py").write_text(
        f'"""shape\n\nRevision ID: {REVISION}\nRevises:\n"""\nfrom alembic import op\n\n'
        f"revision = {REVISION!r}\ndown_revision = None\nbranch_labels = None\ndepends_on = None\n\n"
        f"DDL = {module.DDL!r}\n\n\ndef upgrade() -> None:\n    op.execute(DDL)\n\n\n"
        "def downgrade() -> None:\n    pass\n"
    )
    return directory / "alembic.ini"


def reset(config: Path, url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = dbtool_process("reset", "--alembic-config", str(config), "--database-url", url, "--yes", "--profile", "dev",
                          "--seed", SEED, *args, cwd=cwd)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def seeded(revision_file: str, new_database: Callable[[], str], tmp_path: Path) -> str:
    """A database reset and seeded from `revision_file`'s DDL alone; every table got rows."""
    url = new_database()
    reset(shape_project(revision_file, tmp_path / "project"), url, tmp_path)
    empty = sorted(t for t, c in contents(url).items() if c.rows == 0)
    assert not empty, f"tables left empty: {empty}"
    return url


def rows(url: str, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(query).fetchall()  # type: ignore[arg-type]


def test_exclusive_arc_each_row_takes_one_owner(new_database: Callable[[], str], tmp_path: Path) -> None:
    url = seeded("8d2b6e0f4a15_add_subscriptions.py", new_database, tmp_path)
    owners = rows(url, "SELECT user_id IS NOT NULL, team_id IS NOT NULL FROM subscriptions ORDER BY id")
    assert all(user != team for user, team in owners), owners
    assert {user for user, _ in owners} == {True, False}, "every row took the same alternative"


def test_foreign_keys_sharing_tenant_id_point_at_one_parent_row(new_database: Callable[[], str], tmp_path: Path) -> None:
    url = seeded("3f1a7c2e9b40_create_tenants_and_alerts.py", new_database, tmp_path)
    # Postgres checked both foreign keys; the composite one names alerts rows of more than one tenant.
    tenants = rows(url, "SELECT count(DISTINCT tenant_id) FROM alert_events")[0][0]
    assert tenants > 1
    states, alerts = rows(url, "SELECT (SELECT count(*) FROM alert_states), (SELECT count(*) FROM alerts)")[0]
    assert states == alerts  # one state per alert: the primary key is the composite foreign key


def test_polymorphic_references_pick_parents_of_the_kind(new_database: Callable[[], str], tmp_path: Path) -> None:
    url = seeded("6a4c8e1b3d59_add_items_posts_and_comments.py", new_database, tmp_path)
    posts, post_items = rows(url, "SELECT (SELECT count(*) FROM posts), "
                                  "(SELECT count(*) FROM items WHERE kind = 'post')")[0]
    assert posts == post_items  # the one-to-one subtype covers every post item once
    kinds = {k for (k,) in rows(url, "SELECT DISTINCT item_kind FROM item_comments")}
    assert kinds == {"post", "photo"}


def test_json_arrays_take_the_default_or_an_empty_array(new_database: Callable[[], str], tmp_path: Path) -> None:
    url = seeded("1b7d3f5a9c24_add_webhooks.py", new_database, tmp_path)
    found = set(rows(url, "SELECT headers::text, deliveries::text, last_errors IS NULL FROM webhooks"))
    assert found == {('{"{\\"accept\\": \\"application/json\\"}"}', "{}", True)}


@pytest.mark.parametrize(("first", "then"), [
    ("start_time", "end_time"), ("valid_from", "valid_until"), ("opened_at", "closed_at"), ('"start"', '"end"'),
])
def test_pairs_named_in_order_come_in_order(first: str, then: str, new_database: Callable[[], str], tmp_path: Path) -> None:
    url = seeded("c5e9a1d3f7b2_add_shifts.py", new_database, tmp_path)
    backwards = rows(url, f"SELECT count(*) FROM shifts WHERE {first} > {then}")[0][0]
    assert backwards == 0


def test_the_whole_project_seeds_the_same_rows_for_the_same_seed(new_database: Callable[[], str], tmp_path: Path) -> None:
    first, again = new_database(), new_database()
    for url in (first, again):
        reset(PROJECT.config, url, tmp_path, "--strict")
    assert contents(first) == contents(again)
    assert all(c.rows for c in contents(first).values())
    verify = dbtool_process("verify", "--alembic-config", str(PROJECT.config), "--database-url", first, cwd=tmp_path)
    assert verify.returncode == 0, verify.stdout + verify.stderr
