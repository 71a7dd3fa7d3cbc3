"""repair: verify a target and reset it to its recorded seed only when its data or schema drifted."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from dbtool import reset, status
from dbtool.config import Settings
from dbtool.errors import VerifyMismatchError
from dbtool.fleet import with_project
from dbtool.report import Reporter


def repair_database(settings: Settings, reporter: Reporter) -> dict[str, Any]:
    """Verify the target; when it differs from what dbtool recorded, reset it to the recorded (profile, seed, scale)."""
    try:
        checked = status.verify(settings)
    except VerifyMismatchError as exc:
        drift = exc.details
    else:
        return {"target": str(settings.target), "found": "identical", "action": "none", "digest": checked.get("digest")}
    # Restore what was recorded, not what the flags say: repair undoes drift, it does not change the data.
    restored = with_project(replace(
        settings,
        profile=drift.get("profile") or settings.profile,
        seed=drift["seed"] if drift.get("seed") is not None else settings.seed,
        scale=drift.get("scale") or settings.scale,
    ), settings)
    differences = drift.get("differences", [])
    shown = "; ".join(f"{d['table']} {d['problem']}" for d in differences) or "the record does not match its seed"
    reporter.note(f"drifted ({shown}); resetting to profile {restored.profile}, seed {restored.seed}, scale {restored.scale}",
                  differences=differences)
    result = reset.reset_database(restored, reporter)
    return {"target": str(settings.target), "found": "drifted", "differences": differences, "action": "reset",
            "reset": result.document()}
