"""add items, posts and comments

Revision ID: 6a4c8e1b3d59
Revises: 8d2b6e0f4a15
Create Date: 2026-12-02 10:13:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '6a4c8e1b3d59'
down_revision: Union[str, Sequence[str], None] = '8d2b6e0f4a15'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Polymorphic references: (id, kind) names an item of one kind, and a CHECK on the child narrows
# the kind: posts is a one-to-one subtype of items, item_comments points at posts and photos.
DDL = """
CREATE TABLE items (
    id bigserial PRIMARY KEY,
    kind text NOT NULL CONSTRAINT items_kind_check CHECK (kind IN ('post', 'photo', 'video')),
    CONSTRAINT items_id_kind_key UNIQUE (id, kind)
);
CREATE TABLE posts (
    id bigint PRIMARY KEY,
    kind text NOT NULL DEFAULT 'post' CONSTRAINT posts_kind_check CHECK (kind = 'post'),
    body text NOT NULL,
    FOREIGN KEY (id, kind) REFERENCES items (id, kind)
);
CREATE TABLE item_comments (
    id bigserial PRIMARY KEY,
    item_id bigint NOT NULL,
    item_kind text NOT NULL CONSTRAINT item_comments_kind_check CHECK (item_kind IN ('post', 'photo')),
    body text NOT NULL,
    FOREIGN KEY (item_id, item_kind) REFERENCES items (id, kind)
)
"""


def upgrade() -> None:
    """Upgrade schema."""
    op.execute(DDL)


def downgrade() -> None:
    """Downgrade schema."""
    op.execute("DROP TABLE item_comments, posts, items")
