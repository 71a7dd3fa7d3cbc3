"""order totals view and daily revenue materialized view

Revision ID: f0b4d8a2c647
Revises: 3e7c1a9d5f36
Create Date: 2026-11-27 15:54:19.903768

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'f0b4d8a2c647'
down_revision: Union[str, Sequence[str], None] = '3e7c1a9d5f36'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.execute(
        """
        CREATE VIEW order_totals AS
        SELECT o.id AS order_id, o.customer_email, o.placed_at,
               coalesce(sum(i.quantity * i.unit_price_cents), 0) AS total_cents
        FROM orders o LEFT JOIN order_items i ON i.order_id = o.id
        GROUP BY o.id
        """
    )
    op.execute(
        """
        CREATE MATERIALIZED VIEW daily_revenue AS
        SELECT date_trunc('day', placed_at) AS day, count(*) AS orders, sum(total_cents) AS revenue_cents
        FROM order_totals
        GROUP BY 1
        WITH DATA
        """
    )
    # REFRESH MATERIALIZED VIEW CONCURRENTLY needs a unique index.
    op.create_index("ux_daily_revenue_day", "daily_revenue", ["day"], unique=True)


def downgrade() -> None:
    """Downgrade schema."""
    op.execute("DROP MATERIALIZED VIEW daily_revenue")
    op.execute("DROP VIEW order_totals")
