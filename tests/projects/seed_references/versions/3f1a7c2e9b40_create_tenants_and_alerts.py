"""create tenants and alerts

Revision ID: 3f1a7c2e9b40
Revises: 
Create Date: 2026-12-02 10:11:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '3f1a7c2e9b40'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Multi-tenant composite keys: each child carries tenant_id, which two of its foreign keys share;
# alert_states' primary key is the composite foreign key itself.
DDL = """
CREATE TABLE tenants (
    id bigserial PRIMARY KEY,
    name text NOT NULL
);
CREATE TABLE alerts (
    tenant_id bigint NOT NULL REFERENCES tenants (id),
    fingerprint text NOT NULL,
    title text NOT NULL,
    PRIMARY KEY (tenant_id, fingerprint)
);
CREATE TABLE alert_events (
    id bigserial PRIMARY KEY,
    tenant_id bigint NOT NULL REFERENCES tenants (id),
    fingerprint text NOT NULL,
    message text NOT NULL,
    FOREIGN KEY (tenant_id, fingerprint) REFERENCES alerts (tenant_id, fingerprint)
);
CREATE TABLE alert_states (
    tenant_id bigint NOT NULL REFERENCES tenants (id),
    fingerprint text NOT NULL,
    state text NOT NULL,
    PRIMARY KEY (tenant_id, fingerprint),
    FOREIGN KEY (tenant_id, fingerprint) REFERENCES alerts (tenant_id, fingerprint)
)
"""


def upgrade() -> None:
    """Upgrade schema."""
    op.execute(DDL)


def downgrade() -> None:
    """Downgrade schema."""
    op.execute("DROP TABLE alert_states, alert_events, alerts, tenants")
