"""create launch pads launches and crew

Revision ID: 9a3d6f2b0e18
Revises: 
Create Date: 2026-11-27 16:47:30.085524

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '9a3d6f2b0e18'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.execute(
        """
        CREATE TABLE launch_pads (
            id serial PRIMARY KEY,
            name text NOT NULL,
            x integer NOT NULL,
            y integer NOT NULL,
            -- within 10 km of the control tower: arithmetic on two columns, outside what a seed can solve by shape
            CONSTRAINT launch_pads_within_range CHECK (x * x + y * y < 100)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE launches (
            id serial PRIMARY KEY,
            pad_id integer NOT NULL CONSTRAINT launches_pad_id_fkey REFERENCES launch_pads (id),
            scheduled_at timestamptz NOT NULL
        )
        """
    )
    op.execute(
        """
        CREATE TABLE crew_members (
            id serial PRIMARY KEY,
            full_name text NOT NULL,
            callsign varchar(20) NOT NULL UNIQUE
        )
        """
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.execute("DROP TABLE crew_members")
    op.execute("DROP TABLE launches")
    op.execute("DROP TABLE launch_pads")
