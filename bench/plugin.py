"""Figures for the pytest plugin: template build time, marginal cost per test of dbtool_db (10 vs 40
tests, with and without a warm pool) against a `dbtool reset` per test, a pytest -n 2 run, and the
databases left after a normal and after a killed run.

    .venv/bin/python bench/plugin.py [--repeat 3]

Runs on a private embedded Postgres (fsync off, like dbtool's tests); every pytest run is a real
subprocess with DATABASE_URL pointing at it. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import psycopg

from dbtool.config import Settings
from dbtool.server_lookup import embedded_server
from dbtool.template import admin_connection, ensure_template

RESET_CONFTEST = """
import uuid, psycopg, pytest
from dbtool.config import Settings
from dbtool.report import Reporter
from dbtool.reset import reset_database
from dbtool.template import with_database

@pytest.fixture
def reset_db():
    server = __import__("os").environ["DATABASE_URL"]
    name = "bench_reset_" + uuid.uuid4().hex[:8]
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = with_database(server, name)
    reset_database(Settings.from_options(database_url=url, profile="ci"), Reporter("text", as_json=True))
    yield url
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
"""


def write_tests(directory: Path, count: int, fixture: str) -> None:
    """`count` tests that each ask for `fixture` and run one query on it."""
    body = "import psycopg\n" + "".join(
        f"\ndef test_{i}({fixture}):\n    psycopg.connect({fixture}).close()\n" for i in range(count)
    )
    (directory / "test_bench.py").write_text(body)


def run_pytest(directory: Path, env: dict[str, str], *args: str) -> float:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *args],
                          cwd=directory, env=env, capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, -9):
        raise SystemExit(f"pytest failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return elapsed


def leftovers(url: str) -> list[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        return [r[0] for r in conn.execute(
            r"SELECT datname FROM pg_database WHERE datname LIKE 'dbtool\_clone\_%' OR datname LIKE 'dbtool\_build\_%'"
            r" OR datname LIKE 'bench\_reset\_%'")]


def marginal(directory: Path, env: dict[str, str], fixture: str, repeat: int, *args: str) -> tuple[float, float, float]:
    """Best-of-`repeat` wall times for 10 and 40 tests, and the marginal cost of one test."""
    times = {}
    for count in (10, 40):
        write_tests(directory, count, fixture)
        times[count] = min(run_pytest(directory, env, *args) for _ in range(repeat))
    return times[10], times[40], (times[40] - times[10]) / 30


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="dbtool-bench-plugin-") as tmp:
        server = embedded_server(stack)
        with psycopg.connect(server) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
        print(f"server: Postgres {version} (embedded, fsync off); {os.cpu_count()} cores")
        env = {**os.environ, "DATABASE_URL": server}
        env.pop("PYTEST_XDIST_TESTRUNUID", None)

        settings = Settings.from_options(database_url=server, profile="ci")
        with admin_connection(server, "bench") as conn:
            built = ensure_template(conn, settings)
            found = ensure_template(conn, settings)
        print(f"template build (ci profile, built-in example): {built.seconds * 1000:.0f} ms; "
              f"finding it again: {found.seconds * 1000:.1f} ms")

        directory = Path(tmp) / "suite"
        directory.mkdir()
        rows = []
        for label, fixture, args in (
            ("dbtool_db, warm pool 2 (default)", "dbtool_db", ("--dbtool-profile", "ci")),
            ("dbtool_db, warm pool 4", "dbtool_db", ("--dbtool-profile", "ci", "--dbtool-warm", "4")),
            ("dbtool_db, warm pool 1", "dbtool_db", ("--dbtool-profile", "ci", "--dbtool-warm", "1")),
            ("dbtool_db, no warm pool", "dbtool_db", ("--dbtool-profile", "ci", "--dbtool-warm", "0")),
            ("dbtool_db, no warm pool, FILE_COPY", "dbtool_db",
             ("--dbtool-profile", "ci", "--dbtool-warm", "0", "--dbtool-clone-strategy", "file_copy")),
            ("dbtool reset per test (ci)", "reset_db", ()),
        ):
            if fixture == "reset_db":
                (directory / "conftest.py").write_text(RESET_CONFTEST)
            t10, t40, per_test = marginal(directory, env, fixture, options.repeat, *args)
            rows.append((label, t10, t40, per_test))
        (directory / "conftest.py").unlink()
        print(f"\n{'variant':<40} {'10 tests':>9} {'40 tests':>9} {'per test':>9}")
        for label, t10, t40, per_test in rows:
            print(f"{label:<40} {t10:>8.2f}s {t40:>8.2f}s {per_test * 1000:>7.1f}ms")

        seed = str(uuid.uuid4().int % 1_000_000)  # a state not built yet: the workers must build it once
        write_tests(directory, 40, "dbtool_db")
        serial = run_pytest(directory, env, "--dbtool-profile", "ci", "--dbtool-seed", seed)
        seed = str(uuid.uuid4().int % 1_000_000)
        parallel = run_pytest(directory, env, "-n", "2", "--dbtool-profile", "ci", "--dbtool-seed", seed)
        print(f"\n40 tests, template built in the run: serial {serial:.2f}s, pytest -n 2 {parallel:.2f}s")
        with psycopg.connect(server, autocommit=True) as conn:
            templates = conn.execute(r"SELECT count(*) FROM pg_database WHERE datname LIKE 'dbtool\_tpl\_%'").fetchone()[0]  # type: ignore[index]
        print(f"templates on the server: {templates} (ci seed 42, plus one per seed the two runs above used)")

        print(f"\nleft after the normal runs: {len(leftovers(server))} databases")
        (directory / "test_bench.py").write_text(
            "import os, signal\n" + "".join(f"\ndef test_{i}(dbtool_db):\n    pass\n" for i in range(5))
            + "\ndef test_killed(dbtool_db):\n    os.kill(os.getpid(), signal.SIGKILL)\n"
        )
        run_pytest(directory, env, "--dbtool-profile", "ci")
        killed = leftovers(server)
        print(f"left right after a run killed with SIGKILL: {len(killed)} databases ({', '.join(killed)})")
        write_tests(directory, 1, "dbtool_db")
        run_pytest(directory, env, "--dbtool-profile", "ci")
        print(f"left after the next run: {len(leftovers(server))} databases")


if __name__ == "__main__":
    main()
