"""discontinue products

Revision ID: a93f6d1c8e02
Revises: 5e0c2a7b4d91
Create Date: 2026-11-27 15:53:12.582129

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'a93f6d1c8e02'
down_revision: Union[str, Sequence[str], None] = '5e0c2a7b4d91'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column("products", sa.Column("discontinued_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_products_active_sku", "products", ["sku"], postgresql_where=sa.text("discontinued_at IS NULL")
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_products_active_sku", table_name="products")
    op.drop_column("products", "discontinued_at")
