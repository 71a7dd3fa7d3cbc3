"""Issue 22: seed data that looks real, on the shop of the README's own profile example.

The seed_shop fixture (customers, a categories tree, products, orders, order_items with UNIQUE
(order_id, product_id), promotions, audit_log) is reset with the README's profile example copied
from the README itself, as a team would paste it into pyproject.toml; Postgres judges every row.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from tests.alembic_projects import SEED_PROJECTS
from tests.helpers import dbtool_process

README = Path(__file__).resolve().parents[2] / "docs" / "tutorial.md"  # the profile example moved there from the README
SHOP = SEED_PROJECTS["seed_shop"]
DEFAULT_EPOCH = "2026-01-01T00:00:00Z"
NAME_COLUMNS = {"customers": "name", "categories": "name", "products": "name"}
PAIRED = {  # (table, earlier, later): in order by their names alone
    ("customers", "created_at", "updated_at"), ("customers", "updated_at", "deleted_at"),
    ("orders", "created_at", "updated_at"), ("promotions", "starts_at", "ends_at"),
}


def readme_profile() -> str:
    """The README's profile example, verbatim (the toml block that sets order_items = "3 per orders")."""
    blocks = re.findall(r"```toml\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    return next(b for b in blocks if 'order_items = "3 per orders"' in b and "[tool.dbtool.profiles.dev]" in b)


def run(command: str, url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return dbtool_process(command, "--alembic-config", str(SHOP.config), "--database-url", url, "--profile", "dev",
                          *(("--yes",) if command == "reset" else ()), *args, cwd=cwd, timeout=180)


@pytest.fixture()
def shop(new_database: Callable[[], str], tmp_path: Path) -> tuple[str, Path]:
    """A database reset to the shop with the README's profile example; its URL and the project's cwd."""
    (tmp_path / "pyproject.toml").write_text(readme_profile(), encoding="utf-8")
    url = new_database()
    done = run("reset", url, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    return url, tmp_path


def scalar(url: str, query: str) -> object:
    with psycopg.connect(url) as conn:
        return conn.execute(query).fetchone()[0]  # type: ignore[index]


def test_the_readme_example_fills_every_table_and_holds_the_composite_key(shop: tuple[str, Path]) -> None:
    url, _ = shop
    counts = {t: scalar(url, f"SELECT count(*) FROM {t}") for t in
              ("customers", "categories", "products", "orders", "order_items", "promotions", "audit_log")}
    assert counts["audit_log"] == 0  # the example leaves it empty on purpose
    assert all(n for t, n in counts.items() if t != "audit_log"), counts
    assert counts["orders"] == 500 and counts["order_items"] == 1500  # 3 distinct products per order
    assert scalar(url, "SELECT count(DISTINCT (order_id, product_id)) FROM order_items") == 1500
    assert scalar(url, "SELECT count(DISTINCT order_id) FROM order_items") == 500


def test_names_keep_their_kind_and_emails_follow_them(shop: tuple[str, Path]) -> None:
    url, _ = shop
    for table, column in NAME_COLUMNS.items():
        numbered = scalar(url, f"SELECT count(*) FROM {table} WHERE {column} ~ '[0-9]'")
        assert numbered == 0, f"{table}.{column}: {numbered} names carry a number"
    # customers' unique index is on lower(email): the name is not part of it, the email is made from it
    assert scalar(url, "SELECT count(*) FROM customers WHERE email NOT LIKE "
                       "lower(replace(name, ' ', '.')) || '%@%'") == 0
    assert scalar(url, "SELECT count(DISTINCT lower(email)) FROM customers") == scalar(url, "SELECT count(*) FROM customers")
    # product and category names are not person names; prices are plausible and have cents
    with psycopg.connect(url) as conn:
        people = {r[0] for r in conn.execute("SELECT name FROM customers")}
        things = {r[0] for r in conn.execute("SELECT name FROM products UNION SELECT name FROM categories")}
        low, high, average = conn.execute("SELECT min(price), max(price), avg(price) FROM products").fetchone()  # type: ignore[misc]
        skus = [r[0] for r in conn.execute("SELECT sku FROM products")]
    assert not people & things
    assert 0 <= low and high <= 1000 and 50 <= average <= 400, (low, high, average)
    assert all(re.fullmatch(r"[A-Z]{3}-\d{5}", s) for s in skus), skus[:5]


def test_time_flows_and_stays_before_the_epoch(shop: tuple[str, Path]) -> None:
    url, _ = shop
    older = scalar(url, "SELECT count(*) FROM orders o JOIN customers c ON c.id = o.customer_id "
                        "WHERE o.created_at < c.created_at")
    assert older == 0, f"{older} orders are older than their customer"
    for table, earlier, later in PAIRED:
        out_of_order = scalar(url, f"SELECT count(*) FROM {table} WHERE {later} < {earlier}")
        assert out_of_order == 0, f"{table}: {out_of_order} rows have {later} before {earlier}"
    with psycopg.connect(url) as conn:
        columns = conn.execute("SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = "
                               "'public' AND data_type LIKE 'timestamp%' AND table_name NOT LIKE 'dbtool%'").fetchall()
        for table, column in columns:
            late = conn.execute(f"SELECT count(*) FROM {table} WHERE {column} > %s::timestamptz",
                                (DEFAULT_EPOCH,)).fetchone()[0]  # type: ignore[index]
            assert late == 0, f"{table}.{column}: {late} values after the epoch {DEFAULT_EPOCH}"


def test_a_profile_epoch_moves_the_window(new_database: Callable[[], str], tmp_path: Path) -> None:
    (tmp_path / "dbtool.toml").write_text('[profiles.dev]\nrows = 20\nepoch = 2024-06-30\n', encoding="utf-8")
    url = new_database()
    done = run("reset", url, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    latest = scalar(url, "SELECT max(greatest(created_at, updated_at, deleted_at)) FROM customers")
    earliest = scalar(url, "SELECT min(created_at) FROM customers")
    epoch = dt.datetime(2024, 6, 30, tzinfo=dt.UTC)
    assert latest <= epoch and earliest >= epoch - dt.timedelta(days=731), (earliest, latest)  # type: ignore[operator]


def test_a_key_with_less_room_than_the_count_is_cut_and_said(new_database: Callable[[], str], tmp_path: Path) -> None:
    (tmp_path / "dbtool.toml").write_text(
        '[profiles.dev]\nrows = 20\n[profiles.dev.tables]\nproducts = 4\norder_items = "6 per orders"\n', encoding="utf-8")
    url = new_database()
    planned = run("plan", url, tmp_path, "--json")
    assert planned.returncode == 0, planned.stderr
    items = json.loads(planned.stdout)["tables"]["order_items"]
    assert items["rows"] == 80 and "6 per orders cut to 4" in items["capped"], items
    done = run("reset", url, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "order_items: 6 per orders cut to 4" in done.stdout + done.stderr
    assert scalar(url, "SELECT count(*) FROM order_items") == 80


HOOK = '''
def items(rows):
    return {"product_id": rows.values("id", "products", rows.integers("product", 0, 1))}
'''


def test_a_hook_that_repeats_a_composite_key_is_named(new_database: Callable[[], str], tmp_path: Path) -> None:
    (tmp_path / "seed_hooks.py").write_text(HOOK, encoding="utf-8")
    (tmp_path / "dbtool.toml").write_text('[hooks]\norder_items = "seed_hooks:items"\n'
                                          '[profiles.dev.tables]\norder_items = "3 per orders"\n', encoding="utf-8")
    url = new_database()
    done = run("reset", url, tmp_path)
    out = done.stdout + done.stderr
    assert done.returncode != 0 and "hook seed_hooks:items gives order_items rows" in out, out
    assert "unique key order_items_order_product_key" in out and "could not create unique index" not in out, out
