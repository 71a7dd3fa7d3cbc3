"""create search terms

Revision ID: 2f8d4b0a6ec7
Revises: 
Create Date: 2026-11-27 15:55:15.082452

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '2f8d4b0a6ec7'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "search_terms",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("term", sa.Text(), nullable=False),
        sa.Column("searched_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("search_terms")
