"""create orders with status enum

Revision ID: 8d4f2b0e6c81
Revises: 
Create Date: 2026-11-27 15:54:15.890675

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '8d4f2b0e6c81'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "status",
            sa.Enum("pending", "paid", "shipped", name="order_status"),
            server_default="pending",
            nullable=False,
        ),
        sa.Column("placed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("orders")
    sa.Enum(name="order_status").drop(op.get_bind(), checkfirst=False)
