"""Seed any schema: the automatic rules against the example's hooks, and a 60-table reset.

    .venv/bin/python bench/any_schema.py [--scale 100] [--database-url postgresql://...]

1. The example's own migrations copied without their profile file and hooks (so every column gets
   its automatic rule and every table the generic `load` count), against the example itself (its
   profiles and hooks in migrations/), at `load --scale N`: rows/s of the seed step and peak RSS of
   the whole process, best of 3.
2. A generated 60-table schema (chains of foreign keys, the usual column types, a few CHECKs):
   wall time of a whole `dbtool reset --profile dev` process on loopback, best of 3.
Prints the figures and the ratios against the issue's targets.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from contextlib import ExitStack  # noqa: E402

from dbtool.servers.lookup import find_server  # noqa: E402
from dbtool.settings.project import EXAMPLE_DIR  # noqa: E402

TABLES = 60


def _server(url: str | None, stack: ExitStack) -> str:
    return url or find_server(stack, lambda message: print(message, file=sys.stderr))


def _database(server: str, name: str) -> str:
    import psycopg
    from psycopg import sql

    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    from urllib.parse import urlsplit, urlunsplit

    return urlunsplit(urlsplit(server)._replace(path=f"/{name}"))


def _reset(url: str, project: Path | None, *args: str) -> tuple[float, float, int, float]:
    """(wall seconds, seed seconds, rows seeded, peak RSS MB of the child) of one reset process."""
    command = [sys.executable, "-m", "dbtool", "reset", "--database-url", url, "--yes", "--log-format", "json", *args]
    if project is not None:
        command += ["--alembic-config", str(project)]
    started = time.perf_counter()
    # /usr/bin/time -f %M: this process's peak RSS alone (RUSAGE_CHILDREN would keep the largest so far).
    done = subprocess.run(["/usr/bin/time", "-f", "%M", *command], capture_output=True, text=True,
                          cwd=tempfile.gettempdir(), check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"reset failed ({done.returncode}): {done.stdout[-500:]} {done.stderr[-500:]}")
    seed_s, rows = 0.0, 0
    for line in done.stdout.splitlines():
        event = json.loads(line)
        if event.get("step") == "seed":
            seed_s, rows = event["duration_ms"] / 1000, sum(event["row_counts"].values())
    peak = int(done.stderr.strip().splitlines()[-1]) / 1024
    return wall, seed_s, rows, peak


def _example_as_a_project(workdir: Path) -> Path:
    target = workdir / "grooming"
    shutil.copytree(EXAMPLE_DIR, target / "migrations", ignore=shutil.ignore_patterns("dbtool.toml", "salon_seed.py"))
    (target / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/migrations\n")
    return target / "alembic.ini"


def _wide_project(workdir: Path) -> Path:
    """A 60-table schema: ten chains of six tables, each table referencing the previous one."""
    target = workdir / "wide"
    (target / "versions").mkdir(parents=True)
    shutil.copy(REPO / "compat" / "standard_env.py", target / "env.py")
    (target / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s\n")
    statements = []
    for t in range(TABLES):
        parent = f"t{t - 1}" if t % 6 else None
        columns = [
            "id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
            f"parent_id bigint NOT NULL REFERENCES {parent} (id)" if parent else "code varchar(12) UNIQUE NOT NULL",
            "name text NOT NULL", "email text", "status text NOT NULL CHECK (status IN ('new', 'active', 'closed'))",
            "amount numeric(10,2) NOT NULL CHECK (amount >= 0)", "quantity integer CHECK (quantity BETWEEN 1 AND 50)",
            "created_at timestamptz NOT NULL DEFAULT now()", "updated_at timestamptz",
            "is_active boolean NOT NULL DEFAULT true", "external_id uuid UNIQUE",
        ]
        statements.append(f"CREATE TABLE t{t} ({', '.join(columns)})")
    body = "\n".join(f"    op.execute({s!r})" for s in statements)
    (target / "versions" / "0001_wide.py").write_text(
        '"""sixty tables"""\nfrom alembic import op\n\nrevision = "0001_wide"\ndown_revision = None\n'
        f"branch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n{body}\n\n\ndef downgrade():\n    pass\n"
    )
    return target / "alembic.ini"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        server = _server(args.database_url, stack)
        workdir = Path(tmp)
        generic, wide = _example_as_a_project(workdir), _wide_project(workdir)
        load = ("--profile", "load", "--scale", str(args.scale))
        results = {}
        for label, project in (("example (hooks)", None), ("automatic rules", generic)):
            url = _database(server, f"bench_any_{'example' if project is None else 'auto'}")
            runs = [_reset(url, project, *load) for _ in range(args.runs)]
            best = min(runs, key=lambda r: r[1])
            results[label] = best
            print(f"{label:20} load x{args.scale}: {best[2]:>9,} rows in {best[1]:.2f}s seed step = "
                  f"{best[2] / best[1]:>9,.0f} rows/s; whole process {best[0]:.2f}s, peak RSS {best[3]:.0f} MB")
        example, auto = results["example (hooks)"], results["automatic rules"]
        share = (auto[2] / auto[1]) / (example[2] / example[1])
        print(f"automatic / example rows/s = {share:.0%} (target >= 70%); peak RSS {auto[3]:.0f} vs {example[3]:.0f} MB")
        url = _database(server, "bench_any_wide")
        runs = [_reset(url, wide, "--profile", "dev") for _ in range(args.runs)]
        best = min(runs)
        print(f"{TABLES}-table schema, dev profile: whole `dbtool reset` {best[0]:.2f}s "
              f"({best[2]:,} rows, seed step {best[1]:.2f}s; target well under 2 s)")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
