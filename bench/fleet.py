"""Fleet benchmark (issue 13): one `dbtool reset` over many targets against one target, a shell loop, and failures.

    .venv/bin/python bench/fleet.py            # 8 targets via the 1 ms proxy, 64 on loopback, 1 unreachable among 9

Starts a private Postgres on 127.0.0.1 and the latency proxy (as bench/run.py does), times whole
processes (wall from spawn to exit, peak RSS of the process tree from /proc), and prints the figures.
Every reset is warm in the same sense: each target database is reset once before timing.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from run import LOOPBACK, PROXY, ProcessRun, ProxyProcess, clean_env, round_trip_ms, run_measured  # noqa: E402
from server import BenchServer, recreate_database  # noqa: E402

REPO_DIR = BENCH_DIR.parent
UNREACHABLE = "postgresql://postgres@127.0.0.1:1/nowhere"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dbtool", default=str(REPO_DIR / ".venv" / "bin" / "dbtool"))
    parser.add_argument("--profile", default="dev")
    parser.add_argument("--delay-ms", type=float, default=1.0)
    parser.add_argument("--proxy-targets", type=int, default=8)
    parser.add_argument("--loopback-targets", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    args = parser.parse_args(argv)
    env = clean_env()
    work = Path(tempfile.mkdtemp(prefix="dbtool-fleet-bench-"))
    lines: list[str] = []

    def dbtool(*extra: str) -> list[str]:
        return [args.dbtool, "reset", "--yes", "--profile", args.profile, *extra]

    def best(argv: list[str]) -> ProcessRun:
        runs = [run_measured(argv, env) for _ in range(args.repeat)]
        for r in runs:
            assert r.exit_code == 0, r.stdout + r.stderr
        return min(runs, key=lambda r: r.wall_s)

    def targets_file(name: str, urls: list[str]) -> str:
        path = work / name
        path.write_text("".join(f"t{i:03d} = {u}\n" for i, u in enumerate(urls)))
        return str(path)

    with BenchServer() as server:
        proxy = ProxyProcess(server.port, args.delay_ms, work / "proxy-stats.jsonl")
        try:
            admin = server.url()
            names = [f"fleet_{i:03d}" for i in range(max(args.proxy_targets, args.loopback_targets, 9))]
            for name in names:
                recreate_database(admin, name)
            rtt = {LOOPBACK: round_trip_ms(admin), PROXY: round_trip_ms(server.url(port=proxy.port))}
            lines.append(f"postgres {server.version}; SELECT 1 round trip: loopback {rtt[LOOPBACK]:.2f} ms, "
                         f"proxy {rtt[PROXY]:.2f} ms; profile {args.profile}; best of {args.repeat}")

            # 1. 8 targets behind the proxy: the fleet against one target and against a shell loop.
            via_proxy = [server.url(n, port=proxy.port) for n in names[: args.proxy_targets]]
            fleet_file = targets_file("proxy.txt", via_proxy)
            run_measured(dbtool("--targets", fleet_file), env)  # first reset of each: every later one is alike
            one = best(dbtool("--database-url", via_proxy[0]))
            fleet = best(dbtool("--targets", fleet_file, "--json"))
            document = json.loads(fleet.stdout)
            loop_started = time.perf_counter()
            for url in via_proxy:
                r = run_measured(dbtool("--database-url", url), env)
                assert r.exit_code == 0, r.stderr
            loop_s = time.perf_counter() - loop_started
            lines.append(
                f"{len(via_proxy)} targets via proxy: one target {one.wall_s:.2f}s, fleet {fleet.wall_s:.2f}s "
                f"({fleet.wall_s / one.wall_s:.2f}x one target; target <= 2x), shell loop {loop_s:.2f}s "
                f"({loop_s / one.wall_s:.2f}x); fleet parallel {document['parallel']}, seed chunks {document.get('seed_chunks')}, "
                f"peak RSS one {one.tree_rss_kb / 1024:.0f} MB, fleet {fleet.tree_rss_kb / 1024:.0f} MB"
            )

            # 2. 64 targets on loopback: wall time and peak memory.
            loop_urls = [server.url(n) for n in names[: args.loopback_targets]]
            big_file = targets_file("loopback.txt", loop_urls)
            run_measured(dbtool("--targets", big_file), env)
            one_local = best(dbtool("--database-url", loop_urls[0]))
            big = best(dbtool("--targets", big_file, "--json"))
            big_doc = json.loads(big.stdout)
            lines.append(
                f"{len(loop_urls)} targets on loopback: fleet {big.wall_s:.2f}s ({big.wall_s / len(loop_urls):.3f}s per target; "
                f"one target alone {one_local.wall_s:.2f}s), parallel {big_doc['parallel']}, peak RSS {big.tree_rss_kb / 1024:.0f} MB "
                f"(one target alone {one_local.tree_rss_kb / 1024:.0f} MB), seed chunks {big_doc.get('seed_chunks')}"
            )

            # 3. One unreachable target among 9: the other 8 reset; exit code and report as documented.
            nine = [server.url(n, port=proxy.port) for n in names[:8]]
            mixed_file = work / "mixed.txt"
            mixed_file.write_text("".join(f"t{i} = {u}\n" for i, u in enumerate(nine)) + f"gone = {UNREACHABLE}\n")
            mixed = run_measured(dbtool("--targets", str(mixed_file)), env)
            lines.append(f"1 unreachable among 9 (proxy): exit {mixed.exit_code} in {mixed.wall_s:.2f}s; report:")
            lines += ["    " + line for line in mixed.stdout.splitlines()]
            lines += ["    (stderr) " + line for line in mixed.stderr.splitlines()]
        finally:
            proxy.stop()
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
