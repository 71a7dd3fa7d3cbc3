"""job attempts

Revision ID: d3b7f1a5c9a3
Revises: 9c5a1e7d3b92
Create Date: 2026-11-27 15:55:11.898057

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'd3b7f1a5c9a3'
down_revision: Union[str, Sequence[str], None] = '9c5a1e7d3b92'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column("jobs", sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
    op.create_table(
        "job_failures",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("job_id", sa.BigInteger(), sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("job_failures")
    op.drop_column("jobs", "attempts")
