"""arrays of char(n) and varchar(n): elements no longer than n

Revision ID: 5e7c1b3d9f42
Revises: 
Create Date: 2026-12-08 01:30:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '5e7c1b3d9f42'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.execute("CREATE TABLE labels (id serial PRIMARY KEY, codes char(2)[] NOT NULL, tags varchar(3)[] NOT NULL, notes text[])")


def downgrade() -> None:
    """Downgrade schema."""
    pass
