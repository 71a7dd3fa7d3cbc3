"""add refunded order status

Revision ID: 1b9e7d3a5f92
Revises: 8d4f2b0e6c81
Create Date: 2026-11-27 15:54:16.538850

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '1b9e7d3a5f92'
down_revision: Union[str, Sequence[str], None] = '8d4f2b0e6c81'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    # Postgres >= 12 allows ADD VALUE in a transaction block; the new value just cannot be used
    # before that transaction commits, and nothing in this revision uses it.
    op.execute("ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'refunded' AFTER 'shipped'")


def downgrade() -> None:
    """Downgrade schema."""
    # Postgres cannot drop an enum value: rebuild the type without it.
    op.execute("UPDATE orders SET status = 'paid' WHERE status = 'refunded'")
    op.execute("ALTER TYPE order_status RENAME TO order_status_old")
    op.execute("CREATE TYPE order_status AS ENUM ('pending', 'paid', 'shipped')")
    op.execute("ALTER TABLE orders ALTER COLUMN status DROP DEFAULT")
    op.execute("ALTER TABLE orders ALTER COLUMN status TYPE order_status USING status::text::order_status")
    op.execute("ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'pending'")
    op.execute("DROP TYPE order_status_old")
