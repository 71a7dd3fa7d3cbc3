"""create currencies warehouses and transfers

Revision ID: 0d6c2f9a3e57
Revises: 
Create Date: 2026-11-27 16:31:12.450981

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0d6c2f9a3e57'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.execute(
        """
        CREATE TABLE currencies (
            code char(3) PRIMARY KEY,
            name text NOT NULL,
            minor_units smallint NOT NULL
        )
        """
    )
    # Reference data the application relies on: shipped by the migration, not by any seed.
    op.execute("INSERT INTO currencies (code, name, minor_units) VALUES ('EUR', 'Euro', 2), ('JPY', 'Yen', 0), ('USD', 'US Dollar', 2)")
    op.execute(
        """
        CREATE TABLE warehouses (
            region_code char(2) NOT NULL,
            site_no smallint NOT NULL,
            name text NOT NULL,
            CONSTRAINT warehouses_pkey PRIMARY KEY (region_code, site_no)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE stock_transfers (
            id serial PRIMARY KEY,
            from_region char(2) NOT NULL,
            from_site smallint NOT NULL,
            to_region char(2),
            to_site smallint,
            currency char(3) NOT NULL CONSTRAINT stock_transfers_currency_fkey REFERENCES currencies (code),
            value_minor bigint NOT NULL,
            CONSTRAINT stock_transfers_from_fkey FOREIGN KEY (from_region, from_site)
                REFERENCES warehouses (region_code, site_no),
            CONSTRAINT stock_transfers_to_fkey FOREIGN KEY (to_region, to_site)
                REFERENCES warehouses (region_code, site_no)
        )
        """
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.execute("DROP TABLE stock_transfers")
    op.execute("DROP TABLE warehouses")
    op.execute("DROP TABLE currencies")
