"""COPY generated rows into the tables, and digest what the tables hold, on a given connection."""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor

import psycopg
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter

from dbtool.seed.generate import TABLE_SPECS, Chunk, chunks, generate_chunk
from dbtool.seed.profiles import GENERATOR_VERSION, TABLES, Profile

logger = logging.getLogger(__name__)

CHUNK_ROWS = 10_000  # driver rows per COPY chunk: memory stays flat as scale grows
PARALLEL_FROM_ROWS = 200_000  # below this, worker processes cost more to start than they save

Progress = Callable[[str, int, int], None]  # (table, rows loaded so far, driver rows done of total)


def _worker_init(parent: int) -> None:
    # Ctrl-C goes to the whole process group: the parent handles it, workers must not print tracebacks.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def exit_with_parent() -> None:  # after kill -9 of dbtool nobody would tell the workers to stop
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=exit_with_parent, name="exit-with-parent", daemon=True).start()


def _start_workers(workers: int) -> ProcessPoolExecutor:
    pool = ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_init, initargs=(os.getpid(),)
    )
    if threading.current_thread() is not threading.main_thread():
        return pool
    # Start every worker now with SIGINT ignored: a spawned Python keeps an ignored SIGINT through
    # its start-up, so a terminal's Ctrl-C (sent to the whole process group) reaches only dbtool.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        for _ in range(workers):
            pool.submit(os.getpid)  # each submit to a pool with no idle worker spawns one
    finally:
        signal.signal(signal.SIGINT, previous)
    return pool


def auto_workers(profile: Profile) -> int:
    """1 for small profiles; for large ones up to 4 generator processes, leaving a core for the
    server backend and this process (on 2 cores that is 1: generation already outpaces COPY)."""
    total = profile.invoices + profile.visits + profile.clients + profile.pets
    if total < PARALLEL_FROM_ROWS:
        return 1
    return max(1, min(4, (os.cpu_count() or 1) - 1))


def generated(seed: int, profile: Profile, table: int, workers: int, chunk_rows: int, pool: Executor | None) -> Iterator[Chunk]:
    """Chunks of one table in order; with a process pool, at most 2 x workers are in flight (flat memory)."""
    ranges = chunks(TABLE_SPECS[table].driver(profile), chunk_rows)
    if pool is None:
        for first, count in ranges:
            yield generate_chunk(table, seed, profile, first, count)
        return
    window: deque[Future[Chunk]] = deque()
    for first, count in ranges:
        window.append(pool.submit(generate_chunk, table, seed, profile, first, count))
        if len(window) >= 2 * workers:
            yield window.popleft().result()
    while window:
        yield window.popleft().result()


def load(
    conn: psycopg.Connection,  # type: ignore[type-arg]
    schema: str,
    seed: int,
    profile: Profile,
    progress: Progress | None = None,
    workers: int = 0,
    chunk_rows: int = CHUNK_ROWS,
) -> dict[str, int]:
    """COPY every table of `profile` in foreign-key order; return rows per table.

    Chunks are generated in this process or, with workers > 1, in worker processes, and written
    through a queued writer so the server parses one chunk while the next is being generated.
    The bytes sent are the same whatever `workers` and `chunk_rows` are.
    """
    workers = workers or auto_workers(profile)
    pool = _start_workers(workers) if workers > 1 else None
    counts: dict[str, int] = {}
    try:
        with conn.cursor() as cur:
            for index, spec in enumerate(TABLE_SPECS):
                statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                    sql.Identifier(schema, spec.name), sql.SQL(", ").join(map(sql.Identifier, spec.columns))
                )
                loaded, done, total = 0, 0, spec.driver(profile)
                with cur.copy(statement, writer=QueuedLibpqWriter(cur)) as copy:
                    for text, rows in generated(seed, profile, index, workers, chunk_rows, pool):
                        copy.write(text)
                        loaded += rows
                        done = min(total, done + chunk_rows)
                        if progress:
                            progress(spec.name, loaded, done * 100 // max(total, 1))
                counts[spec.name] = loaded
                logger.debug("copied %s rows into %s", loaded, spec.name)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return counts


def table_digests(conn: psycopg.Connection, schema: str) -> dict[str, dict[str, object]]:  # type: ignore[type-arg]
    """Row count and md5 of every seeded table, computed on the server in one round trip.

    A table's md5 is over its rows' text forms ordered by primary key, with the session's
    TimeZone and DateStyle pinned so the text does not depend on server or client settings.
    Run it inside a transaction (the settings are SET LOCAL).
    """
    parts = [
        sql.SQL(
            "SELECT {name}::text, count(*), coalesce(md5(string_agg(md5(t::text), '' ORDER BY t.id)), '') FROM {table} t"
        ).format(name=sql.Literal(t), table=sql.Identifier(schema, t))
        for t in TABLES
    ]
    settings = ("SET LOCAL TimeZone = 'UTC'", "SET LOCAL DateStyle = 'ISO, YMD'", "SET LOCAL extra_float_digits = 1")
    query = sql.SQL("; ").join([*map(sql.SQL, settings), sql.SQL(" UNION ALL ").join(parts)])
    cur = conn.execute(query)  # one round trip; skip the SETs' results to the SELECT's
    for _ in settings:
        cur.nextset()
    rows = cur.fetchall()
    return {name: {"rows": count, "md5": md5} for name, count, md5 in rows}


def combined_digest(tables: dict[str, dict[str, object]]) -> str:
    """One sha256 over the generator version and every table's count and md5."""
    h = hashlib.sha256(f"generator_version={GENERATOR_VERSION}\n".encode())
    for name in sorted(tables):
        h.update(f"{name} {tables[name]['rows']} {tables[name]['md5']}\n".encode())
    return h.hexdigest()
