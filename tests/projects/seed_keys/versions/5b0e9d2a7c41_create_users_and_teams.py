"""create users and teams

Revision ID: 5b0e9d2a7c41
Revises: 
Create Date: 2026-11-27 16:25:03.771920

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '5b0e9d2a7c41'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.execute(
        """
        CREATE TABLE users (
            id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            email text NOT NULL,
            username varchar(40) NOT NULL,
            deleted_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    # One account per address whatever its case; a username is free again once its user is deleted.
    op.execute("CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email))")
    op.execute("CREATE UNIQUE INDEX users_username_live_key ON users (username) WHERE deleted_at IS NULL")
    op.execute(
        """
        CREATE TABLE teams (
            id serial PRIMARY KEY,
            slug varchar(40) NOT NULL CONSTRAINT teams_slug_key UNIQUE,
            name text NOT NULL
        )
        """
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.execute("DROP TABLE teams")
    op.execute("DROP TABLE users")
