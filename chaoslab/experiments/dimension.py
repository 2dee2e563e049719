"""Comparing a generated trajectory's fractal dimension with the true attractor's."""
from __future__ import annotations

import math

import numpy as np

from ..analysis import correlation_dimension

__all__ = ["correlation_dimension_error"]


def _traj(x, name):
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"{name} must be (n_samples, dim), got shape {a.shape}")
    return a


def correlation_dimension_error(x_true, x_gen, **kw):
    """``|D2(x_gen) - D2(x_true)|``: difference of Grassberger-Procaccia correlation
    dimensions (:func:`chaoslab.correlation_dimension`, keywords passed on); ``inf`` if
    ``x_gen`` blew up (holds a non-finite value).

    It lives here rather than in :mod:`chaoslab.metrics` because it needs the analysis
    layer, and metrics is a leaf (numpy and scipy only).
    """
    xg = _traj(x_gen, "x_gen")
    if not np.all(np.isfinite(xg)):
        return math.inf
    return abs(float(correlation_dimension(xg, **kw)) -
               float(correlation_dimension(_traj(x_true, "x_true"), **kw)))
