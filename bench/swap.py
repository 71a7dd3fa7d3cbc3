"""Readers' worst wait and reset time, transaction vs swap strategy (issue 11).

Resets `load --scale 40` on a database of the embedded server (or $DATABASE_URL) while 3 reader
connections run one light query touching every seeded table every 10 ms; prints each strategy's worst
reader wait (queries started after the reset took its advisory lock) and the reset's wall time at
pool max 2, 4 and 6.

    .venv/bin/python bench/swap.py [--scale 40] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fire import readers as reader_module
from tests.fire.readers import Readers
from tests.fire.runs import Run, run
from tests.fire.test_swap import LIGHT_SQL

READER_PAUSE = 0.010  # seconds between a reader's queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or run("local", None, "url").stdout.strip()  # type: ignore[arg-type]
    reader_module.PAUSE = READER_PAUSE
    profile = ("--profile", "load", "--scale", str(args.scale))
    assert run("reset", url, *profile, "--seed", "1", "--force").code == 0
    print(f"reset {' '.join(profile)}, 3 readers every {READER_PAUSE * 1000:.0f} ms, best/worst of {args.rounds}")
    for strategy in ("transaction", "swap"):
        worst = 0.0
        with Readers(url, count=3, query=LIGHT_SQL) as readers:
            for i in range(args.rounds):
                victim = Run("reset", url, (*profile, "--seed", str(2 + i), "--strategy", strategy), log_format="json")
                locked = victim.wait_for_step("lock")
                outcome = victim.finish()
                assert outcome.code == 0, outcome.output
                worst = max(worst, readers.max_latency(since=locked))
        print(f"{strategy:12} worst reader wait {worst * 1000:7.0f} ms  ({readers.served} queries, {len(readers.errors)} errors)")
    for strategy in ("transaction", "swap"):
        for pool_max in (2, 4, 6):
            times = []
            for i in range(args.rounds):
                started = time.monotonic()
                outcome = run("reset", url, *profile, "--seed", str(10 + i), "--strategy", strategy, "--pool-max", str(pool_max))
                assert outcome.code == 0, outcome.output
                times.append(time.monotonic() - started)
            print(f"{strategy:12} pool max {pool_max}: reset {min(times):.2f} s (best of {args.rounds})")


if __name__ == "__main__":
    main()
