"""How good is a forecast: error curves, valid prediction time, attractor statistics.

The definitions (written out in each docstring) follow the forecasting literature on
chaotic systems; where papers differ chaoslab states which one it uses.

A leaf of chaoslab: plain functions of arrays that import only numpy, scipy and
:mod:`chaoslab.validation`. Experiments that train learners on systems
(``forecast_divergence``) live in :mod:`chaoslab.experiments`.
"""
from .forecast import (error_curve, smape, smape_curve, valid_prediction_time,
                       valid_prediction_steps)
from .statistics import (learned_lyapunov_exponent, power_spectrum_distance,
                         state_space_divergence)

__all__ = ["error_curve", "smape", "smape_curve", "valid_prediction_time",
           "valid_prediction_steps", "state_space_divergence", "power_spectrum_distance",
           "learned_lyapunov_exponent"]

#: Names that moved out of this leaf module, and where they live now.
_MOVED = {"forecast_divergence": "chaoslab.experiments",
          "ForecastDivergence": "chaoslab.experiments",
          "LearnerDivergence": "chaoslab.experiments",
          "correlation_dimension_error": "chaoslab.experiments",
          "default_dt": "chaoslab.experiments"}


def __getattr__(name):
    if name in _MOVED:
        raise AttributeError(f"chaoslab.metrics.{name} moved to {_MOVED[name]} (metrics is "
                             "a leaf and imports nothing above it)")
    raise AttributeError(f"module 'chaoslab.metrics' has no attribute {name!r}")
