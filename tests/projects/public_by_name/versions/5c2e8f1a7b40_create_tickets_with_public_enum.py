"""create tickets with an enum named by its schema

Revision ID: 5c2e8f1a7b40
Revises:
Create Date: 2026-12-07 20:40:00

"""
from typing import Sequence, Union

from alembic import op


revision: str = '5c2e8f1a7b40'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.execute("""CREATE TYPE "public".ticket_state AS ENUM ('open', 'closed')""")
    op.execute(
        """CREATE TABLE "public".tickets (
             id serial PRIMARY KEY,
             title text NOT NULL,
             state "public".ticket_state NOT NULL DEFAULT 'open',
             changes integer NOT NULL DEFAULT 0
           )"""
    )
    op.execute(
        """CREATE TABLE ticket_log (id serial PRIMARY KEY, ticket_id integer NOT NULL, note text NOT NULL)"""
    )
    # Unqualified names inside the body: resolved through search_path when the trigger fires.
    op.execute(
        """CREATE FUNCTION count_change() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN
             NEW.changes := NEW.changes + 1;
             RETURN NEW;
           END $$"""
    )
    op.execute("CREATE TRIGGER tickets_count_change BEFORE UPDATE ON tickets FOR EACH ROW EXECUTE FUNCTION count_change()")


def downgrade() -> None:
    op.execute("DROP TABLE ticket_log")
    op.execute('DROP TABLE "public".tickets')
    op.execute("DROP FUNCTION count_change()")
    op.execute('DROP TYPE "public".ticket_state')
