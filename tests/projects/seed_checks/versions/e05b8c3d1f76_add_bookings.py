"""add bookings

Revision ID: e05b8c3d1f76
Revises: 2c7f0a5e9d38
Create Date: 2026-11-27 16:44:51.620017

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'e05b8c3d1f76'
down_revision: Union[str, Sequence[str], None] = '2c7f0a5e9d38'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.execute(
        """
        CREATE TABLE bookings (
            id bigserial PRIMARY KEY,
            booked_by integer NOT NULL REFERENCES login_accounts (id),
            room_code text NOT NULL CONSTRAINT bookings_room_code_format CHECK (room_code ~ '^[A-Z]{3}-[0-9]{4}$'),
            party_size smallint NOT NULL CONSTRAINT bookings_party_size_range CHECK (party_size BETWEEN 1 AND 12),
            duration_minutes integer NOT NULL
                CONSTRAINT bookings_quarter_hours CHECK (duration_minutes % 15 = 0 AND duration_minutes BETWEEN 15 AND 240),
            deposit_cents integer NOT NULL
                CONSTRAINT bookings_deposit_steps CHECK (deposit_cents % 500 = 0 AND deposit_cents >= 0),
            currency char(3) NOT NULL DEFAULT 'EUR' CONSTRAINT bookings_currency_eur CHECK (currency = 'EUR'),
            discount_pct numeric(5, 2) NOT NULL DEFAULT 0
                CONSTRAINT bookings_discount_range CHECK (discount_pct >= 0 AND discount_pct < 50),
            booked_on date NOT NULL CONSTRAINT bookings_booked_on_recent CHECK (booked_on >= DATE '2020-01-01'),
            starts_at timestamptz NOT NULL,
            ends_at timestamptz NOT NULL,
            min_guests integer NOT NULL,
            max_guests integer NOT NULL,
            channel text CONSTRAINT bookings_channel_check CHECK (channel IN ('web', 'phone', 'walk-in')),
            rating smallint,
            CONSTRAINT bookings_period CHECK (starts_at < ends_at),
            CONSTRAINT bookings_guests CHECK (min_guests > 0 AND min_guests <= max_guests),
            CONSTRAINT bookings_big_parties_by_phone CHECK (party_size <= 8 OR channel = 'phone'),
            CONSTRAINT bookings_walk_in_no_deposit CHECK (NOT (channel = 'walk-in' AND deposit_cents > 0)),
            CONSTRAINT bookings_rating_scale CHECK (rating IS NULL OR rating BETWEEN 1 AND 5)
        )
        """
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.execute("DROP TABLE bookings")
