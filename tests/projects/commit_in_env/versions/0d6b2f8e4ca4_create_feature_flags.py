"""create feature flags

Revision ID: 0d6b2f8e4ca4
Revises: 
Create Date: 2026-11-27 15:55:12.684163

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0d6b2f8e4ca4'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "feature_flags",
        sa.Column("key", sa.String(length=64), primary_key=True),
        sa.Column("enabled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("rollout_percent", sa.SmallInteger(), server_default="0", nullable=False),
        sa.CheckConstraint("rollout_percent BETWEEN 0 AND 100", name="feature_flags_rollout_range"),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("feature_flags")
