"""add event subscriptions

Revision ID: 6b1f8e2d0a35
Revises: 0d7e3b9a5c14
Create Date: 2026-11-27 15:53:13.913616

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '6b1f8e2d0a35'
down_revision: Union[str, Sequence[str], None] = '0d7e3b9a5c14'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "event_subscriptions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("webhook_url", sa.Text(), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.UniqueConstraint("kind", "webhook_url", name="uq_event_subscriptions_kind_url"),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("event_subscriptions")
