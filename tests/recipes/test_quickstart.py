"""The README's Quickstart, run as written: its first line on a fresh copy of the repository (a new
virtualenv, the install, `dbtool reset` on the embedded default), its second line being what CI runs."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def quickstart_lines() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quickstart", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "the README's Quickstart has no sh block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def fresh_copy(destination: Path) -> Path:
    """The repository's tracked files (what a clone holds), without this checkout's venv or data."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


def test_the_quickstart_is_two_commands_the_second_being_what_ci_runs() -> None:
    lines = quickstart_lines()
    assert len(lines) == 2, lines
    assert "dbtool reset" in lines[0] and "DATABASE_URL" not in lines[0]
    assert lines[1] == ".venv/bin/python -m pytest"
    assert re.search(r"^\.venv/bin/python -m pytest$", (ROOT / ".ci" / "run").read_text(), re.M)


def test_the_quickstart_first_command_resets_the_embedded_default_on_a_fresh_copy(tmp_path: Path) -> None:
    clone = fresh_copy(tmp_path / "dbtool")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DBTOOL_", "DATABASE_URL", "PG", "VIRTUAL_ENV", "PYTEST_"))}
    first = quickstart_lines()[0]
    try:
        done = subprocess.run(["bash", "-c", first], cwd=clone, env=env, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stderr[-3000:]
        status = subprocess.run([".venv/bin/dbtool", "status", "--json"], cwd=clone, env=env, capture_output=True,
                                text=True, timeout=300)
        assert status.returncode == 0, status.stderr
        document = json.loads(status.stdout.strip().splitlines()[-1])
        assert sum(document["row_counts"].values()) > 0, document
        verify = subprocess.run([".venv/bin/dbtool", "verify"], cwd=clone, env=env, capture_output=True, text=True,
                                timeout=300)
        assert verify.returncode == 0, verify.stderr
        assert (clone / ".dbtool").is_dir()  # the embedded server's data lives in the project, not elsewhere
    finally:
        if (clone / ".venv" / "bin" / "dbtool").exists():
            subprocess.run([".venv/bin/dbtool", "local", "destroy", "--yes"], cwd=clone, env=env, capture_output=True,
                           timeout=300)
