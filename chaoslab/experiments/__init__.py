"""Experiments built from the layers below: train learners on systems and compare them.

:func:`forecast_divergence` trains learners on a simulated trajectory and measures how
fast their forecasts leave the truth, in Lyapunov times; it is :func:`prepare`,
:func:`evaluate` per learner, then :func:`collect`, which sweeps can run separately. A
:class:`Protocol` (:func:`protocols` lists the named ones: ``"chaoslab"``,
``"gilpin2023"``, ``"gauthier2021"``, ``"short_data"``) sets the sampling, lengths,
starts, VPT definition and metrics of a published setting. :func:`sweep` runs systems x
learners x seeds of a protocol, and :func:`parameter_sweep` a system over a parameter
grid, as tasks on dask.distributed with a resumable Parquet store (:func:`read_store`).
"""
from ..analysis.exponent import largest_lyapunov_exponent
from .dimension import correlation_dimension_error
from .divergence import (DivergenceData, ForecastDivergence, LearnerDivergence, collect,
                         default_dt, evaluate, forecast_divergence, prepare,
                         protocol_metrics)
from .protocols import (Protocol, ProtocolSettings, Sampling, Span, as_protocol,
                        get_protocol, protocols)
from .sweeps import (STORE_VERSION, SweepResult, parameter_sweep, read_results_csv,
                     read_store, sweep, sweep_tasks)

__all__ = ["forecast_divergence", "prepare", "evaluate", "collect", "DivergenceData",
           "ForecastDivergence", "LearnerDivergence", "default_dt", "protocol_metrics",
           "largest_lyapunov_exponent", "correlation_dimension_error", "Protocol",
           "ProtocolSettings", "Sampling", "Span", "protocols", "get_protocol",
           "as_protocol", "sweep", "parameter_sweep", "read_store", "read_results_csv",
           "SweepResult",
           "STORE_VERSION", "sweep_tasks"]
