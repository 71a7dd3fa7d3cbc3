"""scripts/import_cycles.py finds circles, function-local imports included; dbtool has none; the seed core is pure."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "import_cycles.py"
PURE_SEED = sorted(p.stem for p in (ROOT / "dbtool" / "seed").glob("*.py") if p.stem not in ("__init__", "load"))


def _cycles(package: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), str(package)], capture_output=True, text=True, timeout=60)


def test_a_circle_through_a_function_local_import_is_found(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.sub import b\n")
    (package / "sub" / "b.py").write_text("def f():\n    from .. import c\n")
    (package / "c.py").write_text("from . import a\n")
    (package / "d.py").write_text("import pkg.a\n")  # into the circle, not part of it
    result = _cycles(package)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.strip() == "import circle (3 modules): pkg.a, pkg.c, pkg.sub.b"


def test_dbtool_has_no_import_circle() -> None:
    result = _cycles(ROOT / "dbtool")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("module", PURE_SEED)
def test_the_seed_core_imports_neither_psycopg_nor_the_catalog(module: str) -> None:
    probe = (f"import sys, dbtool.seed.{module}; "
             "print(sorted(m for m in ('psycopg', 'dbtool.db.catalog', 'dbtool.settings.config', 'sqlalchemy') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
