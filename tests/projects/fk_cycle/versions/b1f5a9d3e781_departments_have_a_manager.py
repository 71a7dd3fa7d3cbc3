"""departments have a manager

Revision ID: b1f5a9d3e781
Revises: 7a3e9c5b1f70
Create Date: 2026-11-27 15:55:08.769891

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'b1f5a9d3e781'
down_revision: Union[str, Sequence[str], None] = '7a3e9c5b1f70'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    # departments -> employees -> departments: the cycle closes here, after both tables exist.
    op.add_column("departments", sa.Column("manager_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        "fk_departments_manager_id", "departments", "employees", ["manager_id"], ["id"],
        deferrable=True, initially="DEFERRED",
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_constraint("fk_departments_manager_id", "departments", type_="foreignkey")
    op.drop_column("departments", "manager_id")
