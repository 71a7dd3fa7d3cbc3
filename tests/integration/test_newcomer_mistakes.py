"""Mistakes a newcomer makes that used to get silence or the wrong message (issue 24): each is now one
line that says what was wrong and what to do, and a failing run leaves the database untouched."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import psycopg
import pytest

from tests.helpers import dbtool_process

GENERIC = Path(__file__).resolve().parents[1] / "projects" / "generic"
PRIORITY_MIGRATION = "versions/c47d1e5a9f32_add_priority_to_tickets.py"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the generic fixture project (customers, tickets, ticket_comments)."""
    target = tmp_path / "project"
    shutil.copytree(GENERIC, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def _run(project: Path, *args: str, url: str | None = None) -> object:
    flags = ["--database-url", url] if url else []
    return dbtool_process(*args, *flags, cwd=project, timeout=120)


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def _objects(conn: psycopg.Connection) -> int:  # type: ignore[type-arg]
    return conn.execute("SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace").fetchone()[0]  # type: ignore[index]


# 1. typos inside a profile

@pytest.mark.parametrize(
    ("profile", "fragments"),
    [
        ('[profiles.dev.tables]\ncustmers = 200\n', ["custmers", "did you mean 'customers'"]),
        ('[profiles.dev.columns]\n"tickets.stauts" = { constant = "open" }\n', ["tickets.stauts", "did you mean 'status'"]),
        ('[profiles.dev.columns]\n"tikets.status" = { constant = "open" }\n', ["tikets", "did you mean 'tickets'"]),
        ('[profiles.dev.tables]\ntickets = "3 per custmer"\n', ["custmer", "did you mean 'customers'"]),
        ('[profiles.dev.hooks]\ntiket = "seed_hooks:tickets"\n', ["tiket", "did you mean 'tickets'"]),
    ],
)
@pytest.mark.parametrize("strategy", ["transaction", "swap"])
def test_a_profile_naming_an_unknown_table_or_column_exits_2_and_touches_nothing(
    profile: str, fragments: list[str], strategy: str, project: Path, database_url: str, conn: psycopg.Connection,  # type: ignore[type-arg]
) -> None:
    assert _run(project, "reset", "--profile", "ci", url=database_url).returncode == 0  # type: ignore[attr-defined]
    before = conn.execute("SELECT count(*) FROM customers").fetchone()
    (project / "dbtool.toml").write_text(profile)
    done = _run(project, "reset", "--strategy", strategy, url=database_url)
    assert done.returncode == 2, done.stdout + done.stderr  # type: ignore[attr-defined]
    line = _one_line(done.stderr)  # type: ignore[attr-defined]
    assert all(f in line for f in fragments), line
    assert conn.execute("SELECT count(*) FROM customers").fetchone() == before == (10,)
    assert not conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'dbtool_%'").fetchall()


def test_plan_names_a_typo_in_the_profile_too(project: Path, database_url: str) -> None:
    (project / "dbtool.toml").write_text('[profiles.dev.tables]\ncustmers = 200\n')
    done = _run(project, "plan", url=database_url)
    assert done.returncode == 2, done.stdout + done.stderr  # type: ignore[attr-defined]
    assert "did you mean 'customers'" in _one_line(done.stderr)  # type: ignore[attr-defined]


def test_an_unknown_profile_key_is_named_with_a_suggestion(project: Path) -> None:
    (project / "dbtool.toml").write_text("[profiles.dev]\nrow = 50\n")
    done = _run(project, "config")
    assert done.returncode == 2  # type: ignore[attr-defined]
    line = _one_line(done.stderr)  # type: ignore[attr-defined]
    assert "'row'" in line and "did you mean 'rows'" in line, line


# 2. [tool.dbtool] in pyproject.toml next to a dbtool.toml

def test_an_ignored_pyproject_table_is_named_by_config_and_every_run(project: Path, database_url: str) -> None:
    app = project.parent / "app"  # the migrations' own directory takes only profiles: the settings live apart
    app.mkdir()
    (app / "pyproject.toml").write_text('[project]\nname = "app"\n\n[tool.dbtool]\nprofile = "ci"\n')
    (app / "dbtool.toml").write_text(f'alembic-config = "{project / "alembic.ini"}"\nseed = 7\n')
    document = json.loads(_run(app, "config", "--json").stdout)  # type: ignore[attr-defined]
    assert document["ignored"] == [str(app / "pyproject.toml")]
    assert document["settings"]["profile"]["source"] == "default"
    text = _run(app, "config")
    assert "[tool.dbtool] in" in text.stdout and "is ignored" in text.stdout  # type: ignore[attr-defined]
    done = _run(app, "reset", url=database_url)
    assert done.returncode == 0, done.stderr  # type: ignore[attr-defined]
    notes = [line for line in done.stderr.splitlines() if "[tool.dbtool]" in line]  # type: ignore[attr-defined]
    assert len(notes) == 1 and "dbtool.toml" in notes[0], done.stderr  # type: ignore[attr-defined]
    status = _run(app, "status", url=database_url)
    assert status.returncode == 0 and "is ignored" in status.stderr  # type: ignore[attr-defined]
    (app / "dbtool.toml").unlink()
    quiet = _run(app, "status", url=database_url)
    assert quiet.returncode == 0 and "ignored" not in quiet.stderr  # type: ignore[attr-defined]


# 3. verify after a profile edit

def test_verify_after_a_profile_edit_says_the_profile_changed(project: Path, database_url: str) -> None:
    (project / "dbtool.toml").write_text("[profiles.dev]\nrows = 5\n")
    assert _run(project, "reset", url=database_url).returncode == 0  # type: ignore[attr-defined]
    assert _run(project, "verify", url=database_url).returncode == 0  # type: ignore[attr-defined]
    (project / "dbtool.toml").write_text("[profiles.dev]\nrows = 5\n[profiles.dev.tables]\ntickets = 8\n")
    done = _run(project, "verify", url=database_url)
    assert done.returncode == 1  # type: ignore[attr-defined]
    line = _one_line(done.stderr)  # type: ignore[attr-defined]
    assert "profile 'dev' changed since the last reset" in line and "tickets" in line, line
    document = json.loads(_run(project, "verify", "--json", url=database_url).stdout)  # type: ignore[attr-defined]
    # ticket_comments pick their ticket by number among the tickets: they change with them.
    assert "tickets" in document["profile_changed"] and "customers" not in document["profile_changed"]
    assert document["differences"] == []


# 4. status with a migration that has a SyntaxError

def test_status_names_the_file_and_line_of_a_broken_migration(project: Path, database_url: str) -> None:
    migration = project / PRIORITY_MIGRATION
    migration.write_text(migration.read_text() + "\ndef broken(:\n")
    done = _run(project, "status", url=database_url)
    line = _one_line(done.stderr)  # type: ignore[attr-defined]
    assert done.returncode == 1, line  # type: ignore[attr-defined]
    assert "unexpected" not in line and str(migration) in line and "line" in line and "SyntaxError" in line, line


# 8. a migration that calls sys.exit()

@pytest.mark.parametrize("strategy", ["transaction", "swap"])
def test_a_migration_calling_sys_exit_is_a_migration_failure(
    strategy: str, project: Path, database_url: str, conn: psycopg.Connection,  # type: ignore[type-arg]
) -> None:
    migration = project / PRIORITY_MIGRATION
    migration.write_text(migration.read_text().replace(
        '    op.create_index("ix_tickets_status_priority"', '    import sys\n    sys.exit(3)\n    op.create_index("ix_tickets_status_priority"'))
    done = _run(project, "reset", "--strategy", strategy, url=database_url)
    line = _one_line(done.stderr)  # type: ignore[attr-defined]
    # swap reports any migration that fails in its shadow schema as a refusal of the strategy (exit 2)
    assert done.returncode == (1 if strategy == "transaction" else 2), line  # type: ignore[attr-defined]
    assert "c47d1e5a9f32" in line and "sys.exit(3)" in line, line
    assert _objects(conn) == 0


# 5. strict and strategy: the file, `dbtool config` and the README agree

def test_strict_is_accepted_in_the_file_and_config_shows_every_file_key(project: Path) -> None:
    from dbtool.settings.file import FILE_KEYS

    (project / "dbtool.toml").write_text('strict = true\nstrategy = "swap"\n')
    done = _run(project, "config", "--json")
    assert done.returncode == 0, done.stderr  # type: ignore[attr-defined]
    settings = json.loads(done.stdout)["settings"]  # type: ignore[attr-defined]
    assert settings["strict"] == {"value": True, "source": "file"}
    assert settings["strategy"] == {"value": "swap", "source": "file"}
    assert set(FILE_KEYS) <= set(settings)


def test_the_readme_lists_exactly_the_keys_a_settings_file_takes() -> None:
    import re

    from dbtool.settings.file import FILE_KEYS

    readme = (Path(__file__).resolve().parents[2] / "docs" / "reference" / "settings.md").read_text()
    known = readme.split("Known keys:", 1)[1].split(".", 1)[0]
    assert set(re.findall(r"`([a-z-]+)`", known)) == set(FILE_KEYS)


def test_strict_from_the_file_refuses_a_table_it_cannot_fill(project: Path, database_url: str) -> None:
    app = project.parent / "app"  # settings live in the working directory, apart from the migrations
    app.mkdir()
    (app / "dbtool.toml").write_text(f'alembic-config = "{project / "alembic.ini"}"\nstrict = true\n'
                                     '[profiles.dev.columns]\n"customers.full_name" = { null_fraction = 0.5 }\n')
    done = _run(app, "reset", url=database_url)
    assert done.returncode == 2 and "--strict" in done.stderr, done.stdout + done.stderr  # type: ignore[attr-defined]


# 6. passwords: key=value strings, multi-host and SQLAlchemy URLs work; nothing ever prints a password

SECRET = "Newc0mer-S3cret"


def _parts(url: str) -> dict[str, str]:
    from psycopg.conninfo import conninfo_to_dict

    return {k: v for k, v in conninfo_to_dict(url).items() if v}


def _key_value(url: str, password: str) -> str:
    parts = {**_parts(url), "password": password}
    return " ".join(f"{k}={v}" for k, v in parts.items())


def _secret(url: str) -> str:
    """The server's own password where it needs one (a container), else a made-up one (trust)."""
    return _parts(url).get("password") or SECRET


@pytest.mark.parametrize("where", ["flag", "env"])
def test_a_key_value_connection_string_works_and_its_password_is_never_shown(
    where: str, project: Path, database_url: str, conn: psycopg.Connection,  # type: ignore[type-arg]
) -> None:
    secret = _secret(database_url)
    dsn = _key_value(database_url, secret)
    args = ["--database-url", dsn] if where == "flag" else []
    env = {"DATABASE_URL": dsn} if where == "env" else {}
    for command in (["config"], ["config", "--json"], ["reset", "--profile", "ci"], ["status"], ["verify"]):
        done = dbtool_process(*command, *args, env=env, cwd=project, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        assert secret not in done.stdout + done.stderr
    assert conn.execute("SELECT count(*) FROM customers").fetchone() == (10,)
    shown = json.loads(dbtool_process("config", "--json", *args, env=env, cwd=project).stdout)["settings"]["database-url"]
    assert "password=***" in shown["value"] and shown["source"] == where


@pytest.mark.parametrize("character", ["/", "#", "?"])
def test_a_url_whose_password_holds_a_reserved_character_never_shows_it(character: str, project: Path) -> None:
    secret = f"ab{character}{SECRET}"
    url = f"postgresql://app:{secret}@127.0.0.1:1/app"
    for command in (["config"], ["reset", "--lock-timeout", "0"]):
        done = dbtool_process(*command, "--database-url", url, cwd=project, timeout=60)
        output = done.stdout + done.stderr
        assert SECRET not in output and secret not in output, output
        assert done.returncode in (0, 2, 69), output
        if character == "/":  # libpq reads the part after '/' as the database name: a mistake to name
            assert done.returncode == 2 and "%2F" in output, output


def test_a_wrong_key_value_string_is_refused_without_echoing_it(project: Path) -> None:
    done = dbtool_process("reset", "--database-url", f"host=db dbname=app user=u password={SECRET} sslmode=nope",
                          cwd=project)
    assert done.returncode == 2 and SECRET not in done.stdout + done.stderr
    assert "sslmode" in _one_line(done.stderr)
    done = dbtool_process("reset", "--database-url", f"host=db password={SECRET} garbage", cwd=project)
    assert done.returncode == 2 and SECRET not in done.stdout + done.stderr, done.stderr


@pytest.mark.parametrize("form", ["sqlalchemy", "multi-host"])
def test_sqlalchemy_and_multi_host_urls_work(form: str, project: Path, database_url: str, conn: psycopg.Connection) -> None:  # type: ignore[type-arg]
    parts = _parts(database_url)
    user, host, port, dbname = parts.get("user", "postgres"), parts["host"], parts.get("port", "5432"), parts["dbname"]
    secret = _secret(database_url)  # URL-safe here: the container's and the made-up one
    if form == "sqlalchemy":
        url = (f"postgresql+psycopg://{user}:{secret}@/{dbname}?host={host}&port={port}" if host.startswith("/")
               else f"postgresql+psycopg://{user}:{secret}@{host}:{port}/{dbname}")
    elif host.startswith("/"):  # a Unix socket: the hosts go in the query; the first one is not there
        url = f"postgresql://{user}:{secret}@/{dbname}?host=/nonexistent-dbtool-dir,{host}&port=1,{port}"
    else:
        url = f"postgresql://{user}:{secret}@127.0.0.1:1,{host}:{port}/{dbname}"
    done = dbtool_process("reset", "--profile", "ci", "--database-url", url, cwd=project, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert secret not in done.stdout + done.stderr
    assert conn.execute("SELECT count(*) FROM customers").fetchone() == (10,)
