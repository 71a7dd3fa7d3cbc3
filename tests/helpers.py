"""Ways to run dbtool in tests: in-process through typer's CliRunner, or as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import psycopg
from typer.testing import CliRunner

from dbtool.cli import app

CLEAN_ENV = {k: "" for k in ("DATABASE_URL", "DBTOOL_POOL_MAX", "DBTOOL_PROFILE", "DBTOOL_SEED", "DBTOOL_SCHEMA", "DBTOOL_STRATEGY")}


def dbtool(*args: str, env: dict[str, str] | None = None) -> Any:
    """Invoke the CLI in-process; returns typer's Result (exit_code, stdout, stderr)."""
    merged = {k: v for k, v in {**CLEAN_ENV, **(env or {})}.items()}
    for key, value in list(merged.items()):
        if value == "":
            merged[key] = None  # type: ignore[assignment]  # CliRunner unsets None-valued variables
    return CliRunner().invoke(app, list(args), env=merged)


def dbtool_process(*args: str, env: dict[str, str] | None = None, timeout: float = 180, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run `python -m dbtool` as a real process (no TTY, like a CronJob)."""
    full_env = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "dbtool", *args], env=full_env, capture_output=True, text=True, timeout=timeout,
        stdin=subprocess.DEVNULL, **kwargs,
    )


INVARIANTS = {
    "total = subtotal + tip": "SELECT count(*) FROM invoices WHERE total_cents <> subtotal_cents + tip_cents",
    "subtotal = sum(line items)": """
        SELECT count(*) FROM invoices i LEFT JOIN (
          SELECT invoice_id, sum(quantity * unit_price_cents) AS s FROM invoice_line_items GROUP BY invoice_id
        ) l ON l.invoice_id = i.id WHERE i.subtotal_cents <> coalesce(l.s, 0)""",
    "tip = sum(tip splits)": """
        SELECT count(*) FROM invoices i LEFT JOIN (
          SELECT invoice_id, sum(amount_cents) AS s FROM invoice_tip_splits GROUP BY invoice_id
        ) t ON t.invoice_id = i.id WHERE i.tip_cents <> coalesce(t.s, 0)""",
    "every line item has an invoice and a service": """
        SELECT count(*) FROM invoice_line_items li
        WHERE NOT EXISTS (SELECT 1 FROM invoices i WHERE i.id = li.invoice_id)
           OR NOT EXISTS (SELECT 1 FROM services s WHERE s.id = li.service_id)""",
    "every pet has an owner": "SELECT count(*) FROM pets p WHERE NOT EXISTS (SELECT 1 FROM clients c WHERE c.id = p.client_id)",
    "every client has a pet": "SELECT count(*) FROM clients c WHERE NOT EXISTS (SELECT 1 FROM pets p WHERE p.client_id = c.id)",
    "invoice client owns the invoice pet": """
        SELECT count(*) FROM invoices i JOIN pets p ON p.id = i.pet_id WHERE p.client_id <> i.client_id""",
    "tips go to groomers": """
        SELECT count(*) FROM invoice_tip_splits t JOIN staff s ON s.id = t.staff_id WHERE s.role <> 'groomer'""",
    "visits reference real pets, staff and invoices": """
        SELECT count(*) FROM grooming_visit_logs v
        WHERE NOT EXISTS (SELECT 1 FROM pets p WHERE p.id = v.pet_id)
           OR NOT EXISTS (SELECT 1 FROM staff s WHERE s.id = v.staff_id)
           OR (v.invoice_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.id = v.invoice_id))""",
}


def invariant_violations(conn: psycopg.Connection) -> dict[str, int]:  # type: ignore[type-arg]
    """Invariant name -> number of violating rows (empty when all hold)."""
    found = {}
    for name, query in INVARIANTS.items():
        count = conn.execute(query).fetchone()[0]  # type: ignore[index]
        if count:
            found[name] = count
    return found


# The example app's tables, in foreign-key order (migrations/versions).
EXAMPLE_TABLES = ("staff", "services", "clients", "pets", "invoices", "invoice_line_items", "invoice_tip_splits",
                  "grooming_visit_logs")


def counts(conn: psycopg.Connection) -> dict[str, int]:  # type: ignore[type-arg]
    """Rows per seeded table of the example app."""
    return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in EXAMPLE_TABLES}  # type: ignore[index]


def last_digest(conn: psycopg.Connection) -> str:  # type: ignore[type-arg]
    """Digest of the latest reset/seed recorded in dbtool_meta."""
    return conn.execute(
        "SELECT digest FROM dbtool_meta WHERE event IN ('reset', 'seed') ORDER BY id DESC LIMIT 1"
    ).fetchone()[0]  # type: ignore[index]


def advisory_locks(conn: psycopg.Connection) -> int:  # type: ignore[type-arg]
    """Advisory locks granted in this database right now."""
    return conn.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    ).fetchone()[0]  # type: ignore[index]


def example_rows(profile: str, table: str, scale: int = 1) -> int:
    """Rows the example app's profile file (migrations/dbtool.toml) asks for: `table` at `profile` x `scale`."""
    from dbtool.settings.config import Settings
    from dbtool.settings.project import Project

    settings = Settings(profile=profile)
    settings.__dict__["project"] = Project()  # the built-in example, whatever the working directory holds
    count = settings.seed_profile().tables[table]
    assert isinstance(count, int), f"{table} is counted per parent row in {profile}"
    return count * scale
