"""Batched integrators for flows and maps (numba and torch backends)."""
from .simulate import (DivergenceWarning, SimulationDiverged, SimulationResult,
                       StepBudgetExhausted, StepBudgetWarning, prepare_batch, simulate)

__all__ = ["simulate", "SimulationResult", "DivergenceWarning", "SimulationDiverged",
           "StepBudgetWarning", "StepBudgetExhausted", "prepare_batch"]
