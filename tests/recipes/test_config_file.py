"""Settings files (./dbtool.toml, [tool.dbtool] in ./pyproject.toml) and `dbtool config`: precedence and masking."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.recipes.manifest import json_lines, run, with_password

SECRET_URL = "postgresql://app:Config-S3cret-pw@db.internal:5432/app"


def config(cwd: Path, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    result = run(["config", "--json", *args], env or {}, cwd=cwd)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("file", "env", "flag", "value", "source"),
    [
        (False, False, False, 6, "default"),
        (True, False, False, 3, "file"),
        (True, True, False, 4, "env"),
        (True, True, True, 5, "flag"),
        (False, False, True, 5, "flag"),
    ],
)
def test_flag_beats_env_beats_file_beats_default(file: bool, env: bool, flag: bool, value: int, source: str, tmp_path: Path) -> None:
    if file:
        (tmp_path / "dbtool.toml").write_text("pool-max = 3\n")
    document = config(tmp_path, *(["--pool-max", "5"] if flag else []), env={"DBTOOL_POOL_MAX": "4"} if env else {})
    assert document["settings"]["pool-max"] == {"value": value, "source": source}
    assert document["file"] == (str(tmp_path / "dbtool.toml") if file else None)


def test_pyproject_tool_table_is_read_and_dbtool_toml_wins_over_it(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\n\n[tool.dbtool]\nprofile = "demo"\nlock-timeout = 30\n')
    settings = config(tmp_path)["settings"]
    assert settings["profile"] == {"value": "demo", "source": "file"}
    assert settings["lock-timeout"] == {"value": 30.0, "source": "file"}
    (tmp_path / "dbtool.toml").write_text('profile = "ci"\n')
    document = config(tmp_path)
    assert document["file"] == str(tmp_path / "dbtool.toml")
    assert document["settings"]["profile"] == {"value": "ci", "source": "file"}
    assert document["settings"]["lock-timeout"]["source"] == "default"


def test_a_pyproject_without_a_dbtool_table_is_not_a_settings_file(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\n')
    assert config(tmp_path)["file"] is None


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("pool_max = 3\n", "unknown setting 'pool_max' (did you mean 'pool-max'?)"),
        ("force = true\n", "unknown setting 'force'"),
        ('pool-max = "many"\n', "pool-max = 'many' must be an integer"),
        ('log-format = "xml"\n', "log-format = 'xml' must be one of text, json"),
        ("pool-max = \n", "is not valid TOML"),
    ],
)
def test_a_bad_settings_file_is_one_line_with_exit_2(text: str, fragment: str, tmp_path: Path) -> None:
    (tmp_path / "dbtool.toml").write_text(text)
    for command in (["config"], ["reset", "--database-url", "postgresql://u:p@127.0.0.1:1/db"]):
        result = run(command, {}, cwd=tmp_path)
        assert result.returncode == 2, result.stdout + result.stderr
        assert fragment in result.stderr and str(tmp_path / "dbtool.toml") in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_invalid_values_from_the_file_are_refused_like_flags(tmp_path: Path) -> None:
    (tmp_path / "dbtool.toml").write_text("pool-max = 1\n")
    result = run(["config"], {}, cwd=tmp_path)
    assert result.returncode == 2 and "need at least 2" in result.stderr


@pytest.mark.parametrize("where", ["file", "env", "flag"])
def test_config_masks_the_password_wherever_the_url_comes_from(where: str, tmp_path: Path) -> None:
    if where == "file":
        (tmp_path / "dbtool.toml").write_text(f'database-url = "{SECRET_URL}"\n')
    env = {"DATABASE_URL": SECRET_URL} if where == "env" else {}
    flags = ["--database-url", SECRET_URL] if where == "flag" else []
    text = run(["config", *flags], env, cwd=tmp_path)
    document = run(["config", "--json", *flags], env, cwd=tmp_path)
    assert text.returncode == document.returncode == 0
    assert "Config-S3cret-pw" not in text.stdout + text.stderr + document.stdout + document.stderr
    assert json.loads(document.stdout)["settings"]["database-url"] == {
        "value": "postgresql://app:***@db.internal:5432/app", "source": where,
    }
    assert f"postgresql://app:***@db.internal:5432/app  {where}" in text.stdout


def test_a_reset_takes_its_settings_from_the_file(database_url: str, tmp_path: Path) -> None:
    url, password = with_password(database_url)
    (tmp_path / "dbtool.toml").write_text(f'database-url = "{url}"\nprofile = "ci"\nseed = 7\nlog-format = "json"\n')
    result = run(["reset"], {}, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    last = json_lines(result.stdout)[-1]  # log-format from the file
    assert (last["event"], last["profile"], last["seed"]) == ("result", "ci", 7)
    assert password not in result.stdout + result.stderr
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM clients").fetchone() == (10,)
    # A flag still wins over the file.
    flagged = run(["reset", "--seed", "8", "--log-format", "text"], {}, cwd=tmp_path)
    assert flagged.returncode == 0, flagged.stdout + flagged.stderr
    assert "digest" in flagged.stdout.splitlines()[-1] and not flagged.stdout.startswith("{")
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT seed FROM dbtool_meta ORDER BY id DESC LIMIT 1").fetchone() == (8,)
