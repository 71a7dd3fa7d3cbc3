"""`dbtool local ...`: the embedded Postgres from the wheel."""

from __future__ import annotations

import sys
from typing import Any

import typer

from dbtool.cli.app import AsJson, DataDir, Yes, declared, local_app
from dbtool.cli.run import _reporter, _run
from dbtool.errors import DbtoolError


@local_app.command("up")
@declared
def local_up(*, data_dir: DataDir, as_json: AsJson) -> None:
    """Start the embedded Postgres (reusing its data directory) and print its URL."""
    from dbtool.servers import local

    reporter = _reporter("text", as_json)
    server = _run(reporter, lambda: local.up(data_dir))
    reporter.result(f"embedded Postgres running in {server.data_dir}\n{server.url}",
                    {"data_dir": str(server.data_dir), "url": server.url, "pid": server.pid})


def _running(reporter: Any, data_dir: str | None) -> Any:
    """The embedded server, started if needed (saying so on stderr: stdout is for the URL or the shell line)."""
    from dbtool.servers import local

    server = _run(reporter, lambda: local.up(data_dir))
    if server.started:
        reporter.aside(f"started embedded Postgres in {server.data_dir} (it was not running)")
    return server


@local_app.command("url")
@declared
def local_url(*, data_dir: DataDir) -> None:
    """Print the embedded database URL (starting the server if needed, and saying so on stderr)."""
    reporter = _reporter("text")
    server = _running(reporter, data_dir)
    reporter.result(server.url, {"url": server.url})


@local_app.command("env")
@declared
def local_env(*, data_dir: DataDir) -> None:
    """Print a shell line putting the server's own psql/pg_dump first on PATH and setting DATABASE_URL: eval "$(dbtool local env)"."""
    from dbtool.servers import local

    reporter = _reporter("text")
    server = _running(reporter, data_dir)
    reporter.result(local.env_line(server), {"path": str(server.bin_dir), "url": server.url})


@local_app.command("status")
@declared
def local_status(*, data_dir: DataDir, as_json: AsJson) -> None:
    """Say whether the embedded Postgres is running (exit 1 when it is not)."""
    from dbtool.servers import local

    reporter = _reporter("text", as_json)
    server = _run(reporter, lambda: local.running(data_dir) if local.available() else None)
    directory = local.data_dir(data_dir)
    reporter.result(
        f"running (pid {server.pid}) in {directory}" if server else f"not running ({directory})",
        {"running": server is not None, "data_dir": str(directory), "pid": server.pid if server else None},
    )
    if server is None:
        raise typer.Exit(code=1)


@local_app.command("down")
@declared
def local_down(*, data_dir: DataDir) -> None:
    """Stop the embedded Postgres (the data directory is kept)."""
    from dbtool.servers import local

    reporter = _reporter("text")
    stopped = _run(reporter, lambda: local.down(data_dir))
    reporter.result("stopped" if stopped else "was not running", {"stopped": stopped})


@local_app.command("destroy")
@declared
def local_destroy(*, data_dir: DataDir, yes: Yes) -> None:
    """Stop the embedded Postgres and delete its data directory."""
    from dbtool.servers import local

    reporter = _reporter("text")
    directory = local.data_dir(data_dir)
    if not yes and sys.stdin.isatty() and not typer.confirm(f"Delete {directory} and all its databases?"):
        reporter.failure(DbtoolError("not confirmed; nothing was deleted"))
        raise typer.Exit(code=1)
    removed = _run(reporter, lambda: local.destroy(data_dir))
    reporter.result(f"deleted {directory}" if removed else f"nothing at {directory}", {"deleted": removed})
