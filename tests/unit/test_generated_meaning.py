"""Issue 22: what a column's name (and its table's) says it holds, and which columns come in order."""

from __future__ import annotations

import numpy as np
import pytest

from dbtool.seed import words
from dbtool.seed.domains import Domain
from dbtool.seed.model import Column
from dbtool.seed.plan import Rule, _text_rule, ordered_pairs
from dbtool.seed.rules import column_text


def text(name: str) -> Column:
    return Column(name, "text", "text", "S", None, None, None, (), True, None, "", "", None, ())


@pytest.mark.parametrize(("names", "pairs"), [
    (["created_at", "updated_at", "deleted_at"], [("created_at", "updated_at"), ("updated_at", "deleted_at")]),
    (["created_at", "deleted_at"], [("created_at", "deleted_at")]),
    (["start_time", "end_time", "starts_at", "ends_at"], [("start_time", "end_time"), ("starts_at", "ends_at")]),
    (["valid_from", "valid_until"], [("valid_from", "valid_until")]),
    (["opened_at", "closed_at", "begin_date", "finish_date"], [("begin_date", "finish_date"), ("opened_at", "closed_at")]),
    (["start", "end"], [("start", "end")]),
    (["start_time", "finished_on"], []),  # different stems: no order
    (["weekend", "friend_to"], []),
])
def test_ordered_pairs_by_name(names: list[str], pairs: list[tuple[str, str]]) -> None:
    assert sorted(ordered_pairs(names)) == sorted(pairs)


@pytest.mark.parametrize(("table", "column", "kind"), [
    ("customers", "name", "name"), ("users", "display_name", "name"), ("products", "name", "product_name"),
    ("order_items", "name", "product_name"), ("vendors", "name", "company_name"), ("categories", "name", "category_name"),
    ("projects", "name", "title"), ("products", "sku", "sku"), ("products", "description", "description"),
    ("orders", "number", "code"), ("orders", "status", "status"), ("customers", "country", "country"),
])
def test_name_kinds(table: str, column: str, kind: str) -> None:
    rule, _ = _text_rule(text(column), Domain(not_null=True), False, column, table)
    assert rule.text_kind == kind


def test_emails_are_made_from_the_rows_own_name() -> None:
    rows = np.arange(50, dtype=np.int64)
    name = Rule("full_name", "text", "", Domain(), text_kind="name")
    email = Rule("email", "text", "", Domain(), text_kind="email", name_from=("full_name", "full_name"))
    for n, e in zip(column_text("clients", name, 7, rows), column_text("clients", email, 7, rows), strict=True):
        first, last = n.split(" ")
        assert e.startswith(f"{first.lower()}.{last.lower()}") and n.split(" ")[0] in words.FIRST_NAMES


def test_unique_skus_do_not_depend_on_the_chunk() -> None:
    sku = Rule("sku", "text", "", Domain(), unique=True, text_kind="sku")
    whole = column_text("products", sku, 3, np.arange(99_990, 100_010, dtype=np.int64))
    parts = column_text("products", sku, 3, np.arange(99_990, 100_000, dtype=np.int64)) + \
        column_text("products", sku, 3, np.arange(100_000, 100_010, dtype=np.int64))
    assert whole == parts and len(set(whole)) == len(whole)
