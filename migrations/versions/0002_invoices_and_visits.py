"""invoices, line items, tip splits and grooming visit logs

Revision ID: 0002_invoices_and_visits
Revises: 0001_people_and_pets
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0002_invoices_and_visits"
down_revision = "0001_people_and_pets"
branch_labels = None
depends_on = None

invoice_status = pg.ENUM("draft", "issued", "paid", "void", name="invoice_status", create_type=False)


def upgrade() -> None:
    invoice_status.create(op.get_bind())
    op.create_table(
        "invoices",
        sa.Column("id", pg.UUID, primary_key=True),
        sa.Column("number", sa.Integer, nullable=False, unique=True),
        sa.Column("client_id", pg.UUID, sa.ForeignKey("clients.id"), nullable=False, index=True),
        sa.Column("pet_id", pg.UUID, sa.ForeignKey("pets.id"), nullable=False, index=True),
        sa.Column("status", invoice_status, nullable=False),
        sa.Column("issued_at", sa.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("subtotal_cents", sa.Integer, nullable=False),
        sa.Column("tip_cents", sa.Integer, nullable=False),
        sa.Column("total_cents", sa.Integer, nullable=False),
        sa.CheckConstraint("total_cents = subtotal_cents + tip_cents", name="invoices_total_is_subtotal_plus_tip"),
        sa.CheckConstraint("subtotal_cents >= 0 AND tip_cents >= 0", name="invoices_amounts_not_negative"),
    )
    op.create_table(
        "invoice_line_items",
        sa.Column("id", pg.UUID, primary_key=True),
        sa.Column("invoice_id", pg.UUID, sa.ForeignKey("invoices.id"), nullable=False, index=True),
        sa.Column("service_id", pg.UUID, sa.ForeignKey("services.id"), nullable=False),
        sa.Column("quantity", sa.Integer, sa.CheckConstraint("quantity > 0"), nullable=False),
        sa.Column("unit_price_cents", sa.Integer, nullable=False),
    )
    op.create_table(
        "invoice_tip_splits",
        sa.Column("id", pg.UUID, primary_key=True),
        sa.Column("invoice_id", pg.UUID, sa.ForeignKey("invoices.id"), nullable=False, index=True),
        sa.Column("staff_id", pg.UUID, sa.ForeignKey("staff.id"), nullable=False),
        sa.Column("amount_cents", sa.Integer, sa.CheckConstraint("amount_cents > 0"), nullable=False),
    )
    op.create_table(
        "grooming_visit_logs",
        sa.Column("id", pg.UUID, primary_key=True),
        sa.Column("pet_id", pg.UUID, sa.ForeignKey("pets.id"), nullable=False, index=True),
        sa.Column("staff_id", pg.UUID, sa.ForeignKey("staff.id"), nullable=False),
        sa.Column("invoice_id", pg.UUID, sa.ForeignKey("invoices.id"), nullable=True),
        sa.Column("visited_at", sa.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("duration_minutes", sa.Integer, nullable=False),
        sa.Column("notes", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("grooming_visit_logs")
    op.drop_table("invoice_tip_splits")
    op.drop_table("invoice_line_items")
    op.drop_table("invoices")
    invoice_status.drop(op.get_bind())
