"""Reporter: the one place that writes to stdout/stderr, as human text or JSON lines."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TextIO

from dbtool.errors import DbtoolError


@dataclass
class Step:
    """A running step: set `message` (human line) and `fields` (JSON) before it ends."""

    name: str
    message: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)


def _default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


class Reporter:
    """Prints step lines, notes, results and failures in text, `--log-format json` lines, or one `--json` document."""

    def __init__(self, log_format: str = "text", as_json: bool = False, out: TextIO | None = None,
                 err: TextIO | None = None) -> None:
        self.log_format = log_format
        self.as_json = as_json
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.steps: list[dict[str, Any]] = []
        self.step_lines = True  # a fleet prints one line per target instead of one per step
        self._write_lock = threading.Lock()  # fleet targets report from their own threads: whole lines only
        self.failed_step: str | None = None  # the innermost step an error escaped from
        self._bars: Any = None  # rich Progress while a long seed runs on a terminal
        self._tasks: dict[str, Any] = {}

    def progress(self, table: str, rows: int, percent: int) -> None:
        """Per-table progress bars, on a terminal with text output only (never in logs or JSON)."""
        if self.log_format != "text" or self.as_json or not self.out.isatty():
            return
        if self._bars is None:
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            self._bars = Progress(
                TextColumn("  {task.description:<20}"), BarColumn(), TextColumn("{task.fields[rows]:>10,} rows"),
                TimeRemainingColumn(), transient=True,
            )
            self._bars.start()
        if table not in self._tasks:
            self._tasks[table] = self._bars.add_task(table, total=100, rows=0)
        self._bars.update(self._tasks[table], completed=percent, rows=rows)

    def _end_progress(self) -> None:
        if self._bars is not None:
            self._bars.stop()
            self._bars, self._tasks = None, {}

    @property
    def json_lines(self) -> bool:
        return self.log_format == "json" and not self.as_json

    def _emit(self, obj: dict[str, Any]) -> None:
        self._text(json.dumps(obj, default=_default, sort_keys=False))

    def _text(self, line: str, stream: TextIO | None = None) -> None:
        try:
            with self._write_lock:
                print(line, file=stream or self.out, flush=True)
        except BrokenPipeError:
            # The reader went away (`dbtool reset | head -1`): the run's outcome is the database's,
            # not the pipe's, so finish it and drop the rest of the output.
            import os

            devnull = open(os.devnull, "w")
            os.dup2(devnull.fileno(), (stream or self.out).fileno())

    @contextmanager
    def step(self, name: str) -> Iterator[Step]:
        """Time a step; report it when it completes (a failing step is reported by `failure`)."""
        step = Step(name)
        self.failed_step = None  # a step that failed and was retried (busy table locks) is history
        try:
            yield step
        except BaseException:
            self.failed_step = self.failed_step or name
            raise
        finally:
            self._end_progress()
        duration = time.perf_counter() - step.started
        record = {"event": "step", "step": name, "duration_ms": round(duration * 1000, 1), **step.fields}
        self.steps.append(record)
        if self.json_lines:
            self._emit(record)
        elif not self.as_json and self.step_lines:
            self._text(f"✓ {step.message or name} {duration:.2f}s")

    def note(self, message: str, **fields: Any) -> None:
        """A line that is not a completed step: the target, lock waits, what the guard found."""
        if self.json_lines:
            self._emit({"event": "note", "message": message, **fields})
        elif not self.as_json:
            self._text(f"  {message}")

    def aside(self, message: str) -> None:
        """A note on stderr, for commands whose stdout is one value a script captures (`dbtool local url`)."""
        if not self.as_json and not self.json_lines:
            self._text(message, self.err)

    def result(self, text: str, document: dict[str, Any]) -> None:
        """The command's final result: `text` for humans, `document` for --json / --log-format json."""
        if self.as_json:
            self._emit(document)
        elif self.json_lines:
            self._emit({"event": "result", "exit_code": 0, **document})
        elif text:
            self._text(text)

    def failure(self, exc: DbtoolError) -> None:
        """One line saying what went wrong and what to do; JSON modes put it on stdout."""
        message = " ".join(str(exc).split())
        if self.as_json or self.json_lines:
            where = {"step": self.failed_step} if self.failed_step else {}
            self._emit(
                {"event": "error", "error": type(exc).__name__, "message": message, "exit_code": exc.exit_code,
                 **where, **exc.details}
            )
        else:
            self._text(f"dbtool: error: {message}", self.err)

    def target_done(self, text: str, event: dict[str, Any]) -> None:
        """A fleet target finished: one line (text) or its result/error event (JSON lines); --json waits for the summary."""
        if self.json_lines:
            self._emit(event)
        elif not self.as_json:
            self._text(text)

    def summary(self, text: str, document: dict[str, Any], exit_code: int, error: str = "") -> None:
        """A fleet's last word: the summary line (and one error line on stderr), or the whole document."""
        if self.as_json:
            self._emit(document)
        elif self.json_lines:
            self._emit({"event": "summary", "exit_code": exit_code, **document})
        else:
            self._text(text)
            if exit_code and error:
                self._text(f"dbtool: error: {error}", self.err)


class TargetReporter(Reporter):
    """The reporter of one fleet target: JSON events tagged with its name, text left to the fleet's line per target.

    Every step, note and progress call first runs `checkpoint`, which raises the interrupt in this
    target's thread once the fleet was told to stop: signals reach only the main thread.
    """

    def __init__(self, parent: Reporter, name: str, checkpoint: Callable[[], None]) -> None:
        super().__init__(parent.log_format, parent.as_json, parent.out, parent.err)
        self._write_lock = parent._write_lock
        self.step_lines = False
        self.name = name
        self._checkpoint = checkpoint

    def _emit(self, obj: dict[str, Any]) -> None:
        tagged = dict(obj)
        if "target" in obj and obj["target"] != self.name:
            tagged["url"] = obj["target"]  # the connect step's user@host:port/db
        tagged["target"] = self.name
        super()._emit(tagged)

    @contextmanager
    def step(self, name: str) -> Iterator[Step]:
        """Time a step, after checking that the fleet has not been interrupted."""
        self._checkpoint()
        with super().step(name) as step:
            yield step

    def note(self, message: str, **fields: Any) -> None:
        """A note (lock waits, busy tables), prefixed with the target's name in text."""
        self._checkpoint()
        if self.json_lines:
            self._emit({"event": "note", "message": message, **fields})
        elif not self.as_json:
            self._text(f"  {self.name}: {message}")

    def progress(self, table: str, rows: int, percent: int) -> None:
        """No progress bars for one of many targets; a chunk boundary is a good place to stop."""
        self._checkpoint()
