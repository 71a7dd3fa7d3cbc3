"""add customer events

Revision ID: a72d4e0b5c13
Revises: 3f8a1c6e9b20
Create Date: 2026-11-27 16:22:40.518822

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'a72d4e0b5c13'
down_revision: Union[str, Sequence[str], None] = '3f8a1c6e9b20'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.execute(
        """
        CREATE TABLE customer_events (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            customer_id uuid NOT NULL REFERENCES customers (id),
            local_time time NOT NULL,
            recorded_at timestamp NOT NULL,
            received_at timestamptz NOT NULL DEFAULT now(),
            duration interval NOT NULL,
            payload json NOT NULL,
            attributes jsonb NOT NULL DEFAULT '{}',
            raw bytea,
            client_ip inet NOT NULL,
            retry_delays integer[] NOT NULL DEFAULT '{}',
            labels text[] NOT NULL
        )
        """
    )
    op.create_index("ix_customer_events_customer_id", "customer_events", ["customer_id"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_customer_events_customer_id", table_name="customer_events")
    op.execute("DROP TABLE customer_events")
