"""Errors of the simulator."""

from __future__ import annotations

from suitlib.errors import SuitError


class SimulationError(SuitError):
    """A simulated device or fleet did not end as the scenario requires (a definite no)."""

    exit_code = 1
