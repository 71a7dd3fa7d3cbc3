"""Alembic commands run by path with the Python that can import a project's migrations.

Usage: python _alembic_runner.py revisions INI
       python _alembic_runner.py upgrade INI URL REVISION

It imports only alembic (and what the revisions import), so it works in a throwaway venv that holds
the published package as well as in dbtool's own venv.
"""

from __future__ import annotations

import json
import sys

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory


def revisions(ini: str) -> dict[str, object]:
    """How many revisions the history has and what its heads are."""
    script = ScriptDirectory.from_config(Config(ini))
    return {"revisions": sum(1 for _ in script.walk_revisions()), "heads": sorted(script.get_heads())}


def upgrade(ini: str, url: str, revision: str) -> dict[str, object]:
    """Plain `alembic upgrade`, with `url` in place of the ini's sqlalchemy.url."""
    config = Config(ini)
    # configparser interpolates '%': a URL with percent-escapes must be doubled to survive.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, revision)
    return {"upgraded": revision}


def main(argv: list[str]) -> int:
    """Run one command and print its result as one JSON line on stdout."""
    if argv[:1] == ["revisions"] and len(argv) == 2:
        result = revisions(argv[1])
    elif argv[:1] == ["upgrade"] and len(argv) == 4:
        result = upgrade(argv[1], argv[2], argv[3])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
