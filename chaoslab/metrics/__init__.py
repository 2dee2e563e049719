"""How good is a forecast: error curves, valid prediction time, attractor statistics.

The definitions (written out in each docstring) follow the forecasting literature on
chaotic systems; where papers differ chaoslab states which one it uses.
"""
from .divergence import ForecastDivergence, LearnerDivergence, forecast_divergence
from .forecast import (error_curve, smape, smape_curve, valid_prediction_time,
                       valid_prediction_steps)
from .statistics import (correlation_dimension_error, learned_lyapunov_exponent,
                         power_spectrum_distance, state_space_divergence)

__all__ = ["error_curve", "smape", "smape_curve", "valid_prediction_time",
           "valid_prediction_steps", "state_space_divergence", "power_spectrum_distance",
           "learned_lyapunov_exponent", "correlation_dimension_error", "forecast_divergence",
           "ForecastDivergence", "LearnerDivergence"]
