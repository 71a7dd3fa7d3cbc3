"""What dbtool manages in a schema, and drop_objects: remove it all, keeping extensions, owner and grants."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import psycopg
from psycopg import sql

logger = logging.getLogger(__name__)

BOOKKEEPING_TABLES = ("dbtool_meta", "dbtool_migration_cache")  # dbtool's own; a reset keeps them

# Objects in the schema that are not members of an extension, not dbtool's bookkeeping, and not
# owned by another object (serial/identity sequences go with their table; row types with theirs).
OBJECTS_SQL = """
SELECT kind, name FROM (
  SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                        WHEN 'S' THEN 'sequence' WHEN 'f' THEN 'foreign table' ELSE 'table' END AS kind,
         c.relname::text AS name
  FROM pg_class c
  WHERE c.relnamespace = %(schema)s::regnamespace
    AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
    AND NOT c.relispartition
    AND c.relname <> ALL (%(bookkeeping)s)
    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                    AND d.deptype IN ('e', 'a', 'i'))
  UNION ALL
  SELECT CASE t.typtype WHEN 'e' THEN 'type' WHEN 'd' THEN 'domain' ELSE 'type' END, t.typname::text
  FROM pg_type t
  WHERE t.typnamespace = %(schema)s::regnamespace
    AND (t.typtype IN ('e', 'd', 'r')
         OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid
                    AND d.deptype = 'e')
  UNION ALL
  SELECT CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END,
         p.oid::regprocedure::text
  FROM pg_proc p
  WHERE p.pronamespace = %(schema)s::regnamespace
    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                    AND d.deptype = 'e')
) o ORDER BY kind, name
"""

DROP_KEYWORDS = {  # in the order they are dropped: dependents first, types last
    "materialized view": "MATERIALIZED VIEW",
    "view": "VIEW",
    "foreign table": "FOREIGN TABLE",
    "table": "TABLE",
    "sequence": "SEQUENCE",
    "procedure": "PROCEDURE",
    "aggregate": "AGGREGATE",
    "function": "FUNCTION",
    "domain": "DOMAIN",
    "type": "TYPE",
}


@dataclass(frozen=True)
class SchemaObject:
    """One object dbtool would drop."""

    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


def schema_exists(conn: psycopg.Connection, schema: str) -> bool:  # type: ignore[type-arg]
    """True when the schema exists in this database."""
    row = conn.execute("SELECT to_regnamespace(%s) IS NOT NULL", (schema,)).fetchone()
    return bool(row and row[0])


def managed_objects(conn: psycopg.Connection, schema: str) -> list[SchemaObject]:  # type: ignore[type-arg]
    """Everything in `schema` that a reset drops (nothing when the schema does not exist)."""
    if not schema_exists(conn, schema):
        return []
    rows = conn.execute(OBJECTS_SQL, {"schema": schema, "bookkeeping": list(BOOKKEEPING_TABLES)}).fetchall()
    return [SchemaObject(kind, name) for kind, name in rows]


def drop_statement(schema: str, objects: list[SchemaObject]) -> sql.Composable:
    """One multi-statement DROP ... IF EXISTS ... CASCADE script for `objects`, dependents first."""
    statements: list[sql.Composable] = []
    for kind, keyword in DROP_KEYWORDS.items():
        names = [o.name for o in objects if o.kind == kind]
        if not names:
            continue
        if kind in ("procedure", "aggregate", "function"):
            # regprocedure text is already a quoted, argument-qualified signature from the server.
            targets = sql.SQL(", ").join(sql.SQL(n) for n in names)
        else:
            targets = sql.SQL(", ").join(sql.Identifier(schema, n) for n in names)
        statements.append(sql.SQL("DROP {} IF EXISTS {} CASCADE").format(sql.SQL(keyword), targets))
    return sql.SQL("; ").join(statements)


def drop_objects(conn: psycopg.Connection, schema: str, objects: list[SchemaObject] | None = None) -> int:  # type: ignore[type-arg]
    """Drop every managed object in `schema` (one round trip); return how many were dropped."""
    if objects is None:
        objects = managed_objects(conn, schema)
    if objects:
        conn.execute(drop_statement(schema, objects))
    logger.info("dropped %s objects in schema %s", len(objects), schema)
    return len(objects)


def lock_tables(conn: psycopg.Connection, schema: str, objects: list[SchemaObject]) -> None:  # type: ignore[type-arg]
    """Take ACCESS EXCLUSIVE on the tables about to be dropped, in name order, so that two
    writers can never lock them in opposite orders and DROP ... CASCADE cannot deadlock a reader."""
    tables = sorted(o.name for o in objects if o.kind in ("table", "view", "materialized view"))
    if tables:
        conn.execute(
            sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(
                sql.SQL(", ").join(sql.Identifier(schema, t) for t in tables)
            )
        )
