"""unique keys under which NULLs are equal, on columns dbtool leaves NULL

Revision ID: 3f1a9c7e5b20
Revises: 
Create Date: 2026-12-08 01:30:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '3f1a9c7e5b20'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    # NULLS NOT DISTINCT exists from Postgres 15 on; before it, the same keys treat NULLs as distinct.
    nnd = " NULLS NOT DISTINCT" if op.get_bind().dialect.server_version_info >= (15,) else ""
    # int4range and macaddr have no generator: nullable, dbtool leaves them NULL.
    op.execute(f"CREATE TABLE slots (id serial PRIMARY KEY, period int4range, CONSTRAINT slots_period_key UNIQUE{nnd} (period))")
    op.execute("CREATE TABLE devices (id serial PRIMARY KEY, mac macaddr)")
    op.execute(f"CREATE UNIQUE INDEX ux_devices_mac ON devices (mac){nnd}")


def downgrade() -> None:
    """Downgrade schema."""
    pass
