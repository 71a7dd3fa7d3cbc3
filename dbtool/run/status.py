"""Read-only commands: status (no lock) and verify (live digests against what the seed must produce)."""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from dbtool.db import digest, meta, objects
from dbtool.db.lock import lock_holders
from dbtool.db.pool import open_pool
from dbtool.errors import DbtoolError, MigrationError, UnreachableError, VerifyMismatchError
from dbtool.migrate import upgrade as migrate
from dbtool.run.steps import plan_tables
from dbtool.seed.profiles import GENERATOR_VERSION
from dbtool.settings.config import Settings


class Document(dict[str, Any]):
    """A read-only command's result: its --json document (a dict, rendered key by key) that can say itself in a few words."""

    def document(self) -> dict[str, Any]:
        return dict(self)

    def describe(self) -> str:
        return "done"


class StatusResult(Document):
    """What `status` found."""

    def describe(self) -> str:
        revision = self.get("revision", {})
        rows = sum((self.get("row_counts") or {}).values())
        return f"revision {revision.get('current') or 'none'} (head {revision.get('head')}), {rows} rows"


class VerifyResult(Document):
    """What `verify` compared, when the live data is what dbtool recorded."""

    def describe(self) -> str:
        return f"identical (digest {str(self.get('digest', ''))[:16]})"


@dataclass
class Verdict:
    """verify's finding as a value: the document, and the mismatch (None when identical) that `verify` raises."""

    result: VerifyResult
    mismatch: VerifyMismatchError | None = None


def status(settings: Settings) -> StatusResult:
    """Reachability, server version, revisions, the last seed record, row counts and the lock holder."""
    try:
        with open_pool(settings, "status") as pool, pool.connection() as conn:
            return _status(conn, settings)
    except UnreachableError as exc:
        exc.details.update(target=str(settings.target), reachable=False)
        raise


def _status(conn: psycopg.Connection, settings: Settings) -> StatusResult:
    history = meta.read_history(conn, settings.schema)
    version_table = history.version_table if history else None
    current = migrate.current_heads(conn, version_table or objects.version_table_name(settings.schema))
    head = _heads(settings)
    present = digest.data_tables(conn, settings.schema, version_table)
    return StatusResult({
        "target": str(settings.target),
        "reachable": True,
        "server_version": conn.info.parameter_status("server_version"),
        "schema": settings.schema,
        "project": str(settings.project),
        "revision": {"current": migrate.shown(current) if current else None, "head": migrate.shown(head),
                     "at_head": current == head},
        "protected": bool(history and history.protected),
        "data_from": (history.last_data_event if history else None) or "unknown (not reset or seeded by dbtool)",
        "last_seed": meta.last_seed_record(conn, settings.schema),
        "row_counts": digest.row_counts(conn, settings.schema, present),
        "leftovers": _leftovers(conn, settings.schema),
        "lock": {
            "key": settings.lock_key,
            "held_by": [h.__dict__ for h in lock_holders(conn, settings.lock_key)],
        },
    })


def _heads(settings: Settings) -> list[str]:
    """The project's heads; a revision file that cannot be imported is named with its line, as a reset names it."""
    try:
        return migrate.heads(settings.project)
    except DbtoolError:
        raise
    except SyntaxError as exc:
        raise MigrationError(
            f"cannot read the migrations of {settings.project}: {exc.filename}, line {exc.lineno}: "
            f"SyntaxError: {exc.msg}; fix that file"
        ) from None
    except Exception as exc:  # the project's own code failed while its revision files were imported
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if not _installed(f.filename)]
        where = f"{frames[-1].filename}, line {frames[-1].lineno}: " if frames else ""
        raise MigrationError(
            f"cannot read the migrations of {settings.project}: {where}{type(exc).__name__}: "
            f"{' '.join(str(exc).split())}; fix that file"
        ) from None


def _installed(filename: str) -> bool:
    """True for a file of dbtool or an installed package (not the project's own code)."""
    import site

    places: tuple[str | Path, ...] = (*site.getsitepackages(), Path(__file__).parent)
    roots = [Path(p).resolve() for p in places]
    return any(Path(filename).resolve().is_relative_to(root) for root in roots) or filename.startswith("<")


def _leftovers(conn: psycopg.Connection, schema: str) -> list[str]:
    """Schemas a killed swap reset left (a half-built shadow, a replaced schema); the next reset removes them."""
    from dbtool.run.swap import leftovers

    return leftovers(conn, schema)


def verify(settings: Settings) -> VerifyResult:
    """Compare the live tables with what dbtool recorded, and the record with what its seed must produce;
    raise VerifyMismatchError (exit 1) naming what differs."""
    verdict = check(settings)
    if verdict.mismatch is not None:
        raise verdict.mismatch
    return verdict.result


def check(settings: Settings) -> Verdict:
    """verify's comparison, its verdict returned: a mismatch is a finding here, not a failure."""
    with open_pool(settings, "verify") as pool, pool.connection() as conn:
        history = meta.read_history(conn, settings.schema)
        record = meta.last_seed_record(conn, settings.schema)
        if history is None or record is None or not record.get("table_digests"):
            raise DbtoolError(
                f"{settings.target} has no reset or seed record in dbtool_meta (schema {settings.schema}) to verify "
                "against; run `dbtool reset`"
            )
        seeded = record["generator_version"] is not None
        if seeded and record["generator_version"] != GENERATOR_VERSION:
            return Verdict(VerifyResult(), VerifyMismatchError(
                f"{settings.target} was seeded by generator version {record['generator_version']}, this dbtool "
                f"generates version {GENERATOR_VERSION}; run `dbtool reset` to reseed with this version"
            ))
        recorded: dict[str, dict[str, object]] = record["table_digests"]
        with conn.transaction():
            found = digest.data_tables(conn, settings.schema, history.version_table)
            live = digest.table_digests(conn, settings.schema, found)
            names = {t.name for t in found}
            generated = None
            # Regenerate what the record says was generated; missing tables are reported below.
            made = history.generated_tables
            if seeded and made is not None and names >= set(made):
                generated = expected_digests(conn, settings, record, [t for t in found if t.name in made], history)
    differences = []
    for table in sorted(set(recorded) | set(live)):
        want, got = recorded.get(table), live.get(table)
        if got != want:
            problem = "missing" if got is None else "unexpected" if want is None else "differs"
            differences.append({"table": table, "problem": problem,
                                "expected_rows": want["rows"] if want else 0, "live_rows": got["rows"] if got else 0})
    record_intact = record["digest"] == digest.combined_digest(recorded)
    # The record is what the last reset generated; what the profile generates now differs only when the
    # profile's definition (its counts, columns or hooks) changed since: not a sign of damage.
    changed = sorted(t for t, d in (generated or {}).items() if d != recorded.get(t)) if record_intact else []
    recorded_ok = record_intact and not changed
    document = {
        "target": str(settings.target),
        "profile": record["profile"],
        "seed": record["seed"],
        "scale": record["scale"],
        "generator_version": record["generator_version"],
        "digest": record["digest"],
        "record_matches_generator": recorded_ok,
        "identical": not differences and recorded_ok,
        "differences": differences,
    }
    if changed:
        document["profile_changed"] = changed
    if differences or not recorded_ok:
        detail = "; ".join(
            f"{d['table']}: {d['problem']} (expected {d['expected_rows']} rows, found {d['live_rows']})"
            for d in differences
        ) or ("the dbtool_meta record does not match what its seed and profile produce" if not changed else "")
        if changed:
            besides = f"; besides, the live data differs: {detail}" if detail else "; the data is still what that reset wrote"
            return Verdict(VerifyResult(document), VerifyMismatchError(
                f"profile {record['profile']!r} changed since the last {record['event']} (at {record['revision']}): "
                f"it now generates different rows for {', '.join(changed)}{besides}; run `dbtool reset` to apply it",
                details=document,
            ))
        return Verdict(VerifyResult(document), VerifyMismatchError(
            f"{settings.target} differs from the state dbtool recorded ({record['event']} at {record['revision']}): "
            f"{detail}; run `dbtool reset` to restore it",
            details=document,
        ))
    return Verdict(VerifyResult({k: v for k, v in document.items() if v is not None}))


def expected_digests(
    conn: psycopg.Connection, settings: Settings, record: dict[str, Any], made: list[digest.Table],
    history: meta.Inspection,
) -> dict[str, dict[str, object]]:
    """Digests of exactly what the record's (seed, profile, scale) generates into the tables `made`:
    planned as the reset planned them, COPied into empty temporary copies and digested by the same
    server query as the live tables. Call inside a transaction."""
    from dataclasses import replace

    from dbtool.db import catalog
    from dbtool.db.objects import BOOKKEEPING_TABLES
    from dbtool.seed import load

    names = {t.name for t in made}
    exclude = [*BOOKKEEPING_TABLES, objects.table_of(history.version_table, settings.schema)]
    tables = catalog.read(conn, settings.schema, exclude, history.left_out_enum_values)
    tables = [replace(t, rows=0, existing={}) if t.name in names else t for t in tables]  # as the seed saw them
    as_seeded = replace(settings, profile=record["profile"], scale=record["scale"], seed=record["seed"])
    planned = plan_tables(as_seeded, tables, history.refused_tables)
    conn.execute(sql.SQL("; ").join(
        sql.SQL("CREATE TEMP TABLE {} (LIKE {} INCLUDING DEFAULTS INCLUDING GENERATED) ON COMMIT DROP").format(
            sql.Identifier(t), sql.Identifier(settings.schema, t))
        for t in sorted(names)
    ))
    generated = replace(planned, tables=tuple(t for t in planned.tables if t.name in names or not t.generated))
    load.load_plan(conn, "pg_temp", record["seed"], generated, {})
    return digest.table_digests(conn, "pg_temp", made)
