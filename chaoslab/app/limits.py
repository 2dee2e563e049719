"""What one session of the app may ask of a shared server.

A Lyapunov spectrum's kernel grows with the square of the dimension (one tangent
vector per exponent, each through the Jacobian), and numba compiles it once per system
structure: its time and memory grow quickly with the number of variables. The app (its
sliders, shared links and the system editor) therefore keeps systems to
:data:`MAX_DIM` variables, parameters within their catalog ranges, and the time between
samples within :data:`MAX_DT_FACTOR` of a system's own. The Python API has no such limits.
"""
from __future__ import annotations

import math

__all__ = ["MAX_DIM", "MAX_DT_FACTOR", "MAX_JOBS", "MAX_PROBLEMS", "size_range",
           "clamp_value", "check_dim", "dt_range"]

#: The most variables a system may have in the app (a sized system's N, a typed system).
MAX_DIM = 16
#: The largest time between samples the app uses, as a multiple of the system's own dt.
MAX_DT_FACTOR = 10.0
#: Jobs (spectra, sweeps, fields, training) one session may have running at once.
MAX_JOBS = 3
#: Problems of a shared link listed one by one in the message (the rest are counted).
MAX_PROBLEMS = 8


def size_range(system):
    """``(lo, hi)``: the sizes the app allows for a system whose dimension is a parameter."""
    z = system.size
    return int(z.min), int(min(z.max, MAX_DIM))


def dt_range(system):
    """``(lo, hi)``: the times between samples the app allows for ``system`` (a flow)."""
    return 0.0, MAX_DT_FACTOR * float(system.dt)


def clamp_value(system, name: str, value: float):
    """``(value, problem)``: ``value`` of parameter (or size) ``name`` of ``system``
    brought into the range the app allows, and a sentence saying what changed (``None``
    when nothing did)."""
    if system.size is not None and name == system.size.name:
        lo, hi = size_range(system)
        note = []
        n = value
        if float(value) != int(value):
            n = int(round(value))
            note.append(f"{name} counts variables, so it must be a whole number")
        if not lo <= n <= hi:
            n = min(max(n, lo), hi)
            note.append(f"the app allows {name} from {lo} to {hi} ({MAX_DIM} variables at "
                        "most on a shared server)")
        if not note:
            return int(value), None
        return int(n), f"{name} = {value:g}: {'; '.join(note)}; {n} is used"
    p = system.params[name]
    lo, hi = float(p.min), float(p.max)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi) or lo <= value <= hi:
        return value, None
    v = min(max(value, lo), hi)
    return v, (f"parameter {name} = {value:g} is outside its range [{lo:g}, {hi:g}]; "
               f"{v:g} is used")


def check_dim(system) -> None:
    """Raise ``ValueError`` if ``system`` has more variables than the app allows."""
    if system.dim > MAX_DIM:
        raise ValueError(f"{system.name} has {system.dim} variables; the app allows "
                         f"{MAX_DIM} at most (the Python API has no such limit)")
