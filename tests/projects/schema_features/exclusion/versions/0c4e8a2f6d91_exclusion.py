"""exclusion constraints: one with = only, one with a range overlap

Revision ID: 0c4e8a2f6d91
Revises: 
Create Date: 2026-12-08 01:30:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0c4e8a2f6d91'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.execute("CREATE TABLE colors (id serial PRIMARY KEY, color text NOT NULL, EXCLUDE (color WITH =))")
    op.execute(
        """
        CREATE TABLE bookings (
            id serial PRIMARY KEY,
            starts_at timestamptz NOT NULL,
            ends_at timestamptz NOT NULL,
            CONSTRAINT bookings_no_overlap EXCLUDE USING gist (tstzrange(starts_at, ends_at) WITH &&)
        )
        """
    )


def downgrade() -> None:
    """Downgrade schema."""
    pass
