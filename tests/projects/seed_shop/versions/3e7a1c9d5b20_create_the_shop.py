"""create the shop

Revision ID: 3e7a1c9d5b20
Revises: 
Create Date: 2026-12-08 00:06:12.104233

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '3e7a1c9d5b20'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.execute(
        """
        CREATE TABLE customers (
            id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            name text NOT NULL,
            email text NOT NULL,
            phone text,
            city text,
            country char(2),
            postcode text,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz,
            deleted_at timestamptz
        )
        """
    )
    op.execute("CREATE UNIQUE INDEX customers_email_lower_key ON customers (lower(email))")
    op.execute(
        """
        CREATE TABLE categories (
            id serial PRIMARY KEY,
            parent_id integer REFERENCES categories (id),
            name text NOT NULL,
            slug text NOT NULL UNIQUE
        )
        """
    )
    op.execute(
        """
        CREATE TABLE products (
            id serial PRIMARY KEY,
            category_id integer NOT NULL REFERENCES categories (id),
            sku varchar(32) NOT NULL UNIQUE,
            name text NOT NULL,
            description text,
            price numeric(10, 2) NOT NULL CHECK (price >= 0),
            stock_quantity integer NOT NULL DEFAULT 0,
            rating numeric(2, 1),
            created_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute(
        """
        CREATE TABLE orders (
            id serial PRIMARY KEY,
            customer_id integer NOT NULL REFERENCES customers (id),
            number text NOT NULL UNIQUE,
            status text NOT NULL DEFAULT 'new',
            total numeric(12, 2) NOT NULL DEFAULT 0,
            note text,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz
        )
        """
    )
    op.execute(
        """
        CREATE TABLE order_items (
            id serial PRIMARY KEY,
            order_id integer NOT NULL REFERENCES orders (id),
            product_id integer NOT NULL REFERENCES products (id),
            quantity integer NOT NULL CHECK (quantity > 0),
            unit_price numeric(10, 2) NOT NULL,
            CONSTRAINT order_items_order_product_key UNIQUE (order_id, product_id)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE promotions (
            id serial PRIMARY KEY,
            code varchar(20) NOT NULL UNIQUE,
            title text NOT NULL,
            product_id integer REFERENCES products (id),
            discount_percent integer NOT NULL CHECK (discount_percent BETWEEN 1 AND 90),
            starts_at timestamptz NOT NULL,
            ends_at timestamptz NOT NULL
        )
        """
    )
    op.execute(
        """
        CREATE TABLE audit_log (
            id bigserial PRIMARY KEY,
            action text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )


def downgrade() -> None:
    """Downgrade schema."""
    for table in ("audit_log", "promotions", "order_items", "orders", "products", "categories", "customers"):
        op.execute(f"DROP TABLE {table}")
