"""create tickets with partial and expression indexes

Revision ID: b6e0c4a8f213
Revises: 
Create Date: 2026-12-07 20:31:44.219307

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'b6e0c4a8f213'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reporter_email", sa.String(120), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
    )
    # The open-ticket queue: IN on a varchar column is stored as an ARRAY coerced to text[].
    op.create_index(
        "ix_tickets_open_queue", "tickets", ["priority"],
        postgresql_where=sa.text("status IN ('new', 'open', 'waiting')"),
    )
    op.create_index("ix_tickets_reporter_lower", "tickets", [sa.text("lower(reporter_email)")])
    op.create_index(
        "ix_tickets_title_words", "tickets", [sa.text("(status || ': ' || title)")],
        postgresql_where=sa.text("status NOT IN ('closed')"),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("tickets")
