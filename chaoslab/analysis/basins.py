"""Basins of attraction, basin fractions and basin entropy.

Attractors are found without knowing them in advance, by recurrence in a cell map (the
idea behind Attractors.jl's recurrence-based finder, done here in one batch): every
initial condition is integrated past a transient, then sampled over a window; each sample
is put in a cell of a grid over the state space; cells visited one after the other by one
trajectory belong to one attractor, so the attractors are the connected components of the
graph whose edges join consecutive cells of every trajectory. A trajectory's attractor is
the component of its cells; one that diverges (leaves ``bound`` or becomes non-finite)
is labelled ``-1``.

The transient must be long enough for trajectories to settle: a trajectory still wandering
between two attractors during its window joins their components into one.

Basin entropy (Daza et al. 2016, "Basin entropy: a new tool to analyze uncertainty in
dynamical systems", Scientific Reports 6, 31416): the grid of initial conditions is cut
into boxes of ``box`` x ``box`` points; ``S_b`` is the mean over boxes of the Gibbs entropy
of the labels in a box, ``S_bb`` the mean over boxes that hold more than one label
(boundary boxes). ``S_bb > ln 2`` is a sufficient condition for a fractal boundary.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..progress import as_reporter
from ..systems import as_system
from ..validation import check_float, check_int

__all__ = ["basins_of_attraction", "BasinsResult", "basin_fractions", "basin_entropy",
           "find_attractors", "AttractorSet", "default_box", "clock_variables",
           "random_starts"]


@dataclass(frozen=True)
class AttractorSet:
    """The attractors found from a set of initial conditions.

    ``labels[i]``: the attractor reached from start ``i`` (0, 1, ... in order of their
    first coordinate's mean; ``-1``: diverged). ``attractors[k]``: sample points of
    attractor ``k`` ``(n, dim)``. ``fractions[k]``: the share of starts reaching it (with
    ``-1`` when some diverged); they sum to 1.
    """

    labels: np.ndarray
    attractors: dict
    fractions: dict
    variables: tuple = ()


@dataclass(frozen=True)
class BasinsResult(AttractorSet):
    """An :class:`AttractorSet` on a grid of starts: ``basins`` holds the labels in the
    grid's shape; ``grid`` the varied variables and their values."""

    basins: np.ndarray = None
    grid: dict = field(default_factory=dict)


def clock_variables(system) -> list:
    """Variables whose equation does not depend on the state (a clock such as
    ``z' = omega``): they never recur and are left out of the cell map."""
    system = as_system(system)
    syms = {system.symbols[v] for v in system.variables}
    out = []
    for v, e in zip(system.variables, system.exprs):
        free = getattr(e, "free_symbols", set())
        if not (free & syms):
            out.append(v)
    return out


def _simulate_windows(system, X0, params, transient, window, n_window, bound, reporter,
                      block=2000):
    """Window samples ``(B, n_window, dim)`` after the transient, and the diverged rows."""
    from ..integrate import simulate

    B = X0.shape[0]
    if system.is_map:
        every = max(1, int(round(window / max(n_window, 1))))
        dt, sub = None, 1
    else:
        every = 1
        dt = window / max(n_window - 1, 1)
        sub = max(1, int(round(dt / system.dt)))
    out = np.empty((B, n_window, system.dim))
    bad = np.zeros(B, dtype=bool)
    for a in range(0, B, block):
        reporter.check()
        b = min(B, a + block)
        n = n_window * every if system.is_map else n_window
        r = simulate(system, n, dt=dt, x0=X0[a:b], transient=transient, params=params,
                     substeps=sub, bound=bound, on_diverge="ignore", full_output=True)
        x = np.asarray(r.x)[:, ::every] if system.is_map else np.asarray(r.x)
        out[a:b] = x.reshape(b - a, n_window, system.dim)
        for row in r.diverged:
            bad[a + row] = True
        reporter(b / B, f"{b} of {B} starts")
    bad |= ~np.all(np.isfinite(out), axis=(1, 2))
    return out, bad


def _label(points, bad, cols, resolution):
    """Connected components of the consecutive-cell graph; a label per trajectory."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    B, W, _ = points.shape
    labels = np.full(B, -1, dtype=np.int64)
    good = np.nonzero(~bad)[0]
    if good.size == 0:
        return labels, {}
    P = points[good][:, :, cols]
    lo = P.min(axis=(0, 1))
    hi = P.max(axis=(0, 1))
    # a variable that barely varies (all attractors share its value) gets cells as wide
    # as a tenth of the largest range, so round-off never splits one attractor
    span = max(float(np.max(hi - lo)), 1e-12)
    width = np.maximum(hi - lo, 0.1 * span) / resolution
    idx = np.clip(((P - lo) / width).astype(np.int64), 0, resolution - 1)
    cell = np.zeros(idx.shape[:2], dtype=np.int64)
    for k in range(idx.shape[2]):
        cell = cell * resolution + idx[:, :, k]
    uniq, inv = np.unique(cell, return_inverse=True)
    inv = inv.reshape(cell.shape)
    src = inv[:, :-1].ravel()
    dst = inv[:, 1:].ravel()
    n = uniq.size
    graph = coo_matrix((np.ones(src.size, dtype=np.int8), (src, dst)), shape=(n, n))
    n_comp, comp = connected_components(graph, directed=False)
    traj = comp[inv[:, -1]]
    # a fixed point on a cell boundary lands in neighbouring cells from different starts:
    # components whose final points lie within one cell of each other are one attractor
    ends = P[:, -1, :] / width
    ids = np.unique(traj)
    if ids.size > 1:
        centre = np.array([ends[traj == c].mean(axis=0) for c in ids])
        radius = np.array([np.max(np.abs(ends[traj == c] - centre[i]))
                           for i, c in enumerate(ids)])
        parent = {int(c): int(c) for c in ids}

        def root(c):
            while parent[c] != c:
                c = parent[c]
            return c

        for i in range(ids.size):
            for j in range(i + 1, ids.size):
                if radius[i] < 1 and radius[j] < 1 and \
                        np.max(np.abs(centre[i] - centre[j])) < 1.0:
                    parent[root(int(ids[j]))] = root(int(ids[i]))
        traj = np.array([root(int(c)) for c in traj])
    # name attractors by the mean of their first cell-map coordinate, so labels do not
    # depend on the order of the starts
    ids = np.unique(traj)
    centre = np.array([P[traj == c][:, :, 0].mean() for c in ids])
    order = ids[np.argsort(centre, kind="stable")]
    rename = {int(c): k for k, c in enumerate(order)}
    labels[good] = np.array([rename[int(c)] for c in traj])
    return labels, rename


def _collect(points, labels, max_points=2000):
    out = {}
    for k in np.unique(labels):
        if k < 0:
            continue
        pts = points[labels == k].reshape(-1, points.shape[2])
        if len(pts) > max_points:
            pts = pts[np.linspace(0, len(pts) - 1, max_points).astype(int)]
        out[int(k)] = pts
    return out


def _fractions(labels):
    ks, counts = np.unique(labels, return_counts=True)
    return {int(k): c / labels.size for k, c in zip(ks, counts)}


def _setup(system, params, transient, window, n_window, variables, resolution, bound):
    system = as_system(system)
    if system.is_delay:
        raise ValueError(f"{system.name} is a delay system: its state is a function, "
                         "basins over a grid of points are not defined")
    if params:
        system = system.with_params(**params)
    if transient is None:
        transient = 1000.0 * system.dt if system.is_map else 200.0
    transient = check_float(transient, "transient", nonnegative=True)
    if window is None:
        window = 200.0 * system.dt if system.is_map else 50.0
    window = check_float(window, "window", positive=True)
    n_window = check_int(n_window, "n_window", 2, 100_000)
    resolution = check_int(resolution, "resolution", 2, 10_000)
    bound = check_float(bound, "bound", positive=True)
    if variables is None:
        clocks = clock_variables(system)
        variables = [v for v in system.variables if v not in clocks]
    for v in variables:
        if v not in system.variables:
            raise ValueError(f"variables: {v!r} is not a variable of {system.name}; "
                             f"allowed: {list(system.variables)}")
    cols = [system.variables.index(v) for v in variables]
    return system, transient, window, n_window, resolution, bound, tuple(variables), cols


def find_attractors(system, starts, *, params=None, transient=None, window=None,
                    n_window: int = 200, variables=None, resolution: int = 64,
                    bound: float = 1e6, progress=None, cancel=None) -> AttractorSet:
    """The attractors reached from ``starts`` ``(n, dim)`` and the share of each.

    ``transient`` (time units, iterates of a map; default 200 or 1000) is discarded;
    ``n_window`` samples over ``window`` (default 50 time units or 200 iterates) follow;
    the samples' ``variables`` (default all but clock variables) are put in
    ``resolution`` cells per variable over the box the samples span.
    """
    system, transient, window, n_window, resolution, bound, variables, cols = _setup(
        system, params, transient, window, n_window, variables, resolution, bound)
    X0 = np.asarray(starts, dtype=float)
    if X0.ndim != 2 or X0.shape[1] != system.dim or not np.all(np.isfinite(X0)):
        raise ValueError(f"starts must be a finite array (n, {system.dim}), got shape "
                         f"{np.shape(starts)}")
    reporter = as_reporter(progress, cancel)
    pts, bad = _simulate_windows(system, X0, None, transient, window, n_window, bound, reporter)
    labels, _ = _label(pts, bad, cols, resolution)
    return AttractorSet(labels=labels, attractors=_collect(pts, labels),
                        fractions=_fractions(labels), variables=variables)


def basins_of_attraction(system, grid: dict, *, fixed=None, params=None, transient=None,
                         window=None, n_window: int = 200, variables=None,
                         resolution: int = 64, bound: float = 1e6, progress=None,
                         cancel=None) -> BasinsResult:
    """The basin of each attractor on a grid of initial conditions.

    ``grid`` maps one to three variables to 1-D arrays of values (e.g. ``{"x": xs, "y":
    ys}``); the other variables start at ``fixed`` (a dict) or at the system's ``x0``.
    The result's ``basins`` has shape ``(len(grid[v1]), len(grid[v2]), ...)`` in the
    order of ``grid``. See :func:`find_attractors` for the other arguments.
    """
    system = as_system(system)
    if not isinstance(grid, dict) or not 1 <= len(grid) <= 3:
        raise ValueError(f"grid must map 1 to 3 variables to arrays of values, got {grid!r}")
    axes = []
    for v, vals in grid.items():
        if v not in system.variables:
            raise ValueError(f"grid: {v!r} is not a variable of {system.name}; "
                             f"allowed: {list(system.variables)}")
        a = np.asarray(vals, dtype=float).ravel()
        if a.size < 1 or not np.all(np.isfinite(a)):
            raise ValueError(f"grid[{v!r}] must be finite values, got {vals!r}")
        axes.append(a)
    shape = tuple(a.size for a in axes)
    n = int(np.prod(shape))
    if n > 4_000_000:
        raise ValueError(f"grid: {n} starts; at most 4,000,000 are allowed in one call")
    base = np.array(system.x0, dtype=float)
    for v, val in (fixed or {}).items():
        if v not in system.variables:
            raise ValueError(f"fixed: {v!r} is not a variable of {system.name}")
        base[system.variables.index(v)] = check_float(val, f"fixed[{v!r}]")
    X0 = np.broadcast_to(base, (n, system.dim)).copy()
    mesh = np.meshgrid(*axes, indexing="ij")
    for (v, _), m in zip(grid.items(), mesh):
        X0[:, system.variables.index(v)] = m.ravel()
    res = find_attractors(system, X0, params=params, transient=transient, window=window,
                          n_window=n_window, variables=variables, resolution=resolution,
                          bound=bound, progress=progress, cancel=cancel)
    return BasinsResult(labels=res.labels, attractors=res.attractors,
                        fractions=res.fractions, variables=res.variables,
                        basins=res.labels.reshape(shape),
                        grid={v: a for v, a in zip(grid, axes)})


def default_box(system, params=None):
    """The box around a trajectory of ``system`` from its ``x0`` (2,000 samples), padded
    on each side by half its largest size, half its largest coordinate, or 1, whichever
    is largest (so a trajectory that settles on a fixed point still gives a real box)."""
    from ..integrate import simulate

    system = as_system(system)
    x = np.asarray(simulate(system, 2000, params=params, on_diverge="ignore"))
    x = x[np.all(np.isfinite(x), axis=1)]
    if len(x) == 0:
        x = np.asarray(system.x0, dtype=float)[None, :]
    lo, hi = x.min(axis=0), x.max(axis=0)
    scale = max(float(np.max(hi - lo)), 0.5 * float(np.max(np.abs(x))), 1.0)
    return lo - 0.5 * scale, hi + 0.5 * scale


def basin_fractions(system, n_starts: int = 1000, *, box=None, seed=0, **kwargs) -> dict:
    """The share of random starts in ``box`` (``dim`` rows of ``(low, high)``; default
    :func:`default_box`) reaching each attractor: ``{label: share}``,
    ``-1`` for diverged starts. Keywords go to :func:`find_attractors`."""
    system = as_system(system)
    n_starts = check_int(n_starts, "n_starts", 1, 4_000_000)
    starts = random_starts(system, n_starts, box, seed, params=kwargs.get("params"))
    return find_attractors(system, starts, **kwargs).fractions


def random_starts(system, n_starts: int, box=None, seed=0, params=None) -> np.ndarray:
    """``n_starts`` uniform random starts ``(n, dim)`` in ``box`` (``dim`` rows of
    ``(low, high)``; default :func:`default_box` at ``params``), drawn with ``seed``."""
    if box is None:
        lo, hi = default_box(system, params=params)
    else:
        b = np.asarray(box, dtype=float)
        if b.shape != (system.dim, 2) or not np.all(np.isfinite(b)) or np.any(b[:, 1] < b[:, 0]):
            raise ValueError(f"box must be {system.dim} rows of (low, high), got {box!r}")
        lo, hi = b[:, 0], b[:, 1]
    return lo + (hi - lo) * np.random.default_rng(seed).random((n_starts, system.dim))


def basin_entropy(basins, box: int = 5) -> tuple:
    """Basin entropy ``(S_b, S_bb)`` of a 2-D (or n-D) array of labels, over boxes of
    ``box`` points per side (Daza et al. 2016)."""
    B = np.asarray(basins)
    box = check_int(box, "box", 1)
    if B.ndim < 1 or any(s < box for s in B.shape):
        raise ValueError(f"basins of shape {B.shape} is smaller than one box of {box}")
    trim = tuple(slice(0, (s // box) * box) for s in B.shape)
    B = B[trim]
    new_shape = []
    for s in B.shape:
        new_shape += [s // box, box]
    blocks = B.reshape(new_shape)
    ndim = B.ndim
    blocks = blocks.transpose([2 * i for i in range(ndim)] + [2 * i + 1 for i in range(ndim)])
    blocks = blocks.reshape(-1, box ** ndim)
    S = np.zeros(len(blocks))
    boundary = np.zeros(len(blocks), dtype=bool)
    for i, blk in enumerate(blocks):
        _, c = np.unique(blk, return_counts=True)
        if c.size > 1:
            p = c / c.sum()
            S[i] = -(p * np.log(p)).sum()
            boundary[i] = True
    Sb = float(S.mean())
    Sbb = float(S[boundary].mean()) if boundary.any() else 0.0
    return Sb, Sbb
