"""Issue 15: a project's own hooks, named by its profile file, fill what no schema says.

A small shop project is written into tmp_path: products, orders and order items ("3 per
orders" slots), plus a lookup table the migration fills. Its hooks set derived columns and say
which item slots exist; Postgres and SQL over the result judge them. dbtool runs as a real
process from another directory, like a team's CI.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from tests.helpers import dbtool_process

ENV_PY = Path(__file__).parents[1] / "projects" / "seed_relations" / "env.py"
MIGRATION = '''
from alembic import op

revision = "a1"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("""
        CREATE TABLE statuses (code text PRIMARY KEY);
        INSERT INTO statuses VALUES ('new'), ('paid'), ('void');
        CREATE TABLE products (id serial PRIMARY KEY, name text NOT NULL, price_cents int NOT NULL CHECK (price_cents > 0));
        CREATE TABLE orders (id serial PRIMARY KEY, status text NOT NULL REFERENCES statuses,
                             subtotal_cents int NOT NULL, fee_cents int NOT NULL CHECK (fee_cents >= 0),
                             total_cents int NOT NULL, CHECK (total_cents = subtotal_cents + fee_cents));
        CREATE TABLE order_items (id serial PRIMARY KEY, order_id int NOT NULL REFERENCES orders,
                                  product_id int NOT NULL REFERENCES products, quantity int NOT NULL CHECK (quantity > 0),
                                  unit_price_cents int NOT NULL);
        CREATE TABLE points (id serial PRIMARY KEY, x int NOT NULL, y int NOT NULL, CHECK (x * x + y * y < 100));
    """)


def downgrade():
    op.execute("DROP TABLE points, order_items, orders, products, statuses")
'''
HOOKS = '''
import numpy as np


def items(rows):
    order = rows.index // 3
    lines = 1 + rows.integers("lines", 0, 2, at=order)
    product = rows.integers("product", 0, rows.count("products") - 1)
    return {"product_id": rows.values("id", "products", product),
            "unit_price_cents": rows.values("price_cents", "products", product)}, rows.index % 3 < lines


def inside_the_circle(rows):
    return {"x": rows.integers("x", -7, 7), "y": rows.integers("y", -7, 7)}


def orders(rows):
    slots = (rows.index[:, None] * 3 + np.arange(3)).ravel()
    amount = rows.values("quantity", "order_items", slots) * rows.values("unit_price_cents", "order_items", slots)
    subtotal = np.where(rows.present("order_items", slots), amount, 0).reshape(-1, 3).sum(axis=1)
    return {"subtotal_cents": subtotal, "fee_cents": subtotal // 10}
'''
PROFILES = '''
[hooks]
orders = "shop_hooks:orders"
order_items = "shop_hooks:items"
points = "shop_hooks:inside_the_circle"

[profiles.ci.tables]
products = 5
orders = 40
order_items = "3 per orders"
'''
SUBTOTALS_WRONG = """
SELECT count(*) FROM orders o LEFT JOIN (SELECT order_id, sum(quantity * unit_price_cents) AS s FROM order_items
GROUP BY order_id) i ON i.order_id = o.id WHERE o.subtotal_cents <> coalesce(i.s, 0) OR o.fee_cents <> o.subtotal_cents / 10
"""


def _project(root: Path, hooks: str = HOOKS, profiles: str = PROFILES) -> Path:
    (root / "versions").mkdir(parents=True)
    shutil.copy(ENV_PY, root / "env.py")
    (root / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s\n")
    (root / "versions" / "a1_shop.py").write_text(MIGRATION)
    (root / "shop_hooks.py").write_text(hooks)
    (root / "dbtool.toml").write_text(profiles)
    return root / "alembic.ini"


def _run(ini: Path, url: str, cwd: Path, *args: str) -> tuple[int, str, str]:
    profile = ("--profile", "ci") if args[0] in ("reset", "seed", "plan") else ()
    done = dbtool_process(*args, "--alembic-config", str(ini), "--database-url", url, *profile, cwd=cwd)
    return done.returncode, done.stdout, done.stderr


@pytest.fixture
def shop(tmp_path: Path) -> tuple[Path, Path]:
    elsewhere = tmp_path / "ci"
    elsewhere.mkdir()
    return _project(tmp_path / "shop"), elsewhere


def test_hooks_set_derived_columns_and_which_slots_exist(shop: tuple[Path, Path], database_url: str,
                                                        conn: psycopg.Connection) -> None:
    ini, cwd = shop
    code, _, err = _run(ini, database_url, cwd, "reset")
    assert code == 0, err
    assert conn.execute(SUBTOTALS_WRONG).fetchone()[0] == 0
    per_order = [r[0] for r in conn.execute(
        "SELECT count(i.id) FROM orders o LEFT JOIN order_items i ON i.order_id = o.id GROUP BY o.id").fetchall()]
    assert len(per_order) == 40 and set(per_order) <= {1, 2, 3} and len(set(per_order)) > 1
    assert conn.execute("SELECT count(*) FROM products").fetchone()[0] == 5
    # A CHECK outside the automatic shapes, on columns a hook sets: the hook meets it, Postgres judges.
    assert conn.execute("SELECT count(*), count(DISTINCT (x, y)) > 1 FROM points").fetchone() == (10, True)
    # The lookup rows the migration inserted stay exactly as they were, and orders reference them.
    assert [r[0] for r in conn.execute("SELECT code FROM statuses ORDER BY code")] == ["new", "paid", "void"]


def test_plan_names_the_hook_per_column(shop: tuple[Path, Path], database_url: str) -> None:
    ini, cwd = shop
    code, out, err = _run(ini, database_url, cwd, "plan", "--json")
    assert code == 0, err
    columns = json.loads(out)["tables"]["orders"]["columns"]
    assert columns["subtotal_cents"] == columns["fee_cents"] == "hook: shop_hooks:orders"
    assert columns["total_cents"].startswith("total:")  # the CHECK adds up what the hook set


def test_seed_replaces_generated_rows_keeps_migration_rows_and_verifies(shop: tuple[Path, Path], database_url: str,
                                                                        conn: psycopg.Connection) -> None:
    ini, cwd = shop
    assert _run(ini, database_url, cwd, "reset")[0] == 0
    conn.execute("INSERT INTO products (name, price_cents) VALUES ('stray', 1)")
    assert _run(ini, database_url, cwd, "verify")[0] == 1
    code, _, err = _run(ini, database_url, cwd, "seed", "--yes")
    assert code == 0, err
    assert conn.execute("SELECT count(*) FROM products WHERE name = 'stray'").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM statuses").fetchone()[0] == 3
    code, out, err = _run(ini, database_url, cwd, "verify", "--json")
    assert code == 0, err
    assert json.loads(out)["record_matches_generator"] is True


def test_a_changed_hook_changes_what_verify_expects(shop: tuple[Path, Path], database_url: str) -> None:
    ini, cwd = shop
    assert _run(ini, database_url, cwd, "reset")[0] == 0
    assert _run(ini, database_url, cwd, "verify")[0] == 0
    (ini.parent / "shop_hooks.py").write_text(HOOKS.replace("subtotal // 10", "subtotal // 5"))
    code, out, _ = _run(ini, database_url, cwd, "verify", "--json")
    assert code == 1
    assert json.loads(out)["record_matches_generator"] is False


BROKEN: dict[str, tuple[Callable[[str], str], Callable[[str], str], str]] = {
    "unimportable": (lambda h: h, lambda p: p.replace("shop_hooks:orders", "no_such_module:orders"),
                     "hook no_such_module:orders for table orders: cannot import no_such_module"),
    "missing function": (lambda h: h, lambda p: p.replace("shop_hooks:orders", "shop_hooks:nothing"),
                         "shop_hooks has no function nothing"),
    "unknown column": (lambda h: h.replace('"fee_cents":', '"fees":'), lambda p: p,
                       "hook shop_hooks:orders returned fees, not column(s) of orders"),
    "raises": (lambda h: h.replace("    slots =", "    raise KeyError('boom')\n    slots ="), lambda p: p,
               "hook shop_hooks:orders for table orders failed on"),
    "wrong length": (lambda h: h.replace('"fee_cents": subtotal // 10', '"fee_cents": [1]'), lambda p: p,
                     "values of orders.fee_cents for"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_hook_exits_2_with_one_line_and_changes_nothing(case: str, tmp_path: Path, database_url: str,
                                                                  conn: psycopg.Connection) -> None:
    good = _project(tmp_path / "good")
    assert _run(good, database_url, tmp_path, "reset")[0] == 0
    before = conn.execute("SELECT digest FROM dbtool_meta ORDER BY id DESC LIMIT 1").fetchone()
    edit_hooks, edit_profiles, expected = BROKEN[case]
    broken = _project(tmp_path / "broken", edit_hooks(HOOKS), edit_profiles(PROFILES))
    code, out, err = _run(broken, database_url, tmp_path, "reset", "--force")
    assert code == 2, err
    errors = [line for line in err.splitlines() if line.startswith("dbtool: error:")]
    assert len(errors) == 1 and expected in errors[0], err
    assert "Traceback" not in err
    assert conn.execute("SELECT digest FROM dbtool_meta ORDER BY id DESC LIMIT 1").fetchone() == before


def test_seed_after_an_older_dbtools_reset_refuses_until_a_reset(shop: tuple[Path, Path], database_url: str,
                                                                 conn: psycopg.Connection) -> None:
    ini, cwd = shop
    assert _run(ini, database_url, cwd, "reset")[0] == 0
    conn.execute("UPDATE dbtool_meta SET generated_tables = NULL")  # what dbtool before generator version 2 left
    code, _, err = _run(ini, database_url, cwd, "seed", "--yes")
    assert code == 3 and "run `dbtool reset` once" in err
    assert conn.execute("SELECT count(*) FROM statuses").fetchone()[0] == 3
