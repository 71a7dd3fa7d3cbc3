"""order numbers become text

Revision ID: d07f4b2a6e91
Revises: 5a9d3e7b1c08
Create Date: 2026-12-07 20:26:03.004518

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'd07f4b2a6e91'
down_revision: Union[str, Sequence[str], None] = '5a9d3e7b1c08'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    # Order numbers are shown to customers now ("ORD-1042"); the serial's sequence still numbers them
    # and stays OWNED BY the column, which is text from here on.
    op.alter_column("orders", "id", type_=sa.Text(), server_default=None, postgresql_using="'ORD-' || id")
    op.alter_column("orders", "id", server_default=sa.text("'ORD-' || nextval('orders_id_seq')"))


def downgrade() -> None:
    """Downgrade schema."""
    op.alter_column("orders", "id", server_default=None)
    op.alter_column(
        "orders", "id", type_=sa.Integer(), postgresql_using="substr(id, 5)::integer",
        server_default=sa.text("nextval('orders_id_seq')"),
    )
