"""Where a warm `dbtool reset` spends its time: steps, imports (-X importtime) and a cProfile of the process.

    .venv/bin/python bench/profile_reset.py                          # dev profile, private server
    .venv/bin/python bench/profile_reset.py --profile load --scale 100
    .venv/bin/python bench/profile_reset.py --database-url postgresql://...   # an existing, resettable database

Runs one reset first (so the measured ones replace a filled schema, as a nightly reset does), then three. The cProfile
covers the main process only (generator workers, when dbtool starts them, are not in it).
The .pstats file is written to bench/out/ for `python -m pstats` or snakeviz.
"""

from __future__ import annotations

import argparse
import json
import pstats
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from run import DEFAULT_OUT, clean_env  # noqa: E402
from server import BenchServer, recreate_database  # noqa: E402

TOP = 15


def import_times(stderr: str) -> tuple[float, list[tuple[float, str]]]:
    """Total import seconds and the top-level imports by cumulative time, from -X importtime output."""
    top: list[tuple[float, str]] = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line[len("import time:"):].split("|")
        if not name.startswith("  "):  # indented names were imported by another module
            top.append((int(cumulative) / 1e6, name.strip()))
    top.sort(reverse=True)
    return sum(t for t, _ in top), top


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a database dbtool may reset (default: a private server)")
    parser.add_argument("--profile", default="dev")
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    env = clean_env()
    python = sys.executable

    server = None
    url = args.database_url
    if url is None:
        server = BenchServer()
        server.start()
        recreate_database(server.url(), "profile_reset")
        url = server.url("profile_reset")
    reset = ["reset", "--database-url", url, "--profile", args.profile, "--scale", str(args.scale), "--yes"]
    try:
        subprocess.run([python, "-m", "dbtool", *reset], env=env, check=True, capture_output=True)  # fill it once

        started = time.perf_counter()
        steps = subprocess.run([python, "-m", "dbtool", *reset, "--log-format", "json"], env=env, check=True,
                               capture_output=True, text=True).stdout
        wall = time.perf_counter() - started
        print(f"warm reset {args.profile} x{args.scale}: {wall:.2f}s wall")
        inside = 0.0
        for line in steps.splitlines():
            event = json.loads(line)
            if event.get("event") == "step":
                print(f"  step {event['step']:<8} {event['duration_ms'] / 1000:7.3f}s")
                if event["step"] in ("connect", "lock", "commit"):
                    inside += event["duration_ms"] / 1000
        print(f"  outside the steps (interpreter, imports, argument parsing, teardown): {wall - inside:.3f}s")

        imports = subprocess.run([python, "-X", "importtime", "-m", "dbtool", *reset], env=env, check=True,
                                 capture_output=True, text=True).stderr
        total, top = import_times(imports)
        print(f"\nimports (-X importtime, inflates them a little): {total:.3f}s in total; top-level by cumulative:")
        for seconds, name in top[:TOP]:
            print(f"  {seconds:7.3f}s  {name}")

        stats_path = args.out / f"reset-{args.profile}-x{args.scale}.pstats"
        subprocess.run([python, "-m", "cProfile", "-o", str(stats_path), "-m", "dbtool", *reset], env=env,
                       check=True, capture_output=True)
        print(f"\ncProfile of the main process ({stats_path}):")
        stats = pstats.Stats(str(stats_path))
        stats.sort_stats("tottime").print_stats(TOP)
        stats.sort_stats("cumulative").print_stats(r"dbtool", TOP)
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
