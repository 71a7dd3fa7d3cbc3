"""Real `python -m dbtool` processes: start one, follow its steps, signal or kill it, collect the outcome."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from tests.fire import figures
from tests.helpers import CLEAN_ENV, dbtool

# The steps each command reports, in order; text output is matched to them by position.
STEPS = {
    "reset": ("connect", "lock", "drop", "migrate", "seed", "digest", "commit"),
    "seed": ("connect", "lock", "truncate", "seed", "digest", "commit"),
    "migrate": ("connect", "lock", "migrate", "commit"),
    "drop": ("connect", "lock", "drop", "commit"),
}
READER_GRACE = 2.0  # seconds to drain the pipes after the process exited
REPO = Path(__file__).resolve().parents[2]
# dbtool reads ./dbtool.toml and [tool.dbtool] of ./pyproject.toml: run it where there are none.
WORKDIR = tempfile.mkdtemp(prefix="dbtool-fire-cwd-")
atexit.register(shutil.rmtree, WORKDIR, True)
FORBIDDEN = ("duplicate key", "does not exist", "deadlock", "traceback")


def process_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This environment without dbtool's variables, plus `extra`: what a CronJob would pass."""
    env = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    env.update(extra or {})
    return env


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.005) -> Any:
    """Poll `predicate` until it returns something truthy; fail the test naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)


@dataclass
class Outcome:
    """How a dbtool process ended."""

    code: int
    stdout: str
    stderr: str
    steps: list[str]
    seconds: float  # from start to exit

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]

    def forbidden(self) -> list[str]:
        """Phrases that must never appear in dbtool's output, found in this run's."""
        lowered = self.output.lower()
        return [phrase for phrase in FORBIDDEN if phrase in lowered]


@dataclass
class Run:
    """One `python -m dbtool <command> [--database-url <url>] ...` process, followed while it runs."""

    command: str
    url: str | None  # None: the command line in `args` says it all
    args: tuple[str, ...] = ()
    env: Mapping[Any, Any] | None = None
    log_format: str = "text"
    new_session: bool = False  # its own process group, so a signal can go to the group as a terminal sends it
    proc: subprocess.Popen[str] = field(init=False)
    steps: list[str] = field(init=False, default_factory=list)
    stdout_lines: list[str] = field(init=False, default_factory=list)
    stderr_lines: list[str] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        target = ["--database-url", self.url] if self.url is not None else []
        argv = [sys.executable, "-m", "dbtool", self.command, *target, *self.args]
        if self.log_format != "text":
            argv += ["--log-format", self.log_format]
        # A mark every descendant inherits, to find them even after they are orphaned.
        self.token = uuid.uuid4().hex
        env: dict[Any, Any]
        if self.env is not None and any(isinstance(k, bytes) for k in self.env):
            env = {**self.env, b"DBTOOL_FIRE_RUN": self.token.encode()}  # given whole, as bytes
        else:
            env = {**process_env(self.env), "DBTOOL_FIRE_RUN": self.token}
        self.started = time.monotonic()
        self.ended: float | None = None
        figures.count("0 dbtool processes run", 1)
        self._changed = threading.Condition()
        self.proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
            env=env, start_new_session=self.new_session, cwd=WORKDIR,
        )
        self._readers = [
            threading.Thread(target=self._read, args=(self.proc.stdout, self.stdout_lines, True), daemon=True),
            threading.Thread(target=self._read, args=(self.proc.stderr, self.stderr_lines, False), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read(self, stream: Any, lines: list[str], is_stdout: bool) -> None:
        for line in stream:
            with self._changed:
                lines.append(line)
                if is_stdout:
                    self._note_step(line)
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def _note_step(self, line: str) -> None:
        if self.log_format == "json":
            try:
                event = json.loads(line)
            except ValueError:
                return
            if event.get("event") == "step":
                self.steps.append(event["step"])
        elif line.startswith("✓ "):
            order = STEPS.get(self.command, ())
            self.steps.append(order[len(self.steps)] if len(self.steps) < len(order) else f"step{len(self.steps)}")

    def wait_for_step(self, step: str, timeout: float = 60) -> float:
        """Block until `step` has completed (its line was printed); return the monotonic time it was seen."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while step not in self.steps:
                if self.proc.poll() is not None and not any(r.is_alive() for r in self._readers):
                    raise AssertionError(f"dbtool exited {self.proc.returncode} before step {step!r}:\n{self.text()}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"step {step!r} not reached in {timeout:g}s:\n{self.text()}")
                self._changed.wait(min(remaining, 0.05))
        return time.monotonic()

    def phase(self) -> str:
        """The step that was running when the process stopped: the one after the last completed step."""
        order = STEPS.get(self.command, ())
        done = [s for s in self.steps if s in order]
        if not done:
            return "connect"
        index = order.index(done[-1]) + 1
        return order[index] if index < len(order) else "after commit"

    def descendants(self) -> list[psutil.Process]:
        """Live processes this run started (generator workers...), found by the mark in their environment
        even when dbtool is gone and they were re-parented."""
        found = []
        for process in psutil.process_iter():
            if process.pid == self.pid:
                continue
            try:
                if process.environ().get("DBTOOL_FIRE_RUN") == self.token and process.status() != psutil.STATUS_ZOMBIE:
                    found.append(process)
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
        return found

    def send(self, signum: int, group: bool = False) -> float:
        """Send `signum` to the process (or its whole group, as a terminal's Ctrl-C does); return when."""
        sent = time.monotonic()
        if group:
            os.killpg(self.pid, signum)
        else:
            os.kill(self.pid, signum)
        return sent

    def kill(self) -> float:
        return self.send(signal.SIGKILL)

    def finish(self, timeout: float = 180) -> Outcome:
        """Wait for the process to exit and return its outcome; kill it (and fail) if it does not."""
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"dbtool {self.command} still running after {timeout:g}s:\n{self.text()}") from None
        self.ended = time.monotonic()
        for reader in self._readers:
            # Briefly: a child that outlived the process (a leaked worker) keeps the pipe open, so no
            # EOF comes; everything the process wrote is read by then anyway.
            reader.join(timeout=max(0.1, self.ended + READER_GRACE - time.monotonic()))
        return Outcome(code, "".join(self.stdout_lines), "".join(self.stderr_lines), list(self.steps),
                       self.ended - self.started)

    def text(self) -> str:
        return f"stdout:\n{''.join(self.stdout_lines)}\nstderr:\n{''.join(self.stderr_lines)}"


def run(command: str, url: str, *args: str, env: Mapping[Any, Any] | None = None, log_format: str = "text",
        timeout: float = 180) -> Outcome:
    """Run one dbtool process to the end."""
    return Run(command, url, args, env=env, log_format=log_format).finish(timeout)


def end_processes(processes: list[psutil.Process]) -> None:
    """Kill processes a test's run left behind (only those: found by its mark)."""
    for process in processes:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass


def reset_in_process(url: str, *args: str) -> None:
    """Arrange a state with an in-process reset (fast: no interpreter start)."""
    result = dbtool("reset", "--database-url", url, *args)
    assert result.exit_code == 0, result.output
