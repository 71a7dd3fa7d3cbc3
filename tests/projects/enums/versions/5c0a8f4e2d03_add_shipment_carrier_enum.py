"""add shipment carrier enum

Revision ID: 5c0a8f4e2d03
Revises: 1b9e7d3a5f92
Create Date: 2026-11-27 15:54:17.197317

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision: str = '5c0a8f4e2d03'
down_revision: Union[str, Sequence[str], None] = '1b9e7d3a5f92'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    carrier = postgresql.ENUM("dhl", "ups", "postnl", name="carrier")
    carrier.create(op.get_bind())
    op.create_table(
        "shipments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("order_id", sa.Integer(), sa.ForeignKey("orders.id"), nullable=False),
        sa.Column("carrier", postgresql.ENUM(name="carrier", create_type=False), nullable=False),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("shipments")
    postgresql.ENUM(name="carrier").drop(op.get_bind())
