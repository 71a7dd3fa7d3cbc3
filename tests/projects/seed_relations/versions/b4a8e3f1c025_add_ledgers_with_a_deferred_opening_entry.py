"""add ledgers with a deferred opening entry

Revision ID: b4a8e3f1c025
Revises: 7e1b5d0c8a94
Create Date: 2026-11-27 16:38:20.907115

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'b4a8e3f1c025'
down_revision: Union[str, Sequence[str], None] = '7e1b5d0c8a94'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    # Every ledger has an opening entry and every entry a ledger: both NOT NULL, so the cycle can only
    # be closed inside one transaction, which the deferred constraint allows.
    op.execute(
        """
        CREATE TABLE ledgers (
            id integer PRIMARY KEY,
            title text NOT NULL,
            opening_entry_id integer NOT NULL
        )
        """
    )
    op.execute(
        """
        CREATE TABLE ledger_entries (
            id integer PRIMARY KEY,
            ledger_id integer NOT NULL CONSTRAINT ledger_entries_ledger_id_fkey REFERENCES ledgers (id),
            amount_minor bigint NOT NULL
        )
        """
    )
    op.execute(
        """
        ALTER TABLE ledgers ADD CONSTRAINT ledgers_opening_entry_id_fkey FOREIGN KEY (opening_entry_id)
            REFERENCES ledger_entries (id) DEFERRABLE INITIALLY DEFERRED
        """
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.execute("ALTER TABLE ledgers DROP CONSTRAINT ledgers_opening_entry_id_fkey")
    op.execute("DROP TABLE ledger_entries")
    op.execute("DROP TABLE ledgers")
