"""add billing plans

Revision ID: b7d9f1a3c524
Revises: 4a2c8e0f6b13
Create Date: 2026-11-27 15:54:12.257587

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'b7d9f1a3c524'
down_revision: Union[str, Sequence[str], None] = '4a2c8e0f6b13'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "billing_plans",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("plan", sa.String(length=32), nullable=False),
        sa.Column("monthly_cents", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("billing_plans")
