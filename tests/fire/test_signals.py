"""Scenario 3: SIGTERM and SIGINT mid-run exit 143 / 130 within 5 s, roll back, release the lock, say so in one line."""

from __future__ import annotations

import random
import signal
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import psycopg
import pytest

from dbtool.settings.config import ADVISORY_LOCK_KEY
from tests.fire import figures
from tests.fire.runs import Run, end_processes
from tests.fire.size import fire_size
from tests.fire.state import (
    LOCK_FREE_BOUND,
    SIGNAL_EXIT_BOUND,
    advisory_lock_holders,
    connect,
    copying_generated_rows,
    fingerprint,
    seconds_until_backends_gone,
    seconds_until_lock_free,
    wait_for_backend,
)

pytestmark = pytest.mark.fire

LOAD = ("--profile", "load", "--scale", "20", "--seed", "7")


@dataclass(frozen=True)
class Case:
    """Where the run is when the signal arrives, and how the signal is sent."""

    command: str
    signum: int
    point: str  # advisory-lock, table-lock, migrate, copy, digest
    args: tuple[str, ...] = ("--profile", "ci", "--seed", "5")
    group: bool = False  # to the whole process group, as a terminal's Ctrl-C

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


CASES = {
    "sigterm-waiting-for-the-advisory-lock": Case("reset", signal.SIGTERM, "advisory-lock"),
    "sigterm-blocked-in-lock-table": Case("reset", signal.SIGTERM, "table-lock"),
    "sigint-blocked-in-lock-table": Case("reset", signal.SIGINT, "table-lock"),
    "sigterm-in-alembic-migrate": Case("reset", signal.SIGTERM, "migrate"),
    "sigterm-during-copy": Case("reset", signal.SIGTERM, "copy", LOAD),
    "sigterm-blocked-in-digest-query": Case("reset", signal.SIGTERM, "digest", LOAD),
    "sigterm-during-copy-with-generator-workers": Case("reset", signal.SIGTERM, "copy", (*LOAD, "--workers", "2")),
    "sigint-to-the-process-group-during-copy-with-workers": Case(
        "reset", signal.SIGINT, "copy", (*LOAD, "--workers", "2"), group=True),
    "sigterm-seed-command-during-copy": Case("seed", signal.SIGTERM, "copy", LOAD),
    "sigint-seed-command-during-copy": Case("seed", signal.SIGINT, "copy", LOAD),
}
REPEATS = fire_size().signal_repeats
KNOWN_BUGS: dict[str, str] = {}  # case name -> reason, for a strict xfail while a bug is open


@contextmanager
def sigint_default() -> Iterator[None]:
    # A process started with SIGINT ignored (a background job) keeps ignoring it; a terminal's
    # foreground job does not. Start dbtool as the latter.
    previous = signal.getsignal(signal.SIGINT)
    if previous == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        if previous == signal.SIG_IGN:
            signal.signal(signal.SIGINT, previous)


def _reach(case: Case, url: str, rng: random.Random, stack: ExitStack) -> Run:
    """Start the run and return once it is at `case.point`."""
    watch = stack.enter_context(connect(url))
    if case.point == "advisory-lock":
        holder = stack.enter_context(psycopg.connect(url, autocommit=True))
        holder.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))
    if case.point == "table-lock":
        holder = stack.enter_context(psycopg.connect(url))
        holder.execute("SELECT count(*) FROM pets")  # ACCESS SHARE until the test ends
    with sigint_default():
        run = Run(case.command, url, (*case.args, "--lock-timeout", "120"), new_session=case.group)
    if case.point == "advisory-lock":
        wait_for_backend(watch, run.pid, "polling for the advisory lock",
                         lambda state, wait, query: "pg_try_advisory_lock" in query)
    elif case.point == "table-lock":
        wait_for_backend(watch, run.pid, "waiting in LOCK TABLE",
                         lambda state, wait, query: wait == "Lock" and query.startswith("LOCK TABLE"))
    elif case.point == "migrate":
        run.wait_for_step("drop")
        time.sleep(rng.uniform(0, 0.2))
    elif case.point == "copy":
        wait_for_backend(watch, run.pid, "a COPY of generated rows", copying_generated_rows)
        time.sleep(rng.uniform(0, 0.3))
    elif case.point == "digest":
        run.wait_for_step("seed")  # the digest query runs on the server next
    return run


@pytest.mark.parametrize("repeat", range(REPEATS))
@pytest.mark.parametrize("name", [
    pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[name])) if name in KNOWN_BUGS else name
    for name in CASES
])
def test_a_signal_mid_run_rolls_back_and_exits_promptly(name: str, repeat: int, seeded_url: str) -> None:
    case = CASES[name]
    old = fingerprint(seeded_url)
    rng = random.Random(f"{name}-{repeat}")
    with ExitStack() as stack:
        run = _reach(case, seeded_url, rng, stack)
        sent = run.send(case.signum, group=case.group)
        outcome = run.finish(timeout=60)
        took = run.ended - sent  # type: ignore[operator]
        if case.point == "advisory-lock":
            assert advisory_lock_holders(seeded_url) != [], "the test's holder must still hold the lock"
    leaked = run.descendants()
    end_processes(leaked)

    assert outcome.code == case.exit_code, f"exit {outcome.code}:\n{outcome.output}"
    assert took <= SIGNAL_EXIT_BOUND, f"exited {took:.2f}s after the signal"
    name_of = signal.Signals(case.signum).name
    assert outcome.error_lines() == [outcome.error_lines()[0]] and outcome.error_lines()[0].startswith("dbtool: error:"), \
        f"want one error line on stderr:\n{outcome.stderr}"
    assert f"interrupted by {name_of}" in outcome.stderr and "rolled back" in outcome.stderr, outcome.stderr
    assert "Traceback" not in outcome.output and "KeyboardInterrupt" not in outcome.output, outcome.output
    assert fingerprint(seeded_url) == old, "the old state must be intact"
    seconds_until_lock_free(seeded_url)
    seconds_until_backends_gone(seeded_url, run.pid, LOCK_FREE_BOUND)
    assert leaked == [], f"generator processes outlived dbtool: {leaked}"

    figures.count("3 signals: interrupted runs", 1)
    figures.maximum("3 signals: max seconds from signal to exit", took)
