"""The failures dbtool reports to its user; each class carries its exit code."""

from __future__ import annotations

# Exit codes are part of the interface: CronJobs and CI branch on them.
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3
EXIT_UNREACHABLE = 69  # EX_UNAVAILABLE
EXIT_LOCK_BUSY = 75  # EX_TEMPFAIL: try again later
EXIT_SIGINT = 130
EXIT_SIGTERM = 143


class DbtoolError(Exception):
    """Base class for failures reported to the user; the database is unchanged."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, details: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.details = details or {}


class ConfigError(DbtoolError):
    """A flag, environment variable or file setting is invalid."""

    exit_code = EXIT_USAGE


class RefusedError(DbtoolError):
    """The safety guard refused to touch this database."""

    exit_code = EXIT_REFUSED


class UnreachableError(DbtoolError):
    """The database server could not be reached or refused the connection."""

    exit_code = EXIT_UNREACHABLE


class LockBusyError(DbtoolError):
    """Another run holds the advisory lock (or a table lock) past the timeout."""

    exit_code = EXIT_LOCK_BUSY


class LockLostError(DbtoolError):
    """The advisory lock's session ended before commit; the run rolled back."""


class MigrationError(DbtoolError):
    """A migration failed or the requested revision does not exist."""


class TransactionEndedError(DbtoolError):
    """A migration tried to end dbtool's one transaction in a way that cannot be made harmless."""

    exit_code = EXIT_USAGE


class NotAtHeadError(DbtoolError):
    """The schema is not at the head revision, so seed data would not fit it."""


class VerifyMismatchError(DbtoolError):
    """The live data differs from what the recorded seed must produce."""


class Terminated(SystemExit):
    """Raised in the main thread by the SIGTERM handler, like KeyboardInterrupt for SIGINT."""

    # A SystemExit, because psycopg cancels the running query on the server only for KeyboardInterrupt
    # and SystemExit; any other exception leaves the session busy and the rollback impossible.
    def __init__(self) -> None:
        super().__init__(EXIT_SIGTERM)


class InterruptedRun(DbtoolError):
    """The run was stopped by a signal; the transaction was rolled back."""

    def __init__(self, signum: int) -> None:
        import signal

        name = signal.Signals(signum).name
        self.exit_code = 128 + signum
        super().__init__(f"interrupted by {name}; transaction rolled back, lock released, database unchanged")


class NotStarted(DbtoolError):
    """A fleet target that a signal stopped before it began; its database was not touched."""

    def __init__(self, signum: int) -> None:
        import signal

        self.exit_code = 128 + signum
        super().__init__(f"not started: interrupted by {signal.Signals(signum).name}; database not touched")


class CommitOutcomeUnknown(DbtoolError):
    """The run was interrupted while its COMMIT was in flight: the old state or the new one, unknown which."""

    def __init__(self, cause: BaseException) -> None:
        if isinstance(cause, KeyboardInterrupt):
            what, self.exit_code = "interrupted by SIGINT", EXIT_SIGINT
        elif isinstance(cause, Terminated):
            what, self.exit_code = "interrupted by SIGTERM", EXIT_SIGTERM
        elif isinstance(cause, SystemExit):
            what, self.exit_code = "stopped", EXIT_FAILED
        else:
            what, self.exit_code = f"lost the connection ({' '.join(str(cause).split())})", EXIT_UNREACHABLE
        super().__init__(
            f"{what} while committing: the database holds either the old state or the new one, never a mix; "
            "run `dbtool status` to see which (its last_seed and revision)"
        )
