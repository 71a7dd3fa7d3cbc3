"""Scenario 5: a long transaction holding a seeded table makes the reset wait, but never stalls other readers."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from tests.fire import figures
from tests.fire.readers import Readers, signature
from tests.fire.runs import Run, wait_until
from tests.fire.size import FireSize
from tests.fire.state import fingerprint, seconds_until_lock_free

pytestmark = pytest.mark.fire

# Documented bound (README "Guarantees"): while a reset waits for a long transaction, other readers
# of the tables wait at most this long for it, however long that transaction lasts.
READER_WAIT_BOUND = 1.0
JOIN = "SELECT count(*), sum(i.total_cents) FROM invoices i JOIN pets p ON p.id = i.pet_id JOIN clients c ON c.id = p.client_id"


class LongTransaction:
    """A slow report: a transaction holding ACCESS SHARE on pets for `seconds`, in a thread."""

    def __init__(self, url: str, seconds: float) -> None:
        self.pid = 0
        self.released_at = float("inf")
        holding = threading.Event()

        def work() -> None:
            with psycopg.connect(url, application_name="fire-long-report") as conn:
                conn.execute("SELECT count(*) FROM pets")
                self.pid = conn.info.backend_pid
                holding.set()
                time.sleep(seconds)
                conn.rollback()
                self.released_at = time.monotonic()

        self.thread = threading.Thread(target=work, daemon=True)
        self.thread.start()
        assert holding.wait(timeout=30), "the long transaction did not start"
        self.seconds = seconds

    def join(self) -> None:
        self.thread.join(timeout=self.seconds + 30)


def test_reset_waits_for_a_long_transaction_without_stalling_readers(seeded_url: str, size: FireSize) -> None:
    old = signature(seeded_url)
    with Readers(seeded_url, count=3, query=JOIN) as readers:
        holder = LongTransaction(seeded_url, size.hold_seconds)
        started = time.monotonic()
        reset = Run("reset", seeded_url, ("--profile", "ci", "--scale", "2", "--lock-timeout", "120"))
        # The reset says who it waits for...
        wait_until(lambda: any(f"pid {holder.pid} (fire-long-report" in line for line in reset.stdout_lines), 30,
                   "the reset to name the long transaction")
        holder.join()
        outcome = reset.finish()
        released_at = holder.released_at
    assert outcome.code == 0, outcome.output
    # ...finishes only after it ended...
    assert reset.ended is not None and reset.ended > released_at
    # ...and meanwhile the other readers kept going.
    assert readers.errors == [], readers.errors[:5]
    waiting = readers.max_latency(since=started, until=released_at)
    during = sum(1 for t, _ in readers.timings if started <= t < released_at)
    assert during > 0
    assert waiting <= READER_WAIT_BOUND, f"a reader waited {waiting:.2f}s behind the waiting reset"
    assert signature(seeded_url) != old

    figures.count("5 lock waits: reader queries during the long transaction", during)
    figures.maximum("5 lock waits: max reader seconds while the reset waited", waiting)


def test_reset_gives_up_with_75_naming_the_long_transaction(seeded_url: str, size: FireSize) -> None:
    old = fingerprint(seeded_url)
    with Readers(seeded_url, count=3, query=JOIN) as readers:
        holder = LongTransaction(seeded_url, size.hold_seconds)
        outcome = Run("reset", seeded_url, ("--profile", "ci", "--scale", "2", "--lock-timeout", "1")).finish()
        holder.join()
    assert outcome.code == 75, outcome.output
    assert len(outcome.error_lines()) == 1 and "Traceback" not in outcome.output, outcome.stderr
    assert f"pid {holder.pid} (fire-long-report" in outcome.stderr and "--lock-timeout" in outcome.stderr
    assert readers.errors == [], readers.errors[:5]
    assert fingerprint(seeded_url) == old
    seconds_until_lock_free(seeded_url)
