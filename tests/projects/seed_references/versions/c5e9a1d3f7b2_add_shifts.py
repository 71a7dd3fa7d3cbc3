"""add shifts

Revision ID: c5e9a1d3f7b2
Revises: 1b7d3f5a9c24
Create Date: 2026-12-02 10:15:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'c5e9a1d3f7b2'
down_revision: Union[str, Sequence[str], None] = '1b7d3f5a9c24'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Pairs that come in order by their names only: no CHECK says so.
DDL = """
CREATE TABLE shifts (
    id bigserial PRIMARY KEY,
    start_time timestamptz NOT NULL,
    end_time timestamptz NOT NULL,
    valid_from date NOT NULL,
    valid_until date NOT NULL,
    opened_at timestamp NOT NULL,
    closed_at timestamp,
    "start" integer NOT NULL,
    "end" integer NOT NULL
)
"""


def upgrade() -> None:
    """Upgrade schema."""
    op.execute(DDL)


def downgrade() -> None:
    """Downgrade schema."""
    op.execute("DROP TABLE shifts")
