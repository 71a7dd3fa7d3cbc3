"""tenant settings

Revision ID: c2a6e0f4b392
Revises: 8b4f0d6c2a81
Create Date: 2026-11-27 15:55:10.298465

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision: str = 'c2a6e0f4b392'
down_revision: Union[str, Sequence[str], None] = '8b4f0d6c2a81'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "tenant_settings",
        sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("settings", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    )
    op.execute(
        "CREATE VIEW active_users AS SELECT u.* FROM users u JOIN tenants t ON t.id = u.tenant_id"
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.execute("DROP VIEW active_users")
    op.drop_table("tenant_settings")
