"""Issue 22 as a property of the pure core: a unique key over an "N per parent" foreign key and
another foreign key never repeats a pair, and the table is cut, with a reason, when the other
parent has fewer rows than N. The plan and the values come from model dataclasses; no database."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dbtool.seed.evaluate import chunk_text
from dbtool.seed.model import Column, Constraint, Table, UniqueIndex
from dbtool.seed.plan import plan


def integer(name: str, *, key: bool = False, not_null: bool = True) -> Column:
    return Column(name, "integer", "int4", "N", None, None, None, (), not_null, None, "a" if key else "", "",
                  None, ())


def text(name: str) -> Column:
    return Column(name, "text", "text", "S", None, None, None, (), True, None, "", "", None, ())


def parent(name: str) -> Table:
    return Table(name, (integer("id", key=True), text("name")), (Constraint(f"{name}_pkey", "p", "PRIMARY KEY (id)", ("id",)),), ())


def child(key_kind: str, extra: bool, order: bool) -> Table:
    """Line items: (order_id, product_id) unique as a primary key, a constraint or an index."""
    pair = ("order_id", "product_id") if order else ("product_id", "order_id")
    columns = [integer("order_id"), integer("product_id"), integer("quantity")] + ([text("note")] if extra else [])
    constraints = [
        Constraint("items_order_fkey", "f", "FOREIGN KEY (order_id) REFERENCES orders(id)", ("order_id",), "orders", "public", ("id",)),
        Constraint("items_product_fkey", "f", "FOREIGN KEY (product_id) REFERENCES products(id)", ("product_id",), "products",
                   "public", ("id",)),
    ]
    indexes = []
    if key_kind == "primary":
        constraints.append(Constraint("items_pkey", "p", f"PRIMARY KEY ({', '.join(pair)})", pair))
    elif key_kind == "unique":
        constraints.append(Constraint("items_pair_key", "u", f"UNIQUE ({', '.join(pair)})", pair))
    else:
        indexes.append(UniqueIndex("items_pair_idx", pair, False))
    return Table("items", tuple(columns), tuple(constraints), tuple(indexes))


def rows_of(text_block: str) -> list[list[str]]:
    return [line.split("\t") for line in text_block.splitlines()]


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(orders=st.integers(1, 40), products=st.integers(1, 30), n=st.integers(1, 12), seed=st.integers(0, 2**31 - 1),
       key_kind=st.sampled_from(["primary", "unique", "index"]), extra=st.booleans(), order=st.booleans(),
       chunk=st.integers(1, 50))
def test_per_parent_composite_keys_never_repeat(orders: int, products: int, n: int, seed: int, key_kind: str,
                                                extra: bool, order: bool, chunk: int) -> None:
    tables = [parent("orders"), parent("products"), child(key_kind, extra, order)]
    planned = plan(tables, 10, {"orders": orders, "products": products, "items": (n, "orders")})
    items = planned.table("items")
    per = min(n, products)
    assert items.generated and items.count == per * orders
    assert (items.capped is not None) == (n > products)
    if items.capped:
        assert f"{n} per orders cut to {products}" in items.capped
    columns = [r.column for r in items.rules]
    rows = []
    for first in range(0, items.count, chunk):  # chunk boundaries split parents: values must not care
        block, count = chunk_text(planned, items, seed, first, min(chunk, items.count - first))
        rows += rows_of(block)
    assert len(rows) == items.count
    pairs = [(r[columns.index("order_id")], r[columns.index("product_id")]) for r in rows]
    assert len(set(pairs)) == len(pairs), "a (order_id, product_id) pair repeats"
    assert {int(o) for o, _ in pairs} == set(range(1, orders + 1))
    assert all(1 <= int(p) <= products for _, p in pairs)
