"""add audit log

Revision ID: 2e6a0c4b8d35
Revises: 4a2c8e0f6b13
Create Date: 2026-11-27 15:54:12.795346

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '2e6a0c4b8d35'
down_revision: Union[str, Sequence[str], None] = '4a2c8e0f6b13'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    )
    op.create_index("ix_audit_log_account_id_at", "audit_log", ["account_id", "at"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_audit_log_account_id_at", table_name="audit_log")
    op.drop_table("audit_log")
