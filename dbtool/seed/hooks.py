"""Hooks: a project's own Python for columns (or whole tables) the automatic rules cannot guess.

A profile names one hook per table, `"module:function"`. dbtool calls it with a `Rows`: the row
numbers of one chunk and counter-based draws keyed by (seed, table, purpose, row), plus the values
of any planned column of any table at any rows. It returns the columns it sets, vectorized:

    def orders(rows: Rows) -> dict[str, Sequence]:
        product = rows.integers("product", 0, rows.count("products") - 1)
        return {"product_id": rows.values("id", "products", product),
                "price": rows.values("list_price", "products", product)}

Columns it does not return keep their automatic rule. A table counted "N per PARENT" has N rows
per parent row; its hook may return `(columns, present)` where `present` (one bool per row) says
which of those rows exist. dbtool calls each hook once with no rows to learn which columns it sets.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from dbtool.errors import ConfigError

Hook = Callable[["Rows"], Any]


class Rows:
    """The rows one hook call fills, and what it may read: draws, counts and other columns' values."""

    def __init__(self, seed: int, table: str, index: np.ndarray, source: Any) -> None:
        self.seed = seed
        self.table = table
        self.index = index  # row numbers from 0 (for an N-per-parent table: parent row * N + slot)
        self._source = source  # the evaluation that answers values(), present() and count()

    def __len__(self) -> int:
        return len(self.index)

    def draws(self, purpose: str, at: np.ndarray | None = None) -> np.ndarray:
        """One 32-bit draw per row (or per number in `at`), keyed by (seed, this table, purpose, row)."""
        from dbtool.seed.rules import draws

        return draws(self.seed, self.index if at is None else np.asarray(at, dtype=np.int64), self.table, purpose)

    def integers(self, purpose: str, low: int, high: int, at: np.ndarray | None = None) -> np.ndarray:
        """Whole numbers in [low, high], one per row (or per number in `at`)."""
        if high < low:
            raise ValueError(f"integers({purpose!r}): high {high} < low {low}")
        return low + (self.draws(purpose, at) % np.uint64(high - low + 1)).astype(np.int64)

    def choice(self, options: Sequence[Any], purpose: str, weights: Sequence[int] | None = None,
               at: np.ndarray | None = None) -> np.ndarray:
        """One of `options` per row, uniform or in proportion to whole-number `weights`."""
        from dbtool.seed.rules import pick

        table = np.empty(len(options), dtype=object)
        table[:] = list(options)
        return table[pick(self.draws(purpose, at), len(options), weights or ())]

    def values(self, column: str, table: str | None = None, rows: np.ndarray | None = None) -> np.ndarray:
        """The planned values of `column` of `table` (this one by default) at `rows` (these by default):
        int64 for integers, datetime64 for dates and timestamps, bool, else objects (str, None for NULL)."""
        return self._source.values(table or self.table, column, self.index if rows is None else np.asarray(rows, dtype=np.int64))

    def present(self, table: str, rows: np.ndarray) -> np.ndarray:
        """Which of `rows` of `table` exist (all of them unless its hook says otherwise)."""
        return self._source.present(table, np.asarray(rows, dtype=np.int64))

    def count(self, table: str) -> int:
        """Rows planned for `table` (for an N-per-parent table: N x its parent's rows)."""
        return self._source.count(table)


def load_hook(spec: str, directory: str | None, table: str) -> Hook:
    """Import the function `spec` ("module:function") names, with `directory` first on sys.path."""
    module_name, _, function = spec.partition(":")
    added = directory is not None and directory not in sys.path
    if added:
        sys.path.insert(0, str(directory))
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # any import failure is the user's hook module
        raise ConfigError(f"hook {spec} for table {table}: cannot import {module_name} "
                          f"({type(exc).__name__}: {exc}); check the module name and that it imports") from None
    finally:
        if added:
            sys.path.remove(str(directory))
    found = getattr(module, function, None)
    if not callable(found):
        raise ConfigError(f"hook {spec} for table {table}: {module_name} has no function {function}")
    return found


def hook_source(spec: str, directory: str | None) -> str:
    """The source text of a hook's module (what names a template built with it), imported if need be."""
    import inspect

    module = sys.modules.get(spec.partition(":")[0])
    if module is None:
        load_hook(spec, directory, "?")
        module = sys.modules[spec.partition(":")[0]]
    try:
        return inspect.getsource(module)
    except (OSError, TypeError):
        return spec


def call(spec: str, table: str, hook: Hook, rows: Rows) -> Any:
    """Run a hook; its own failure becomes one line naming it and the rows it was making."""
    try:
        return hook(rows)
    except ConfigError:
        raise
    except Exception as exc:  # whatever the project's code raises
        where = f"rows {rows.index[0]}..{rows.index[-1]}" if len(rows) else "no rows (dbtool asks once which columns it sets)"
        raise ConfigError(f"hook {spec} for table {table} failed on {where}: {type(exc).__name__}: {exc}; "
                          "fix the hook (nothing was changed)") from None


def outputs(spec: str, table: str, returned: Any, rows: int, columns: set[str]) -> tuple[Mapping[str, Any], np.ndarray | None]:
    """A hook's return value checked: (columns it set, which rows exist or None for all)."""
    present = None
    if isinstance(returned, tuple) and len(returned) == 2:
        returned, present = returned
        present = np.asarray(present, dtype=bool)
        if present.shape != (rows,):
            raise ConfigError(f"hook {spec} for table {table} returned {present.shape[0] if present.ndim else 0} "
                              f"present flags for {rows} rows; return one bool per row")
    if not isinstance(returned, Mapping):
        raise ConfigError(f"hook {spec} for table {table} returned {type(returned).__name__}; "
                          "return a dict of column -> values (or (dict, present))")
    unknown = sorted(set(returned) - columns)
    if unknown:
        raise ConfigError(f"hook {spec} returned {', '.join(map(str, unknown))}, not column(s) of {table} it can set; "
                          f"it can set: {', '.join(sorted(columns))}")
    for column, values in returned.items():
        if len(values) != rows:
            raise ConfigError(f"hook {spec} returned {len(values)} values of {table}.{column} for {rows} rows; "
                              "return one per row")
    return returned, present
