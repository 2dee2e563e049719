"""chaoslab: an interactive laboratory for chaotic dynamical systems.

>>> import chaoslab as cl
>>> s = cl.systems.get("Lorenz")
>>> x = cl.simulate(s, 1000)          # (1000, 3)

The compute core (systems, integrate) imports no panel, bokeh or torch; those load only
when the app or the torch backend is used.
"""
from importlib import import_module

from . import systems
from .integrate import (DivergenceWarning, SimulationDiverged, StepBudgetExhausted,
                        StepBudgetWarning, simulate)
from .systems import EquationError, UnknownSystemError

__version__ = "0.2.0"

__all__ = ["systems", "analysis", "simulate", "lyapunov_spectrum", "kaplan_yorke_dimension",
           "ftle_field", "orbit_diagram", "poincare_section", "correlation_dimension",
           "power_spectrum", "DivergenceWarning", "SimulationDiverged", "StepBudgetWarning",
           "StepBudgetExhausted",
           "EquationError", "UnknownSystemError", "__version__"]

_LAZY = {"integrate": ".integrate", "cli": ".cli", "learners": ".learners", "metrics": ".metrics",
         "experiments": ".experiments", "app": ".app", "widgets": ".widgets",
         "analysis": ".analysis"}
#: Functions imported on first use (the first simulation needs none of the analysis
#: modules; importing them all takes about 0.1 s).
_LAZY_FUNCTIONS = {
    "forecast_divergence": ".experiments",
    **dict.fromkeys(("correlation_dimension", "ftle_field", "kaplan_yorke_dimension",
                     "lyapunov_spectrum", "orbit_diagram", "poincare_section",
                     "power_spectrum"), ".analysis"),
}


def __getattr__(name):
    if name in _LAZY_FUNCTIONS:
        value = getattr(import_module(_LAZY_FUNCTIONS[name], __name__), name)
        globals()[name] = value
        return value
    if name in _LAZY:
        mod = import_module(_LAZY[name], __name__)
        globals()[name] = mod
        return mod
    raise AttributeError(f"module 'chaoslab' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY) | set(_LAZY_FUNCTIONS))
