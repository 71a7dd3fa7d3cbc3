"""COPY a plan's rows into the tables on a given connection, generated here or in worker processes.

A chunk is a pure function of (plan, seed, table, first row, count): the bytes sent are the same
whoever makes them, in whatever order, so chunks may come from worker processes, from a fleet's
shared cache or from another connection of the pool.
"""

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
from dbtool.seed.evaluate import Chunk, chunk_text
from dbtool.seed.plan import Plan, TablePlan

logger = logging.getLogger(__name__)

CHUNK_ROWS = 10_000  # rows per COPY chunk: memory stays flat as scale grows
PARALLEL_FROM_ROWS = 200_000  # below this, worker processes cost more to start than they save

Progress = Callable[[str, int, int], None]  # (table, rows loaded so far, percent of its rows done)
_worker_plan: Plan | None = None  # a worker process's copy of the plan (hooks re-imported there)


def _worker_init(parent: int, plan: Plan) -> None:
    # Ctrl-C goes to the whole process group: the parent handles it, workers must not print tracebacks.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def exit_with_parent() -> None:  # after kill -9 of dbtool nobody would tell the workers to stop
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=exit_with_parent, name="exit-with-parent", daemon=True).start()
    global _worker_plan
    from dbtool.seed.hooks import load_hook

    hooks = {t.name: load_hook(t.hook, plan.directory, t.name) for t in plan.tables if t.hook}
    _worker_plan = Plan(plan.tables, hooks, plan.directory)


def _worker_chunk(table: str, seed: int, first: int, count: int) -> Chunk:
    assert _worker_plan is not None
    return chunk_text(_worker_plan, _worker_plan.table(table), seed, first, count)


def _start_workers(workers: int, plan: Plan) -> ProcessPoolExecutor:
    # Hooks travel by name: each worker imports them itself (functions do not pickle across spawn).
    portable = Plan(plan.tables, {}, plan.directory)
    pool = ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_init,
        initargs=(os.getpid(), portable),
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


def auto_workers(plan: Plan) -> int:
    """1 for small plans; for large ones up to 4 generator processes, leaving a core for the server
    backend and this process (on 2 cores that is 1: generation already outpaces COPY)."""
    if sum(t.count for t in plan.tables if t.generated) < PARALLEL_FROM_ROWS:
        return 1
    return max(1, min(4, (os.cpu_count() or 1) - 1))


def chunks(total: int, size: int) -> Iterator[tuple[int, int]]:
    """Split rows [0, total) into (first, count) ranges of at most `size`."""
    for first in range(0, total, size):
        yield first, min(size, total - first)


def _made(plan: Plan, table: TablePlan, seed: int, first: int, count: int) -> Chunk:
    # In a fleet, each chunk is made once for every target whose plan is the same.
    return shared.chunk((plan.fingerprint, seed, table.name, first, count),
                        lambda: chunk_text(plan, table, seed, first, count))


def generated(plan: Plan, table: TablePlan, seed: int, ranges: list[tuple[int, int]], workers: int,
              pool: Executor | None) -> Iterator[Chunk]:
    """Chunks of `ranges` of one table in order; with a process pool, at most 2 x workers are in flight."""
    if pool is None:
        for first, count in ranges:
            yield _made(plan, table, seed, first, count)
        return
    window: deque[Future[Chunk]] = deque()
    for first, count in ranges:
        window.append(pool.submit(_worker_chunk, table.name, seed, first, count))
        if len(window) >= 2 * workers:
            yield window.popleft().result()
    while window:
        yield window.popleft().result()


def copy_rows(
    conn: psycopg.Connection,
    schema: str,
    seed: int,
    plan: Plan,
    table: TablePlan,
    ranges: list[tuple[int, int]],
    pool: Executor | None = None,
    workers: int = 1,
    progress: Progress | None = None,
) -> int:
    """COPY the row `ranges` of the planned `table` in one statement; return the rows written (a hook
    may leave some out). Ranges may go to different connections: their bytes do not depend on who sends them."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(schema, table.name), sql.SQL(", ").join(sql.Identifier(r.column) for r in table.rules)
    )
    loaded = done = 0
    with conn.cursor() as cur, cur.copy(statement, writer=QueuedLibpqWriter(cur)) as copy:
        for (text, rows), (_, count) in zip(generated(plan, table, seed, ranges, workers, pool), ranges, strict=True):
            copy.write(text)
            loaded, done = loaded + rows, done + count
            if progress:
                progress(table.name, loaded, done * 100 // max(table.count, 1))
    return loaded


# Of the (table, column, sequence) candidates, those whose column is an integer, through domains:
# max() of a column a later migration turned into text (its serial's sequence still OWNED BY it)
# is no position for a sequence, and setval would fail on the type.
INTEGER_OWNERS_SQL = """
WITH RECURSIVE owner AS (
  SELECT w.tbl, w.col, w.seq, a.atttypid AS typ
  FROM unnest(%(tables)s::text[], %(columns)s::text[], %(sequences)s::text[]) AS w(tbl, col, seq)
  JOIN pg_class c ON c.relnamespace = to_regnamespace(%(schema)s) AND c.relname = w.tbl
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = w.col AND NOT a.attisdropped
  UNION ALL
  SELECT o.tbl, o.col, o.seq, t.typbasetype FROM owner o JOIN pg_type t ON t.oid = o.typ WHERE t.typtype = 'd'
)
SELECT tbl, col, seq FROM owner WHERE typ IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype) ORDER BY 1, 2
"""

# Next value: one step past the column's values in the sequence's direction (its START on an empty
# table), kept within the sequence's bounds so that setval cannot refuse it.
SETVAL_SQL = """
SELECT setval(s.seqrelid, least(greatest(
         coalesce(CASE WHEN s.seqincrement > 0 THEN m.hi + 1 ELSE m.lo - 1 END, s.seqstart), s.seqmin), s.seqmax)::bigint,
       false)
FROM pg_sequence s, (SELECT max({column})::numeric AS hi, min({column})::numeric AS lo FROM {table}) m
WHERE s.seqrelid = {sequence}::regclass
"""


def move_sequences(
    conn: psycopg.Connection,
    schema: str,
    sequences: dict[str, list[tuple[str, str]]],
    loaded: set[str] | dict[str, int],
) -> None:
    """Move each loaded table's sequences past its values: the app's own inserts must not collide with
    seeded keys. Sequences owned by a column that is no longer an integer are left alone."""
    wanted = [(table, column, sequence) for table, pairs in sequences.items() if table in loaded
              for column, sequence in pairs]
    if not wanted:
        return
    tables, columns, names = (list(x) for x in zip(*wanted, strict=True))
    owners = conn.execute(
        INTEGER_OWNERS_SQL, {"schema": schema, "tables": tables, "columns": columns, "sequences": names}
    ).fetchall()
    skipped = sorted({s for _, _, s in wanted} - {s for _, _, s in owners})
    if skipped:
        logger.info("left sequences %s alone: their columns are not integers", ", ".join(skipped))
    moves = [
        sql.SQL(SETVAL_SQL).format(
            column=sql.Identifier(column), table=sql.Identifier(schema, table), sequence=sql.Literal(sequence)
        )
        for table, column, sequence in owners
    ]
    if moves:
        conn.execute(sql.SQL("; ").join(moves))


def load_plan(
    conn: psycopg.Connection,
    schema: str,
    seed: int,
    plan: Plan,
    sequences: dict[str, list[tuple[str, str]]],
    progress: Progress | None = None,
    workers: int = 0,
    chunk_rows: int = CHUNK_ROWS,
) -> dict[str, int]:
    """COPY every generated table of `plan` in plan order, then move each table's sequences past its
    values; return rows per table. With workers > 1, chunks are made in worker processes."""
    workers = workers or auto_workers(plan)
    pool = _start_workers(workers, plan) if workers > 1 else None
    counts: dict[str, int] = {}
    try:
        for table in plan.tables:
            if table.generated:
                ranges = list(chunks(table.count, chunk_rows))
                counts[table.name] = copy_rows(conn, schema, seed, plan, table, ranges, pool, workers, progress)
                logger.debug("copied %s rows into %s", counts[table.name], table.name)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    move_sequences(conn, schema, sequences, counts)
    return counts
