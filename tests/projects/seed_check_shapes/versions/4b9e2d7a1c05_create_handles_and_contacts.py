"""create handles and contacts

Revision ID: 4b9e2d7a1c05
Revises: 
Create Date: 2026-12-08 09:12:44.518203

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '4b9e2d7a1c05'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.execute(
        """
        CREATE TABLE handles (
            id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            handle varchar(12) NOT NULL CONSTRAINT handles_handle_format CHECK (handle ~* '^[a-z]{3}-[0-9]{3}$'),
            email text NOT NULL
                CONSTRAINT handles_email_format CHECK (email ~* '^[a-z0-9._%+-]+@[a-z0-9.-]+\\.[a-z]{2,}$'),
            nickname text NOT NULL CONSTRAINT handles_nickname_reserved CHECK (nickname !~* '^(admin|root)$'),
            display_name text NOT NULL CONSTRAINT handles_display_name_prefix CHECK (display_name ILIKE 'member %'),
            bio text CONSTRAINT handles_bio_no_links CHECK (bio NOT ILIKE '%http%'),
            role text NOT NULL
                CONSTRAINT handles_role_check CHECK (role IN ('Owner', 'EDITOR', 'viewer') AND role ~* '^[a-z]+$'),
            team text NOT NULL CONSTRAINT handles_team_check CHECK (team IN ('Core', 'Web') AND team NOT ILIKE 'core')
        )
        """
    )
    op.execute(
        """
        CREATE TABLE contacts (
            id bigserial PRIMARY KEY,
            handle_id integer NOT NULL REFERENCES handles (id),
            email text,
            phone text,
            street text,
            city text,
            CONSTRAINT contacts_email_or_phone CHECK ((email IS NULL) <> (phone IS NULL)),
            CONSTRAINT contacts_address_complete CHECK ((street IS NULL) = (city IS NULL))
        )
        """
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.execute("DROP TABLE contacts")
    op.execute("DROP TABLE handles")
