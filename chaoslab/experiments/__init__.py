"""Experiments built from the layers below: train learners on systems and compare them.

:func:`forecast_divergence` trains learners on a simulated trajectory and measures how
fast their forecasts leave the truth, in Lyapunov times; it is :func:`prepare`,
:func:`evaluate` per learner, then :func:`collect`, which sweeps can run separately.
"""
from ..analysis.exponent import largest_lyapunov_exponent
from .dimension import correlation_dimension_error
from .divergence import (DivergenceData, ForecastDivergence, LearnerDivergence, collect,
                         default_dt, evaluate, forecast_divergence, prepare)

__all__ = ["forecast_divergence", "prepare", "evaluate", "collect", "DivergenceData",
           "ForecastDivergence", "LearnerDivergence", "default_dt",
           "largest_lyapunov_exponent", "correlation_dimension_error"]
