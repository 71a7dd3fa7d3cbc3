"""create authors and articles with tuned storage and documented keys

Revision ID: 71c3a9e5d0b4
Revises: 
Create Date: 2026-12-07 20:37:20.583841

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '71c3a9e5d0b4'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Created by the ops team on every server (see the runbook), not by migrations.
FAST_TABLESPACE = "dbtool_test_fast"


def upgrade() -> None:
    """Upgrade schema."""
    op.execute(
        f"""
        CREATE TABLE authors (
            id serial,
            handle text NOT NULL,
            CONSTRAINT authors_pkey PRIMARY KEY (id) WITH (fillfactor = 70),
            CONSTRAINT authors_handle_key UNIQUE (handle) USING INDEX TABLESPACE {FAST_TABLESPACE}
        )
        """
    )
    op.execute(
        """
        CREATE TABLE articles (
            id serial PRIMARY KEY,
            author_id integer NOT NULL CONSTRAINT articles_author_fk REFERENCES authors (id),
            slug text NOT NULL,
            published_on date NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX ix_articles_published_on ON articles (published_on) WITH (fillfactor = 50)")
    op.execute(f"CREATE INDEX ix_articles_author_id ON articles (author_id) TABLESPACE {FAST_TABLESPACE}")
    op.execute("CREATE UNIQUE INDEX ux_articles_slug ON articles (slug) WITH (deduplicate_items = off)")
    op.execute("COMMENT ON INDEX ix_articles_published_on IS 'archive pages scan by day'")
    op.execute("COMMENT ON INDEX ux_articles_slug IS 'slugs are URLs: one article each'")
    op.execute("COMMENT ON CONSTRAINT authors_pkey ON authors IS 'referenced by articles and the search index'")
    op.execute("COMMENT ON INDEX authors_pkey IS 'fillfactor 70: ids are updated by merges'")
    op.execute("COMMENT ON CONSTRAINT authors_handle_key ON authors IS 'handles are public'")
    op.execute("COMMENT ON CONSTRAINT articles_author_fk ON articles IS 'articles outlive nothing'")


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("articles")
    op.drop_table("authors")
