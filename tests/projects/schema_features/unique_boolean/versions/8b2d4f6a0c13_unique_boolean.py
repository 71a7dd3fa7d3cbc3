"""a unique boolean column: room for two rows

Revision ID: 8b2d4f6a0c13
Revises: 
Create Date: 2026-12-08 01:30:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '8b2d4f6a0c13'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.execute("CREATE TABLE settings (id serial PRIMARY KEY, is_default boolean NOT NULL UNIQUE, label text NOT NULL)")


def downgrade() -> None:
    """Downgrade schema."""
    pass
