"""Pre-generated COPY text files of dbtool's rows, and the two ways the bench loads them.

`write_files` renders every table dbtool generates (planned by dbtool's own engine, see
bench/dataset.py) into `<table>.tsv` (Postgres COPY text format), parents before children, before
anything is timed. The floor for loading is `psql` running `\\copy` for every table in one session
and one transaction (`psql_script`); when no psql exists, this module loads the same files with
psycopg's COPY instead (`python bench/copy_files.py --database-url URL --dir DIR`), labelled as such.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

START = time.perf_counter()

MANIFEST = "manifest.json"
READ_BLOCK = 1 << 20


def write_files(directory: Path, profile_name: str, scale: int, seed: int, planned: Any) -> dict[str, Any]:
    """Write one COPY text file per generated table of `planned` (a `dataset.Planned`, tables in
    load order; reusing the files if made from the same sources and plan); return the manifest."""
    from dataset import settings, source_stamp, table_text

    stamp = {"profile": profile_name, "scale": scale, "seed": seed,
             "sources": source_stamp(settings(profile_name, scale, seed), planned)}
    manifest_path = directory / MANIFEST
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("stamp") == stamp and all((directory / t["file"]).exists() for t in manifest["tables"]):
            manifest["reused"] = True
            return manifest
    directory.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    tables = []
    for table in planned.order:
        path = directory / f"{table.name}.tsv"
        rows = 0
        with path.open("w", encoding="utf-8", newline="\n") as f:
            for text, count in table_text(planned, table, seed):
                f.write(text)
                rows += count
        tables.append({"table": table.name, "columns": [r.column for r in table.rules], "file": path.name,
                       "rows": rows, "bytes": path.stat().st_size})
    manifest = {"stamp": stamp, "tables": tables, "rows": sum(t["rows"] for t in tables),
                "bytes": sum(t["bytes"] for t in tables), "generate_s": time.perf_counter() - started}
    manifest_path.write_text(json.dumps(manifest, indent=1))
    manifest["reused"] = False
    return manifest


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def psql_script(directory: Path, manifest: dict[str, Any], schema: str, before: list[str] | None = None,
                after: list[str] | None = None) -> str:
    """A psql script that \\copy-loads every file in one transaction, stopping at the first error
    (with optional SQL statements before and after the loads, inside the transaction)."""
    lines = ["\\set ON_ERROR_STOP on", "BEGIN;", *(before or [])]
    for t in manifest["tables"]:
        path = str((directory / t["file"]).resolve()).replace("'", "''")
        columns = ", ".join(map(_quoted, t["columns"]))
        lines.append(f"\\copy {_quoted(schema)}.{_quoted(t['table'])} ({columns}) FROM '{path}'")
    lines += [*(after or []), "COMMIT;"]
    return "\n".join(lines) + "\n"


def load_with_psycopg(database_url: str, directory: Path, schema: str, before: list[str] | None = None,
                      after: list[str] | None = None) -> dict[str, Any]:
    """The no-psql fallback: stream every file through psycopg's COPY in one transaction."""
    import psycopg
    from psycopg import sql

    manifest = json.loads((directory / MANIFEST).read_text())
    imported = time.perf_counter()
    with psycopg.connect(database_url) as conn, conn.cursor() as cur:
        for statement in before or []:
            cur.execute(statement.encode())
        for t in manifest["tables"]:
            statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                sql.Identifier(schema, t["table"]), sql.SQL(", ").join(map(sql.Identifier, t["columns"]))
            )
            with cur.copy(statement) as copy, (directory / t["file"]).open("rb") as f:
                while block := f.read(READ_BLOCK):
                    copy.write(block)
        for statement in after or []:
            cur.execute(statement.encode())
        conn.commit()
    return {"rows": manifest["rows"], "import_s": imported - START, "total_s": time.perf_counter() - START}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Load pre-generated COPY files with psycopg (the no-psql fallback).")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--dir", required=True, type=Path)
    parser.add_argument("--schema", default="public")
    parser.add_argument("--sql-around", type=Path,
                        help="JSON file {before: [...], after: [...]}: statements to run around the loads")
    args = parser.parse_args(argv)
    around = json.loads(args.sql_around.read_text()) if args.sql_around else {}
    print(json.dumps(load_with_psycopg(args.database_url, args.dir, args.schema, around.get("before"),
                                       around.get("after"))))


if __name__ == "__main__":
    main()
