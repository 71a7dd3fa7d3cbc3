"""COPY generated rows into the tables, and digest what the tables hold, on a given connection."""

from __future__ import annotations

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

from dbtool.seed import shared
from dbtool.seed.generate import TABLE_SPECS, Chunk, chunks, generate_chunk
from dbtool.seed.plan import Plan
from dbtool.seed.profiles import Profile

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
            yield shared.chunk(table, seed, profile, first, count)  # a fleet generates each chunk once
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


def copy_chunks(
    conn: psycopg.Connection,  # type: ignore[type-arg]
    schema: str,
    seed: int,
    profile: Profile,
    table: int,
    ranges: list[tuple[int, int]],
    pool: Executor | None = None,
    workers: int = 1,
) -> int:
    """COPY the driver-row `ranges` of example table number `table` in one statement; return rows loaded.
    A range's bytes are the same whoever generates them, so ranges may go to different connections."""
    spec = TABLE_SPECS[table]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(schema, spec.name), sql.SQL(", ").join(map(sql.Identifier, spec.columns))
    )
    loaded = 0
    window: deque[Future[Chunk]] = deque()
    with conn.cursor() as cur, cur.copy(statement, writer=QueuedLibpqWriter(cur)) as copy:
        for first, count in ranges:
            if pool is None:
                text, rows = shared.chunk(table, seed, profile, first, count)
                copy.write(text)
                loaded += rows
                continue
            window.append(pool.submit(generate_chunk, table, seed, profile, first, count))
            if len(window) >= 2 * workers:
                text, rows = window.popleft().result()
                copy.write(text)
                loaded += rows
        while window:
            text, rows = window.popleft().result()
            copy.write(text)
            loaded += rows
    return loaded


def copy_plan_rows(
    conn: psycopg.Connection,  # type: ignore[type-arg]
    schema: str,
    seed: int,
    plan: Plan,
    table: str,
    first: int,
    count: int,
    chunk_rows: int = CHUNK_ROWS,
) -> int:
    """COPY rows [first, first + count) of the planned `table` in one statement; return how many."""
    from dbtool.seed.rules import chunk_text

    planned = next(t for t in plan.tables if t.name == table)
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(schema, planned.name), sql.SQL(", ").join(sql.Identifier(r.column) for r in planned.rules)
    )
    with conn.cursor() as cur, cur.copy(statement, writer=QueuedLibpqWriter(cur)) as copy:
        for start in range(first, first + count, chunk_rows):
            copy.write(chunk_text(plan, planned, seed, start, min(chunk_rows, first + count - start)))
    return count


def move_sequences(
    conn: psycopg.Connection,  # type: ignore[type-arg]
    schema: str,
    sequences: dict[str, list[tuple[str, str]]],
    loaded: set[str] | dict[str, int],
) -> None:
    """Move each loaded table's sequences past its values: the app's own inserts must not collide with seeded keys."""
    moves = [
        sql.SQL("SELECT setval({}, coalesce((SELECT max({}) FROM {}), 0) + 1, false)").format(
            sql.Literal(sequence), sql.Identifier(column), sql.Identifier(schema, table)
        )
        for table, pairs in sequences.items() if table in loaded
        for column, sequence in pairs
    ]
    if moves:
        conn.execute(sql.SQL("; ").join(moves))


def load_plan(
    conn: psycopg.Connection,  # type: ignore[type-arg]
    schema: str,
    seed: int,
    plan: Plan,
    sequences: dict[str, list[tuple[str, str]]],
    progress: Progress | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> dict[str, int]:
    """COPY every generated table of `plan`, then move each table's sequences past its values."""
    from dbtool.seed.rules import chunk_text

    counts: dict[str, int] = {}
    with conn.cursor() as cur:
        for table in plan.tables:
            if not table.generated:
                continue
            statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                sql.Identifier(schema, table.name), sql.SQL(", ").join(sql.Identifier(r.column) for r in table.rules)
            )
            with cur.copy(statement, writer=QueuedLibpqWriter(cur)) as copy:
                for first in range(0, table.count, chunk_rows):
                    count = min(chunk_rows, table.count - first)
                    copy.write(chunk_text(plan, table, seed, first, count))
                    if progress:
                        progress(table.name, first + count, (first + count) * 100 // table.count)
            counts[table.name] = table.count
    move_sequences(conn, schema, sequences, counts)
    return counts
