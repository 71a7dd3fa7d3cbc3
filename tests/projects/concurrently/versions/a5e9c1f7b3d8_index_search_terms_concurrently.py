"""index search terms concurrently

Revision ID: a5e9c1f7b3d8
Revises: 2f8d4b0a6ec7
Create Date: 2026-11-27 15:55:16.003292

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'a5e9c1f7b3d8'
down_revision: Union[str, Sequence[str], None] = '2f8d4b0a6ec7'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    # search_terms is big and hot in production: build the index without locking out writes.
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction block, hence the autocommit block
    # (Alembic commits the migration transaction so far, runs this, then starts a new one).
    with op.get_context().autocommit_block():
        op.execute("CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_search_terms_term ON search_terms (term)")


def downgrade() -> None:
    """Downgrade schema."""
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_search_terms_term")
