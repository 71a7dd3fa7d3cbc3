"""a unique generated column and a CHECK on a generated column

Revision ID: 9a6b2c8e4f05
Revises: 
Create Date: 2026-12-08 01:30:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '9a6b2c8e4f05'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.execute(
        """
        CREATE TABLE people (
            id serial PRIMARY KEY,
            first_name text NOT NULL,
            last_name text NOT NULL,
            full_name text GENERATED ALWAYS AS (first_name || ' ' || last_name) STORED UNIQUE
        )
        """
    )
    op.execute(
        """
        CREATE TABLE invoices (
            id serial PRIMARY KEY,
            net_cents integer NOT NULL,
            vat_cents integer NOT NULL,
            gross_cents integer GENERATED ALWAYS AS (net_cents + vat_cents) STORED,
            CONSTRAINT invoices_gross_small CHECK (gross_cents < 100)
        )
        """
    )
    op.execute("CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL)")


def downgrade() -> None:
    """Downgrade schema."""
    pass
