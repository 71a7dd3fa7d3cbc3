"""Figures for the pytest plugin: WAL_LOG vs FILE_COPY clones of the dev template on RAM and on disk,
and the marginal cost per trivial test (10, 40 and 200 tests) of dbtool_db and dbtool_conn on both,
with pytest-postgresql's template-database fixture side by side when it is importable.

    .venv/bin/python bench/plugin.py [--repeat 3] [--pytest-postgresql-path DIR]

Two private embedded Postgres servers tuned like the plugin's (fsync, full_page_writes and
synchronous_commit off): one where the plugin starts its own (RAM, /dev/shm), one in the temporary
directory (disk: ext4 here), standing for a DATABASE_URL the user gives. Every pytest run is a real
subprocess with DATABASE_URL pointing at one of them, so server start-up is not in the figures (it
is a constant, not a per-test cost). Medians of --repeat runs; prints figures, asserts nothing.

pytest-postgresql is not a dbtool dependency; install it for the bench only, outside the venv:
    .venv/bin/pip install --no-deps --target bench/out/pytest-postgresql pytest-postgresql mirakuru port-for
and pass --pytest-postgresql-path bench/out/pytest-postgresql. Its `postgresql_proc` cannot run as
root (Postgres refuses), so it uses `postgresql_noproc` on the same RAM server, with its `load` step
running dbtool's reset into its template database: the per-test part (clone, connect, drop) is what
`postgresql_proc` + `postgresql` do.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import psycopg

from dbtool.servers.lookup import embedded_server
from dbtool.settings.config import Settings
from dbtool.testdb.template import (
    STRATEGIES,
    admin_connection,
    describe_server,
    drop_clone,
    ensure_template,
    prefer_file_clone,
    time_clone,
)

COUNTS = (10, 40, 200)
PROBE_CLONES = 9

PYTEST_POSTGRESQL_CONFTEST = """
import os
from urllib.parse import parse_qs, urlsplit
from pytest_postgresql import factories

def load(host, port, user, dbname, password, **_):
    from dbtool.settings.config import Settings
    from dbtool.report import Reporter
    from dbtool.run.reset import reset_database
    url = f"postgresql://{user}@/{dbname}?host={host}&port={port}"
    reset_database(Settings.from_options(database_url=url, profile="ci"), Reporter("text", as_json=True))

_url = urlsplit(os.environ["DATABASE_URL"])
_host = parse_qs(_url.query)["host"][0]
postgresql_noproc_ci = factories.postgresql_noproc(host=_host, port=5432, user="postgres", password="",
                                                   dbname="ppg_bench", load=[load])
postgresql = factories.postgresql("postgresql_noproc_ci")
"""


def write_tests(directory: Path, count: int, fixture: str) -> None:
    """`count` trivial tests asking for `fixture`: dbtool_db's connect once, the others run one query."""
    use = {
        "dbtool_db": "psycopg.connect(dbtool_db).close()",
        "dbtool_conn": "dbtool_conn.execute('SELECT 1')",
        "postgresql": "postgresql.execute('SELECT 1')",
    }[fixture]
    body = "import psycopg\n" + "".join(f"\ndef test_{i}({fixture}):\n    {use}\n" for i in range(count))
    (directory / "test_bench.py").write_text(body)


def run_pytest(directory: Path, env: dict[str, str], *args: str) -> float:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *args],
                          cwd=directory, env=env, capture_output=True, text=True, timeout=900)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"pytest failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return elapsed


def per_test(directory: Path, env: dict[str, str], fixture: str, repeat: int, *args: str) -> dict[int, float]:
    """Median wall time of a run of each count of tests."""
    times: dict[int, float] = {}
    for count in COUNTS:
        write_tests(directory, count, fixture)
        times[count] = statistics.median(run_pytest(directory, env, *args) for _ in range(repeat))
    return times


def clone_strategies(url: str) -> dict[str, float]:
    """Median CREATE DATABASE ... TEMPLATE time of the dev template (ms) per strategy, clones alternated."""
    settings = Settings.from_options(database_url=url, profile="dev")
    timings: dict[str, list[float]] = {s: [] for s in STRATEGIES}
    with admin_connection(url, "bench") as conn:
        template = ensure_template(conn, settings)
        prefer_file_clone(conn)
        for i in range(PROBE_CLONES):
            for strategy in STRATEGIES:
                name = f"bench_clone_{strategy}_{i}"
                timings[strategy].append(time_clone(conn, template.name, name, strategy))
                drop_clone(conn, name)
        size = conn.execute("SELECT pg_database_size(%s)", (template.name,)).fetchone()[0]  # type: ignore[index]
    print(f"  dev template {size / 1e6:.1f} MB")
    return {s: statistics.median(v) * 1000 for s, v in timings.items()}


def header() -> None:
    print(f"\n{'variant':<46} {'server':<6} " + " ".join(f"{c:>4} tests" for c in COUNTS)
          + f" {'per test 10→40':>15} {'10→200':>8}")


def row(name: str, label: str, times: dict[int, float]) -> None:
    """One line of the table, printed as soon as it is measured."""
    short = (times[40] - times[10]) / 30 * 1000
    long = (times[200] - times[10]) / 190 * 1000
    print(f"{name:<46} {label:<6} " + " ".join(f"{times[c]:>9.2f}s" for c in COUNTS)
          + f" {short:>12.1f} ms {long:>5.1f} ms", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--variants", choices=("main", "all"), default="main",
                        help="all: also warm pools of 1 and 4 and WAL_LOG forced")
    parser.add_argument("--pytest-postgresql-path", default=None, help="a --target directory holding pytest-postgresql")
    options = parser.parse_args()
    print(f"{os.cpu_count()} cores, load average at start {os.getloadavg()[0]:.2f}", flush=True)
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="dbtool-bench-plugin-") as tmp:
        servers = {"RAM": embedded_server(stack), "disk": embedded_server(stack, base=tempfile.gettempdir())}
        for label, url in servers.items():
            with psycopg.connect(url) as conn:
                print(f"{label}: {describe_server(conn)}")

        print("\nCREATE DATABASE ... TEMPLATE (dev), median of", PROBE_CLONES)
        strategies = {}
        for label, url in servers.items():
            strategies[label] = clone_strategies(url)
            print(f"  {label}: " + ", ".join(f"{s.upper()} {ms:.1f} ms" for s, ms in strategies[label].items()))

        directory = Path(tmp) / "suite"
        directory.mkdir()
        variants = [
            ("dbtool_db", "RAM", ()), ("dbtool_conn", "RAM", ()),
            ("dbtool_db", "disk", ()), ("dbtool_conn", "disk", ()),
        ]
        if options.variants == "all":
            variants += [("dbtool_db", "RAM", ("--dbtool-warm", "1")), ("dbtool_db", "RAM", ("--dbtool-warm", "4")),
                         ("dbtool_db", "RAM", ("--dbtool-clone-strategy", "wal_log"))]
        header()
        for fixture, label, extra in variants:
            env = {**os.environ, "DATABASE_URL": servers[label]}
            env.pop("PYTEST_XDIST_TESTRUNUID", None)
            times = per_test(directory, env, fixture, options.repeat, "--dbtool-profile", "ci", *extra)
            row(f"{fixture} {' '.join(extra) or '(defaults)'}", label, times)
        if options.pytest_postgresql_path:
            env = {**os.environ, "DATABASE_URL": servers["RAM"],
                   "PYTHONPATH": os.pathsep.join([os.path.abspath(options.pytest_postgresql_path), os.getcwd()])}
            (directory / "conftest.py").write_text(PYTEST_POSTGRESQL_CONFTEST)
            row("pytest-postgresql postgresql (template db)", "RAM", per_test(directory, env, "postgresql", options.repeat))
            (directory / "conftest.py").unlink()
        print(f"\nload average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
