"""Turn a psycopg error into the DbtoolError the user sees, by SQLSTATE class, not by Python class.

psycopg raises OperationalError for a lost connection and for a cancelled statement alike; the
exit code must tell them apart: 69 means "the server was not there" (a CronJob retries it), 1
means "the run failed and rolled back" (retrying the same thing will fail the same way).
"""

from __future__ import annotations

import psycopg

from dbtool.errors import DbtoolError, UnreachableError

# SQLSTATEs that mean the server or the connection is not available: retry later.
UNREACHABLE = {
    "08000", "08001", "08003", "08004", "08006", "08007", "08P01",  # connection exceptions
    "57P01", "57P02", "57P03",  # admin_shutdown, crash_shutdown, cannot_connect_now
    "53300",  # too_many_connections: the server is full right now
}
CANCELLED = {"57014", "25P03", "25P04"}  # query_canceled (statement_timeout), idle-in-transaction/session timeouts
RESOURCES = ("53",)  # insufficient resources: disk full, out of memory


def classify(exc: psycopg.Error) -> DbtoolError:
    """The one-line failure for `exc`, with the exit code its SQLSTATE calls for."""
    reason = " ".join(str(exc).split()) or type(exc).__name__
    state = exc.sqlstate
    if state in UNREACHABLE or (state is None and isinstance(exc, psycopg.OperationalError)):
        # No SQLSTATE on an OperationalError: libpq lost the connection before the server said why.
        if state == "53300":
            return UnreachableError(f"the server has no free connection slots ({reason}); retry later or lower --pool-max")
        return UnreachableError(f"lost the database connection: {reason}; the transaction was rolled back")
    if state in CANCELLED:
        return DbtoolError(f"the server cancelled a statement ({reason}); the transaction was rolled back; "
                           "check statement_timeout and the server's timeouts")
    if state and state.startswith(RESOURCES):
        return DbtoolError(f"the server ran out of resources: {reason}; the transaction was rolled back")
    return DbtoolError(f"database error: {reason}; the transaction was rolled back")


def failure(exc: BaseException) -> DbtoolError:
    """Any exception a pipeline raised, as the DbtoolError the user sees (the mapping `cli.run._run` applies)."""
    import logging
    import signal

    from dbtool.errors import InterruptedRun, Terminated

    if isinstance(exc, DbtoolError):
        return exc
    if isinstance(exc, KeyboardInterrupt):
        return InterruptedRun(signal.SIGINT)
    if isinstance(exc, Terminated):
        return InterruptedRun(signal.SIGTERM)
    if isinstance(exc, psycopg.Error):
        return classify(exc)
    # A bug, not a user error: still one line; the traceback is for --verbose.
    logging.getLogger(__name__).debug("unexpected failure", exc_info=exc)
    return DbtoolError(
        f"unexpected {type(exc).__name__}: {' '.join(str(exc).split()) or type(exc).__name__}; nothing was committed; "
        "run with --verbose for the traceback and report it"
    )
