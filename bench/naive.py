"""The old way, as a baseline: one INSERT per row, all rows in one transaction, into tables that already exist.

It inserts exactly the rows dbtool generates: it plans the migrated schema with dbtool's own engine
(the project's profile file and hooks, see bench/dataset.py) and inserts every generated table,
parents before children, so `dbtool verify` passes afterwards. It does not drop or migrate: the
bench prepares the schema first (with dbtool itself, so it is identical) and truncates the tables.
Prints one JSON object with its phase timings on stdout.

    python bench/naive.py --database-url URL [--profile dev] [--scale 1] [--seed 42] [--schema public]
"""

from __future__ import annotations

import argparse
import json
import time

START = time.perf_counter()

import psycopg  # noqa: E402 - imports are part of what is timed
from dataset import plan_schema, settings, table_rows  # noqa: E402
from psycopg import sql  # noqa: E402


def insert_all(conn: psycopg.Connection, schema: str, seed: int, profile_name: str, scale: int) -> dict[str, int]:  # type: ignore[type-arg]
    """Plan the schema, then execute one INSERT per generated row; return rows per table (the caller commits)."""
    planned = plan_schema(conn, settings(profile_name, scale, seed, schema), schema)
    counts: dict[str, int] = {}
    with conn.cursor() as cur:
        for table in planned.order:
            columns = [r.column for r in table.rules]
            statement = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                sql.Identifier(schema, table.name),
                sql.SQL(", ").join(map(sql.Identifier, columns)),
                sql.SQL(", ").join(sql.Placeholder() * len(columns)),
            ) if columns else sql.SQL("INSERT INTO {} DEFAULT VALUES").format(sql.Identifier(schema, table.name))
            n = 0
            for row in table_rows(planned, table, seed):  # generated lazily, as the old scripts did
                cur.execute(statement, row)
                n += 1
            counts[table.name] = n
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--profile", default="dev")
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--schema", default="public")
    args = parser.parse_args(argv)
    imported = time.perf_counter()
    with psycopg.connect(args.database_url) as conn:
        connected = time.perf_counter()
        counts = insert_all(conn, args.schema, args.seed, args.profile, args.scale)
        inserted = time.perf_counter()
        conn.commit()
        committed = time.perf_counter()
    print(json.dumps({
        "rows": sum(counts.values()),
        "row_counts": counts,
        "import_s": imported - START,
        "connect_s": connected - imported,
        "insert_s": inserted - connected,  # planning (as dbtool's seed step does) + generation + one round trip per row
        "commit_s": committed - inserted,
        "total_s": time.perf_counter() - START,
    }))


if __name__ == "__main__":
    main()
