"""index page views after a commit

Revision ID: 9d3f6b1e8a27
Revises: 4b7e2a9c1d05
Create Date: 2026-12-03 19:40:41.552190

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '9d3f6b1e8a27'
down_revision: Union[str, Sequence[str], None] = '4b7e2a9c1d05'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    # Make the table durable before the (slow, in production) index build, so a failed build
    # does not lose it.
    op.execute("COMMIT")
    op.execute("CREATE INDEX IF NOT EXISTS ix_page_views_path ON page_views (path)")


def downgrade() -> None:
    """Downgrade schema."""
    op.execute("DROP INDEX IF EXISTS ix_page_views_path")
