"""Run: what one command does its work with (settings, reporter, the stop signal, the chunk cache), and how it stops.

A run stops in one way: the main thread receives SIGINT or SIGTERM and `Stop.request`s it; the run
raises the interrupt at its next checkpoint (each reporter step, note and COPY chunk, and each poll
while Alembic waits for its import lock), and the statements it is waiting on are cancelled by the
libpq handles its connections registered (`Run.cancels`). `Run.bound` is the one place that hands
these to the layers below (the pool, migrate and the seed's chunk cache take them from context
variables, since they run in other threads and under other people's code).
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from dbtool.db.pool import CONNECTION_OBSERVER
from dbtool.errors import Terminated
from dbtool.migrate import upgrade as migrate
from dbtool.report import Reporter, TargetReporter
from dbtool.seed import shared
from dbtool.settings.config import Settings


class Result(Protocol):
    """What a pipeline returns: a result that presents itself."""

    def document(self) -> dict[str, Any]:
        """The --json document."""
        ...

    def describe(self) -> str:
        """The result in a few words (a fleet's line per target)."""
        ...


class Stop:
    """The interrupt the main thread received, raised again in each run's thread at its next checkpoint."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def request(self, signum: int) -> None:
        self.signum = self.signum or signum

    def checkpoint(self) -> None:
        if self.signum == signal.SIGTERM:
            raise Terminated()
        if self.signum is not None:
            raise KeyboardInterrupt()


@dataclass
class Run:
    """One command on one database: its settings and reporter, the stop it obeys and the chunks it may share."""

    settings: Settings
    reporter: Reporter
    stop: Stop = field(default_factory=Stop)
    chunks: shared.SharedChunks | None = None  # a fleet's: chunks generated once for every target
    cancels: list[Any] = field(default_factory=list)  # libpq cancel handles of the run's connections (bound runs)

    @classmethod
    def target(cls, settings: Settings, parent: Reporter, name: str, stop: Stop, chunks: shared.SharedChunks) -> Run:
        """A fleet target's run: its reporter tags its events and checks `stop` at every step, note and chunk."""
        return cls(settings, TargetReporter(parent, name, stop.checkpoint), stop, chunks)

    @classmethod
    def of(cls, settings: Settings, reporter: Reporter) -> Run:
        """The run a pipeline works in: the one bound in this thread for `reporter` (with `settings`), else a new one."""
        bound = _BOUND.get()
        if bound is not None and bound.reporter is reporter:
            return bound if bound.settings is settings else replace(bound, settings=settings)
        return cls(settings, reporter)

    def checkpoint(self) -> None:
        """Raise the interrupt this run was told to stop by, if any."""
        self.stop.checkpoint()

    @contextmanager
    def bound(self) -> Iterator[Run]:
        """Make this the thread's run: its connections register their cancel handles, Alembic's import
        waits check its stop, its seed serves chunks from its cache; all undone on exit."""
        with ExitStack() as stack:
            observer = CONNECTION_OBSERVER.set(lambda conn: self.cancels.append(conn.pgconn.get_cancel()))
            stack.callback(CONNECTION_OBSERVER.reset, observer)
            waiting = migrate.WHILE_WAITING.set(self.checkpoint)
            stack.callback(migrate.WHILE_WAITING.reset, waiting)
            if self.chunks is not None:
                stack.enter_context(shared.sharing(self.chunks))
            token = _BOUND.set(self)
            stack.callback(_BOUND.reset, token)
            yield self


_BOUND: ContextVar[Run | None] = ContextVar("dbtool_run", default=None)
