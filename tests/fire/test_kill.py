"""Scenario 2: kill -9 during drop, migrate and seed leaves the old state or the new one, and no stuck lock."""

from __future__ import annotations

import json
import random
import time
from collections import Counter

import psycopg
import pytest

from tests.fire import figures
from tests.fire.runs import Run, end_processes, run, wait_until
from tests.fire.size import FireSize
from tests.fire.state import (
    LOCK_FREE_BOUND,
    Fingerprint,
    connect,
    copying_generated_rows,
    fingerprint,
    seconds_until_backends_gone,
    seconds_until_lock_free,
    wait_for_backend,
    which_state,
)

pytestmark = pytest.mark.fire

PHASES = ("drop", "migrate", "seed")
# The run that gets killed: big enough that its seed lasts about a second.
VICTIM = ("--profile", "load", "--scale", "20", "--seed", "7")
BACKENDS_GONE_BOUND = 30.0  # an orphaned server session finishes its statement, notices, and ends


def _kill_during(phase: str, url: str, rng: random.Random, durations: dict[str, float], workers: str,
                 hold_a_table: bool) -> Run:
    """Start the victim reset and kill -9 it at a deterministic, phase-dependent point; return it dead."""
    args = (*VICTIM, "--workers", workers)
    if phase == "drop" and hold_a_table:
        # Mid-drop with table locks held: a reader's lock makes LOCK TABLE wait, and we kill it there.
        with psycopg.connect(url) as holder, connect(url) as watch:
            holder.execute("SELECT count(*) FROM pets")
            victim = Run("reset", url, args, log_format="json")
            wait_for_backend(watch, victim.pid, "the reset to wait for a table lock",
                             lambda state, wait, query: wait == "Lock" and query.startswith("LOCK TABLE"))
            time.sleep(rng.uniform(0, 0.05))
            victim.kill()
            holder.rollback()
        return victim
    victim = Run("reset", url, args, log_format="json")
    previous = {"drop": "lock", "migrate": "drop", "seed": "migrate"}[phase]
    window = {"drop": 0.02, "migrate": 0.8 * durations["migrate"], "seed": 0.9 * durations["seed"]}[phase]
    victim.wait_for_step(previous)
    time.sleep(rng.uniform(0, window))
    victim.kill()
    return victim


def test_kill_9_mid_run_leaves_old_or_new_state_and_a_free_lock(database_url: str, size: FireSize) -> None:
    url = database_url
    # The new state, and how long its migrate (Alembic, no cache yet) and seed steps take here.
    outcome = run("reset", url, *VICTIM, log_format="json")
    assert outcome.code == 0, outcome.output
    durations = {e["step"]: e["duration_ms"] / 1000 for e in map(json.loads, outcome.stdout.splitlines())
                 if e.get("event") == "step"}
    new_data = fingerprint(url)

    observed: Counter[str] = Counter()
    lock_free: list[float] = []
    for i in range(size.kills):
        rng = random.Random(f"kill-{i}")
        # The old state: a small reset, different for every kill. It is also "the next reset after a
        # kill", which must succeed with no manual cleanup.
        restore = run("reset", url, "--profile", "ci", "--seed", str(100 + i))
        assert restore.code == 0, f"reset after kill {i - 1} failed:\n{restore.output}"
        old = fingerprint(url)
        new = Fingerprint(new_data.tables, new_data.revision, old.meta_rows + 1, new_data.last_digest)

        phase, turn = PHASES[i % len(PHASES)], i // len(PHASES)
        # Every other seed kill runs generator workers; every other drop kill is held in LOCK TABLE.
        workers = "2" if phase == "seed" and turn % 2 else "1"
        victim = _kill_during(phase, url, rng, durations, workers, hold_a_table=turn % 2 == 0)
        died = victim.finish(timeout=30)
        assert died.code == -9, f"kill {i} ({phase}): the run was not killed:\n{died.output}"
        observed[victim.phase()] += 1
        # Only a safety net: that workers exit with their parent is asserted by
        # test_kill_9_during_a_parallel_seed_leaves_no_generator_process below.
        end_processes(victim.descendants())

        lock_free.append(seconds_until_lock_free(url))
        seconds_until_backends_gone(url, victim.pid, BACKENDS_GONE_BOUND)
        which_state(fingerprint(url), old, new)

    final = run("reset", url, "--profile", "ci")
    assert final.code == 0, final.output
    assert run("verify", url).code == 0
    # Every planned phase was really hit (the step after the last one the victim printed).
    assert all(observed[p] for p in PHASES), observed

    figures.count("2 kill -9: kills survived", size.kills)
    for phase, n in observed.items():
        figures.count(f"2 kill -9: killed during {phase}", n)
    figures.maximum("2 kill -9: max seconds until the lock was free", max(lock_free))


def test_kill_9_during_a_parallel_seed_leaves_no_generator_process(seeded_url: str) -> None:
    with connect(seeded_url) as watch:
        victim = Run("reset", seeded_url, (*VICTIM, "--workers", "2"), log_format="json")
        wait_for_backend(watch, victim.pid, "a COPY fed by the workers", copying_generated_rows)
    assert victim.descendants(), "the run must have generator workers"
    victim.kill()
    victim.finish(timeout=30)
    try:
        wait_until(lambda: not victim.descendants(), LOCK_FREE_BOUND, "the generator workers to exit", interval=0.2)
    finally:
        end_processes(victim.descendants())
