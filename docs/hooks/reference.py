"""mkdocs hook: the reference pages' tables, generated from the code at build time.

A page asks for a table with a marker line, `<!-- reference: NAME -->`; NAMES says which exist. The
tables come from what the code declares: the typer app (dbtool.cli.app, read as its click tree), the
option table (dbtool/settings/options.py), the exit codes (dbtool/errors.py), the JSON events (dbtool/report.py,
dbtool/run/fleet.py) and the step names the code reports, the profile keys (dbtool/seed/profiles.py),
dbtool_meta's columns (dbtool/db/meta.py) and the Postgres majors the matrix runs (scripts/pg_matrix.py).

Links to source files are written `[text](src:PATH)` or `[text](src:PATH::test_name)`: the build fails
when the file (or the test in it) does not exist, and they point at `repo_url` when mkdocs.yml sets
one, else they render as the path in code. tests/unit/test_docs.py imports this module.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "dbtool"
MARKER = re.compile(r"^<!-- reference: ([a-z-]+) -->$", re.M)
SOURCE_LINK = re.compile(r"\[([^\]]+)\]\(src:([^)#:\s]+)(?:::([A-Za-z_]\w*))?\)")


# --- what the code declares -------------------------------------------------------------------

@functools.cache
def command_tree() -> Any:
    """The CLI as click sees it: typer's root group."""
    import typer.main

    from dbtool.cli import app

    return typer.main.get_command(app)


def commands() -> list[tuple[str, Any]]:
    """Every command ('dbtool reset', 'dbtool local up', ...) with its click command, groups included."""
    found = []

    def walk(command: Any, path: str) -> None:
        found.append((path, command))
        for name, sub in getattr(command, "commands", {}).items():  # in the order the code defines them
            if not sub.hidden:
                walk(sub, f"{path} {name}")

    walk(command_tree(), "dbtool")
    return found


def exit_codes() -> dict[int, str]:
    """Exit code -> its constant's name in dbtool/errors.py."""
    from dbtool import errors

    return {value: name for name, value in vars(errors).items() if name.startswith("EXIT_") and isinstance(value, int)}


def error_classes() -> list[type]:
    """Every DbtoolError subclass, the base first."""
    from dbtool import errors

    return [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, errors.DbtoolError)]


def _sources() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"))


@functools.cache
def json_events() -> frozenset[str]:
    """The values of "event" in the JSON objects the code builds (`{"event": "step", ...}`)."""
    found = set()
    for _, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value == "event" and isinstance(value, ast.Constant):
                        found.add(value.value)
    return frozenset(found)


def _strings(node: ast.AST | None) -> set[str]:
    return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)} if node else set()


@functools.cache
def step_names() -> frozenset[str]:
    """The names of the steps the code reports (`reporter.step("drop")`), following a name passed on
    to a function's parameter (`_locked_transaction(..., step_name="commit")` and its callers)."""
    found: set[str] = set()
    forwarded: dict[str, int] = {}  # function -> position of the parameter it passes to .step()
    functions = []
    for _, tree in _sources():
        for function in ast.walk(tree):
            if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                functions.append(function)
    for function in functions:
        params = [a.arg for a in function.args.args]
        defaults = dict(zip(params[len(params) - len(function.args.defaults):], function.args.defaults, strict=True))
        for call in ast.walk(function):
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "step"
                    and call.args):
                continue
            argument = call.args[0]
            if isinstance(argument, ast.Constant):
                found.add(argument.value)
            elif isinstance(argument, ast.Name) and argument.id in defaults and function.name != "step":
                found |= _strings(defaults[argument.id])
                forwarded[function.name] = params.index(argument.id)
    for function in functions:  # the callers of a function that forwards its parameter
        assigned = {t.id: node.value for node in ast.walk(function) if isinstance(node, ast.Assign)
                    for t in node.targets if isinstance(t, ast.Name)}
        for call in ast.walk(function):
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in forwarded:
                position = forwarded[call.func.id]
                if len(call.args) > position:
                    argument = call.args[position]
                    found |= _strings(assigned.get(argument.id) if isinstance(argument, ast.Name) else argument)
    return frozenset(found)


def meta_columns() -> list[tuple[str, str]]:
    """dbtool_meta's columns and SQL types, in the order dbtool/db/meta.py creates them."""
    from dbtool.db.meta import CREATE_SQL

    create = CREATE_SQL.split("(", 1)[1].split("\n);", 1)[0]
    columns = [(m[1], m[2].strip()) for m in re.finditer(r"^\s+([a-z_]+) ([a-z ]+?)(?: NOT NULL| GENERATED| CHECK|,|$)",
                                                        create, re.M)]
    columns += re.findall(r"ADD COLUMN IF NOT EXISTS ([a-z_]+) ([a-z]+);", CREATE_SQL)
    return columns


def meta_events() -> list[str]:
    """The values dbtool_meta.event may take."""
    from dbtool.db.meta import CREATE_SQL

    return re.findall(r"'([a-z]+)'", CREATE_SQL.split("event IN (", 1)[1].split(")", 1)[0])


def field_comments(cls: type) -> dict[str, str]:
    """A dataclass's fields -> the comment at the end of their line (how the code says what each holds)."""
    import inspect

    found = {}
    for line in inspect.getsource(cls).splitlines():
        match = re.match(r"\s+([a-z_]+): [^#]+#\s*(.+)$", line)
        if match:
            found[match[1]] = match[2].strip()
    return found


def postgres_majors() -> list[int]:
    """The Postgres majors dbtool supports: scripts/pg_matrix.py's MAJORS, the range the matrix runs."""
    tree = ast.parse((ROOT / "scripts" / "pg_matrix.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "MAJORS" for t in node.targets):
            return list(eval(compile(ast.Expression(node.value), "MAJORS", "eval"), {"range": range}))
    raise LookupError("scripts/pg_matrix.py has no MAJORS")


def plugin_fixtures() -> list[tuple[str, str, str]]:
    """The pytest plugin's fixtures: (name, scope, first line of the docstring), in the module's order."""
    from dbtool.testdb import plugin as pytest_plugin

    found = []
    for node in ast.parse(Path(pytest_plugin.__file__).read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                call = decorator if isinstance(decorator, ast.Call) else None
                target = call.func if call else decorator
                if isinstance(target, ast.Attribute) and target.attr == "fixture":
                    scope = next((k.value.value for k in (call.keywords if call else []) if k.arg == "scope"), "function")
                    found.append((node.name, scope, (ast.get_docstring(node) or "").split("\n\n")[0].replace("\n", " ")))
    return found


def plugin_options() -> tuple[list[tuple[tuple[str, ...], dict[str, Any]]], list[tuple[str, str]], list[str]]:
    """What the plugin registers: command-line options, ini values and marker lines (by calling its hooks)."""
    from dbtool.testdb import plugin as pytest_plugin

    options: list[tuple[tuple[str, ...], dict[str, Any]]] = []
    inis: list[tuple[str, str]] = []
    markers: list[str] = []

    class Group:
        def addoption(self, *names: str, **kwargs: Any) -> None:
            options.append((names, kwargs))

    class Parser:
        def getgroup(self, *args: Any, **kwargs: Any) -> Group:
            return Group()

        def addini(self, name: str, help: str, *args: Any, **kwargs: Any) -> None:
            inis.append((name, help))

    class Config:
        def addinivalue_line(self, name: str, line: str) -> None:
            if name == "markers":
                markers.append(line)

    pytest_plugin.pytest_addoption(Parser())  # type: ignore[arg-type]
    pytest_plugin.pytest_configure(Config())  # type: ignore[arg-type]
    return options, inis, markers


# --- the tables -------------------------------------------------------------------------------

def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _code(value: object) -> str:
    return f"`{value}`" if value not in (None, "") else ""


def _option_entry(param: Any) -> Any:
    from dbtool.settings.options import OPTIONS

    entry = OPTIONS.get(param.name)
    return entry if entry is not None and set(entry.flags) == set(param.opts) else None


def _default(param: Any) -> str:
    if param.default is None or param.default == () or getattr(param, "is_flag", False) and param.default is False:
        return ""
    if param.name == "lock_key":
        return f"`{param.default}` (`{param.default:#x}`)"
    return _code(param.default)


_TYPES = {"str": "text", "text": "text", "int": "integer", "integer": "integer", "float": "number"}


def render_commands() -> str:
    """Per command: its usage, its help (the command's docstring) and a table of its options."""
    out = []
    for path, command in commands():
        depth = min(path.count(" ") + 2, 4)
        out.append(f"{'#' * depth} `{path}`\n")
        arguments = " ".join(p.name.upper() for p in command.params if p.param_type_name == "argument")
        sub = " COMMAND" if getattr(command, "commands", None) else ""
        out.append(f"```\n{path} [OPTIONS]{sub}{' ' + arguments if arguments else ''}\n```\n")
        out.append(_cell((command.help or "").strip()) + "\n")
        params = [p for p in command.params if p.param_type_name == "option" and not p.hidden]
        if params:
            out.append("| option | environment | settings key | type | default | help |")
            out.append("| --- | --- | --- | --- | --- | --- |")
            for p in params:
                entry = _option_entry(p)
                flags = ", ".join(f"`{f}`" for f in p.opts + p.secondary_opts)
                choices = entry.choices if entry else ()
                kind = "flag" if getattr(p, "is_flag", False) else (" \\| ".join(choices) if choices else
                                                                       _TYPES.get(getattr(p.type, "name", ""), getattr(p.type, "name", "")))
                out.append(f"| {flags} | {_code(p.envvar)} | {_code(entry.file_key if entry else None)} | {kind} | "
                           f"{_default(p)} | {_cell(p.help or '')} |")
            out.append("")
    return "\n".join(out)


def render_settings_keys() -> str:
    """The settings file's keys: one row per option the file takes."""
    from dbtool.settings.file import SEED_DATA_KEYS
    from dbtool.settings.options import FILE_OPTIONS

    rows = ["| key | flag | environment | type | default | choices | written by `dbtool init` |",
            "| --- | --- | --- | --- | --- | --- | --- |"]
    for o in FILE_OPTIONS:
        kind = "true or false" if o.type is bool else {int: "integer", float: "number", str: "string"}[o.type]
        rows.append(f"| `{o.file_key}` | `{o.flags[0]}` | {_code(o.env)} | {kind} | {_code(o.default)} | "
                    f"{', '.join(f'`{c}`' for c in o.choices)} | {'yes' if o.init else ''} |")
    tables = ", ".join(f"`{k}`" for k in sorted(SEED_DATA_KEYS))
    rows.append(f"\nTables that describe the seed data rather than a run: {tables} (see [Profiles and hooks](profiles.md)).")
    return "\n".join(rows)


def render_profile_keys() -> str:
    """A profile's keys and a column override's keys, with the code's own comments."""
    from dbtool.seed.profiles import OVERRIDE_KEYS, PROFILE_KEYS, ColumnOverride, ProjectProfile

    rows = ["| profile key | type in the code | the code says |", "| --- | --- | --- |"]
    profile_fields = {f: t for f, t in ProjectProfile.__annotations__.items()}
    comments = field_comments(ProjectProfile)
    for key in sorted(PROFILE_KEYS):
        rows.append(f"| `{key}` | `{_cell(profile_fields.get(key, ''))}` | {_cell(comments.get(key, ''))} |")
    rows += ["", "| column override key | type in the code | the code says |", "| --- | --- | --- |"]
    override_fields = dict(ColumnOverride.__annotations__)
    comments = field_comments(ColumnOverride)
    for key in sorted(OVERRIDE_KEYS):
        kind = override_fields.get(key, "a value (one of `values`)" if key == "constant" else "")
        rows.append(f"| `{key}` | {_cell(_code(kind) if key != 'constant' else kind)} | {_cell(comments.get(key, ''))} |")
    return "\n".join(rows)


def render_exit_codes() -> str:
    """Exit code, its constant, and the error classes that carry it (with their docstrings)."""
    import inspect

    by_code: dict[int, list[str]] = {}
    dynamic = []  # classes whose __init__ sets the code: 128 + the signal, or what the interruption was
    for cls in error_classes():
        doc = (cls.__doc__ or "").strip().splitlines()[0]
        if "__init__" in cls.__dict__ and "self.exit_code" in inspect.getsource(cls.__dict__["__init__"]):
            dynamic.append(f"`{cls.__name__}`: {doc}")
        else:
            by_code.setdefault(cls.exit_code, []).append(f"`{cls.__name__}`: {doc}")
    rows = ["| code | constant in `dbtool/errors.py` | error classes |", "| --- | --- | --- |"]
    for code, name in sorted(exit_codes().items()):
        classes = by_code.get(code) or (["the classes below"] if code > 128 else [])
        rows.append(f"| {code} | `{name}` | {'<br>'.join(classes)} |")
    rows.append("\nClasses that set their code when raised (128 + the signal's number; a commit cut short by a lost "
                "connection is 69):\n")
    rows += [f"- {line}" for line in dynamic]
    return "\n".join(rows)


def render_events() -> str:
    events = sorted(json_events())
    return "Events (`\"event\"`): " + ", ".join(f"`{e}`" for e in events) + "."


def render_steps() -> str:
    return "Steps (`\"step\"`): " + ", ".join(f"`{s}`" for s in sorted(step_names())) + "."


def render_meta() -> str:
    from dbtool.db.meta import MetaRecord

    comments = field_comments(MetaRecord)
    rows = ["| column | type | the code says |", "| --- | --- | --- |"]
    for column, kind in meta_columns():
        rows.append(f"| `{column}` | `{kind}` | {_cell(comments.get(column, ''))} |")
    rows.append("\n`event` is one of " + ", ".join(f"`{e}`" for e in meta_events()) + ".")
    return "\n".join(rows)


def render_postgres_versions() -> str:
    majors = postgres_majors()
    return f"Postgres **{majors[0]} to {majors[-1]}** (`MAJORS` in `scripts/pg_matrix.py`, the range its matrix runs)."

def render_pytest() -> str:
    """The plugin's fixtures, marker, options and ini values."""
    options, inis, markers = plugin_options()
    rows = ["| fixture | scope | what it gives |", "| --- | --- | --- |"]
    rows += [f"| `{name}` | {scope} | {_cell(doc)} |" for name, scope, doc in plugin_fixtures()]
    rows += ["", "Marker: " + "; ".join(f"`@pytest.mark.{_cell(m.split(': ', 1)[0])}`: {_cell(m.split(': ', 1)[1])}"
                                       for m in markers) + ".", ""]
    rows += ["| option | ini value | help |", "| --- | --- | --- |"]
    ini_help = dict(inis)
    for names, kwargs in options:
        ini = "dbtool_" + names[0].removeprefix("--dbtool-").replace("-", "_")
        ini = ini if ini in ini_help else ""
        rows.append(f"| `{names[0]}` | {_code(ini)} | {_cell(kwargs.get('help', ''))} |")
    return "\n".join(rows)

def hook_api() -> list[tuple[str, str]]:
    """What a hook's `rows` offers: (how it is called, what the code says), attributes first."""
    import inspect

    from dbtool.seed.hooks import Rows

    found = [(f"rows.{name}", comment) for name, comment in
              re.findall(r"self\.([a-z]\w*) = \w+\s+#\s*(.+)", inspect.getsource(Rows.__init__))]
    for name, member in vars(Rows).items():
        if not name.startswith("_") and callable(member):
            signature = str(inspect.signature(member)).replace("(self, ", "(").replace("(self)", "()").replace("'", "")
            found.append((f"rows.{name}{signature}", " ".join((inspect.getdoc(member) or "").split())))
    return found


def render_hook_api() -> str:
    rows = ["| on `rows` | the code says |", "| --- | --- |"]
    rows += [f"| `{_cell(call)}` | {_cell(doc)} |" for call, doc in hook_api()]
    return "\n".join(rows)


def render_layout() -> str:
    """One row per module: its folder (a layer), its name, what it owns (the docstring's first sentence)."""
    rows = ["| Module | Lines | What it owns |", "| --- | ---: | --- |"]
    for path in sorted(PACKAGE.rglob("*.py")):
        if "__pycache__" in path.parts or path.name == "__main__.py":
            continue
        text = path.read_text(encoding="utf-8")
        doc = ast.get_docstring(ast.parse(text)) or ""
        first = " ".join(doc.split("\n\n")[0].split())
        owns = first.split(". ")[0].rstrip(".")
        if not owns:
            raise LookupError(f"{path.relative_to(ROOT)} has no docstring saying what it owns")
        rows.append(f"| `{path.relative_to(ROOT)}` | {len(text.splitlines())} | {_cell(owns)} |")
    return "\n".join(rows)


NAMES: dict[str, Callable[[], str]] = {
    "layout": render_layout,
    "commands": render_commands,
    "settings-keys": render_settings_keys,
    "profile-keys": render_profile_keys,
    "exit-codes": render_exit_codes,
    "events": render_events,
    "steps": render_steps,
    "meta": render_meta,
    "postgres-versions": render_postgres_versions,
    "pytest": render_pytest,
    "hook-api": render_hook_api,
}


def expand(markdown: str) -> str:
    """`markdown` with every reference marker replaced by its table (KeyError for an unknown one)."""
    return MARKER.sub(lambda m: NAMES[m[1]](), markdown)


def source_links(markdown: str, repo_url: str | None) -> str:
    """`[text](src:PATH::test)` links checked against the repository: a link into `repo_url`, or the text alone."""

    def link(match: re.Match[str]) -> str:
        text, path, test = match[1], match[2], match[3]
        file = ROOT / path
        if not file.exists():
            raise LookupError(f"link to {path}, which does not exist")
        if test and not re.search(rf"^\s*(async )?def {test}\(", file.read_text(encoding="utf-8"), re.M):
            raise LookupError(f"link to {path}::{test}, which is not a test in it")
        return f"[{text}]({repo_url.rstrip('/')}/blob/main/{path})" if repo_url else text

    return SOURCE_LINK.sub(link, markdown)


# --- the mkdocs hook --------------------------------------------------------------------------

def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Fill the markers and check the source links of every page."""
    from mkdocs.exceptions import PluginError

    try:
        return source_links(expand(markdown), config.get("repo_url"))
    except (KeyError, LookupError) as exc:
        raise PluginError(f"{page.file.src_path}: {exc}") from None
