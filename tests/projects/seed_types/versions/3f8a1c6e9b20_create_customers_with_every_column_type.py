"""create customers with every column type

Revision ID: 3f8a1c6e9b20
Revises: 
Create Date: 2026-11-27 16:20:11.104233

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '3f8a1c6e9b20'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.execute("CREATE TYPE plan_tier AS ENUM ('free', 'team', 'enterprise')")
    op.execute("CREATE DOMAIN us_zip AS text CONSTRAINT us_zip_five_digits CHECK (VALUE ~ '^[0-9]{5}$')")
    op.execute("CREATE DOMAIN positive_cents AS bigint CONSTRAINT positive_cents_above_zero CHECK (VALUE > 0)")
    op.execute(
        """
        CREATE TABLE customers (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            seat_count smallint NOT NULL DEFAULT 1,
            login_count integer NOT NULL DEFAULT 0,
            lifetime_bytes bigint NOT NULL,
            balance numeric(12, 2) NOT NULL DEFAULT 0,
            display_name text NOT NULL,
            handle varchar(32) NOT NULL,
            country char(2) NOT NULL,
            is_active boolean NOT NULL DEFAULT true,
            tier plan_tier NOT NULL DEFAULT 'free',
            zip us_zip,
            monthly_spend positive_cents NOT NULL,
            signup_date date NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            notes text
        )
        """
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.execute("DROP TABLE customers")
    op.execute("DROP DOMAIN positive_cents")
    op.execute("DROP DOMAIN us_zip")
    op.execute("DROP TYPE plan_tier")
