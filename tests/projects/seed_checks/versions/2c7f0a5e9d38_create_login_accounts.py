"""create login accounts

Revision ID: 2c7f0a5e9d38
Revises: 
Create Date: 2026-11-27 16:41:07.334560

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '2c7f0a5e9d38'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.execute(
        """
        CREATE TABLE login_accounts (
            id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            kind text NOT NULL CONSTRAINT login_accounts_kind_check CHECK (kind IN ('LOCAL', 'SSO', 'SERVICE')),
            status text NOT NULL DEFAULT 'active'
                CONSTRAINT login_accounts_status_check CHECK (status = ANY (ARRAY['active', 'locked', 'disabled'])),
            username varchar(40) NOT NULL
                CONSTRAINT login_accounts_username_length CHECK (length(username) <= 20 AND char_length(username) >= 3),
            password_hash text,
            sso_subject text,
            CONSTRAINT login_accounts_username_not_root CHECK (username <> 'root'),
            CONSTRAINT login_accounts_local_needs_password CHECK (kind <> 'LOCAL' OR password_hash IS NOT NULL),
            CONSTRAINT login_accounts_subject_only_for_sso CHECK (kind = 'SSO' OR sso_subject IS NULL),
            CONSTRAINT login_accounts_service_never_locked CHECK (NOT (kind = 'SERVICE' AND status = 'locked'))
        )
        """
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.execute("DROP TABLE login_accounts")
