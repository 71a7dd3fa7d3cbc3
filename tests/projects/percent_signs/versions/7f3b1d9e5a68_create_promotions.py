"""create promotions

Revision ID: 7f3b1d9e5a68
Revises: 
Create Date: 2026-11-27 15:54:14.511696

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '7f3b1d9e5a68'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "promotions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("label", sa.Text(), server_default="100% off", nullable=False),
        sa.Column("pct", sa.Integer(), nullable=False, comment="rate in %"),
        sa.CheckConstraint("pct % 5 = 0", name="promotions_pct_multiple_of_5"),
        comment="discounts; pct is a rate in %",
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("promotions")
