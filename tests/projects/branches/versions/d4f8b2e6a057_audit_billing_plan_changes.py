"""audit billing plan changes

Revision ID: d4f8b2e6a057
Revises: 9c1e5a7d3f46
Create Date: 2026-11-27 15:54:13.883413

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'd4f8b2e6a057'
down_revision: Union[str, Sequence[str], None] = '9c1e5a7d3f46'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column("billing_plans", sa.Column("changed_by_audit_id", sa.BigInteger(), sa.ForeignKey("audit_log.id"), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_column("billing_plans", "changed_by_audit_id")
