"""Reader threads that query the seeded tables continuously, as an application would, and keep score."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import psycopg

# One statement, hence one READ COMMITTED snapshot: every count, a three-table join (whose locks are
# taken in another order than dbtool's), and a sum that differs between seeds.
SIGNATURE_SQL = """
SELECT (SELECT count(*) FROM staff), (SELECT count(*) FROM services), (SELECT count(*) FROM clients),
       (SELECT count(*) FROM pets), (SELECT count(*) FROM invoices), (SELECT count(*) FROM invoice_line_items),
       (SELECT count(*) FROM invoice_tip_splits), (SELECT count(*) FROM grooming_visit_logs),
       (SELECT count(*) FROM invoices i JOIN pets p ON p.id = i.pet_id JOIN clients c ON c.id = p.client_id
         WHERE c.id = i.client_id),
       (SELECT coalesce(sum(total_cents), 0) FROM invoices)
"""
PAUSE = 0.005  # seconds between a reader's queries: busy, but leaves the CPU to dbtool too


def signature(url: str, query: str = SIGNATURE_SQL) -> tuple[int, ...]:
    """What a reader sees in a settled database."""
    with psycopg.connect(url, autocommit=True) as conn:
        return tuple(conn.execute(query).fetchone())  # type: ignore[arg-type]


@dataclass
class Readers:
    """`count` threads, each on its own READ COMMITTED connection, running `query` until stopped.

    The first `in_transaction` of them run it inside a transaction that first reads `pets`: an
    application doing two queries in one transaction, holding a lock that dbtool wants while asking
    for one dbtool takes earlier (the lock-order inversion that deadlocks a careless reset).
    """

    url: str
    count: int = 4
    query: str = SIGNATURE_SQL
    in_transaction: int = 0
    accept: Callable[[tuple[Any, ...]], bool] = lambda row: True
    served: int = 0
    errors: list[str] = field(default_factory=list)
    rejected: list[tuple[Any, ...]] = field(default_factory=list)  # rows `accept` refused: partial states
    seen: Counter[tuple[Any, ...]] = field(default_factory=Counter)
    timings: list[tuple[float, float]] = field(default_factory=list)  # (started, seconds) per query

    def __enter__(self) -> Readers:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._ready = threading.Barrier(self.count + 1)
        self._threads = [
            threading.Thread(target=self._read, args=(i < self.in_transaction,), daemon=True) for i in range(self.count)
        ]
        for thread in self._threads:
            thread.start()
        self._ready.wait(timeout=30)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _read(self, in_transaction: bool) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            self._ready.wait(timeout=30)
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    if in_transaction:
                        with conn.transaction():
                            conn.execute("SELECT count(*) FROM pets WHERE name <> ''").fetchone()
                            row = tuple(conn.execute(self.query).fetchone())  # type: ignore[arg-type]
                    else:
                        row = tuple(conn.execute(self.query).fetchone())  # type: ignore[arg-type]
                except psycopg.Error as exc:
                    with self._lock:
                        self.errors.append(f"{type(exc).__name__}: {' '.join(str(exc).split())}")
                    continue
                finally:
                    seconds = time.monotonic() - started
                with self._lock:
                    self.served += 1
                    self.timings.append((started, seconds))
                    self.seen[row] += 1
                    if not self.accept(row):
                        self.rejected.append(row)
                time.sleep(PAUSE)

    def max_latency(self, since: float = 0.0, until: float = float("inf")) -> float:
        """The longest query among those that started in [since, until)."""
        return max((s for t, s in self.timings if since <= t < until), default=0.0)
