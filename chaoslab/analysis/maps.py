"""Pictures of maps: the cobweb of a 1-D map and the density image of a planar attractor."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..systems import as_system
from ..validation import check_float, check_int

__all__ = ["cobweb", "Cobweb", "map_density", "Density"]


@dataclass(frozen=True)
class Cobweb:
    """``curve_x``, ``curve_y``: the graph of the map; ``path_x``, ``path_y``: the cobweb
    staircase from ``x0`` (vertical to the graph, horizontal to the diagonal, ...);
    ``orbit``: the iterates."""

    curve_x: np.ndarray
    curve_y: np.ndarray
    path_x: np.ndarray
    path_y: np.ndarray
    orbit: np.ndarray


def cobweb(system, x0=None, n: int = 50, *, params=None, interval=None,
           resolution: int = 400) -> Cobweb:
    """The cobweb diagram of a one-dimensional map: its graph over ``interval`` (default
    the range of the orbit, padded) and ``n`` iterates from ``x0``."""
    system = as_system(system)
    if not system.is_map or system.dim != 1:
        raise ValueError(f"cobweb draws one-dimensional maps; {system.name} is a "
                         f"{system.dim}-dimensional {system.kind}")
    n = check_int(n, "n", 1, 100_000)
    resolution = check_int(resolution, "resolution", 2, 1_000_000)
    p = system.param_vector if params is None else system.with_params(**params).param_vector
    x = check_float(system.x0[0] if x0 is None else np.ravel(x0)[0], "x0")
    orbit = [x]
    with np.errstate(all="ignore"):
        for _ in range(n):
            x = float(system.rhs(np.array([x]), params=p)[0])
            if not np.isfinite(x):
                break
            orbit.append(x)
    orbit = np.array(orbit)
    if interval is None:
        lo, hi = float(orbit.min()), float(orbit.max())
        pad = 0.1 * max(hi - lo, 1e-3)
        lo, hi = lo - pad, hi + pad
    else:
        lo, hi = (check_float(v, "interval") for v in interval)
        if hi <= lo:
            raise ValueError(f"interval must be (low, high) with low < high, got {interval!r}")
    cx = np.linspace(lo, hi, resolution)
    with np.errstate(all="ignore"):
        cy = system.rhs(cx[:, None], params=p)[:, 0]
    # start on the diagonal at (x0, x0), go to (x0, x1), then (x1, x1), (x1, x2), ...
    px = np.repeat(orbit, 2)[:2 * len(orbit) - 1]
    py = np.empty_like(px)
    py[0::2] = orbit
    py[1::2] = orbit[1:]
    py[0] = orbit[0]
    return Cobweb(curve_x=cx, curve_y=cy, path_x=px, path_y=py, orbit=orbit)


@dataclass(frozen=True)
class Density:
    """``counts`` ``(ny, nx)``: visits per pixel (rows are y, as an image); ``x_range``,
    ``y_range``: the extent; ``n_points``: the iterates binned."""

    counts: np.ndarray
    x_range: tuple
    y_range: tuple
    n_points: int


def map_density(system, n_points: int = 1_000_000, *, resolution=(600, 600), params=None,
                transient=1000, x0=None, variables=(0, 1)) -> Density:
    """The attractor of a planar map (or two variables of any map) as a density image:
    ``n_points`` iterates after ``transient`` binned into ``resolution`` ``(nx, ny)``
    pixels. A million points take well under a second."""
    system = as_system(system)
    if not system.is_map:
        raise ValueError(f"map_density draws maps; {system.name} is a {system.kind} "
                         "(sample a flow's Poincare section instead)")
    n_points = check_int(n_points, "n_points", 1, 100_000_000)
    try:
        nx, ny = (check_int(v, "resolution", 2, 8192) for v in resolution)
    except TypeError:
        raise ValueError(f"resolution must be (nx, ny), got {resolution!r}") from None
    i, j = (check_int(v, "variables", 0, system.dim - 1) for v in variables)
    from ..integrate import simulate

    x = np.asarray(simulate(system, n_points, params=params, transient=transient, x0=x0,
                            on_diverge="ignore"))
    a, b = x[:, i], x[:, j]
    ok = np.isfinite(a) & np.isfinite(b)
    if not ok.any():
        raise ValueError(f"the orbit of {system.name} diverged before the first sample")
    a, b = a[ok], b[ok]
    xr = (float(a.min()), float(a.max()))
    yr = (float(b.min()), float(b.max()))
    if xr[1] == xr[0]:
        xr = (xr[0] - 0.5, xr[1] + 0.5)
    if yr[1] == yr[0]:
        yr = (yr[0] - 0.5, yr[1] + 0.5)
    counts, _, _ = np.histogram2d(b, a, bins=(ny, nx), range=(yr, xr))
    return Density(counts=counts, x_range=xr, y_range=yr, n_points=int(ok.sum()))
