"""staff, services, clients and pets

Revision ID: 0001_people_and_pets
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0001_people_and_pets"
down_revision = None
branch_labels = None
depends_on = None

staff_role = pg.ENUM("manager", "receptionist", "groomer", name="staff_role", create_type=False)
pet_species = pg.ENUM("dog", "cat", "rabbit", "other", name="pet_species", create_type=False)


def upgrade() -> None:
    staff_role.create(op.get_bind())
    pet_species.create(op.get_bind())
    op.create_table(
        "staff",
        sa.Column("id", pg.UUID, primary_key=True),
        sa.Column("full_name", sa.Text, nullable=False),
        sa.Column("email", sa.Text, nullable=False, unique=True),
        sa.Column("role", staff_role, nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("hired_on", sa.Date, nullable=False),
    )
    op.create_table(
        "services",
        sa.Column("id", pg.UUID, primary_key=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("duration_minutes", sa.Integer, nullable=False),
        sa.Column("price_cents", sa.Integer, sa.CheckConstraint("price_cents >= 0"), nullable=False),
    )
    op.create_table(
        "clients",
        sa.Column("id", pg.UUID, primary_key=True),
        sa.Column("full_name", sa.Text, nullable=False),
        sa.Column("email", sa.Text, nullable=False, unique=True),
        sa.Column("phone", sa.Text, nullable=False),
        sa.Column("created_at", sa.TIMESTAMP(timezone=True), nullable=False),
    )
    op.create_table(
        "pets",
        sa.Column("id", pg.UUID, primary_key=True),
        sa.Column("client_id", pg.UUID, sa.ForeignKey("clients.id"), nullable=False, index=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("species", pet_species, nullable=False),
        sa.Column("breed", sa.Text, nullable=False),
        sa.Column("born_on", sa.Date, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("pets")
    op.drop_table("clients")
    op.drop_table("services")
    op.drop_table("staff")
    pet_species.drop(op.get_bind())
    staff_role.drop(op.get_bind())
