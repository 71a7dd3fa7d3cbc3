"""Scenario 1: many dbtool processes run reset (both strategies), seed and migrate on one database at once."""

from __future__ import annotations

import random
import threading

import psycopg
import pytest

from tests.fire import figures
from tests.fire.runs import Outcome, run
from tests.fire.size import FireSize
from tests.fire.state import advisory_lock_holders, fingerprint

pytestmark = pytest.mark.fire

SEEDS = (1, 2, 3)


def plan(size: FireSize) -> list[list[tuple[str, ...]]]:
    """Per process, its commands in order: a deterministic mix of reset, seed and migrate."""
    rng = random.Random(f"concurrency-{size.processes}x{size.rounds}")
    kinds = ["reset", "seed", "migrate"]
    commands = []
    for p in range(size.processes):
        mine = []
        for r in range(size.rounds):
            kind = kinds[(p + r) % 3] if r < 3 else rng.choice(kinds)
            seed = str(rng.choice(SEEDS))
            # Most runs wait for the lock; one in five tries once and may be told to come back (75).
            wait = "0" if rng.random() < 0.2 else "120"
            pool = rng.choice(("2", "3", "6"))
            if kind == "migrate":
                mine.append(("migrate", "--lock-timeout", wait, "--pool-max", pool))
            elif kind == "reset":
                # Both strategies, interleaved: a swap must serialize with everything else like a transaction.
                strategy = "swap" if (p + r) % 2 == 0 else "transaction"
                mine.append((kind, "--profile", "ci", "--seed", seed, "--lock-timeout", wait, "--pool-max", pool,
                             "--strategy", strategy))
            else:
                mine.append((kind, "--profile", "ci", "--seed", seed, "--lock-timeout", wait, "--pool-max", pool))
        commands.append(mine)
    return commands


def test_concurrent_reset_seed_and_migrate_never_collide(seeded_url: str, size: FireSize) -> None:
    before = fingerprint(seeded_url)
    outcomes: list[tuple[tuple[str, ...], Outcome]] = []
    lock = threading.Lock()

    def process(commands: list[tuple[str, ...]]) -> None:
        for command, *args in commands:
            outcome = run(command, seeded_url, *args, timeout=300)
            with lock:
                outcomes.append(((command, *args), outcome))

    threads = [threading.Thread(target=process, args=(commands,)) for commands in plan(size)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(outcomes) == size.processes * size.rounds
    for args, outcome in outcomes:
        assert outcome.code in (0, 75), f"{' '.join(args)} exited {outcome.code}:\n{outcome.output}"
        assert outcome.forbidden() == [], f"{' '.join(args)}: {outcome.forbidden()} in\n{outcome.output}"
        if outcome.code == 75:
            assert "advisory lock" in outcome.stderr and len(outcome.error_lines()) == 1, outcome.stderr
    succeeded = [args for args, outcome in outcomes if outcome.code == 0]
    assert {args[0] for args in succeeded} == {"reset", "seed", "migrate"}, "every command kind must have run"
    assert any(args[-1] == "swap" for args in succeeded), "a swap reset must have run"

    assert advisory_lock_holders(seeded_url) == []
    verify = run("verify", seeded_url)
    assert verify.code == 0, verify.output
    after = fingerprint(seeded_url)
    # Every successful run committed exactly one dbtool_meta row; every refused one none.
    assert after.meta_rows == before.meta_rows + len(succeeded)
    with psycopg.connect(seeded_url) as conn:
        last = conn.execute(
            "SELECT profile, seed FROM dbtool_meta WHERE event IN ('reset', 'seed') ORDER BY id DESC LIMIT 1"
        ).fetchone()
    assert last is not None and last[0] == "ci" and last[1] in SEEDS

    figures.count("1 concurrency: invocations", len(outcomes) + 1)
    figures.count("1 concurrency: exit 0", len(succeeded))
    figures.count("1 concurrency: exit 75", sum(1 for _, o in outcomes if o.code == 75))
