"""add webhooks

Revision ID: 1b7d3f5a9c24
Revises: 6a4c8e1b3d59
Create Date: 2026-12-02 10:14:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '1b7d3f5a9c24'
down_revision: Union[str, Sequence[str], None] = '6a4c8e1b3d59'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Arrays of JSON: NOT NULL with a server default, NOT NULL without one, and nullable.
DDL = """
CREATE TABLE webhooks (
    id bigserial PRIMARY KEY,
    url text NOT NULL,
    headers json[] NOT NULL DEFAULT ARRAY['{"accept": "application/json"}'::json],
    deliveries jsonb[] NOT NULL,
    last_errors jsonb[]
)
"""


def upgrade() -> None:
    """Upgrade schema."""
    op.execute(DDL)


def downgrade() -> None:
    """Downgrade schema."""
    op.execute("DROP TABLE webhooks")
