"""add priority to tickets

Revision ID: c47d1e5a9f32
Revises: 8b2e4d6f0a21
Create Date: 2026-11-27 15:52:49.204059

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'c47d1e5a9f32'
down_revision: Union[str, Sequence[str], None] = '8b2e4d6f0a21'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column("tickets", sa.Column("priority", sa.SmallInteger(), server_default="3", nullable=False))
    op.create_index("ix_tickets_status_priority", "tickets", ["status", "priority"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_tickets_status_priority", table_name="tickets")
    op.drop_column("tickets", "priority")
