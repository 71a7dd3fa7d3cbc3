"""What dbtool manages in a schema, and drop_objects: remove it all, keeping extensions, owner and grants."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus

from dbtool.errors import RefusedError

logger = logging.getLogger(__name__)

BOOKKEEPING_TABLES = ("dbtool_meta",)  # dbtool's own; a reset keeps it
VERSION_TABLE = "alembic_version"


def version_table_name(schema: str, table: str | None = None, table_schema: str | None = None) -> str:
    """Alembic's version table as 'schema.table' (what dbtool_meta records)."""
    return f"{table_schema or schema}.{table or VERSION_TABLE}"


def table_of(version_table: str | None, schema: str) -> str:
    """The version table's name when it lives in `schema` (else a name no table has)."""
    table_schema, _, table = (version_table or version_table_name(schema)).partition(".")
    return table if table_schema == schema else ""


# Objects in the schema that are not members of an extension, not dbtool's bookkeeping, and not
# owned by another object (serial/identity sequences go with their table; row types with theirs).
OBJECTS_SQL = """
SELECT kind, name FROM (
  SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                        WHEN 'S' THEN 'sequence' WHEN 'f' THEN 'foreign table' ELSE 'table' END AS kind,
         c.relname::text AS name
  FROM pg_class c
  WHERE c.relnamespace = {schema}::regnamespace
    AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
    AND NOT c.relispartition
    AND c.relname <> ALL ({bookkeeping})
    -- objsubid = 0: the relation itself; Postgres < 14 also records a generated column's dependency
    -- on the columns it reads as an 'a' dependency of the table's column, which must not hide the table.
    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                    AND d.objsubid = 0 AND d.deptype IN ('e', 'a', 'i'))
  UNION ALL
  SELECT CASE t.typtype WHEN 'e' THEN 'type' WHEN 'd' THEN 'domain' ELSE 'type' END, t.typname::text
  FROM pg_type t
  WHERE t.typnamespace = {schema}::regnamespace
    AND (t.typtype IN ('e', 'd', 'r')
         OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid
                    AND d.deptype = 'e')
  UNION ALL
  SELECT CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END,
         p.oid::regprocedure::text
  FROM pg_proc p
  WHERE p.pronamespace = {schema}::regnamespace
    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                    AND d.deptype = 'e')
) o ORDER BY kind, name
"""

# The schema of object (x.classid, x.objid); for a trigger, default, rule or policy, its table's. NULL for
# objects in no schema (event triggers, publications).
NAMESPACE_OF = """  WHEN 'pg_class'::regclass THEN (SELECT relnamespace FROM pg_class WHERE oid = x.objid)
  WHEN 'pg_type'::regclass THEN (SELECT typnamespace FROM pg_type WHERE oid = x.objid)
  WHEN 'pg_proc'::regclass THEN (SELECT pronamespace FROM pg_proc WHERE oid = x.objid)
  WHEN 'pg_constraint'::regclass THEN (SELECT connamespace FROM pg_constraint WHERE oid = x.objid)
  WHEN 'pg_rewrite'::regclass THEN (SELECT c.relnamespace FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class WHERE r.oid = x.objid)
  WHEN 'pg_trigger'::regclass THEN (SELECT c.relnamespace FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE t.oid = x.objid)
  WHEN 'pg_attrdef'::regclass THEN (SELECT c.relnamespace FROM pg_attrdef a JOIN pg_class c ON c.oid = a.adrelid WHERE a.oid = x.objid)
  WHEN 'pg_policy'::regclass THEN (SELECT c.relnamespace FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid WHERE p.oid = x.objid)
  WHEN 'pg_statistic_ext'::regclass THEN (SELECT stxnamespace FROM pg_statistic_ext WHERE oid = x.objid)
  """

# Objects outside the schema that dropping its managed objects (`OBJECTS_SQL`) with CASCADE would drop
# too: everything that depends on them, transitively, whose own schema is another one. A view is named
# rather than its rule; the internal triggers of a foreign key go with the key and are not named.
OUTSIDE_DROPPED_SQL = """
WITH RECURSIVE roots AS (
  SELECT CASE WHEN o.kind IN ('type', 'domain') THEN 'pg_type'::regclass::oid
              WHEN o.kind IN ('function', 'procedure', 'aggregate') THEN 'pg_proc'::regclass::oid
              ELSE 'pg_class'::regclass::oid END AS classid,
         CASE WHEN o.kind IN ('type', 'domain') THEN to_regtype(format('%I.%I', {schema}::text, o.name))::oid
              WHEN o.kind IN ('function', 'procedure', 'aggregate') THEN to_regprocedure(o.name)::oid
              ELSE to_regclass(format('%I.%I', {schema}::text, o.name))::oid END AS objid
  FROM ({objects}) o
),
dropped(classid, objid, objsubid) AS (
  SELECT classid, objid, 0 FROM roots WHERE objid IS NOT NULL
  UNION
  SELECT d.classid, d.objid, d.objsubid FROM pg_depend d JOIN dropped x ON d.refclassid = x.classid AND d.refobjid = x.objid
  WHERE d.deptype IN ('n', 'a', 'i')
)
SELECT DISTINCT o.type || ' ' || coalesce(o.identity, '?')
FROM dropped x
CROSS JOIN LATERAL (SELECT (SELECT ev_class FROM pg_rewrite WHERE x.classid = 'pg_rewrite'::regclass AND oid = x.objid) AS view) r
CROSS JOIN LATERAL pg_identify_object(CASE WHEN r.view IS NULL THEN x.classid ELSE 'pg_class'::regclass END,
                                      coalesce(r.view, x.objid), CASE WHEN r.view IS NULL THEN x.objsubid ELSE 0 END) o
CROSS JOIN LATERAL (SELECT CASE x.classid
{namespace_of}END AS nsp) dep
WHERE dep.nsp IS DISTINCT FROM to_regnamespace({schema}) AND dep.nsp IS DISTINCT FROM 'pg_toast'::regnamespace
  AND NOT (x.classid = 'pg_trigger'::regclass AND (SELECT tgisinternal FROM pg_trigger WHERE oid = x.objid))
ORDER BY 1
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


def objects_query(schema: str) -> sql.Composed:
    """The SELECT listing (kind, name) of every managed object in an existing `schema`."""
    return sql.SQL(OBJECTS_SQL).format(schema=sql.Literal(schema), bookkeeping=sql.Literal(list(BOOKKEEPING_TABLES)))


def outside_dropped(conn: psycopg.Connection, schema: str) -> list[str]:
    """The objects outside `schema` (foreign keys, views, columns of its types, triggers calling its
    functions...) that dropping its managed objects with CASCADE would drop too, one phrase each."""
    query = sql.SQL(OUTSIDE_DROPPED_SQL.replace("{namespace_of}", NAMESPACE_OF)).format(
        schema=sql.Literal(schema), objects=objects_query(schema))
    return [r[0] for r in conn.execute(query).fetchall()]


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


def drop_objects(conn: psycopg.Connection, schema: str, objects: list[SchemaObject]) -> int:
    """Lock, then drop every object in `objects` (one round trip); return how many were dropped."""
    if objects:
        conn.execute(sql.SQL("; ").join([lock_statement(schema, objects), drop_statement(schema, objects)]))
    logger.info("dropped %s objects in schema %s", len(objects), schema)
    return len(objects)


def lock_statement(schema: str, objects: list[SchemaObject]) -> sql.SQL | sql.Composed:
    """LOCK the tables about to be dropped in ACCESS EXCLUSIVE mode, in name order, so that two
    writers never lock them in opposite orders and DROP ... CASCADE cannot deadlock a reader."""
    tables = sorted(o.name for o in objects if o.kind in ("table", "view"))  # LOCK refuses materialized views
    if not tables:
        return sql.SQL("")
    return sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(
        sql.SQL(", ").join(sql.Identifier(schema, t) for t in tables)
    )


# Keys and plain indexes of the given tables, and every foreign key from or to them, with their exact
# definitions and the statements that restore their comments (none for no comment), in the order they
# are re-created: keys first (foreign keys need them), foreign keys last. What its definition text
# cannot bring back exactly stays in place during the load:
# - partial and expression indexes: pg_get_indexdef's text may re-parse into a different tree (IN on a
#   varchar column comes back as ARRAY[...::text]), so the index would differ from the migrated one;
# - keys and indexes of partitioned tables and their partitions: the text says ON ONLY, which builds
#   an invalid parent index without the partitions' ones;
# - keys with storage options or a tablespace: pg_get_constraintdef prints neither;
# - a table's CLUSTER and REPLICA IDENTITY index, and invalid indexes (re-created, they would be valid);
# - a key a view depends on (a view grouping by a primary key).
# A plain index's tablespace is appended to its definition. Cloned foreign keys (conparentid) go and
# come back with the one on the partitioned table.
DEFERRABLE_SQL = """
WITH loaded AS (
  SELECT c.oid, c.relkind = 'p' OR c.relispartition AS partitioned FROM pg_class c
  WHERE c.relnamespace = to_regnamespace(%(schema)s) AND c.relname = ANY(%(tables)s)
)
SELECT 0, c.conrelid::regclass::text, quote_ident(c.conname), pg_get_constraintdef(c.oid),
       array_remove(ARRAY[
         format('COMMENT ON CONSTRAINT %%I ON %%s IS ', c.conname, c.conrelid::regclass) || quote_literal(obj_description(c.oid, 'pg_constraint')),
         format('COMMENT ON INDEX %%s IS ', c.conindid::regclass) || quote_literal(obj_description(c.conindid, 'pg_class'))], NULL)
FROM pg_constraint c JOIN loaded t ON t.oid = c.conrelid
JOIN pg_index i ON i.indexrelid = c.conindid JOIN pg_class ic ON ic.oid = c.conindid
WHERE c.contype IN ('p', 'u') AND NOT t.partitioned AND c.conparentid = 0
  AND ic.reloptions IS NULL AND ic.reltablespace = 0 AND i.indisvalid AND NOT i.indisclustered AND NOT i.indisreplident
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.refclassid = 'pg_constraint'::regclass AND d.refobjid = c.oid
                  AND d.classid = 'pg_rewrite'::regclass)
UNION ALL
SELECT 1, i.indrelid::regclass::text, i.indexrelid::regclass::text,
       pg_get_indexdef(i.indexrelid) || coalesce(' TABLESPACE ' || quote_ident(ts.spcname), ''),
       array_remove(ARRAY[
         format('COMMENT ON INDEX %%s IS ', i.indexrelid::regclass) || quote_literal(obj_description(i.indexrelid, 'pg_class'))], NULL)
FROM pg_index i JOIN loaded t ON t.oid = i.indrelid JOIN pg_class ic ON ic.oid = i.indexrelid
LEFT JOIN pg_tablespace ts ON ts.oid = ic.reltablespace
WHERE NOT t.partitioned AND i.indpred IS NULL AND i.indexprs IS NULL
  AND i.indisvalid AND NOT i.indisclustered AND NOT i.indisreplident
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
UNION ALL
SELECT 2, c.conrelid::regclass::text, quote_ident(c.conname), pg_get_constraintdef(c.oid),
       array_remove(ARRAY[
         format('COMMENT ON CONSTRAINT %%I ON %%s IS ', c.conname, c.conrelid::regclass) || quote_literal(obj_description(c.oid, 'pg_constraint'))], NULL)
FROM pg_constraint c
WHERE c.contype = 'f' AND c.conparentid = 0
  -- tables dbtool does not load may point at the loaded ones: their keys go and come back too
  AND (c.conrelid IN (SELECT oid FROM loaded) OR c.confrelid IN (SELECT oid FROM loaded))
ORDER BY 1, 2, 3
"""
KEY, INDEX, FOREIGN_KEY = 0, 1, 2


def saved_constraints(conn: psycopg.Connection, schema: str, tables: Sequence[str]) -> list[tuple[int, str, str, str]]:
    """(kind, table, name, definition) of the tables' keys, indexes and foreign keys that the load may
    drop, in re-creation order; a definition ends with the statements that restore its comments."""
    rows = conn.execute(DEFERRABLE_SQL, {"schema": schema, "tables": list(tables)}).fetchall()
    return [(kind, table, name, "; ".join([definition, *comments])) for kind, table, name, definition, comments in rows]


def drop_statement_of(kind: int, table: str, name: str) -> str:
    """The statement that removes one saved key, index or foreign key."""
    return f"DROP INDEX {name}" if kind == INDEX else f"ALTER TABLE {table} DROP CONSTRAINT {name}"


def create_statement_of(kind: int, table: str, name: str, definition: str) -> str:
    """The statement(s) that re-create one saved key, index or foreign key exactly, comments included."""
    return definition if kind == INDEX else f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"


def deferred_constraints(conn: psycopg.Connection, schema: str, tables: Sequence[str]) -> tuple[list[str], list[str]]:
    """(drops, creates): statements that remove the tables' foreign keys, keys and indexes, and
    re-create them exactly from their saved definitions, each list in the order it must run."""
    saved = saved_constraints(conn, schema, tables)
    # foreign keys go before the keys they reference
    drops = [drop_statement_of(kind, table, name) for kind, table, name, _ in reversed(saved)]
    creates = [create_statement_of(*row) for row in saved]
    return drops, creates


# The user triggers (not the internal ones that check foreign keys) that fire when rows go into the
# given tables: theirs and their partitions' (COPY into a partitioned table fires the partition's
# clones), unless a migration disabled them. tgenabled says when each fires: O origin, A always, R replica.
USER_TRIGGERS_SQL = """
WITH RECURSIVE loaded AS (
  SELECT c.oid FROM pg_class c WHERE c.relnamespace = to_regnamespace(%(schema)s) AND c.relname = ANY(%(tables)s)
  UNION
  SELECT i.inhrelid FROM pg_inherits i JOIN loaded l ON l.oid = i.inhparent
  JOIN pg_class p ON p.oid = i.inhrelid AND p.relispartition
)
SELECT t.tgrelid::regclass::text, quote_ident(t.tgname), t.tgenabled
FROM pg_trigger t JOIN loaded l ON l.oid = t.tgrelid
-- Before Postgres 15 a partition's clone of its parent's trigger is marked internal: a user trigger still.
WHERE (NOT t.tgisinternal OR (t.tgparentid <> 0 AND t.tgconstraint = 0)) AND t.tgenabled <> 'D'
ORDER BY 1, 2
"""
ENABLE_KEYWORDS = {"O": "ENABLE", "A": "ENABLE ALWAYS", "R": "ENABLE REPLICA"}


def user_triggers(conn: psycopg.Connection, schema: str, tables: Sequence[str]) -> list[tuple[str, str, str]]:
    """(table, trigger, tgenabled) of the enabled user triggers that inserting into `tables` fires."""
    return conn.execute(USER_TRIGGERS_SQL, {"schema": schema, "tables": list(tables)}).fetchall()


def disable_trigger_statements(triggers: Sequence[tuple[str, str, str]]) -> list[str]:
    """Statements that switch each trigger off; ONLY, since each partition's clone is listed itself."""
    return [f"ALTER TABLE ONLY {table} DISABLE TRIGGER {name}" for table, name, _ in triggers]


def enable_trigger_statements(triggers: Sequence[tuple[str, str, str]]) -> list[str]:
    """Statements that switch each trigger back on exactly as it was (origin, ALWAYS or REPLICA)."""
    return [f"ALTER TABLE ONLY {table} {ENABLE_KEYWORDS[state]} TRIGGER {name}" for table, name, state in triggers]


def _enable_after_failure(conn: psycopg.Connection, triggers: Sequence[tuple[str, str, str]]) -> None:
    # A failed transaction can only roll back, which undoes the DISABLE with it; otherwise (an error
    # raised in Python, or autocommit) switch them back on here, and never hide the original error.
    if not triggers or conn.info.transaction_status == TransactionStatus.INERROR:
        return
    try:
        conn.execute("; ".join(enable_trigger_statements(triggers)))
    except psycopg.Error as exc:
        logger.warning("could not enable %s triggers again after a failed load: %s", len(triggers), exc)


@contextmanager
def bulk_load(conn: psycopg.Connection, schema: str, tables: Sequence[str]) -> Iterator[None]:
    """Drop the tables' foreign keys, keys and indexes and disable their user triggers, yield for the
    COPY, then enable the triggers and re-create the rest from their saved definitions.

    Building indexes and validating keys once, set-based, after the load is 2-3x faster than
    maintaining them row by row (pg_restore orders a restore the same way). Triggers are off as in
    pg_dump's data-only restore: the generated rows are planned to satisfy the constraints themselves,
    and a trigger that refuses direct inserts or reads rows not loaded yet must not fail the reset.
    Run inside the load's transaction: if a re-created constraint fails, everything rolls back."""
    drops, creates = deferred_constraints(conn, schema, tables)
    triggers = user_triggers(conn, schema, tables)
    if triggers:
        logger.info("disabled %s user triggers for the load: %s", len(triggers), ", ".join(t[1] for t in triggers))
    before = drops + disable_trigger_statements(triggers)
    if before:
        conn.execute("; ".join(before))
    try:
        yield
    except BaseException:
        _enable_after_failure(conn, triggers)
        raise
    after = enable_trigger_statements(triggers) + creates
    if after:
        conn.execute("; ".join(after))


# The tables a TRUNCATE of the given ones must empty with them: every table whose foreign key points at
# one of them, and so on (what CASCADE would reach). Those outside the schema are someone else's, with
# the foreign keys that reach them. A partition's cloned keys (conparentid) come with its parent's.
TRUNCATED_SQL = """
WITH RECURSIVE emptied(oid) AS (
  SELECT c.oid FROM pg_class c WHERE c.relnamespace = to_regnamespace(%(schema)s) AND c.relname = ANY(%(tables)s)
  UNION
  SELECT k.conrelid FROM pg_constraint k JOIN emptied e ON e.oid = k.confrelid WHERE k.contype = 'f' AND k.conparentid = 0
)
SELECT c.relnamespace = to_regnamespace(%(schema)s), c.relname::text, c.oid::regclass::text, c.relkind = 'p',
       (SELECT string_agg(format('%%I to %%s', k.conname, k.confrelid::regclass), ', ' ORDER BY k.conname)
        FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'f' AND k.conparentid = 0
          AND k.confrelid IN (SELECT oid FROM emptied))
FROM emptied e JOIN pg_class c ON c.oid = e.oid
ORDER BY 1 DESC, 3
"""


def truncate(conn: psycopg.Connection, schema: str, tables: Sequence[str]) -> None:
    """Empty `tables` and the tables of `schema` whose foreign keys point at them (their rows would
    point at rows that no longer exist), in one TRUNCATE without CASCADE; refuse (exit 3), before
    anything changes, when a table outside `schema` points at them: its rows are not dbtool's to empty."""
    if not tables:
        return
    found = conn.execute(TRUNCATED_SQL, {"schema": schema, "tables": list(tables)}).fetchall()
    outside = [f"{qualified} (foreign key {keys})" for inside, _, qualified, _, keys in found if not inside]
    if outside:
        shown = "; ".join(outside[:3]) + (f" and {len(outside) - 3} more" if len(outside) > 3 else "")
        raise RefusedError(
            f"cannot empty the seeded tables: table {shown} outside schema {schema} references them, and dbtool "
            "never empties tables outside the managed schema, even with --force; nothing was changed; drop that "
            "foreign key (`dbtool reset --force` drops it) or empty the referencing table yourself"
        )
    # ONLY: an inheritance child outside `tables` keeps its rows (a partitioned table has none of its own).
    targets = [sql.SQL("{}{}").format(sql.SQL("" if partitioned else "ONLY "), sql.Identifier(schema, name))
               for _, name, _, partitioned, _ in found]
    conn.execute(sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(targets)))
