"""Which fault plans a schedule makes of one traced operation (specs/CONFORMANCE.md
§Schedules)."""

from __future__ import annotations

from typing import Any

from suitlib.flash.faults import Action, Fault, FaultPlan, TornMode

RECORD_MAX = 64  # a program of at most this many bytes counts as a status/flag write


def keep(entry: Any, op_filter: str) -> bool:
    """Whether a traced operation is a fault point under a scenario's ``op_filter``."""
    if op_filter == "all":
        return True
    if op_filter == "erase":
        return bool(entry.kind == "erase")
    if op_filter == "records":
        return entry.kind == "program" and entry.length <= RECORD_MAX
    return entry.kind == "program" and entry.length > RECORD_MAX


def plans_for(schedule: str, k: int, entry: Any, torn_modes: tuple[str, ...]) -> list[FaultPlan]:
    """The single-fault plans of ``schedule`` at operation ``k`` (cut, err, torn, unstable)."""
    if schedule == "cut":
        return [FaultPlan.cut(k)]
    if schedule == "err":
        return [FaultPlan((Fault(k, Action.ERROR),))]
    if schedule == "torn":
        modes = [TornMode(m) for m in torn_modes
                 if not (entry.kind == "erase" and m == "all-but-last")]
        return [FaultPlan.cut(k, torn=m) for m in modes]
    return [FaultPlan.cut(k, torn=TornMode.BITS, unstable=True)]  # unstable
