"""Bokeh figure builders: arrays in, figures out. No widgets and no numerics here."""
from .attractor import (MAX_SERIES, attractor_figure, label_attractor, label_timeseries,
                        timeseries_figure)

__all__ = ["attractor_figure", "label_attractor", "timeseries_figure", "label_timeseries",
           "MAX_SERIES"]
