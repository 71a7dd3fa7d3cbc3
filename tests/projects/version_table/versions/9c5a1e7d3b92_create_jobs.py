"""create jobs

Revision ID: 9c5a1e7d3b92
Revises: 
Create Date: 2026-11-27 15:55:10.969433

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '9c5a1e7d3b92'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "jobs",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("queue", sa.String(length=40), server_default="default", nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("run_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    )
    op.create_index("ix_jobs_queue_run_at", "jobs", ["queue", "run_at"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_jobs_queue_run_at", table_name="jobs")
    op.drop_table("jobs")
