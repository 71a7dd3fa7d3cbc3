"""add subscriptions

Revision ID: 8d2b6e0f4a15
Revises: 3f1a7c2e9b40
Create Date: 2026-12-02 10:12:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '8d2b6e0f4a15'
down_revision: Union[str, Sequence[str], None] = '3f1a7c2e9b40'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# An exclusive arc: a subscription belongs to a user or to a team, never both, never neither.
DDL = """
CREATE TABLE users (
    id bigserial PRIMARY KEY,
    email text NOT NULL UNIQUE
);
CREATE TABLE teams (
    id bigserial PRIMARY KEY,
    name text NOT NULL
);
CREATE TABLE subscriptions (
    id bigserial PRIMARY KEY,
    user_id bigint REFERENCES users (id),
    team_id bigint REFERENCES teams (id),
    topic text NOT NULL,
    CONSTRAINT subscriptions_one_owner CHECK (
        (user_id IS NOT NULL AND team_id IS NULL) OR (user_id IS NULL AND team_id IS NOT NULL))
)
"""


def upgrade() -> None:
    """Upgrade schema."""
    op.execute(DDL)


def downgrade() -> None:
    """Downgrade schema."""
    op.execute("DROP TABLE subscriptions, teams, users")
