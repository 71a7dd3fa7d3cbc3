"""legacy serial tables

Revision ID: a0e4c8f2d669
Revises: 6f2d8b4a0e58
Create Date: 2026-11-27 15:55:07.265291

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'a0e4c8f2d669'
down_revision: Union[str, Sequence[str], None] = '6f2d8b4a0e58'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    # Tables carried over from the old app, still on serial/bigserial sequences.
    op.execute(
        """
        CREATE TABLE legacy_users (
            id serial PRIMARY KEY,
            login text NOT NULL UNIQUE
        )
        """
    )
    op.execute(
        """
        CREATE TABLE legacy_sessions (
            id bigserial PRIMARY KEY,
            user_id integer NOT NULL REFERENCES legacy_users (id),
            started_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.create_table(
        "legacy_user_tags",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("legacy_users.id"), primary_key=True),
        sa.Column("tag_id", sa.Integer(), sa.ForeignKey("tags.id"), primary_key=True),
        sa.Column("position", sa.SmallInteger(), nullable=False),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("legacy_user_tags")
    op.execute("DROP TABLE legacy_sessions")
    op.execute("DROP TABLE legacy_users")
