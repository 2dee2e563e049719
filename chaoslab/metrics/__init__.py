"""How good is a forecast: error curves, valid prediction time, attractor statistics.

The definitions (written out in each docstring) follow the forecasting literature on
chaotic systems; where papers differ chaoslab offers each published one (the valid
prediction time's ``method=``, D_stsp's ``method=``) and says which is the default.
No metric reports agreement it has not seen: a non-finite truth is an error, and a
forecast fails from its first non-finite row on.

A leaf of chaoslab: plain functions of arrays that import only numpy, scipy and
:mod:`chaoslab.validation`. Experiments that train learners on systems
(``forecast_divergence``) live in :mod:`chaoslab.experiments`.
"""
from .forecast import (error_curve, failed_steps, nrmse, smape, smape_at, smape_curve,
                       valid_prediction_steps, valid_prediction_time)
from .statistics import (bin_edges, learned_lyapunov_exponent, normalized_power_spectrum,
                         power_spectrum_distance, state_space_divergence)

__all__ = ["error_curve", "failed_steps", "smape", "smape_curve", "smape_at", "nrmse",
           "valid_prediction_time", "valid_prediction_steps", "state_space_divergence",
           "bin_edges", "power_spectrum_distance", "normalized_power_spectrum",
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
