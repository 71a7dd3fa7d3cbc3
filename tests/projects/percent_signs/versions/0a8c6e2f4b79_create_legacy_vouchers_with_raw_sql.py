"""create legacy vouchers with raw sql

Revision ID: 0a8c6e2f4b79
Revises: 7f3b1d9e5a68
Create Date: 2026-11-27 15:54:15.195887

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0a8c6e2f4b79'
down_revision: Union[str, Sequence[str], None] = '7f3b1d9e5a68'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.execute(
        """
        CREATE TABLE vouchers (
            id serial PRIMARY KEY,
            label text NOT NULL DEFAULT '50% off',
            pct integer NOT NULL CHECK (pct % 10 = 0),
            code text NOT NULL CHECK (code LIKE 'V%')
        )
        """
    )
    op.execute("COMMENT ON COLUMN vouchers.pct IS 'rate in %'")
    op.execute("CREATE INDEX ix_vouchers_code_prefix ON vouchers (code text_pattern_ops) WHERE code LIKE 'V%%X'")


def downgrade() -> None:
    """Downgrade schema."""
    op.execute("DROP TABLE vouchers")
