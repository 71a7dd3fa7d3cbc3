"""flag overrides per account

Revision ID: e4c8a2d6f0b5
Revises: 0d6b2f8e4ca4
Create Date: 2026-11-27 15:55:13.782932

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'e4c8a2d6f0b5'
down_revision: Union[str, Sequence[str], None] = '0d6b2f8e4ca4'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "feature_flag_overrides",
        sa.Column("flag_key", sa.String(length=64), sa.ForeignKey("feature_flags.key", ondelete="CASCADE"), primary_key=True),
        sa.Column("account_id", sa.Integer(), primary_key=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("feature_flag_overrides")
