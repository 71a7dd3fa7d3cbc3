"""The swap strategy under fire: busy readers, kill -9 while building and swapping, SIGTERM while building."""

from __future__ import annotations

import json
import signal
import time

import psycopg
import pytest

from tests.fire import figures
from tests.fire.readers import Readers, signature
from tests.fire.runs import Run, reset_in_process, run
from tests.fire.state import Fingerprint, fingerprint, seconds_until_lock_free, which_state

pytestmark = pytest.mark.fire

BIG_A = ("--profile", "load", "--scale", "5", "--seed", "1")
BIG_B = ("--profile", "load", "--scale", "6", "--seed", "2")
# One cheap statement that touches every seeded table (so it takes their locks) and tells the states
# apart: what it waits for is the reset, not its own work competing with the load for the CPU.
LIGHT_SQL = """
SELECT (SELECT count(*) FROM staff), (SELECT count(*) FROM clients),
       (SELECT count(*) FROM (SELECT 1 FROM services UNION ALL SELECT 1 FROM pets WHERE false
        UNION ALL SELECT 1 FROM invoices WHERE false UNION ALL SELECT 1 FROM invoice_line_items WHERE false
        UNION ALL SELECT 1 FROM invoice_tip_splits WHERE false UNION ALL SELECT 1 FROM grooming_visit_logs WHERE false) t)
"""
LEFTOVERS = "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'dbtool\\_%'"


def _worst_wait(url: str, strategy: str, a: tuple[int, ...], b: tuple[int, ...], rounds: int = 2) -> float:
    """Readers' longest query while `rounds` resets alternate between the two states, counted from each
    run's advisory lock on: before it, a starting interpreter competes with them for the 2 cores alike."""
    worst = 0.0
    with Readers(url, count=3, query=LIGHT_SQL, accept=lambda row: row in (a, b)) as readers:
        for i in range(rounds):
            victim = Run("reset", url, (*(BIG_B if i % 2 == 0 else BIG_A), "--strategy", strategy), log_format="json")
            locked = victim.wait_for_step("lock")
            outcome = victim.finish()
            assert outcome.code == 0, outcome.output
            worst = max(worst, readers.max_latency(since=locked))
    assert readers.errors == [], readers.errors[:5]
    assert readers.rejected == [], f"partial states seen: {readers.rejected[:3]}"
    assert readers.seen[a] and readers.seen[b], "the readers must have seen both states"
    return worst


def test_readers_see_old_or_new_state_and_wait_far_less_than_with_one_transaction(database_url: str) -> None:
    url = database_url
    reset_in_process(url, *BIG_B)
    b = signature(url, LIGHT_SQL)
    reset_in_process(url, *BIG_A)
    a = signature(url, LIGHT_SQL)
    by_transaction = _worst_wait(url, "transaction", a, b)
    by_swap = _worst_wait(url, "swap", a, b)
    figures.maximum("swap: worst reader query seconds, transaction strategy", by_transaction)
    figures.maximum("swap: worst reader query seconds, swap strategy", by_swap)
    assert by_swap < by_transaction / 2, (by_swap, by_transaction)


def _steps(outcome_stdout: str) -> dict[str, float]:
    return {e["step"]: e["duration_ms"] / 1000 for e in map(json.loads, outcome_stdout.splitlines()) if e.get("event") == "step"}


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.15, 0.3])
@pytest.mark.parametrize("after", ["shadow", "migrate", "seed", "digest", "swap"])
def test_kill_9_while_building_or_swapping_leaves_old_or_new_state(database_url: str, after: str, delay: float) -> None:
    """20 kill points: the end of each step, and 50, 150 and 300 ms into the next one."""
    url = database_url
    reset_in_process(url, *BIG_B)
    new_data = fingerprint(url)
    reset_in_process(url, *BIG_A)
    old = fingerprint(url)
    new = Fingerprint(new_data.tables, new_data.revision, old.meta_rows + 1, new_data.last_digest)
    victim = Run("reset", url, (*BIG_B, "--strategy", "swap"), log_format="json")
    victim.wait_for_step(after)
    time.sleep(delay)
    victim.kill()
    victim.finish()
    seconds_until_lock_free(url)
    state = which_state(fingerprint(url), old, new)
    figures.count(f"swap: kill -9 after {after} +{delay * 1000:.0f} ms: {state}", 1)
    again = run("reset", url, *BIG_A, "--strategy", "swap", log_format="json")
    assert again.code == 0, again.output
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute(LEFTOVERS).fetchone() == (0,)
    assert fingerprint(url).tables == old.tables


def test_sigterm_while_building_leaves_the_old_state_and_a_shadow_the_next_run_removes(database_url: str) -> None:
    url = database_url
    reset_in_process(url, *BIG_A)
    old = fingerprint(url)
    victim = Run("reset", url, (*BIG_B, "--strategy", "swap"), log_format="json")
    victim.wait_for_step("migrate")
    sent = victim.send(signal.SIGTERM)
    outcome = victim.finish()
    assert outcome.code == 143, outcome.output
    assert (victim.ended or time.monotonic()) - sent < 5.0
    assert fingerprint(url) == old
    status = run("status", url, "--json")
    assert status.code == 0, status.output
    leftovers = json.loads(status.stdout)["leftovers"]
    assert leftovers in ([], ["dbtool_shadow_public"])
    again = run("reset", url, *BIG_B, "--strategy", "swap", log_format="json")
    assert again.code == 0, again.output
    assert json.loads(run("status", url, "--json").stdout)["leftovers"] == []
