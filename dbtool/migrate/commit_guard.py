"""The server's word that the one transaction is still dbtool's: a commit only dbtool may make.

While a project's code runs inside dbtool's transaction (env.py, migrations), a raw `COMMIT` sent on
the connection would make everything so far durable, the old data's removal included. Arming the
guard puts a deferred constraint trigger on a temporary table: the server fires it at any COMMIT,
and it fails the COMMIT (rolling the whole transaction back) unless dbtool has disarmed it first. The
token set with SET LOCAL also proves, when read back, that the transaction is still the one armed.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

import psycopg
from psycopg import pq, sql

logger = logging.getLogger(__name__)

GUARD_SETTING = "dbtool.commit_guard"
GUARD_SQLSTATE = "DB001"  # raised by the trigger: "a COMMIT dbtool did not make"

_ARM_SQL = """
DO $arm$
BEGIN
  IF has_database_privilege(current_database(), 'TEMPORARY') THEN
    CREATE OR REPLACE FUNCTION pg_temp.dbtool_commit_guard() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      IF coalesce(current_setting('dbtool.commit_guard', true), '') <> '' THEN
        RAISE EXCEPTION 'a COMMIT ended dbtool''s transaction early (it was refused and rolled back)'
          USING ERRCODE = 'DB001';
      END IF;
      RETURN NULL;
    END $fn$;
    CREATE TEMPORARY TABLE {table} (armed boolean) ON COMMIT DROP;
    CREATE CONSTRAINT TRIGGER dbtool_commit_guard AFTER INSERT ON {table}
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION pg_temp.dbtool_commit_guard();
    INSERT INTO {table} VALUES (true);
    PERFORM set_config('dbtool.commit_guard', {token}, true);
  END IF;
END $arm$;
SELECT current_setting('dbtool.commit_guard', true)
"""
_DISARM_SQL = "SELECT current_setting('dbtool.commit_guard', true), set_config('dbtool.commit_guard', '', true)"


class Guard:
    """One arming of the guard on `conn`, inside its open transaction."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        self.token = secrets.token_hex(8)
        self.armed = False

    def arm(self) -> None:
        """Make any COMMIT fail until disarm(); a role without TEMPORARY keeps only the client-side checks."""
        if not self.still_ours():
            raise RuntimeError("the commit guard is armed inside an open transaction only")
        table = sql.Identifier(f"dbtool_commit_guard_{self.token}")
        cursor = self.conn.execute(sql.SQL(_ARM_SQL).format(table=table, token=sql.Literal(self.token)))
        cursor.nextset()  # one round trip: the DO block's result, then the SELECT's
        self.armed = cursor.fetchone()[0] == self.token  # type: ignore[index]  # the script ends in a SELECT without FROM: one row
        if not self.armed:
            logger.warning("no TEMPORARY privilege: a raw COMMIT in a migration is caught only after it ran")

    def still_ours(self) -> bool:
        """True while the transaction that armed the guard is open (free: the client's own status)."""
        return not self.conn.closed and self.conn.pgconn.transaction_status == pq.TransactionStatus.INTRANS

    def disarm(self) -> bool:
        """Let dbtool commit again; True when the transaction is provably the one armed."""
        if not self.still_ours():
            return False
        seen = self.conn.execute(_DISARM_SQL).fetchone()[0]  # type: ignore[index]  # SELECT without FROM: one row
        return seen == self.token if self.armed else True


def refused_commit(exc: BaseException | None) -> bool:
    """True for the error the guard's trigger raises at a COMMIT dbtool did not make."""
    return isinstance(exc, psycopg.Error) and getattr(exc, "sqlstate", None) == GUARD_SQLSTATE
