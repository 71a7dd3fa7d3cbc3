"""merge billing and audit branches

Revision ID: 9c1e5a7d3f46
Revises: b7d9f1a3c524, 2e6a0c4b8d35
Create Date: 2026-11-27 15:54:13.299665

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '9c1e5a7d3f46'
down_revision: Union[str, Sequence[str], None] = ('b7d9f1a3c524', '2e6a0c4b8d35')
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    pass


def downgrade() -> None:
    """Downgrade schema."""
    pass
