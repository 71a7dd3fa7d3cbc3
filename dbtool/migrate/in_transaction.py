"""What a migration's SQL becomes inside dbtool's one transaction (pure: text in, text and notes out).

A migration written for `alembic upgrade` may leave the transaction on purpose: `op.execute("COMMIT")`
before an index build, an `autocommit_block()` around `CREATE INDEX CONCURRENTLY`. Inside a dbtool
run the whole upgrade is one transaction that commits at the end (or changes nothing), so:

- `COMMIT`, `END`, `BEGIN`, `START TRANSACTION` and `SET SESSION CHARACTERISTICS` become no-ops: the
  run's own commit makes the work durable, and session defaults are dbtool's to keep;
- `CONCURRENTLY` is dropped from the statements that cannot run in a transaction block with it
  (`CREATE/DROP INDEX`, `REINDEX`, `DETACH PARTITION`): the same object, built under a table lock;
- `VACUUM` is dropped: it cannot run in a transaction and changes nothing a reader can see;
- `ROLLBACK`/`ABORT` cannot be honoured (they would undo the run so far): the run stops, exit 2.

Statements are split at top-level semicolons, respecting quotes, dollar quotes and comments; a text
that needs no change is passed on byte for byte.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z_0-9]*)?\$")
_LEADING_NOISE = re.compile(r"(\s+|--[^\n]*(\n|$)|/\*.*?\*/)*", re.S)
_ENDS_TRANSACTION = re.compile(r"(COMMIT|END)(\s+(WORK|TRANSACTION))?(\s+AND\s+NO\s+CHAIN)?\s*;?\s*$", re.I)
_BEGINS_TRANSACTION = re.compile(r"(BEGIN|START\s+TRANSACTION)(\s+(WORK|TRANSACTION))?\b[^;]*;?\s*$", re.I)
_SESSION_CHARACTERISTICS = re.compile(r"SET\s+SESSION\s+CHARACTERISTICS\b", re.I)
_UNDOES = re.compile(r"(ROLLBACK|ABORT)(\s+(WORK|TRANSACTION))?(\s+AND\s+(NO\s+)?CHAIN)?\s*;?\s*$", re.I)
_VACUUM = re.compile(r"VACUUM\b", re.I)
_CONCURRENTLY = (
    re.compile(r"^(CREATE\s+(UNIQUE\s+)?INDEX\s+)CONCURRENTLY\s+", re.I),
    re.compile(r"^(DROP\s+INDEX\s+)CONCURRENTLY\s+", re.I),
    re.compile(r"^(REINDEX\s+(\([^)]*\)\s*)?(INDEX|TABLE|SCHEMA|DATABASE|SYSTEM)\s+)CONCURRENTLY\s+", re.I),
    re.compile(r"^(ALTER\s+TABLE\s+.*?\bDETACH\s+PARTITION\s+\S+)\s+CONCURRENTLY\b", re.I | re.S),
)


class TransactionControl(Exception):
    """A statement would undo the run's transaction (ROLLBACK or ABORT)."""

    def __init__(self, statement: str) -> None:
        super().__init__(statement)
        self.statement = statement


@dataclass(frozen=True)
class Adapted:
    """The text to send and what was changed in it (one short note per change)."""

    text: str
    notes: tuple[str, ...] = ()


def statements(text: str) -> list[str]:
    """`text` split at top-level semicolons (each piece keeps its own semicolon)."""
    pieces, start, i, n = [], 0, 0, len(text)
    while i < n:
        ch = text[i]
        if ch in "'\"":
            end = text.find(ch, i + 1)
            while end != -1 and end + 1 < n and text[end + 1] == ch:  # a doubled quote stays inside
                end = text.find(ch, end + 2)
            i = n if end == -1 else end + 1
        elif ch == "-" and text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end == -1 else end + 1
        elif ch == "/" and text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end == -1 else end + 2
        elif ch == "$" and (tag := _DOLLAR_TAG.match(text, i)) and not (i and (text[i - 1].isalnum() or text[i - 1] == "_")):
            end = text.find(tag.group(0), tag.end())
            i = n if end == -1 else end + len(tag.group(0))
        elif ch == ";":
            pieces.append(text[start:i + 1])
            start = i = i + 1
        else:
            i += 1
    if text[start:].strip():
        pieces.append(text[start:])
    return pieces


def adapt(text: str) -> Adapted:
    """`text` as it must run inside dbtool's transaction; raises TransactionControl for ROLLBACK/ABORT."""
    if not _may_need_change(text) or _ATOMIC_BODY.search(text):
        # A SQL-standard function body (BEGIN ATOMIC ... END) holds bare semicolons: leave it whole.
        return Adapted(text)
    kept: list[str] = []
    notes: list[str] = []
    for piece in statements(text):
        body = piece[_LEADING_NOISE.match(piece).end():]  # type: ignore[union-attr]  # (...)* matches every string, if only its empty prefix
        head = " ".join(body.split())[:60].rstrip(";")
        if _UNDOES.match(body):
            raise TransactionControl(head)
        if _ENDS_TRANSACTION.match(body) or _BEGINS_TRANSACTION.match(body) or _SESSION_CHARACTERISTICS.match(body):
            notes.append(f"skipped {head} (dbtool commits once, at the end)")
            continue
        if _VACUUM.match(body):
            notes.append(f"skipped {head} (cannot run in a transaction; changes no data)")
            continue
        for pattern in _CONCURRENTLY:
            if pattern.match(body):
                body = pattern.sub(r"\1", body, count=1)
                notes.append(f"ran {head} without CONCURRENTLY (inside dbtool's transaction)")
                piece = body
                break
        kept.append(piece)
    if not notes:
        return Adapted(text)
    return Adapted("\n".join(kept), tuple(notes))


_ATOMIC_BODY = re.compile(r"\bBEGIN\s+ATOMIC\b", re.I)
_KEYWORDS = re.compile(r"\b(COMMIT|END|BEGIN|START|ROLLBACK|ABORT|VACUUM|CONCURRENTLY|CHARACTERISTICS)\b", re.I)


def _may_need_change(text: str) -> bool:
    # The common case (DDL and DML without any of these words) costs one regex search.
    return _KEYWORDS.search(text) is not None
