"""The swap strategy: build the new state in a shadow schema on the pool's other connections, then
put it in place with one short transaction that renames two schemas.

Readers keep reading the live schema while the shadow is built: nothing they can name refers to the
shadow, and every piece of it is committed separately (a COPY per connection) so that the build can
use every pooled connection. Only the swap takes locks on the live tables, for a few milliseconds.
Everything that would make the rename wrong is checked before it (`hazards`), never discovered after:
then the reset falls back to the one-transaction strategy, or refuses (exit 2) with --strategy swap.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg import sql

from dbtool.db import digest, meta
from dbtool.db import objects as schema
from dbtool.db.lock import held_by
from dbtool.errors import ConfigError, MigrationError, RefusedError
from dbtool.migrate import upgrade as migrate
from dbtool.run import steps
from dbtool.run.context import Run
from dbtool.run.session import Session, check_lock, transaction
from dbtool.run.steps import RunResult
from dbtool.settings.config import Settings

logger = logging.getLogger(__name__)

SHADOW_PREFIX = "dbtool_shadow_"  # the schema being built; a leftover one is removed, never adopted
OLD_PREFIX = "dbtool_old_"  # the replaced schema, between the swap's commit and its removal
MAX_IDENTIFIER = 63  # Postgres truncates longer names silently: a shadow must never collide that way
SWAP_FROM_ROWS = 50_000  # auto: below this the one-transaction reset blocks readers for a few ms only
PIECE_ROWS = 50_000  # driver rows per COPY statement: pieces of one table load on several connections
CLEANUP_LOCK_TIMEOUT_MS = 200  # per attempt to drop the old schema; a reader waits at most this long
CLEANUP_ATTEMPTS = 25
POLL = 0.05  # seconds between checks of the loader threads

NAMESPACE_OF = schema.NAMESPACE_OF

# Objects elsewhere that depend on objects of the schema by OID: after a rename they would follow the
# old schema (a view would show the old rows), and dropping the old schema would drop them.
OUTSIDE_DEPENDENTS_SQL = """
WITH ns AS (SELECT to_regnamespace(%(schema)s) AS oid),
mine AS (
  SELECT 'pg_class'::regclass AS classid, c.oid FROM pg_class c, ns WHERE c.relnamespace = ns.oid
  UNION ALL SELECT 'pg_type'::regclass, t.oid FROM pg_type t, ns WHERE t.typnamespace = ns.oid
  UNION ALL SELECT 'pg_proc'::regclass, p.oid FROM pg_proc p, ns WHERE p.pronamespace = ns.oid
)
SELECT DISTINCT o.type || ' ' || coalesce(o.identity, '?')
FROM pg_depend d JOIN mine m ON m.classid = d.refclassid AND m.oid = d.refobjid
CROSS JOIN LATERAL (SELECT (SELECT ev_class FROM pg_rewrite WHERE d.classid = 'pg_rewrite'::regclass AND oid = d.objid) AS view) r  -- a view's rule: name the view
CROSS JOIN LATERAL pg_identify_object(CASE WHEN r.view IS NULL THEN d.classid ELSE 'pg_class'::regclass END,
                                      coalesce(r.view, d.objid), CASE WHEN r.view IS NULL THEN d.objsubid ELSE 0 END) o
CROSS JOIN LATERAL (SELECT CASE d.classid  -- the dependent's own schema (sub-objects: their table's)
{NAMESPACE_OF}END AS nsp) dep, ns
WHERE d.deptype IN ('n', 'a') AND dep.nsp IS DISTINCT FROM ns.oid
  AND dep.nsp IS DISTINCT FROM 'pg_toast'::regnamespace
UNION
SELECT 'extension ' || e.extname || ' (installed in the schema)' FROM pg_extension e, ns WHERE e.extnamespace = ns.oid
UNION
SELECT 'publication ' || p.pubname FROM pg_publication_rel r JOIN pg_publication p ON p.oid = r.prpubid
  JOIN pg_class c ON c.oid = r.prrelid, ns WHERE c.relnamespace = ns.oid
{SCHEMA_PUBLICATIONS}
ORDER BY 1
""".replace("{NAMESPACE_OF}", NAMESPACE_OF.replace("x.objid", "d.objid"))
# Publications of a whole schema exist from Postgres 15 on (pg_publication_namespace).
SCHEMA_PUBLICATIONS_SQL = """UNION
SELECT 'publication ' || p.pubname || ' (of the whole schema)' FROM pg_publication_namespace pn
  JOIN pg_publication p ON p.oid = pn.pnpubid, ns WHERE pn.pnnspid = ns.oid"""
SCHEMA_PUBLICATIONS_FROM = 150000

# Roles the shadow must be given to look like the live schema; dbtool's user must be able to act as them.
ROLES_SQL = """
SELECT r::regrole::text, pg_has_role(r, 'MEMBER') FROM (
  SELECT nspowner AS r FROM pg_namespace WHERE nspname = %(schema)s
  UNION SELECT defaclrole FROM pg_default_acl WHERE defaclnamespace = to_regnamespace(%(schema)s)
) roles
"""

# What the live schema carries besides its objects: owner, comment, grants, default privileges.
SCHEMA_GRANTS_SQL = """
SELECT a.privilege_type, CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE quote_ident(a.grantee::regrole::text) END,
       a.is_grantable
FROM pg_namespace n CROSS JOIN LATERAL aclexplode(n.nspacl) a
WHERE n.nspname = %(schema)s AND a.grantee <> n.nspowner
"""
DEFAULT_PRIVILEGES_SQL = """
SELECT quote_ident(d.defaclrole::regrole::text), d.defaclobjtype, a.privilege_type,
       CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE quote_ident(a.grantee::regrole::text) END, a.is_grantable
FROM pg_default_acl d CROSS JOIN LATERAL aclexplode(d.defaclacl) a
WHERE d.defaclnamespace = to_regnamespace(%(schema)s)
"""
DEFAULT_ACL_OBJECTS = {"r": "TABLES", "S": "SEQUENCES", "f": "FUNCTIONS", "T": "TYPES"}

# Temporary schemas (and what is in them, such as the commit guard's trigger) are no one else's.
TEMPORARY_CTE = "WITH temporary AS (SELECT oid FROM pg_namespace WHERE nspname ~ '^pg_(toast_)?temp_')"
# Catalog rows outside the shadow that the current transaction wrote (created or altered), and how many
# objects exist outside it (a drop shows as a smaller count): what a migration did beyond the shadow.
WRITTEN_OUTSIDE_SQL = TEMPORARY_CTE + """
SELECT DISTINCT o.type || ' ' || coalesce(o.identity, '?') FROM (
  SELECT 'pg_class'::regclass AS classid, oid AS objid, xmin FROM pg_class
  UNION ALL SELECT 'pg_type'::regclass, oid, xmin FROM pg_type
  UNION ALL SELECT 'pg_proc'::regclass, oid, xmin FROM pg_proc
  UNION ALL SELECT 'pg_namespace'::regclass, oid, xmin FROM pg_namespace
  UNION ALL SELECT 'pg_constraint'::regclass, oid, xmin FROM pg_constraint
  UNION ALL SELECT 'pg_trigger'::regclass, oid, xmin FROM pg_trigger
  UNION ALL SELECT 'pg_extension'::regclass, oid, xmin FROM pg_extension
  UNION ALL SELECT 'pg_event_trigger'::regclass, oid, xmin FROM pg_event_trigger
  UNION ALL SELECT 'pg_publication'::regclass, oid, xmin FROM pg_publication
  UNION ALL SELECT 'pg_policy'::regclass, oid, xmin FROM pg_policy
) x CROSS JOIN LATERAL pg_identify_object(x.classid, x.objid, 0) o
CROSS JOIN LATERAL (SELECT CASE x.classid
{NAMESPACE_OF}  WHEN 'pg_namespace'::regclass THEN x.objid END AS nsp) dep
WHERE x.xmin::text::bigint = pg_current_xact_id()::text::bigint %% 4294967296
  AND dep.nsp IS DISTINCT FROM to_regnamespace(%(shadow)s) AND dep.nsp IS DISTINCT FROM 'pg_toast'::regnamespace
  AND dep.nsp NOT IN (SELECT oid FROM temporary)
""".replace("{NAMESPACE_OF}", NAMESPACE_OF)
COUNT_OUTSIDE_SQL = TEMPORARY_CTE + """
SELECT (SELECT count(*) FROM pg_class WHERE relnamespace NOT IN (to_regnamespace(%(shadow)s), 'pg_toast'::regnamespace)
          AND relnamespace NOT IN (SELECT oid FROM temporary))
     + (SELECT count(*) FROM pg_type WHERE typnamespace NOT IN (to_regnamespace(%(shadow)s), 'pg_toast'::regnamespace)
          AND typnamespace NOT IN (SELECT oid FROM temporary))
     + (SELECT count(*) FROM pg_proc WHERE pronamespace <> to_regnamespace(%(shadow)s) AND pronamespace NOT IN (SELECT oid FROM temporary))
     + (SELECT count(*) FROM pg_namespace WHERE oid NOT IN (SELECT oid FROM temporary)) + (SELECT count(*) FROM pg_extension)
     + (SELECT count(*) FROM pg_event_trigger) + (SELECT count(*) FROM pg_publication)
"""
# How many rows the live tables hold, counting each at most up to the threshold (auto's question).
BOUNDED_COUNT = "SELECT count(*) FROM (SELECT 1 FROM {} LIMIT {}) t"
# What a swap that lost its lock says: it stops at once, since another run may be building too.
STOPPED = "while the swap was building, so this run was no longer serialized; stopped before {}; schema {} unchanged"


class Hazard(Exception):
    """Something that makes a schema swap unsafe here; the message is the one-line reason."""


def shadow_name(live: str) -> str:
    """The schema a swap builds into."""
    return SHADOW_PREFIX + live


def old_name(live: str) -> str:
    """The name the live schema gets at the swap, until it is dropped."""
    return OLD_PREFIX + live


def leftovers(conn: psycopg.Connection[Any], live: str) -> list[str]:
    """Shadow or old schemas a killed swap left behind (the next reset removes them first)."""
    rows = conn.execute(
        "SELECT nspname::text FROM pg_namespace WHERE nspname = ANY(%s) ORDER BY 1", ([shadow_name(live), old_name(live)],)
    ).fetchall()
    return [r[0] for r in rows]


def hazards(conn: psycopg.Connection[Any], live: str) -> list[str]:
    """One phrase per reason a swap of `live` is unsafe (empty: none)."""
    query = OUTSIDE_DEPENDENTS_SQL.replace(
        "{SCHEMA_PUBLICATIONS}", SCHEMA_PUBLICATIONS_SQL if conn.info.server_version >= SCHEMA_PUBLICATIONS_FROM else ""
    )
    found = [r[0] for r in conn.execute(query, {"schema": live}).fetchall()]
    reasons = [f"{what} outside schema {live} depends on it" for what in found]
    reasons += [
        f"dbtool's role cannot act as {role}, which owns schema {live} or its default privileges"
        for role, member in conn.execute(ROLES_SQL, {"schema": live}).fetchall() if not member
    ]
    if len(shadow_name(live)) > MAX_IDENTIFIER or len(old_name(live)) > MAX_IDENTIFIER:
        reasons.append(f"schema name {live} is too long for a shadow schema name")
    return reasons


def _live_rows(conn: psycopg.Connection[Any], live: str, cap: int) -> int:
    found = digest.data_tables(conn, live, None)
    if not found:
        return 0
    source = digest.own_rows(conn, live, found)
    query = sql.SQL(" UNION ALL ").join(sql.SQL(BOUNDED_COUNT).format(source[t.name], sql.Literal(cap)) for t in found)
    return sum(n for (n,) in conn.execute(query).fetchall())


def choose(conn: psycopg.Connection[Any], settings: Settings) -> tuple[str, str]:
    """(strategy, why): look for hazards on the live schema, in a transaction that always rolls back,
    and pick swap or transaction for --strategy auto or swap (each strategy runs the guard itself)."""
    with conn.transaction(force_rollback=True):
        reasons = hazards(conn, settings.schema)
        rows = _live_rows(conn, settings.schema, SWAP_FROM_ROWS) if settings.strategy == "auto" else 0
    if reasons:
        return "transaction", f"swap is unsafe: {'; '.join(reasons)}"
    if settings.strategy == "swap":
        return "swap", "--strategy swap"
    if rows < SWAP_FROM_ROWS:
        return "transaction", f"schema {settings.schema} holds under {SWAP_FROM_ROWS:,} rows, a one-transaction reset blocks readers only briefly"
    return "swap", f"schema {settings.schema} holds data ({SWAP_FROM_ROWS:,}+ rows) and nothing outside depends on it"


def run(session: Session, run: Run, result: RunResult) -> bool:
    """Reset by swapping in a shadow schema when that is chosen and safe; return False when the
    one-transaction reset must run instead (the reason was said in one line)."""
    settings, reporter = run.settings, run.reporter
    strategy, why = choose(session.conn, settings)
    if strategy == "transaction" and settings.strategy == "swap":
        raise ConfigError(f"--strategy swap refused: {why}; nothing was changed; use --strategy transaction (or auto)")
    reporter.note(f"Strategy {strategy}: {why}", strategy=strategy, reason=why)
    if strategy != "swap":
        return False
    try:
        _reset(session, run, result)
    except Hazard as exc:
        if settings.strategy == "swap":
            raise ConfigError(f"--strategy swap refused: {exc}; nothing was changed; use --strategy transaction (or auto)") from None
        reporter.note(f"Strategy transaction: swap is unsafe: {exc}", strategy="transaction", reason=str(exc))
        return False
    return True


def _guard(conn: psycopg.Connection[Any], run: Run) -> None:
    """The safety guard on the live schema, before anything is built (nothing is written if it refuses)."""
    with conn.transaction(force_rollback=True):
        steps.guard(conn, run, meta.inspect(conn, run.settings.schema))


def _serialized(conn: psycopg.Connection[Any], session: Session, live: str, step: str) -> None:
    """Stop (LockLostError) unless this run still holds the advisory lock: checked before each step that writes."""
    check_lock(conn, session, STOPPED.format(step, live))


def _reset(session: Session, run: Run, result: RunResult) -> None:
    settings, reporter = run.settings, run.reporter
    live, shadow = settings.schema, shadow_name(settings.schema)
    conn = session.conn
    with reporter.step("shadow") as step:
        _guard(conn, run)
        _serialized(conn, session, live, "creating the shadow schema")
        removed = _remove(conn, [shadow, old_name(live)])
        shadow_oid = _create_shadow(conn, live, shadow)
        step.message = f"Created schema {shadow}" + (f" (removed a leftover {', '.join(removed)})" if removed else "")
        step.fields.update(schema=shadow, removed=removed)
    try:
        swapped = False
        version_table = _migrate(session, run, shadow, result)
        try:
            tables, planned = _seed(session, run, shadow, version_table, result)
        except psycopg.Error as exc:
            if not steps.refused_rows(exc):
                raise
            # The pieces are committed one by one here, so a table cannot be retried empty as the
            # one-transaction reset does (auto falls back to it).
            raise Hazard(f"the server refused generated rows in the shadow ({' '.join(str(exc).split())[:200]})") from None
        with reporter.step("swap") as step:
            transaction(session, settings, reporter,
                        lambda c: _swap(c, run, shadow, version_table, tables, planned, result))
            swapped = True
            step.message = f"Swapped {shadow} in as {live}"
    except Exception:
        if not swapped:
            _remove_quietly(session, shadow, shadow_oid)  # a failure (or a hazard) leaves nothing; a kill leaves it for the next run
        raise
    with reporter.step("cleanup") as step:
        dropped = _drop_old(session, old_name(live))
        step.message = f"Dropped the old schema {old_name(live)}" if dropped else (
            f"Left the old schema {old_name(live)} to the next reset (still in use by a long transaction)")
        step.fields.update(dropped=dropped)


def _remove(conn: psycopg.Connection[Any], names: Sequence[str]) -> list[str]:
    found = [n for n in names if conn.execute("SELECT to_regnamespace(%s) IS NOT NULL", (n,)).fetchone()[0]]  # type: ignore[index]  # SELECT without FROM: one row
    for name in found:
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))
        logger.info("removed leftover schema %s", name)
    return found


def _remove_quietly(session: Session, shadow: str, oid: int) -> None:
    """Remove the shadow this run created (schema `oid`) after a failure, only while this run still holds
    the lock: a run that lost it may find, under the same name, the shadow of the run that holds it now."""
    # Cleanup never hides the original error: the next run removes what this one could not.
    conn = session.conn
    try:
        if conn.closed or conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            return
        with conn.transaction():
            if not held_by(conn, session.lock_pid, session.lock_key):
                logger.warning("left schema %s in place: this run lost its advisory lock; the next reset removes it", shadow)
                return
            if conn.execute("SELECT to_regnamespace(%s)::oid", (shadow,)).fetchone()[0] != oid:  # type: ignore[index]  # SELECT without FROM: one row
                logger.warning("left schema %s in place: it is not the one this run created", shadow)
                return
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(shadow)))
    except psycopg.Error:
        logger.warning("could not remove schema %s after a failure; the next reset will", shadow, exc_info=True)


def _create_shadow(conn: psycopg.Connection[Any], live: str, shadow: str) -> int:
    """Create the shadow with the live schema's owner, comment, grants and default privileges, so that
    the tables the migrations create get the privileges they would get in the live schema; return its
    oid, which tells this run's shadow from one of the same name that another run created."""
    statements: list[sql.Composable] = [sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(shadow))]
    row = conn.execute(
        "SELECT nspowner::regrole::text, obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = %s", (live,)
    ).fetchone()
    if row is not None:
        owner, comment = row
        statements.append(sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(sql.Identifier(shadow), sql.Identifier(owner)))
        if comment is not None:
            statements.append(sql.SQL("COMMENT ON SCHEMA {} IS {}").format(sql.Identifier(shadow), sql.Literal(comment)))
        for privilege, grantee, grantable in conn.execute(SCHEMA_GRANTS_SQL, {"schema": live}).fetchall():
            statements.append(sql.SQL("GRANT {} ON SCHEMA {} TO {}{}").format(
                sql.SQL(privilege), sql.Identifier(shadow), sql.SQL(grantee), sql.SQL(" WITH GRANT OPTION" if grantable else "")))
        for role, kind, privilege, grantee, grantable in conn.execute(DEFAULT_PRIVILEGES_SQL, {"schema": live}).fetchall():
            statements.append(sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT {} ON {} TO {}{}").format(
                sql.SQL(role), sql.Identifier(shadow), sql.SQL(privilege), sql.SQL(DEFAULT_ACL_OBJECTS[kind]),
                sql.SQL(grantee), sql.SQL(" WITH GRANT OPTION" if grantable else "")))
    with conn.transaction():
        conn.execute(sql.SQL("; ").join(statements))
        return int(conn.execute("SELECT to_regnamespace(%s)::oid", (shadow,)).fetchone()[0])  # type: ignore[index]  # SELECT without FROM: one row


def _migrate(session: Session, run: Run, shadow: str, result: RunResult) -> str:
    """Run the project's migrations into the shadow (its version table too) in one transaction, and
    commit only if they changed nothing outside it and the lock is still held; return the version
    table's name in the live schema."""
    conn, settings = session.conn, run.settings
    with run.reporter.step("migrate") as step, conn.transaction():
        conn.execute("SELECT set_config('search_path', quote_ident(%s), true)", (shadow,))
        before = conn.execute(COUNT_OUTSIDE_SQL, {"shadow": shadow}).fetchone()[0]  # type: ignore[index]  # a SELECT of counts, without FROM: one row
        try:
            upgraded = migrate.migrate(conn, settings.project, shadow, "heads", None)
        except MigrationError as exc:
            # Migrations that name the live schema or rely on its search_path fail in a shadow; a
            # one-transaction reset runs them where they were written for (and reports a real failure).
            raise Hazard(f"the migrations fail in a shadow schema ({str(exc).split('; ')[0]})") from None
        outside = [r[0] for r in conn.execute(WRITTEN_OUTSIDE_SQL, {"shadow": shadow}).fetchall()]
        if conn.execute(COUNT_OUTSIDE_SQL, {"shadow": shadow}).fetchone()[0] != before:  # type: ignore[index]  # a SELECT of counts, without FROM: one row
            outside.append("objects dropped")
        table_schema, _, table = upgraded.version_table.partition(".")
        if table_schema != shadow:
            outside.append(f"Alembic's version table {upgraded.version_table}")
        if outside:
            shown = ", ".join(outside[:3]) + (f" and {len(outside) - 3} more" if len(outside) > 3 else "")
            raise Hazard(f"the migrations change objects outside the schema they migrate ({shown})")
        _serialized(conn, session, settings.schema, "committing the migrations")
        result.revision = upgraded.revision
        step.message = f"Migrated {shadow} to {upgraded.revision}"
        step.fields.update(revision=upgraded.revision, previous="base", project=str(settings.project), schema=shadow)
    return f"{settings.schema}.{table}"


def _seed(
    session: Session, run: Run, shadow: str, version_table: str, result: RunResult
) -> tuple[dict[str, dict[str, object]], Any]:
    """Fill the shadow's tables on the pool's connections, rebuild keys, indexes and foreign keys, and
    digest it; return the table digests and the plan."""
    from dbtool.seed import load

    conn, settings, reporter = session.conn, run.settings, run.reporter
    width = max(1, (session.pool.max_size if session.pool else 2) - 1)  # every connection but the lock's
    shadow_version_table = f"{shadow}.{version_table.partition('.')[2]}"
    with reporter.step("seed") as step:
        with conn.transaction():
            planned, sequences, notes = steps.plan_any_schema(conn, run, shadow, shadow_version_table)
        for message, fields in notes:
            reporter.note(message, **fields)
        tables = [t.name for t in planned.tables if t.generated]
        pieces: list[tuple[str, Callable[[psycopg.Connection[Any]], int]]] = []
        for t in planned.tables:
            if t.generated:
                ranges = list(load.chunks(t.count, load.CHUNK_ROWS))
                per_piece = max(1, PIECE_ROWS // load.CHUNK_ROWS)
                for start in range(0, len(ranges), per_piece):
                    pieces.append((t.name, partial(load.copy_rows, schema=shadow, seed=settings.seed, plan=planned,
                                                   table=t, ranges=ranges[start:start + per_piece])))

        counts = {name: 0 for name, _ in pieces}  # in load order, for the summary line

        def load_pieces() -> None:
            for name, rows in in_parallel(session, width, pieces, settings.schema):
                counts[name] = counts.get(name, 0) + rows

        def rebuild(saved: steps.Saved) -> None:
            load.move_sequences(conn, shadow, sequences, counts)
            _rebuild(session, width, saved, settings.schema)

        # Triggers are off for the load as in a one-transaction reset: the same rows either way, and a
        # trigger that names tables without a schema cannot write into the live schema while the shadow
        # is built. A failure leaves the shadow to be removed: nothing to switch back on.
        phases = {"load": "loading the shadow schema", "rebuild": "rebuilding keys and indexes"}
        steps.load_without_keys(conn, shadow, tables, load_pieces, rebuild, restore_on_failure=False,
                                check=lambda phase: _serialized(conn, session, settings.schema, phases[phase]))
        steps.describe_plan_seed(step, run, planned, counts)
        step.fields.update(connections=width)
    with conn.transaction():
        digests = steps.digest_seeded(conn, run, result, shadow, shadow_version_table)
    return digests, planned


def _rebuild(session: Session, width: int, saved: list[tuple[int, str, str, str]], live: str) -> None:
    """Re-create keys and indexes, one table per connection at a time, then the foreign keys (which
    lock both of their tables against each other) on one connection."""
    by_table: dict[str, list[str]] = {}
    for kind, table, name, definition in saved:
        if kind != schema.FOREIGN_KEY:
            by_table.setdefault(table, []).append(schema.create_statement_of(kind, table, name, definition))
    pieces = [(table, partial(_execute, statements=statements)) for table, statements in by_table.items()]
    for _ in in_parallel(session, width, pieces, live):
        pass
    foreign = [schema.create_statement_of(*row) for row in saved if row[0] == schema.FOREIGN_KEY]
    if foreign:
        _serialized(session.conn, session, live, "adding foreign keys")
        session.conn.execute("; ".join(foreign))


def _execute(conn: psycopg.Connection[Any], statements: list[str]) -> int:
    conn.execute("; ".join(statements))
    return len(statements)


def in_parallel(
    session: Session, width: int, pieces: Sequence[tuple[str, Callable[[psycopg.Connection[Any]], int]]], live: str,
) -> list[tuple[str, int]]:
    """Run each piece (autocommit: committed when it returns) on one of `width` connections, the work
    connection and pooled ones, each only while this run still holds the lock on schema `live`; return
    (name, result) per piece. The first failure, or an interrupt of this thread, cancels what the others
    are running before it propagates."""
    todo = list(reversed(pieces))
    done: list[tuple[str, int]] = []
    failures: list[BaseException] = []
    busy: list[psycopg.Connection[Any]] = []
    guard = threading.Lock()

    def work(conn: psycopg.Connection[Any]) -> None:
        with guard:
            busy.append(conn)
        try:
            while True:
                with guard:
                    if failures or not todo:
                        return
                    name, piece = todo.pop()
                _serialized(conn, session, live, f"loading {name}")
                value = piece(conn)
                with guard:
                    done.append((name, value))
        except BaseException as exc:
            with guard:
                failures.append(exc)

    def pooled() -> None:
        assert session.pool is not None
        try:
            with session.pool.connection() as conn:
                work(conn)
        except BaseException as exc:
            with guard:
                failures.append(exc)

    threads = [threading.Thread(target=work, args=(session.conn,), name="load-0", daemon=True)]
    threads += [threading.Thread(target=pooled, name=f"load-{i}", daemon=True)
                for i in range(1, min(width, len(pieces)) if session.pool else 1)]
    for thread in threads:
        thread.start()
    try:
        while any(t.is_alive() for t in threads):
            threads[0].join(POLL)  # short waits: a signal handler runs in this thread between them
            with guard:
                if failures:
                    break
    except BaseException:
        _cancel(busy, guard)
        for thread in threads:
            thread.join(5)
        raise
    if failures:
        _cancel(busy, guard)
        for thread in threads:
            thread.join()
        raise failures[0]
    return done


def _cancel(busy: list[psycopg.Connection[Any]], guard: threading.Lock) -> None:
    with guard:
        for conn in busy:
            try:
                conn.cancel_safe(timeout=2)
            except (psycopg.Error, AttributeError):
                conn.cancel()


def _swap(
    conn: psycopg.Connection[Any], run: Run, shadow: str, version_table: str,
    tables: dict[str, dict[str, object]], planned: Any, result: RunResult,
) -> None:
    """The one short transaction: lock the live tables, move dbtool_meta's history into the shadow,
    rename the live schema away and the shadow into its place, record the run, notify."""
    settings = run.settings
    live, old = settings.schema, old_name(settings.schema)
    objects = [schema.SchemaObject(k, n) for k, n in conn.execute(
        sql.SQL("SELECT kind, name FROM ({}) o").format(schema.objects_query(live))).fetchall()] if _exists(conn, live) else []
    meta.ensure_tables(conn, live)
    # The live tables in one (name) order: a statement that already resolved one of them finishes first,
    # so no single statement sees tables of both states; a busy lock makes `transaction` retry.
    conn.execute(schema.lock_statement(live, [*objects, schema.SchemaObject("table", "dbtool_meta")]))
    history = meta.read_history(conn, live)
    if history is not None and history.protected:
        raise RefusedError(f"database {settings.target.dbname} was protected while the reset ran; nothing was changed")
    late = hazards(conn, live)  # made while the shadow was being built
    if late:
        raise Hazard("; ".join(late))
    conn.execute(sql.SQL("; ").join([
        sql.SQL("ALTER TABLE {} SET SCHEMA {}").format(sql.Identifier(live, "dbtool_meta"), sql.Identifier(shadow)),
        sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(sql.Identifier(live), sql.Identifier(old)),
        sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(sql.Identifier(shadow), sql.Identifier(live)),
    ]))
    result.dropped = len(objects)
    steps.record_seeded(conn, run, result, tables, version_table, planned, None)
    steps.notify(conn, result)


def _exists(conn: psycopg.Connection[Any], name: str) -> bool:
    return bool(conn.execute("SELECT to_regnamespace(%s) IS NOT NULL", (name,)).fetchone()[0])  # type: ignore[index]  # SELECT without FROM: one row


def _drop_old(session: Session, old: str) -> bool:
    """Drop the replaced schema, each attempt with a short lock_timeout: only transactions still using
    the old tables can block it, and new statements resolve the new ones, so readers barely notice.
    A run that lost its lock leaves it: the schema of that name may be another run's by now."""
    conn = session.conn
    for attempt in range(CLEANUP_ATTEMPTS):
        try:
            with conn.transaction():
                if not held_by(conn, session.lock_pid, session.lock_key):
                    logger.warning("left the old schema %s in place: this run lost its advisory lock", old)
                    return False
                conn.execute("SELECT set_config('lock_timeout', %s, true)", (f"{CLEANUP_LOCK_TIMEOUT_MS}ms",))
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(old)))
            return True
        except (pg_errors.LockNotAvailable, pg_errors.DeadlockDetected):
            time.sleep(min(0.05 * (attempt + 1), 0.5))
    logger.info("old schema %s still in use; the next reset removes it", old)
    return False
