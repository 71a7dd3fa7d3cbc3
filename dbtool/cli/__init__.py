"""The command line: parse options, call one pipeline function, turn DbtoolError into its exit code; no SQL here.

`app` (app.py) holds the options, `run.py` what every command does around its pipeline,
`commands.py` and `embedded.py` the commands.

Exit codes: 0 done; 1 failed and rolled back (database unchanged); 2 bad usage or configuration;
3 refused by the safety guard; 69 database unreachable; 75 lock not acquired in time (another
run holds it); 130/143 interrupted by SIGINT/SIGTERM (rolled back, lock released).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from typing import Annotated, Any

import typer

from dbtool import __version__
from dbtool.cli import commands, embedded  # noqa: F401  (importing them registers their commands on the app)
from dbtool.cli.app import LogFormatFirst, Verbose, app, declared
from dbtool.cli.run import _configure_logging, _load_settings_file
from dbtool.errors import EXIT_USAGE, Terminated
from dbtool.settings.options import OPTIONS

__all__ = ["app", "main"]


def _version_callback(value: bool) -> None:
    if value:
        print(f"dbtool {__version__}")
        raise typer.Exit()


@app.callback()
@declared
def _root(
    ctx: typer.Context,
    *,
    version: Annotated[bool, typer.Option(*OPTIONS["version"].flags, callback=_version_callback, is_eager=True,
                                          help=OPTIONS["version"].help)],
    verbose: Verbose,
    log_format: LogFormatFirst = None,
) -> None:
    _load_settings_file(ctx, log_format)
    _configure_logging(verbose)


def _terminate(signum: int, frame: Any) -> None:
    # One SIGTERM stops the run; a second one (a supervisor and the process group both send it) must
    # not interrupt the rollback and cancellation that the first one started.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Terminated()


def main(argv: list[str] | None = None) -> None:
    """Console entry point: one-line errors for usage mistakes, exit codes as documented."""
    signal.signal(signal.SIGTERM, _terminate)
    command = typer.main.get_command(app)
    try:
        code = command.main(args=argv, prog_name="dbtool", standalone_mode=False)
    except typer.TyperException as exc:
        ctx = getattr(exc, "ctx", None)
        where = f"`{ctx.command_path} --help`" if ctx is not None and ctx.command_path != "dbtool" else "`dbtool --help`"
        print(f"dbtool: error: {' '.join(exc.format_message().split()).rstrip('.')}; see {where}", file=sys.stderr)
        sys.exit(EXIT_USAGE)
    except typer.Abort:
        print("dbtool: error: aborted; nothing was changed", file=sys.stderr)
        sys.exit(130)
    except KeyboardInterrupt:
        print("dbtool: error: interrupted by SIGINT; nothing was changed", file=sys.stderr)
        sys.exit(130)
    except Terminated:
        print("dbtool: error: interrupted by SIGTERM; nothing was changed", file=sys.stderr)
        sys.exit(143)
    code = code if isinstance(code, int) else 0
    if argv is None:  # the console script: nothing is left to clean up, skip interpreter finalization
        _exit_now(code)
    sys.exit(code)


def _exit_now(code: int) -> None:
    # Tearing down numpy, psycopg and typer's modules at exit costs ~0.1 s, a sixth of a dev reset.
    # By now the pool is closed, the lock released and the transaction over; flush and leave.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
