"""Library code leaves the process's logging as it found it: env.py's fileConfig() and dbtool's own steps
change no handler, filter, level or logger, and nothing in logging is patched."""

from __future__ import annotations

import logging
import logging.config
import shutil
from pathlib import Path
from typing import Any

import psycopg
import pytest

from dbtool.db.pool import open_pool
from dbtool.migrate import upgrade as migrate
from dbtool.report import Reporter
from dbtool.settings.config import Settings
from dbtool.settings.project import Project

GENERIC = Path(__file__).resolve().parents[1] / "projects" / "generic"
# How env.py files call it: the template's guard, an unguarded call, through the module.
FILE_CONFIG_CALLS = {
    "guarded": "if config.config_file_name is not None:\n    fileConfig(config.config_file_name)\n",
    "unguarded": "fileConfig(config.config_file_name)\n",
    "module": "import logging.config\nlogging.config.fileConfig(config.config_file_name, disable_existing_loggers=True)\n",
}


def _logging_state() -> dict[str, Any]:
    loggers = {name: (lg.level, lg.propagate, lg.disabled, list(lg.handlers), list(lg.filters))
               for name, lg in logging.root.manager.loggerDict.items() if isinstance(lg, logging.Logger)}
    root = logging.getLogger()
    return {
        "root": (root.level, list(root.handlers), [list(h.filters) for h in root.handlers], list(root.filters)),
        "loggers": loggers,
        "fileConfig": logging.config.fileConfig,
    }


@pytest.mark.parametrize("call", sorted(FILE_CONFIG_CALLS))
def test_migrating_leaves_logging_as_it_was(call: str, tmp_path: Path, database_url: str) -> None:
    project_dir = tmp_path / "project"
    shutil.copytree(GENERIC, project_dir, ignore=shutil.ignore_patterns("__pycache__"))
    env_py = project_dir / "env.py"
    source = env_py.read_text()
    assert FILE_CONFIG_CALLS["guarded"] in source
    env_py.write_text(source.replace(FILE_CONFIG_CALLS["guarded"], FILE_CONFIG_CALLS[call]))
    user_handler = logging.StreamHandler()
    logging.getLogger().addHandler(user_handler)
    logging.getLogger("someone.elses").setLevel(logging.INFO)
    try:
        migrate.preload()  # Alembic's and SQLAlchemy's loggers come with their import
        before = _logging_state()
        Reporter()
        with open_pool(Settings(database_url=database_url), "test") as pool, pool.connection() as conn, conn.transaction():
            done = migrate.migrate(conn, Project(ini=project_dir / "alembic.ini"), "public")
        assert done.heads, done
        after = _logging_state()
        known = {name: state for name, state in after["loggers"].items() if name in before["loggers"]}
        assert {**after, "loggers": known} == before
        made = {name: state for name, state in after["loggers"].items() if name not in before["loggers"]}
        assert all(state[:3] == (logging.NOTSET, True, False) and not state[4]
                   and all(isinstance(h, logging.NullHandler) for h in state[3]) for state in made.values()), made
    finally:
        logging.getLogger().removeHandler(user_handler)


def test_a_failing_migration_is_still_named(tmp_path: Path, database_url: str) -> None:
    project_dir = tmp_path / "project"
    shutil.copytree(GENERIC, project_dir, ignore=shutil.ignore_patterns("__pycache__"))
    last = sorted((project_dir / "versions").glob("c47d*.py"))[0]
    source = last.read_text()
    last.write_text(source.replace("def upgrade() -> None:\n", "def upgrade() -> None:\n    raise RuntimeError('boom')\n", 1))
    with psycopg.connect(database_url, autocommit=True) as conn, pytest.raises(Exception) as caught, conn.transaction():
        migrate.migrate(conn, Project(ini=project_dir / "alembic.ini"), "public")
    assert "c47d1e5a9f32" in str(caught.value) and "boom" in str(caught.value), caught.value
