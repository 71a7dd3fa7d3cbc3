"""create identity and serial tables

Revision ID: 6f2d8b4a0e58
Revises: 
Create Date: 2026-11-27 15:55:06.671624

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '6f2d8b4a0e58'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), primary_key=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    )
    op.create_table(
        "tags",
        sa.Column("id", sa.Integer(), sa.Identity(always=False, start=1000, increment=10), primary_key=True),
        sa.Column("label", sa.String(length=40), nullable=False, unique=True),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("tags")
    op.drop_table("audit_events")
