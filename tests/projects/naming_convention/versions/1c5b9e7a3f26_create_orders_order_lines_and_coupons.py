"""create orders, order lines and coupons

Revision ID: 1c5b9e7a3f26
Revises: 
Create Date: 2026-11-27 15:53:14.516092

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '1c5b9e7a3f26'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
    )
    op.create_table(
        "order_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_order_lines_quantity_positive")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_order_lines_order_id_orders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_lines")),
    )
    op.create_index(op.f("ix_order_lines_order_id"), "order_lines", ["order_id"])
    # Constraints left unnamed on purpose: the naming convention of env.py's target_metadata names them
    # (uq_coupons_code, ck_coupons_percent_range); a later revision drops them by those names.
    op.create_table(
        "coupons",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(length=24), nullable=False, unique=True),
        sa.Column("percent", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=8), server_default="eu", nullable=False),
        sa.CheckConstraint("percent BETWEEN 1 AND 100", name="percent_range"),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("coupons")
    op.drop_index(op.f("ix_order_lines_order_id"), table_name="order_lines")
    op.drop_table("order_lines")
    op.drop_table("orders")
