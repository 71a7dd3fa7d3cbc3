"""add an archived state the way alembic-postgresql-enum's sync_enum_values does

Revision ID: a81d3f6c9e25
Revises: 5c2e8f1a7b40
Create Date: 2026-12-07 20:41:00

"""
from typing import Sequence, Union

from alembic import op


revision: str = 'a81d3f6c9e25'
down_revision: Union[str, Sequence[str], None] = '5c2e8f1a7b40'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.execute("""ALTER TYPE "public".ticket_state ADD VALUE IF NOT EXISTS 'archived'""")


def downgrade() -> None:
    pass
