"""Run one pipeline per target, in parallel threads, each target isolated; report each as it ends, then one summary.

Every target runs the same pipeline a single-target command runs (its own pool, advisory lock and
transaction), in a thread of its own: the work is waiting on servers, and threads share one copy
of the generated seed data. Signals reach only the main thread, so on SIGINT/SIGTERM the main
thread stops handing out targets, raises the interrupt in each running target at its next
checkpoint and cancels the statements those targets are waiting on (how a run stops: see
dbtool/run/context.py), so that every transaction in flight rolls back and every lock is released.
"""

from __future__ import annotations

import importlib
import logging
import os
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import psycopg

from dbtool.db import classify
from dbtool.errors import EXIT_FAILED, ConfigError, DbtoolError, InterruptedRun, NotStarted, Terminated
from dbtool.migrate import upgrade as migrate
from dbtool.report import Reporter
from dbtool.run.context import Result, Run, Stop
from dbtool.seed import shared
from dbtool.settings.config import Settings

logger = logging.getLogger(__name__)

PARALLEL_PER_CPU = 4  # targets in flight per core: each mostly waits on its server
MAX_AUTO_PARALLEL = 16  # x 2 connections (lock + work) each: 32 of a server's default 100 slots
MAX_PARALLEL = 256
STOP_GRACE = 10.0  # seconds the running targets get to roll back after a signal before dbtool exits anyway
CANCEL_INTERVAL = 0.2  # seconds between cancel requests to the statements of interrupted targets
POLL_INTERVAL = 0.1  # the main thread wakes this often, so a signal is handled at once

Pipeline = Callable[[Settings, Reporter], Result]


@dataclass(frozen=True)
class Member:
    """One target of a fleet: its name and its validated settings."""

    name: str
    settings: Settings


@dataclass
class Outcome:
    """How one target ended."""

    name: str
    url: str  # user@host:port/dbname, never the password
    exit_code: int = 0
    seconds: float = 0.0
    document: dict[str, Any] | None = None
    error: DbtoolError | None = None
    step: str | None = None
    started: bool = True
    summary: str = ""  # the result in a few words (its `describe()`)

    def record(self) -> dict[str, Any]:
        """This target's entry in the fleet's JSON document."""
        entry: dict[str, Any] = {"target": self.name, "url": self.url, "ok": self.exit_code == 0,
                                 "exit_code": self.exit_code, "duration_ms": round(self.seconds * 1000, 1)}
        if self.document is not None:
            entry["result"] = self.document
        if self.error is not None:
            entry.update(error=type(self.error).__name__, message=" ".join(str(self.error).split()))
            if self.step:
                entry["step"] = self.step
            if self.error.details:
                entry["details"] = self.error.details
        if not self.started:
            entry["started"] = False
        return entry

    def line(self, width: int) -> str:
        """One human line: mark, name, duration and what happened."""
        if self.error is None:
            return f"✓ {self.name:<{width}} {self.seconds:6.2f}s  {self.summary}"
        what = " ".join(str(self.error).split())
        return f"✗ {self.name:<{width}} {self.seconds:6.2f}s  exit {self.exit_code} {type(self.error).__name__}: {what}"


def fleet_exit_code(codes: Iterable[int], interrupted: int | None = None) -> int:
    """0 when every target succeeded; else the code all failures share; else 1. An interrupted run exits 128 + signal."""
    if interrupted:
        return 128 + interrupted
    failed = {code for code in codes if code}
    if not failed:
        return 0
    return failed.pop() if len(failed) == 1 else EXIT_FAILED


def resolve_parallel(requested: int, targets: int) -> int:
    """--parallel N, or automatic (0): 4 per core, at most 16, never more than there are targets."""
    if not 0 <= requested <= MAX_PARALLEL:
        raise ConfigError(f"--parallel {requested} is out of range; use 0 (automatic) to {MAX_PARALLEL}")
    wanted = requested or min(PARALLEL_PER_CPU * (os.cpu_count() or 1), MAX_AUTO_PARALLEL)
    return max(1, min(wanted, targets))


@dataclass
class FleetResult:
    """What a fleet run did, in the order the targets were given."""

    command: str
    outcomes: list[Outcome]
    seconds: float
    parallel: int
    interrupted: int | None = None  # the signal that stopped the run
    chunks: dict[str, int] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return fleet_exit_code((o.exit_code for o in self.outcomes), self.interrupted)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.exit_code]

    def document(self) -> dict[str, Any]:
        """The --json document: counts, the exit code and one entry per target."""
        document: dict[str, Any] = {
            "command": self.command, "targets": len(self.outcomes), "succeeded": len(self.outcomes) - len(self.failed),
            "failed": len(self.failed), "exit_code": self.exit_code, "parallel": self.parallel,
            "duration_ms": round(self.seconds * 1000, 1),
        }
        if self.interrupted:
            document["interrupted"] = signal.Signals(self.interrupted).name
        if self.chunks:
            document["seed_chunks"] = self.chunks
        document["results"] = [o.record() for o in self.outcomes]
        return document

    def summary_line(self) -> str:
        done = len(self.outcomes) - len(self.failed)
        text = f"{self.command}: {done} of {len(self.outcomes)} targets done"
        if self.failed:
            text += f", {len(self.failed)} failed"
        text += f" in {self.seconds:.2f}s ({self.parallel} in parallel)"
        if self.interrupted:
            text += f"; interrupted by {signal.Signals(self.interrupted).name}"
        return text

    def error_line(self) -> str:
        """One line for stderr naming the failed targets and their codes, and the exit code it adds up to."""
        if not self.failed:
            return ""
        shown = ", ".join(f"{o.name} ({o.exit_code})" for o in self.failed[:5])
        more = f" and {len(self.failed) - 5} more" if len(self.failed) > 5 else ""
        return f"{len(self.failed)} of {len(self.outcomes)} targets failed: {shown}{more}; exit {self.exit_code}"


def run_fleet(command: str, members: Sequence[Member], pipeline: Pipeline, reporter: Reporter, parallel: int) -> FleetResult:
    """Run `pipeline` on every member, at most `parallel` at once; one target's failure changes nothing for the others."""
    began = time.perf_counter()
    stop = Stop()
    cache = shared.SharedChunks()
    lock = threading.Lock()
    todo = iter(range(len(members)))
    outcomes: dict[int, Outcome] = {}
    in_flight: dict[int, list[Any]] = {}  # target index -> libpq cancel handles of its connections
    finished: queue.Queue[int] = queue.Queue()
    width = max((len(m.name) for m in members), default=0)
    prepared = [_prepared(m.settings) for m in members]
    if members:
        migrate.preload()
        importlib.import_module("dbtool.seed.load")  # numpy and the generator: first imports racing in threads fail too

    def run_one(index: int) -> Outcome:
        member = members[index]
        settings = prepared[index]
        url = str(settings.target)
        run = Run.target(settings, reporter, member.name, stop, cache)
        with lock:
            in_flight[index] = run.cancels
        started = time.perf_counter()
        try:
            with run.bound():
                if reporter.json_lines:
                    run.reporter.note(f"Target {url}", url=url, command=command)
                value = pipeline(run.settings, run.reporter)
            return Outcome(member.name, url, 0, time.perf_counter() - started, value.document(), summary=value.describe())
        except BaseException as exc:
            error = classify.failure(exc)
            if stop.signum and isinstance(exc, psycopg.errors.QueryCanceled):
                error = InterruptedRun(stop.signum)  # the statement we cancelled because of the signal
            return Outcome(member.name, url, error.exit_code, time.perf_counter() - started, None, error,
                           run.reporter.failed_step)

    def work() -> None:
        try:
            while stop.signum is None:
                with lock:
                    index = next(todo, None)
                    if index is None:
                        return
                    in_flight[index] = []
                outcome = run_one(index)
                with lock:
                    outcomes[index] = outcome
                    in_flight.pop(index, None)
                finished.put(index)
        except BaseException:
            logger.debug("fleet worker ended by an exception", exc_info=True)

    threads = [threading.Thread(target=work, name=f"dbtool-fleet-{i}", daemon=True) for i in range(parallel)]
    for thread in threads:
        thread.start()

    def report(until: float | None) -> None:
        """Print each target as it ends, until every worker is done (or `until`, a monotonic deadline)."""
        while True:
            try:
                index = finished.get(timeout=POLL_INTERVAL)
            except queue.Empty:
                if not any(t.is_alive() for t in threads) and finished.empty():
                    return
                if until is not None and time.monotonic() >= until:
                    return
                continue
            outcome = outcomes[index]
            reporter.target_done(outcome.line(width), _event(command, outcome))

    try:
        report(None)
    except (KeyboardInterrupt, Terminated) as exc:
        stop.request(signal.SIGINT if isinstance(exc, KeyboardInterrupt) else signal.SIGTERM)
        threading.Thread(target=_cancel_until_done, args=(in_flight, lock, threads), name="dbtool-fleet-cancel",
                         daemon=True).start()
        deadline = time.monotonic() + STOP_GRACE
        while True:
            try:
                report(deadline)
                break
            except (KeyboardInterrupt, Terminated):
                continue  # a second signal must not cut short the rollbacks the first one started

    with lock:
        for index, member in enumerate(members):
            if index not in outcomes:
                # Never started, or still rolling back when the grace ran out: the server ends its
                # sessions when this process exits, and rolls the transaction back.
                signum = stop.signum or signal.SIGTERM
                started = index in in_flight
                error = InterruptedRun(signum) if started else NotStarted(signum)
                outcome = Outcome(member.name, str(member.settings.target), error.exit_code, 0.0, None, error,
                                  started=started)
                outcomes[index] = outcome
                reporter.target_done(outcome.line(width), _event(command, outcome))
    chunks = {"generated": cache.generated, "reused": cache.reused} if cache.generated else {}
    return FleetResult(command, [outcomes[i] for i in range(len(members))], time.perf_counter() - began, parallel,
                       stop.signum, chunks)


def _prepared(settings: Settings) -> Settings:
    """A member's settings as its thread uses them, with the project found here, in the main thread."""
    if settings.workers == 0:
        # Generator processes per target would multiply (targets x workers); the fleet's
        # parallelism is across targets, and the chunks are generated once for all of them.
        settings = replace(settings, workers=1)  # Settings found its project when built: replace keeps it
    return settings


def _event(command: str, outcome: Outcome) -> dict[str, Any]:
    """A target's last JSON line: `result` or `error`, tagged with the target."""
    record = outcome.record()
    if outcome.error is None:
        return {"event": "result", "command": command, **record}
    return {"event": "error", "command": command, **record}


def _cancel_until_done(in_flight: dict[int, list[Any]], lock: threading.Lock, threads: list[threading.Thread]) -> None:
    """Cancel the running statement of every interrupted target until they have all ended (idle sessions ignore it)."""
    while any(t.is_alive() for t in threads):
        with lock:
            handles = [h for hs in in_flight.values() for h in hs]
        for handle in handles:
            try:
                handle.cancel()
            except psycopg.Error:
                pass  # the session is gone already: nothing left to cancel
        time.sleep(CANCEL_INTERVAL)

