"""touch updated_at and keep history by trigger

Revision ID: e9a3c7f1b525
Revises: 2d6b0f8c4e14
Create Date: 2026-11-27 15:54:18.542875

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'e9a3c7f1b525'
down_revision: Union[str, Sequence[str], None] = '2d6b0f8c4e14'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.execute(
        """
        CREATE FUNCTION touch_updated_at() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            NEW.updated_at := now();
            RETURN NEW;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER documents_touch_updated_at
        BEFORE UPDATE ON documents
        FOR EACH ROW EXECUTE FUNCTION touch_updated_at()
        """
    )
    op.execute(
        """
        CREATE FUNCTION archive_document_version() RETURNS trigger
        LANGUAGE plpgsql AS $body$
        BEGIN
            IF NEW.body IS DISTINCT FROM OLD.body THEN
                INSERT INTO document_history (document_id, version, body) VALUES (OLD.id, OLD.version, OLD.body);
                NEW.version := OLD.version + 1;
            END IF;
            RETURN NEW;
        END
        $body$
        """
    )
    op.execute(
        """
        CREATE TRIGGER documents_archive_version
        BEFORE UPDATE OF body ON documents
        FOR EACH ROW EXECUTE FUNCTION archive_document_version()
        """
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.execute("DROP TRIGGER documents_archive_version ON documents")
    op.execute("DROP FUNCTION archive_document_version()")
    op.execute("DROP TRIGGER documents_touch_updated_at ON documents")
    op.execute("DROP FUNCTION touch_updated_at()")
