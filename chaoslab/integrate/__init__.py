"""Batched integrators for flows and maps (numba and torch backends)."""
from .simulate import (DivergenceWarning, SimulationDiverged, SimulationResult, prepare_batch,
                       simulate)

__all__ = ["simulate", "SimulationResult", "DivergenceWarning", "SimulationDiverged",
           "prepare_batch"]
