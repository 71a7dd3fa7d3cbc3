"""Isolation of each fixture of the pytest plugin (dbtool_db, dbtool_conn, dbtool_session, the SQLAlchemy
engines), through inner pytest sessions on the outer session's server (see test_pytest_plugin.py).

Each inner module runs its tests in file order: a test that changes something, then one that checks
that the change did not reach it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import psycopg
import pytest

from dbtool.testdb.template import FILE_COPY_MIN_VERSION, file_system_type, pick_strategy
from tests.integration.test_pytest_plugin import CI_CLIENTS, inner  # noqa: F401  (inner is a fixture)

# Clone strategies and clone reuse (15+): differ by major (pg_matrix).
pytestmark = pytest.mark.versions

pytest_plugins = ["pytester"]

HELPERS = f"""
import psycopg, pytest

pytestmark = pytest.mark.dbtool(profile="ci")
CI = {CI_CLIENTS}

def count(conn, table="clients"):
    return conn.execute(f"SELECT count(*) FROM {{table}}").fetchone()[0]
"""

CHANGES = ["delete", "update", "commit", "truncate", "create_table", "leave_open", "sql_commit", "other_connection"]


def test_dbtool_conn_isolates_every_kind_of_change(inner: pytest.Pytester) -> None:
    inner.makepyfile(HELPERS + """
left_open = []

splits = []

def check(conn):
    assert count(conn) == CI
    splits.append(count(conn, "invoice_tip_splits"))
    assert splits[-1] == splits[0] > 0
    assert conn.execute("SELECT count(*) FROM clients WHERE full_name = 'changed'").fetchone()[0] == 0
    assert conn.execute("SELECT to_regclass('made_by_a_test')").fetchone()[0] is None
    assert conn.execute("SELECT current_setting('search_path')").fetchone()[0] == '"$user", public'
    assert conn.execute("SELECT count(*) FROM pg_prepared_statements WHERE name = 'mine'").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'").fetchone()[0] == 0

@pytest.mark.parametrize("change", {changes!r})
def test_change_then_check(dbtool_conn, change):
    check(dbtool_conn)
    c = dbtool_conn
    if change == "delete":
        c.execute("DELETE FROM invoice_tip_splits")
    elif change == "update":
        c.execute("UPDATE clients SET full_name = 'changed'")
    elif change == "commit":
        c.execute("UPDATE clients SET full_name = 'changed'"); c.commit()
        assert c.execute("SELECT count(*) FROM clients WHERE full_name = 'changed'").fetchone()[0] == CI
    elif change == "truncate":
        c.execute("TRUNCATE clients CASCADE"); c.commit()
    elif change == "create_table":
        c.execute("CREATE TABLE made_by_a_test (id int)"); c.execute("SET search_path = pg_catalog")
        c.execute("PREPARE mine AS SELECT 1"); c.execute("SELECT pg_advisory_lock(7)"); c.commit()
    elif change == "leave_open":
        left_open.append(psycopg.connect(c.info.dsn, password=c.info.password))  # stays open into the next test
    elif change == "sql_commit":
        c.execute("UPDATE clients SET full_name = 'changed'"); c.execute("COMMIT")  # really commits
    elif change == "other_connection":
        with psycopg.connect(c.info.dsn, password=c.info.password) as other:  # commits behind the fixture's back
            other.execute("UPDATE clients SET full_name = 'changed'")
    if change not in ("sql_commit", "other_connection", "leave_open"):
        assert c.info.transaction_status.name == "INTRANS"

def test_zz_after_all_changes(dbtool_conn):
    check(dbtool_conn)
    for conn in left_open:
        conn.close()
""".replace("{changes!r}", repr(CHANGES)))
    inner.runpytest_inprocess("-p", "no:randomly").assert_outcomes(passed=len(CHANGES) + 1)


def test_dbtool_conn_commit_and_rollback_act_on_a_savepoint(inner: pytest.Pytester) -> None:
    inner.makepyfile(HELPERS + """
def test_savepoints(dbtool_conn):
    c = dbtool_conn
    c.execute("CREATE TABLE t (x int)")
    c.commit()                                # kept: a later rollback() returns here
    c.execute("INSERT INTO t VALUES (1)")
    c.rollback()
    assert count(c, "t") == 0
    c.execute("INSERT INTO t VALUES (2)")
    c.commit()
    with pytest.raises(psycopg.errors.DivisionByZero):
        c.execute("SELECT 1/0")
    c.rollback()                              # out of the failed state, back to the last commit()
    assert count(c, "t") == 1
    with pytest.raises(psycopg.errors.DivisionByZero):
        c.execute("SELECT 1/0")
    c.commit()                                # as COMMIT of a failed transaction: rolls back
    assert count(c, "t") == 1
    with c.transaction():                     # psycopg's own blocks nest as savepoints
        c.execute("INSERT INTO t VALUES (3)")
        with pytest.raises(psycopg.ProgrammingError):
            c.commit()
    assert count(c, "t") == 2
    with pytest.raises(psycopg.ProgrammingError):
        c.autocommit = True                   # a transaction of its own is dbtool_db's job
    cur = c.cursor(name="server_side")        # named cursors live in the transaction
    cur.execute("SELECT x FROM t ORDER BY x")
    assert [r[0] for r in cur] == [2, 3]
    cur.close()

def test_nothing_is_left(dbtool_conn):
    assert dbtool_conn.execute("SELECT to_regclass('t')").fetchone()[0] is None

def test_closing_it_is_allowed(dbtool_conn):
    dbtool_conn.execute("UPDATE clients SET full_name = 'changed'")
    dbtool_conn.commit()
    dbtool_conn.close()

def test_the_next_one_gets_a_new_session(dbtool_conn):
    assert dbtool_conn.execute("SELECT count(*) FROM clients WHERE full_name = 'changed'").fetchone()[0] == 0
""")
    inner.runpytest_inprocess("-p", "no:randomly").assert_outcomes(passed=4)


def _server_version(server_url: str) -> int:
    with psycopg.connect(server_url) as conn:
        return conn.info.server_version


def test_dbtool_db_isolates_and_reuses_only_untouched_clones(inner: pytest.Pytester, server_url: str) -> None:
    # Reuse needs pg_stat_database.sessions (Postgres 15): older servers always hand out a new clone.
    reuses = _server_version(server_url) >= FILE_COPY_MIN_VERSION
    inner.makepyfile(HELPERS + f"REUSES = {reuses}\n" + """
seen = []

@pytest.mark.parametrize("change", {changes!r})
def test_change(dbtool_db, change):
    seen.append(dbtool_db)
    with psycopg.connect(dbtool_db) as c:
        assert count(c) == CI and c.execute("SELECT to_regclass('made_by_a_test')").fetchone()[0] is None
        assert c.execute("SELECT count(*) FROM clients WHERE full_name = 'changed'").fetchone()[0] == 0
        if change in ("update", "commit", "sql_commit"):
            c.execute("UPDATE clients SET full_name = 'changed'")
        elif change == "delete":
            c.execute("DELETE FROM invoice_tip_splits")
        elif change == "truncate":
            c.execute("TRUNCATE clients CASCADE")
        elif change == "create_table":
            c.execute("CREATE TABLE made_by_a_test (id int)")
    if change == "leave_open":
        seen.append(psycopg.connect(dbtool_db))  # still open when the test ends: the clone is dropped with it

def test_untouched_is_handed_out_again(dbtool_db):
    seen.append(dbtool_db)                       # never connected to

def test_gets_the_untouched_one(dbtool_db):
    assert (dbtool_db == seen[-1]) == REUSES
    with psycopg.connect(dbtool_db) as c:
        assert count(c) == CI

def test_a_touched_one_is_not_reused(dbtool_db):
    assert dbtool_db not in seen
    for conn in seen:
        if not isinstance(conn, str):
            conn.close()  # the connection left open: its clone was dropped WITH (FORCE) under it
""".replace("{changes!r}", repr(CHANGES)))
    inner.runpytest_inprocess("-p", "no:randomly", "--dbtool-warm", "0").assert_outcomes(passed=len(CHANGES) + 3)


def test_sqlalchemy_session_shares_the_rolled_back_transaction(inner: pytest.Pytester) -> None:
    inner.makepyfile(HELPERS + """
import sys
from sqlalchemy import text

def test_session_commit_is_a_savepoint(dbtool_conn, dbtool_session):
    dbtool_session.execute(text("UPDATE clients SET full_name = 'changed'"))
    dbtool_session.commit()
    assert dbtool_conn.execute("SELECT count(*) FROM clients WHERE full_name = 'changed'").fetchone()[0] == CI
    dbtool_session.execute(text("DELETE FROM invoice_tip_splits"))
    dbtool_session.rollback()
    assert dbtool_session.execute(text("SELECT count(*) FROM invoice_tip_splits")).scalar() > 0

def test_session_sees_the_seed(dbtool_session):
    assert dbtool_session.execute(text("SELECT count(*) FROM clients WHERE full_name = 'changed'")).scalar() == 0

def test_engine_is_a_database_of_its_own(dbtool_engine):
    with dbtool_engine.begin() as c:
        c.execute(text("TRUNCATE clients CASCADE"))

def test_engine_again(dbtool_engine):
    with dbtool_engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM clients")).scalar() == CI

def test_async_engine(dbtool_async_engine, dbtool_async_sessionmaker):
    import asyncio

    async def main():
        async with dbtool_async_sessionmaker() as session:
            await session.execute(text("TRUNCATE clients CASCADE"))
            await session.commit()
        async with dbtool_async_engine.connect() as c:
            return (await c.execute(text("SELECT count(*) FROM clients"))).scalar()

    assert asyncio.run(main()) == 0

def test_async_engine_again(dbtool_async_engine):
    import asyncio

    async def main():
        async with dbtool_async_engine.connect() as c:
            return (await c.execute(text("SELECT count(*) FROM clients"))).scalar()

    assert asyncio.run(main()) == CI
""")
    inner.runpytest_inprocess("-p", "no:randomly").assert_outcomes(passed=6)


def test_fixtures_without_sqlalchemy_do_not_import_it(inner: pytest.Pytester) -> None:
    # dbtool_db's template lookup reads the Alembic project (which imports SQLAlchemy's core), but the
    # ORM and asyncio parts are imported only by the fixtures that hand them out.
    inner.makepyfile(HELPERS + """
import sys

def test_conn(dbtool_conn, dbtool_db):
    assert not {"sqlalchemy.orm", "sqlalchemy.ext.asyncio"} & set(sys.modules)
""")
    inner.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_xdist_workers_share_one_shared_template_and_isolate_dbtool_conn(inner: pytest.Pytester) -> None:
    inner.makepyfile(HELPERS + """
@pytest.mark.parametrize("n", range(8))
def test_change(dbtool_conn, n):
    assert count(dbtool_conn) == CI
    dbtool_conn.execute("TRUNCATE clients CASCADE")
    dbtool_conn.commit()
""")
    result = inner.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=8)


def test_the_session_says_where_the_server_runs_and_which_strategy_it_chose(inner: pytest.Pytester, server_url: str) -> None:
    inner.makepyfile("def test_one(dbtool_db):\n    pass\n")
    result = inner.runpytest_inprocess("--dbtool-profile", "ci", "--dbtool-clone-strategy", "auto")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["dbtool: Postgres *, data in *"])
    if _server_version(server_url) >= FILE_COPY_MIN_VERSION:  # before 15 there is only one strategy to use
        result.stdout.fnmatch_lines(["dbtool: clone strategy * (median of 3 clones *"])


def test_the_embedded_test_server_runs_in_ram_when_the_machine_has_it(server_url: str) -> None:
    import psycopg

    from dbtool.testdb.template import describe_server

    if os.environ.get("DBTOOL_TEST_DATABASE_URL") or not Path("/dev/shm").is_dir():
        pytest.skip("not the embedded server, or no /dev/shm here")
    with psycopg.connect(server_url) as conn:
        line = describe_server(conn)
    if "/dev/shm/" not in line:
        pytest.skip(f"not the embedded server ({line})")
    assert "(RAM, tmpfs)" in line and "fsync off" in line and "full_page_writes off" in line, line


@pytest.mark.parametrize(("timings", "chosen"), [
    ({"wal_log": [0.086, 0.09, 0.2], "file_copy": [0.047, 0.05, 0.04]}, "file_copy"),
    ({"wal_log": [0.02, 0.03, 0.02], "file_copy": [0.05, 0.01, 0.06]}, "wal_log"),
    ({"wal_log": [0.02], "file_copy": [0.02]}, "wal_log"),  # a tie keeps the default
    ({}, "wal_log"),
])
def test_pick_strategy(timings: dict[str, list[float]], chosen: str) -> None:
    assert pick_strategy(timings) == chosen


def test_file_system_type_takes_the_longest_mount_point() -> None:
    mounts = "/dev/vda / ext4 rw 0 0\ntmpfs /dev/shm tmpfs rw 0 0\nfoo /mnt/with\\040space xfs rw 0 0\n"
    assert file_system_type("/dev/shm/x/pgdata", mounts) == "tmpfs"
    assert file_system_type("/dev/shmx", mounts) == "ext4"
    assert file_system_type("/mnt/with space/d", mounts) == "xfs"
    assert sys.platform != "linux" or file_system_type("/", Path("/proc/mounts").read_text()) is not None
