"""dbtool: reset, migrate and seed Postgres databases safely."""

from __future__ import annotations

__version__ = "0.1.0"
