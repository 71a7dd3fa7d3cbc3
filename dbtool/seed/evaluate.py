"""Evaluate a plan: the COPY text of any rows of any table, with references and hooks resolved.

`chunk_text` is the only entry point the loader needs. A foreign key copies its parent's key at
the parent row it picks, and a hook may read any column of any table at any rows, so every value
is computed from the plan alone, wherever and in whatever order chunks are made.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any, cast

import numpy as np

from dbtool.errors import ConfigError
from dbtool.seed import hooks
from dbtool.seed.plan import Plan, Rule, TablePlan
from dbtool.seed.rules import (
    EPOCH_DAY,
    EPOCH_SECOND,
    NULL,
    RAW_KINDS,
    column_text,
    copy_escaped,
    derive,
    draws,
    formatted,
    key32,
    permute,
    raw_values,
)
from dbtool.seed.shared import Chunk

TYPED = {"key": "integer", "integer": "integer", "decimal": "decimal", "date": "date", "timestamp": "timestamp",
         "boolean": "boolean"}
UNESCAPES = {"\\\\": "\\", "\\t": "\t", "\\n": "\n", "\\r": "\r"}


def chunk_text(plan: Plan, table: TablePlan, seed: int, first: int, count: int) -> Chunk:
    """COPY text of rows first..first+count-1 of `table` (those its hook says exist), columns in rule order."""
    rows = np.arange(first, first + count, dtype=np.int64)
    evaluation = Evaluation(plan, seed)
    at = At(evaluation, table, rows)
    columns = [at.text(rule) for rule in table.rules]
    present = evaluation.present(table.name, rows) if table.hook_slots else None
    lines = list(map("\t".join, zip(*columns, strict=True))) if columns else [""] * count
    kept = present.tolist() if present is not None else [True] * count
    if table.hooked_keys:
        _check_hooked_keys(table, {r.column: c for r, c in zip(table.rules, columns, strict=True)}, kept, rows)
    if present is not None and not present.all():
        lines = [line for line, keep in zip(lines, kept, strict=True) if keep]
    return ("\n".join(lines) + "\n" if lines else ""), len(lines)


def _check_hooked_keys(table: TablePlan, columns: dict[str, list[str]], kept: list[bool], rows: np.ndarray) -> None:
    """A hook that sets part of a unique key must not repeat a key within a chunk (order_items' product_id
    within one order): one line naming the hook, before COPY, instead of the server's index error."""
    for name, key in table.hooked_keys:
        seen: dict[tuple[str, ...], int] = {}
        for i, values in enumerate(zip(*(columns[c] for c in key), strict=True)):
            if not kept[i] or NULL in values:
                continue
            if values in seen:
                shown = ", ".join(f"{c}={v}" for c, v in zip(key, values, strict=True))
                raise ConfigError(
                    f"hook {table.hook} gives {table.name} rows {int(rows[seen[values]])} and {int(rows[i])} the same "
                    f"unique key {name} ({shown}); make the hook draw distinct values within each key "
                    f"(e.g. a permutation per parent row), or leave those columns to dbtool")
            seen[values] = i


PRESENT_CHUNK = 10_000


def rows_made(plan: Plan, table: TablePlan, seed: int) -> int:
    """How many rows a seed writes to `table`: its count, or the slots its hook says exist."""
    if not table.generated or not table.hook_slots:
        return table.kept or table.count
    evaluation = Evaluation(plan, seed)
    return sum(int(evaluation.present(table.name, np.arange(first, min(first + PRESENT_CHUNK, table.count), dtype=np.int64)).sum())
               for first in range(0, table.count, PRESENT_CHUNK))


class Evaluation:
    """Answers what a hook may ask (counts, values, which rows exist) from the plan; each hook runs
    once per (table, rows) within one chunk."""

    def __init__(self, plan: Plan, seed: int) -> None:
        self.plan, self.seed = plan, seed
        self._outputs: dict[tuple[str, bytes], tuple[dict[str, Any], np.ndarray | None]] = {}
        self._running: list[str] = []

    def count(self, table: str) -> int:
        planned = self._table(table)
        return planned.kept or planned.count

    def present(self, table: str, rows: np.ndarray) -> np.ndarray:
        planned = self._table(table)
        found = self.output(planned, rows)[1] if planned.hook_slots else None
        return np.ones(len(rows), dtype=bool) if found is None else found

    def values(self, table: str, column: str, rows: np.ndarray) -> np.ndarray:
        planned = self._table(table)
        if planned.kept:
            existing = planned.existing.get(column)
            if existing is None:
                raise ConfigError(f"a hook asked for {table}.{column}, which dbtool did not read from the kept rows")
            return _objects([_unescaped(existing[int(r) % len(existing)]) for r in rows.tolist()])
        rule = next((r for r in planned.rules if r.column == column), None)
        if rule is None:
            raise ConfigError(f"a hook asked for {table}.{column}, which is not a column dbtool fills")
        return At(self, planned, rows).typed(rule)

    def output(self, table: TablePlan, rows: np.ndarray) -> tuple[dict[str, Any], np.ndarray | None]:
        """The hook's columns (and present flags) for `rows` of `table`, computed once."""
        key = (table.name, rows.tobytes())
        if key not in self._outputs:
            if table.name in self._running:
                raise ConfigError(f"hooks read each other in a cycle ({' -> '.join([*self._running, table.name])}); "
                                  "a hook may read a table whose hook does not read it back")
            self._running.append(table.name)
            try:
                spec = table.hook or ""
                returned = hooks.call(spec, table.name, self.plan.hooks[table.name], hooks.Rows(self.seed, table.name, rows, self))
                columns = {r.column for r in table.rules if r.kind == "hook"}
                found, present = hooks.outputs(spec, table.name, returned, len(rows), columns)
            finally:
                self._running.pop()
            self._outputs[key] = (dict(found), present)
        return self._outputs[key]

    def _table(self, name: str) -> TablePlan:
        planned = next((t for t in self.plan.tables if t.name == name), None)
        if planned is None:
            raise ConfigError(f"a hook asked for table {name}, which is not a table of the schema")
        return planned


class At:
    """One table at some rows: each column's text and raw values, computed once."""

    def __init__(self, evaluation: Evaluation, table: TablePlan, rows: np.ndarray) -> None:
        self.evaluation, self.table, self.rows = evaluation, table, rows
        self.seed = evaluation.seed
        self._texts: dict[str, list[str]] = {}
        self._raws: dict[str, np.ndarray] = {}

    def text(self, rule: Rule) -> list[str]:
        if rule.column in self._texts:
            return self._texts[rule.column]
        if rule.kind == "derived":
            source = self.table.rule(rule.source or "") if not rule.ref_column else rule
            if _raw_able(source):
                values = formatted(rule, self.raw(rule))
            else:
                values = [v if rule.op in ("=", "<=", ">=") else v + "~" for v in self.text(source)]
        elif rule.kind in RAW_KINDS or rule.kind == "total":
            values = formatted(rule, self.raw(rule))
        elif rule.kind == "hook":
            values = hook_text(self._hooked(rule), rule.timezone)
        elif rule.kind == "reference":
            values = self._reference(rule)
        else:
            values = column_text(self.table.name, rule, self.seed, self.rows)
        if rule.null_fraction:
            values = [NULL if n else v for n, v in zip(self._nulls(rule).tolist(), values, strict=True)]
        if rule.null_arms:
            values = [NULL if n else v for n, v in zip(self._arm_nulls(rule).tolist(), values, strict=True)]
        self._texts[rule.column] = values
        return values

    def raw(self, rule: Rule) -> np.ndarray:
        """Integers in the column's raw units (values, scaled decimals, days or seconds from the epoch)."""
        if rule.column in self._raws:
            return self._raws[rule.column]
        if rule.kind == "total":
            # never the start value 0: plan.py makes a "total" rule only of a non-empty domain.total_of
            value = cast(np.ndarray, sum(sign * self.raw(self.table.rule(c)).astype(np.int64) for sign, c in rule.sources))
        elif rule.kind == "derived" and rule.ref_column:
            value = self._after_parent(rule)
        elif rule.kind == "derived":
            value = derive(rule, self.raw(self.table.rule(rule.source or "")), self.seed, self.table.name, self.rows)
        elif rule.kind == "hook":
            value = _raw_of(self._hooked(rule), rule)
        else:
            value = raw_values(rule, self.seed, self.table.name, self.rows)
        self._raws[rule.column] = value
        return value

    def typed(self, rule: Rule) -> np.ndarray:
        """What a hook reads: int64, Decimal, datetime64, bool, else str (None for NULL)."""
        if rule.kind == "hook":
            return np.asarray(self._hooked(rule))
        kind = rule.text_kind if rule.kind in ("derived", "total") else rule.kind
        if kind not in TYPED or (rule.kind == "derived" and not rule.ref_column
                                 and not _raw_able(self.table.rule(rule.source or ""))):
            text = self.text(rule)
            if "\\" not in "".join(text):  # no escapes and no NULLs: the text is the value
                return _objects(text)
            return _objects([None if v == NULL else _unescaped(v) for v in text])
        raw = self.raw(rule).astype(np.int64)
        typed: np.ndarray = {
            "integer": lambda: raw,
            "decimal": lambda: _objects([Decimal(v).scaleb(-rule.scale) for v in raw.tolist()]),
            "date": lambda: EPOCH_DAY + raw.astype("timedelta64[D]"),
            "timestamp": lambda: EPOCH_SECOND + raw.astype("timedelta64[s]"),
            "boolean": lambda: raw.astype(bool),
        }[TYPED[kind]]()
        if rule.null_fraction:
            typed = _objects(typed.tolist())
            typed[self._nulls(rule)] = None
        return typed

    def _hooked(self, rule: Rule) -> Any:
        return self.evaluation.output(self.table, self.rows)[0][rule.column]

    def _nulls(self, rule: Rule) -> np.ndarray:
        cut = np.uint64(int(rule.null_fraction * 1_000_000))
        return (draws(self.seed, self.rows, self.table.name, rule.column, "null") % np.uint64(1_000_000)) < cut

    def _arm_nulls(self, rule: Rule) -> np.ndarray:
        """Rows whose alternative of the CHECK `rule.arc` needs this column NULL; every column of the
        CHECK draws the same alternative for a row."""
        arm = (draws(self.seed, self.rows, self.table.name, rule.arc, "arm") % np.uint64(rule.arms)).astype(np.int64)
        return np.isin(arm, np.asarray(rule.null_arms, dtype=np.int64))

    def _after_parent(self, rule: Rule) -> np.ndarray:
        """A created timestamp between the parent row's (through the foreign key `rule.ref_column`) and
        the column's upper bound (the window's end), drawn by (seed, table, column, row)."""
        parent, picks = self._picks(self.table.rule(rule.ref_column or ""))
        base = At(self.evaluation, parent, picks).raw(parent.rule(rule.source or "")).astype(np.int64)
        hi = rule.domain.hi if rule.domain.hi is not None else int(base.max(initial=0))
        room = (np.maximum(hi - base, 0) + 1).astype(np.uint64)
        return base + (draws(self.seed, self.rows, self.table.name, rule.column, "after") % room).astype(np.int64)

    def _picks(self, rule: Rule) -> tuple[TablePlan, np.ndarray]:
        """The parent table of a reference and the parent row each of these rows points at."""
        plan, rows = self.evaluation.plan, self.rows
        parent = plan.table(rule.ref_table or "")
        size = parent.kept or parent.count
        period, slots = rule.ref_period, np.asarray(rule.ref_slots, dtype=np.int64)
        if period:  # a polymorphic key: pick among the parent rows of the allowed kinds
            size = (size // period) * len(slots) + int((slots < size % period).sum())
        mode = rule.ref_mode
        if mode == "one":
            picks = rows.astype(np.int64)
        elif mode in ("grid", "per"):
            stride, size = rule.grid
            # A link table's rows take the combinations in a permuted order (not every row the same parent).
            combos = permute(rows, rule.grid_total, key32(self.table.name, "grid", str(self.seed))) \
                if mode == "grid" and rule.grid_total else rows.astype(np.int64)
            picks = np.asarray((combos // stride) % size, dtype=np.int64)
        elif mode == "within":
            picks = within_parent(self.seed, self.table.name, rule.ref_group, rows, *rule.grid)
        else:
            bits = draws(self.seed, rows, self.table.name, rule.ref_group, "parent")
            if mode == "self":  # an earlier row (a tree); row 0 points at itself or at nothing
                picks = np.where(rows > 0, (bits % np.maximum(rows, 1).astype(np.uint64)).astype(np.int64), 0)
            else:
                picks = (bits % np.uint64(size)).astype(np.int64)
        if period:  # the n-th allowed parent row: slots are sorted, whole periods first
            picks = (picks // len(slots)) * period + slots[picks % len(slots)]
        return parent, picks

    def _reference(self, rule: Rule) -> list[str]:
        rows, mode = self.rows, rule.ref_mode
        parent, picks = self._picks(rule)
        if parent.kept:
            column = parent.existing[rule.ref_column or ""]
            values = copy_escaped([column[int(p) % len(column)] for p in picks.tolist()])
        else:
            if parent.hook_slots and not self.evaluation.present(parent.name, picks).all():
                raise ConfigError(
                    f"{self.table.name}.{rule.column} points at rows of {parent.name} that its hook {parent.hook} leaves "
                    f"out; give {self.table.name} a hook that sets {rule.column} to rows that exist (rows.present)")
            values = At(self.evaluation, parent, picks).text(parent.rule(rule.ref_column or ""))
        if mode == "self" and not rule.domain.not_null:
            values = [NULL if r == 0 else v for r, v in zip(rows.tolist(), values, strict=True)]
        return values


def within_parent(seed: int, table: str, group: str, rows: np.ndarray, n: int, size: int) -> np.ndarray:
    """Parent rows for the slots of "n per parent" rows: slot j of parent row p takes (start_p + j * step) %
    size, so the n slots of one parent row (n <= size) differ; start_p is keyed by (seed, table, group, p)."""
    rows = rows.astype(np.int64)
    parent, slot = rows // n, rows % n
    start = (draws(seed, parent, table, group, "within") % np.uint64(size)).astype(np.int64)
    step = permute(np.ones(1, dtype=np.int64), size, key32(table, group, "step"))[0] if size > 1 else 0
    step = int(step) or 1
    while size > 1 and math.gcd(step, size) != 1:
        step += 1
    return (start + slot * step) % size


def _raw_able(rule: Rule) -> bool:
    return rule.kind in RAW_KINDS or rule.kind in ("derived", "total") or (rule.kind == "hook" and rule.text_kind in TYPED)


def _raw_of(values: Any, rule: Rule) -> np.ndarray:
    """A hook's values in raw units, for the columns a CHECK derives from them (x = a + b)."""
    array = np.asarray(values)
    if array.dtype.kind == "M":
        unit = "D" if rule.text_kind == "date" else "s"
        epoch = EPOCH_DAY if unit == "D" else EPOCH_SECOND
        return (array.astype(f"datetime64[{unit}]") - epoch).astype(np.int64)
    if rule.text_kind == "decimal":
        return np.array([int(Decimal(str(v)).scaleb(rule.scale)) for v in array.tolist()], dtype=np.int64)
    return array.astype(np.int64)


def hook_text(values: Any, timezone: bool = False) -> list[str]:
    """COPY text of what a hook returned: numbers, bools, datetime64 or date/datetime, str, None for NULL."""
    array = np.asarray(values) if not isinstance(values, np.ndarray) else values
    kind = array.dtype.kind
    if kind == "b":
        return ["t" if v else "f" for v in array.tolist()]
    if kind in "iu":
        return [str(v) for v in array.tolist()]
    if kind == "M":
        day = np.datetime_data(array.dtype)[0] in ("Y", "M", "W", "D")
        text = np.datetime_as_string(array, timezone="UTC" if timezone and not day else "naive").tolist()
        return [NULL if t == "NaT" else t for t in text] if np.isnat(array).any() else text
    listed = array.tolist()
    if set(map(type, listed)) <= {str}:
        return copy_escaped(listed)
    out = []
    for v in listed:
        if v is None or (isinstance(v, float) and v != v):
            out.append(NULL)
        elif isinstance(v, bool):
            out.append("t" if v else "f")
        elif hasattr(v, "isoformat"):
            shown = v.isoformat()
            out.append(shown + ("Z" if timezone and getattr(v, "tzinfo", 1) is None else ""))
        else:
            out.append(copy_escaped([str(v)])[0])
    return out


def _objects(values: list[Any]) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _unescaped(value: str) -> str:
    if "\\" not in value:
        return value
    out, i = [], 0
    while i < len(value):
        pair = value[i:i + 2]
        if pair in UNESCAPES:
            out.append(UNESCAPES[pair])
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def hook_columns(plan: Plan, settable: dict[str, set[str]], loaded: dict[str, Any], specs: dict[str, str],
                 seed: int) -> dict[str, tuple[str, frozenset[str], bool]]:
    """Which columns each hook sets, and whether it says which rows exist: its answer for no rows,
    asked on the plan made without hooks. `settable` is each table's columns COPY can write."""
    found = {}
    for table, hook in loaded.items():
        if table not in settable:
            raise ConfigError(f"the profile's hooks.{table} names no table of the schema; "
                              f"tables: {', '.join(sorted(settable)) or 'none'}")
        returned = hooks.call(specs[table], table, hook, hooks.Rows(seed, table, np.arange(0, dtype=np.int64), Evaluation(plan, seed)))
        columns, present = hooks.outputs(specs[table], table, returned, 0, settable[table])
        found[table] = (specs[table], frozenset(columns), present is not None)
    return found
