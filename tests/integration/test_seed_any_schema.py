"""Issue 15: `dbtool reset --alembic-config PROJECT` seeds any team's schema with no configuration.

Written against the CLI contract only (exit codes, what lands in the database, what is printed),
on the seed_* fixture projects. Postgres judges every generated row: a value that breaks a type,
key, FK or CHECK fails the reset's transaction. dbtool runs as a real process from a directory
that is not the project's, as a team's CI would run it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.alembic_projects import DBTOOL_TABLES, SEED_PROJECTS, SEEDABLE
from tests.helpers import dbtool_process
from tests.schema_dump import plain_alembic_upgrade, schema_dump
from tests.table_contents import (
    all_tables,
    column_digests,
    contents,
    default_insertable,
    project_tables,
    sequence_positions,
)

PROFILE = "ci"
SEED, OTHER_SEED = "7", "8"
EXIT_STRICT = 2
UNSUPPORTED_TABLE, UNSUPPORTED_CHECK = "launch_pads", "launch_pads_within_range"
UNSUPPORTED_DEPENDENT, UNSUPPORTED_BYSTANDER = "launches", "crew_members"
PROBE_COLUMN = "stability_probe"


def reset(config: Path, url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`dbtool reset --alembic-config <config> --database-url <url> --yes --profile ci <args>`."""
    return dbtool_process(
        "reset", "--alembic-config", str(config), "--database-url", url, "--yes", "--profile", PROFILE, *args, cwd=cwd
    )


def output(done: subprocess.CompletedProcess[str]) -> str:
    return done.stdout + done.stderr


def migration_rows(name: str, new_database: Callable[[], str]) -> dict[str, str | None]:
    """Table -> md5 of what plain `alembic upgrade head` leaves in it (None: the migrations leave it empty)."""
    url = new_database()
    plain_alembic_upgrade(SEED_PROJECTS[name].config, url)
    return {t: c.md5 for t, c in contents(url).items()}


def whole_database(url: str) -> tuple[str, dict[str, object]]:
    """Schema dump plus the contents of every table, dbtool's bookkeeping and Alembic's included."""
    with psycopg.connect(url, autocommit=True) as conn:
        names = all_tables(conn)
    return schema_dump(url, exclude_tables=()), dict(contents(url, names))


def lines_naming(text: str, *names: str) -> list[str]:
    """Lines holding every one of `names` as a whole identifier (launch_pads is not launch_pads_within_range)."""
    patterns = [re.compile(rf"\b{re.escape(n)}\b") for n in names]
    return [line for line in text.splitlines() if all(p.search(line) for p in patterns)]


@pytest.mark.parametrize("name", SEEDABLE)
@pytest.mark.versions
def test_reset_fills_every_table_the_migrations_left_empty(name: str, new_database: Callable[[], str], tmp_path: Path) -> None:
    project = SEED_PROJECTS[name]
    expected = migration_rows(name, new_database)
    url = new_database()

    done = reset(project.config, url, cwd=tmp_path)

    assert done.returncode == 0, output(done)
    seeded = contents(url)
    assert set(seeded) == set(expected)
    empty = sorted(t for t, c in seeded.items() if expected[t] is None and c.rows == 0)
    assert not empty, f"tables left empty: {empty}\n{output(done)}"
    changed = sorted(t for t, md5 in expected.items() if md5 is not None and seeded[t].md5 != md5)
    assert not changed, f"rows the migrations inserted were changed: {changed}"

    verify = dbtool_process("verify", "--alembic-config", str(project.config), "--database-url", url, cwd=tmp_path)
    assert verify.returncode == 0, output(verify)


@pytest.mark.parametrize("name", SEEDABLE)
def test_supported_schema_passes_strict(name: str, new_database: Callable[[], str], tmp_path: Path) -> None:
    done = reset(SEED_PROJECTS[name].config, new_database(), "--strict", cwd=tmp_path)
    assert done.returncode == 0, output(done)


@pytest.mark.parametrize("name", SEEDABLE)
def test_same_seed_same_rows_other_seed_other_rows(name: str, new_database: Callable[[], str], tmp_path: Path) -> None:
    config = SEED_PROJECTS[name].config
    runs = {}
    for label, seed in (("first", SEED), ("again", SEED), ("other", OTHER_SEED)):
        url = new_database()
        done = reset(config, url, "--seed", seed, cwd=tmp_path)
        assert done.returncode == 0, f"{label}: {output(done)}"
        runs[label] = contents(url)

    assert all(c.rows for c in runs["first"].values()), runs["first"]
    assert runs["again"] == runs["first"]
    differing = [t for t in runs["first"] if runs["other"][t] != runs["first"][t]]
    assert differing, f"--seed {OTHER_SEED} gave the same rows as --seed {SEED} in every table"


@pytest.mark.parametrize("name", SEEDABLE)
@pytest.mark.versions
def test_sequences_are_past_the_seeded_values(name: str, new_database: Callable[[], str], tmp_path: Path) -> None:
    project = SEED_PROJECTS[name]
    reference = new_database()
    plain_alembic_upgrade(project.config, reference)
    with psycopg.connect(reference, autocommit=True) as conn:
        takes_defaults = default_insertable(conn)
    url = new_database()

    done = reset(project.config, url, cwd=tmp_path)

    assert done.returncode == 0, output(done)
    with psycopg.connect(url, autocommit=True) as conn:
        positions = sequence_positions(conn)
        assert positions, "fixture has no identity or serial column"
        unseeded = [p for p in positions if p.max_value is None]
        assert not unseeded, f"no seeded values to be past: {unseeded}"
        behind = [p for p in positions if p.max_value is not None and p.next_value <= p.max_value]
        assert not behind, f"sequences would hand out values already used: {behind}"
        for table in takes_defaults:  # one more row, every value from its default
            conn.execute(sql.SQL("INSERT INTO {} DEFAULT VALUES").format(sql.Identifier(table)))


@pytest.mark.parametrize("name", SEEDABLE)
def test_adding_a_column_moves_no_other_value(name: str, new_database: Callable[[], str], tmp_path: Path) -> None:
    project = SEED_PROJECTS[name]
    copy = tmp_path / name
    shutil.copytree(project.directory, copy, ignore=shutil.ignore_patterns("__pycache__"))
    filled_by_migration = {t for t, md5 in migration_rows(name, new_database).items() if md5 is not None}
    url = new_database()
    workdir = tmp_path / "cwd"
    workdir.mkdir()

    first = reset(copy / "alembic.ini", url, "--seed", SEED, cwd=workdir)
    assert first.returncode == 0, output(first)
    with psycopg.connect(url, autocommit=True) as conn:
        generated = [t for t in project_tables(conn) if t not in filled_by_migration]
        before = {t: column_digests(conn, t) for t in project_tables(conn)}
    empty = [t for t in generated if None in before[t].values()]
    assert generated and not empty, f"tables without rows to compare: {empty}"

    add_probe_column_revision(copy, project.head, generated)
    second = reset(copy / "alembic.ini", url, "--seed", SEED, cwd=workdir)
    assert second.returncode == 0, output(second)
    with psycopg.connect(url, autocommit=True) as conn:
        after = {t: column_digests(conn, t) for t in project_tables(conn)}

    assert all(PROBE_COLUMN in after[t] for t in generated), "the new revision did not run"
    moved = sorted(
        f"{t}.{c}" for t, digests in before.items() for c, md5 in digests.items() if after[t][c] != md5
    )
    assert not moved, f"adding {PROBE_COLUMN} changed {moved}"


def add_probe_column_revision(project_dir: Path, head: str, tables: list[str]) -> None:
    """Write a revision after `head` adding a nullable text column to each of `tables`."""
    revision = "5eed0c01a99e"
    adds = "\n".join(f"    op.add_column({t!r}, sa.Column({PROBE_COLUMN!r}, sa.Text(), nullable=True))" for t in tables)
    drops = "\n".join(f"    op.drop_column({t!r}, {PROBE_COLUMN!r})" for t in tables)
    (project_dir / "versions" / f"{revision}_add_{PROBE_COLUMN}.py").write_text(
        f'"""add {PROBE_COLUMN}\n\nRevision ID: {revision}\nRevises: {head}\n"""\n'
        "from alembic import op\nimport sqlalchemy as sa\n\n"
        f"revision = {revision!r}\ndown_revision = {head!r}\nbranch_labels = None\ndepends_on = None\n\n\n"
        f"def upgrade() -> None:\n{adds}\n\n\ndef downgrade() -> None:\n{drops}\n"
    )


@pytest.mark.versions
def test_unsupported_check_leaves_its_table_and_dependents_empty(new_database: Callable[[], str], tmp_path: Path) -> None:
    project = SEED_PROJECTS["seed_unsupported"]
    url = new_database()

    done = reset(project.config, url, cwd=tmp_path)

    assert done.returncode == 0, output(done)
    rows = {t: c.rows for t, c in contents(url).items()}
    assert rows[UNSUPPORTED_TABLE] == 0 and rows[UNSUPPORTED_DEPENDENT] == 0, rows
    assert rows[UNSUPPORTED_BYSTANDER] > 0, rows  # a table that does not need it is seeded as usual
    named = lines_naming(output(done), UNSUPPORTED_TABLE, UNSUPPORTED_CHECK)
    assert len(named) == 1, output(done)
    assert re.search("profile", named[0], re.IGNORECASE), f"no profile setting named: {named[0]}"

    verify = dbtool_process("verify", "--alembic-config", str(project.config), "--database-url", url, cwd=tmp_path)
    assert verify.returncode == 0, output(verify)


@pytest.mark.versions
def test_strict_refuses_an_unsupported_check_and_changes_nothing(new_database: Callable[[], str], tmp_path: Path) -> None:
    project = SEED_PROJECTS["seed_unsupported"]
    url = new_database()
    before = whole_database(url)

    done = reset(project.config, url, "--strict", cwd=tmp_path)

    assert done.returncode == EXIT_STRICT, output(done)
    assert "No such option" not in output(done), "exit 2 came from the option parser, not from --strict"
    assert lines_naming(output(done), UNSUPPORTED_TABLE, UNSUPPORTED_CHECK), output(done)
    assert whole_database(url) == before


def test_strict_keeps_the_previous_reset(new_database: Callable[[], str], tmp_path: Path) -> None:
    project = SEED_PROJECTS["seed_unsupported"]
    url = new_database()
    first = reset(project.config, url, cwd=tmp_path)
    assert first.returncode == 0, output(first)
    before = whole_database(url)
    assert any(t in DBTOOL_TABLES for t in before[1]), "the first reset left no record to compare"

    done = reset(project.config, url, "--strict", "--seed", OTHER_SEED, cwd=tmp_path)

    assert done.returncode == EXIT_STRICT, output(done)
    assert "No such option" not in output(done), "exit 2 came from the option parser, not from --strict"
    assert whole_database(url) == before
