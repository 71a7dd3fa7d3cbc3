"""coupon codes unique per region

Revision ID: e82a4c6d1b37
Revises: 1c5b9e7a3f26
Create Date: 2026-11-27 15:53:15.105401

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'e82a4c6d1b37'
down_revision: Union[str, Sequence[str], None] = '1c5b9e7a3f26'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    # Names come from the naming convention in models.py; without it Postgres would have called
    # these coupons_code_key and coupons_percent_check, and this revision would fail.
    op.drop_constraint(op.f("uq_coupons_code"), "coupons", type_="unique")
    op.create_unique_constraint(op.f("uq_coupons_code_region"), "coupons", ["code", "region"])
    op.drop_constraint(op.f("ck_coupons_percent_range"), "coupons", type_="check")
    op.create_check_constraint("percent_range", "coupons", "percent BETWEEN 1 AND 90")


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_constraint(op.f("ck_coupons_percent_range"), "coupons", type_="check")
    op.create_check_constraint("percent_range", "coupons", "percent BETWEEN 1 AND 100")
    op.drop_constraint(op.f("uq_coupons_code_region"), "coupons", type_="unique")
    op.create_unique_constraint(op.f("uq_coupons_code"), "coupons", ["code"])
