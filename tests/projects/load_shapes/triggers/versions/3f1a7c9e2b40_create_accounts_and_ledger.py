"""create accounts and ledger entries

Revision ID: 3f1a7c9e2b40
Revises: 
Create Date: 2026-12-07 20:10:11.402117

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '3f1a7c9e2b40'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.execute(
        """
        CREATE TABLE accounts (
            id serial PRIMARY KEY,
            name text NOT NULL,
            balance_cents bigint NOT NULL DEFAULT 0
        )
        """
    )
    op.execute(
        """
        CREATE TABLE ledger_entries (
            id serial PRIMARY KEY,
            account_id integer NOT NULL REFERENCES accounts (id),
            amount_cents bigint NOT NULL,
            posted_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    # Every entry moves its account's balance; an entry for an unknown account is refused.
    op.execute(
        """
        CREATE FUNCTION apply_ledger_entry() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            current bigint;
        BEGIN
            SELECT balance_cents INTO STRICT current FROM accounts WHERE id = NEW.account_id FOR UPDATE;
            UPDATE accounts SET balance_cents = current + NEW.amount_cents WHERE id = NEW.account_id;
            RETURN NEW;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER ledger_entries_apply BEFORE INSERT ON ledger_entries "
        "FOR EACH ROW EXECUTE FUNCTION apply_ledger_entry()"
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.execute("DROP TABLE ledger_entries")
    op.execute("DROP FUNCTION apply_ledger_entry()")
    op.execute("DROP TABLE accounts")
