"""The migrated schema, read once: tables, columns, keys, foreign keys and CHECKs, as the seed core's
dataclasses (dbtool.seed.model)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from dbtool.db import digest
from dbtool.seed.model import Column, Constraint, Table, UniqueIndex

if TYPE_CHECKING:
    import psycopg

MAX_REFERENCED_ROWS = 100_000  # rows of a table the migrations filled that generated rows may point at
# Before Postgres 17, a value added by ALTER TYPE ... ADD VALUE cannot be used until its transaction
# commits, even when the type was created in that same transaction (a reset's migrations do both).
NEW_ENUM_VALUES_USABLE_MIN_VERSION = 170000

# Enum values this transaction inserted (CREATE TYPE's and ADD VALUE's alike; a cast tells them apart).
NEW_ENUM_VALUES_SQL = """
SELECT e.enumtypid, e.enumtypid::regtype::text, e.enumlabel FROM pg_enum e
WHERE e.xmin::text::bigint = mod(pg_current_xact_id_if_assigned()::text::bigint, 4294967296)
ORDER BY 1, e.enumsortorder
"""

# One round trip for the whole schema. Domains are resolved to their base type (their CHECKs and
# NOT NULL come along); arrays carry their element type; enums their labels in order.
CATALOG_SQL = """
WITH RECURSIVE tables AS (
  SELECT c.oid, c.relname FROM pg_class c
  WHERE """ + digest.SCHEMA_TABLES_WHERE + """
), domains(column_type, type_oid, typmod, not_null, depth) AS (
  SELECT t.oid, t.oid, -1, false, 0 FROM pg_type t
  WHERE t.oid IN (SELECT a.atttypid FROM pg_attribute a JOIN tables ON a.attrelid = tables.oid)
  UNION ALL
  SELECT d.column_type, t.typbasetype, t.typtypmod, d.not_null OR t.typnotnull, d.depth + 1
  FROM domains d JOIN pg_type t ON t.oid = d.type_oid WHERE t.typtype = 'd'
), resolved AS (
  SELECT DISTINCT ON (column_type) column_type, type_oid AS base_oid,
         (SELECT max(typmod) FROM domains x WHERE x.column_type = d.column_type) AS domain_typmod,
         (SELECT bool_or(not_null) FROM domains x WHERE x.column_type = d.column_type) AS domain_not_null,
         (SELECT coalesce(json_agg(pg_get_constraintdef(k.oid) ORDER BY k.conname), '[]') FROM domains x
            JOIN pg_constraint k ON k.contypid = x.type_oid WHERE x.column_type = d.column_type AND k.contype = 'c')
           AS domain_checks
  FROM domains d ORDER BY column_type, depth DESC
)
SELECT coalesce(json_agg(json_build_object(
  'name', tables.relname,
  'columns', (
    SELECT json_agg(json_build_object(
      'name', a.attname, 'type', format_type(a.atttypid, a.atttypmod),
      'base', b.typname, 'category', b.typcategory,
      'typmod', CASE WHEN a.atttypmod >= 0 THEN a.atttypmod ELSE r.domain_typmod END,
      'element', e.typname, 'element_category', e.typcategory,
      'labels', (SELECT json_agg(enumlabel ORDER BY enumsortorder) FROM pg_enum
                 WHERE enumtypid = coalesce(e.oid, b.oid) AND enumtypid::text || ':' || enumlabel <> ALL (%(unusable)s)),
      'unusable_labels', (SELECT json_agg(enumlabel ORDER BY enumsortorder) FROM pg_enum
                 WHERE enumtypid = coalesce(e.oid, b.oid) AND enumtypid::text || ':' || enumlabel = ANY (%(unusable)s)),
      'not_null', a.attnotnull OR r.domain_not_null,
      'default', pg_get_expr(ad.adbin, ad.adrelid),
      'identity', a.attidentity, 'generated', a.attgenerated,
      'sequence', pg_get_serial_sequence(quote_ident(%(schema)s) || '.' || quote_ident(tables.relname), a.attname),
      'domain_checks', r.domain_checks
    ) ORDER BY a.attnum)
    FROM pg_attribute a
    JOIN resolved r ON r.column_type = a.atttypid
    JOIN pg_type b ON b.oid = r.base_oid
    LEFT JOIN pg_type e ON e.oid = b.typelem AND b.typcategory = 'A'
    LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
    WHERE a.attrelid = tables.oid AND a.attnum > 0 AND NOT a.attisdropped),
  'constraints', (
    SELECT coalesce(json_agg(json_build_object(
      'name', k.conname, 'kind', k.contype, 'definition', pg_get_constraintdef(k.oid),
      'columns', (SELECT json_agg(a.attname ORDER BY u.n) FROM unnest(k.conkey) WITH ORDINALITY u(num, n)
                  JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.num),
      'ref_table', CASE WHEN k.contype = 'f' THEN (SELECT relname FROM pg_class WHERE oid = k.confrelid) END,
      'ref_schema', CASE WHEN k.contype = 'f' THEN (SELECT relnamespace::regnamespace::text FROM pg_class WHERE oid = k.confrelid) END,
      'ref_columns', (SELECT json_agg(a.attname ORDER BY u.n) FROM unnest(k.confkey) WITH ORDINALITY u(num, n)
                      JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.num),
      'deferrable', k.condeferrable
    ) ORDER BY k.conname), '[]')
    FROM pg_constraint k WHERE k.conrelid = tables.oid AND k.contype IN ('p', 'u', 'f', 'c')
      AND k.conparentid = 0),  -- a FK to a partitioned table is listed once, not once more per partition
  'unique_indexes', (
    SELECT coalesce(json_agg(json_build_object(
      'name', i.indexrelid::regclass::text, 'partial', i.indpred IS NOT NULL,
      'columns', (SELECT json_agg(coalesce(a.attname, '') ORDER BY u.n) FROM unnest(i.indkey::int2[]) WITH ORDINALITY u(num, n)
                  LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = u.num),
      'expression_columns', (SELECT json_agg(a.attname ORDER BY a.attnum) FROM pg_attribute a
                             WHERE i.indexprs IS NOT NULL AND a.attrelid = i.indrelid AND a.attnum > 0 AND NOT a.attisdropped
                               AND pg_get_expr(i.indexprs, i.indrelid) ~ ('\\m' || a.attname || '\\M'))
    -- by name: pg_index's own order changes when the load re-creates indexes, and the plan must not
    ) ORDER BY i.indexrelid::regclass::text), '[]')
    FROM pg_index i WHERE i.indrelid = tables.oid AND i.indisunique
      AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid))
) ORDER BY tables.relname), '[]')
FROM tables
"""


def read(conn: psycopg.Connection[Any], schema: str, exclude: Sequence[str], unusable: Sequence[str] | None = None) -> list[Table]:
    """Every table of `schema` but `exclude`, with what the migrations put in them; enum values
    `unusable` ("type oid:label", by default those this transaction cannot store yet) are left out."""
    if unusable is None:
        unusable = [f"{oid}:{label}" for oid, label in unusable_enum_values(conn)]
    raw = conn.execute(CATALOG_SQL, {"schema": schema, "exclude": list(exclude), "unusable": list(unusable)}).fetchone()[0]  # type: ignore[index]  # an aggregate without GROUP BY: one row
    tables = [_table(t) for t in (raw if isinstance(raw, list) else json.loads(raw))]
    counts = digest.row_counts(conn, schema, [digest.Table(t.name, ()) for t in tables])
    return [_with_rows(conn, schema, t, counts.get(t.name, 0)) for t in tables]


def unusable_enum_values(conn: psycopg.Connection[Any]) -> list[tuple[int, str]]:
    """(type oid, label) of the enum values this transaction added that the server refuses to store yet."""
    if conn.info.server_version >= NEW_ENUM_VALUES_USABLE_MIN_VERSION:
        return []
    import psycopg
    from psycopg import sql

    unusable = []
    for oid, type_name, label in conn.execute(NEW_ENUM_VALUES_SQL).fetchall():
        try:
            with conn.transaction():  # a savepoint: the failed cast must not end the reset's transaction
                conn.execute(sql.SQL("SELECT {}::{}").format(sql.Literal(label), sql.SQL(type_name)))
        except psycopg.errors.UnsafeNewEnumValueUsage:
            unusable.append((oid, label))
    return unusable


def _with_rows(conn: psycopg.Connection[Any], schema: str, table: Table, rows: int) -> Table:
    """`table` with the count of the rows its migrations inserted and, as text, their key columns,
    which generated rows may reference."""
    if not rows:
        return table
    from psycopg import sql

    wanted = [c.name for c in table.columns if any(c.name in k.columns for k in table.constraints if k.kind in ("p", "u"))]
    existing: dict[str, tuple[str, ...]] = {}
    if wanted:
        order = table.primary_key or tuple(wanted)
        query = sql.SQL("SELECT {} FROM {} ORDER BY {} LIMIT %s").format(
            sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c)) for c in wanted),
            sql.Identifier(schema, table.name), sql.SQL(", ").join(map(sql.Identifier, order)),
        )
        found = conn.execute(query, (MAX_REFERENCED_ROWS,)).fetchall()
        existing = {name: tuple(r[k] for r in found) for k, name in enumerate(wanted)}
    return replace(table, rows=rows, existing=existing)


def _table(raw: dict[str, Any]) -> Table:
    return Table(
        name=raw["name"],
        columns=tuple(
            Column(
                name=c["name"], type=c["type"], base=c["base"], category=c["category"], typmod=c["typmod"],
                element=c["element"], element_category=c["element_category"], labels=tuple(c["labels"] or ()),
                not_null=bool(c["not_null"]), default=c["default"], identity=c["identity"] or "",
                generated=c["generated"] or "", sequence=c["sequence"], domain_checks=tuple(c["domain_checks"] or ()),
                unusable_labels=tuple(c["unusable_labels"] or ()),
            )
            for c in raw["columns"] or ()
        ),
        constraints=tuple(
            Constraint(
                name=k["name"], kind=k["kind"], definition=k["definition"], columns=tuple(k["columns"] or ()),
                ref_table=k["ref_table"], ref_schema=k["ref_schema"], ref_columns=tuple(k["ref_columns"] or ()),
                deferrable=bool(k["deferrable"]),
            )
            for k in raw["constraints"]
        ),
        unique_indexes=tuple(UniqueIndex(i["name"], tuple(i["columns"] or ()), bool(i["partial"]),
                                                  tuple(i.get("expression_columns") or ())) for i in raw["unique_indexes"]),
    )
