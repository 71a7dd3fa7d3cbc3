"""repair: verify a target and reset it to its recorded seed only when its data or schema drifted."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from dbtool.report import Reporter
from dbtool.run import reset, status
from dbtool.run.status import Document
from dbtool.settings.config import Settings


class RepairResult(Document):
    """What `repair` found and did: nothing (identical), or a reset to the recorded seed."""

    def describe(self) -> str:
        if self["action"] == "none":
            return f"identical, nothing to repair (digest {str(self.get('digest', ''))[:16]})"
        shown = ", ".join(f"{d['table']} {d['problem']}" for d in self.get("differences", [])) or "the record"
        done = self.get("reset", {})
        return f"drifted ({shown}); reset to {done.get('revision')}, digest {str(done.get('digest', ''))[:16]}"


def repair_database(settings: Settings, reporter: Reporter) -> RepairResult:
    """Verify the target; when it differs from what dbtool recorded, reset it to the recorded (profile, seed, scale)."""
    verdict = status.check(settings)
    if verdict.mismatch is None:
        return RepairResult({"target": str(settings.target), "found": "identical", "action": "none",
                             "digest": verdict.result.get("digest")})
    drift: dict[str, Any] = verdict.mismatch.details  # status.check's document: profile, seed, scale, differences
    # Restore what was recorded, not what the flags say: repair undoes drift, it does not change the data.
    restored = replace(  # keeps the project settings found: replace never looks in the working directory again
        settings,
        profile=drift.get("profile") or settings.profile,
        seed=drift["seed"] if drift.get("seed") is not None else settings.seed,
        scale=drift.get("scale") or settings.scale,
    )
    differences = drift.get("differences", [])
    shown = "; ".join(f"{d['table']} {d['problem']}" for d in differences) or "the record does not match its seed"
    reporter.note(f"drifted ({shown}); resetting to profile {restored.profile}, seed {restored.seed}, scale {restored.scale}",
                  differences=differences)
    result = reset.reset_database(restored, reporter)
    return RepairResult({"target": str(settings.target), "found": "drifted", "differences": differences, "action": "reset",
                         "reset": result.document()})
