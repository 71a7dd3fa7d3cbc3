"""create users and partitioned events and page views

Revision ID: 2e8b6d0f4a19
Revises: 
Create Date: 2026-12-07 20:44:05.917263

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '2e8b6d0f4a19'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.execute("CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL UNIQUE)")
    op.execute(
        """
        CREATE TABLE events (
            id bigint NOT NULL,
            user_id integer NOT NULL REFERENCES users (id),
            kind text NOT NULL,
            occurred_at timestamptz NOT NULL,
            PRIMARY KEY (id, occurred_at)
        ) PARTITION BY RANGE (occurred_at)
        """
    )
    op.execute("CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')")
    op.execute("CREATE TABLE events_other PARTITION OF events DEFAULT")
    op.execute("CREATE UNIQUE INDEX ux_events_kind_id ON events (kind, id, occurred_at)")
    op.execute("CREATE INDEX ix_events_user_id ON events (user_id)")
    op.execute(
        """
        CREATE TABLE page_views (
            id bigint NOT NULL PRIMARY KEY,
            user_id integer NOT NULL REFERENCES users (id),
            path text NOT NULL
        ) PARTITION BY HASH (id)
        """
    )
    op.execute("CREATE TABLE page_views_0 PARTITION OF page_views FOR VALUES WITH (MODULUS 2, REMAINDER 0)")
    op.execute("CREATE TABLE page_views_1 PARTITION OF page_views FOR VALUES WITH (MODULUS 2, REMAINDER 1)")
    op.execute("CREATE INDEX ix_page_views_path ON page_views (path)")
    op.execute(
        """
        CREATE TABLE event_notes (
            id serial PRIMARY KEY,
            event_id bigint NOT NULL,
            event_occurred_at timestamptz NOT NULL,
            note text NOT NULL,
            FOREIGN KEY (event_id, event_occurred_at) REFERENCES events (id, occurred_at)
        )
        """
    )
    # Counted per partition by the analytics job; a guard against direct writes to a partition.
    op.execute(
        """
        CREATE FUNCTION refuse_unrouted_event() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'events are written by the collector only';
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER events_collector_only BEFORE INSERT ON events "
        "FOR EACH ROW EXECUTE FUNCTION refuse_unrouted_event()"
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.execute("DROP TABLE event_notes")
    op.execute("DROP TABLE page_views")
    op.execute("DROP TABLE events")
    op.execute("DROP FUNCTION refuse_unrouted_event()")
    op.execute("DROP TABLE users")
