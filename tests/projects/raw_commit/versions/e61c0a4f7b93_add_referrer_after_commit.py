"""add referrer after a commit

Revision ID: e61c0a4f7b93
Revises: 9d3f6b1e8a27
Create Date: 2026-12-03 19:41:17.906114

"""
import os
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'e61c0a4f7b93'
down_revision: Union[str, Sequence[str], None] = '9d3f6b1e8a27'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    conn = op.get_bind()
    conn.execute(sa.text("COMMIT"))
    if os.environ.get("PAGE_VIEWS_COMMIT_ON_DRIVER"):
        # The same COMMIT sent on the DBAPI connection, past SQLAlchemy.
        conn.connection.cursor().execute("COMMIT")
    conn.execute(sa.text("ALTER TABLE page_views ADD COLUMN referrer text"))
    if os.environ.get("PAGE_VIEWS_FAIL_AFTER_COMMIT"):
        raise RuntimeError("referrer backfill failed")


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_column("page_views", "referrer")
