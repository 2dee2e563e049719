"""Finite-time Lyapunov exponent (FTLE) fields and their ridges.

The FTLE of the flow map ``F`` from ``t0`` to ``t0 + T`` at ``x`` is
``log(sigma_max(dF/dx)) / |T|``, the largest stretching rate of an infinitesimal
neighbourhood (the square root of the largest eigenvalue of the Cauchy-Green tensor
``C = dF/dx^T dF/dx``). chaoslab integrates the variational equation along each
trajectory, so ``dF/dx`` is exact up to the RK4 error, not a finite difference over the
grid. Negative ``T`` gives the backward field, whose ridges attract.

References
----------
Haller, G. (2001). Distinguished material surfaces and coherent structures in
three-dimensional fluid flows. Physica D 149, 248-277.
Shadden, S. C., Lekien, F. and Marsden, J. E. (2005). Definition and properties of
Lagrangian coherent structures from finite-time Lyapunov exponents in two-dimensional
aperiodic flows. Physica D 212, 271-304.
"""
from __future__ import annotations

import warnings

import numpy as np

from ..integrate.simulate import DivergenceWarning
from ..validation import as_float_array, check_choice, check_dt, check_float, check_memory
from ..systems import as_system
from ..systems.system import System
from .lyapunov import tangent_map

__all__ = ["ftle_field", "ftle_ridges", "default_grid"]


def _axes_and_columns(system: System, plane, axes):
    D = system.dim
    if plane is not None and not isinstance(plane, dict):
        raise ValueError(f"plane must be a dict of fixed values, e.g. plane={{'z': 27.0}}, "
                         f"got {plane!r:.60}")
    plane = dict(plane or {})
    for k, v in plane.items():
        if k not in system.variables:
            raise ValueError(f"{system.name} has no variable {k!r} to fix in the plane "
                             f"(variables: {', '.join(system.variables)})")
        plane[k] = check_float(v, f"plane[{k!r}]")
    free = [v for v in system.variables if v not in plane]
    if axes is None:
        if len(free) != 2:
            raise ValueError(f"{system.name} has {D} variables: fix all but two with "
                             f"plane={{...}} (e.g. plane={{{free[-1]!r}: 0.0}}), or name the "
                             "two grid axes with axes=(..., ...)")
        axes = tuple(free)
    if isinstance(axes, str) or not isinstance(axes, (tuple, list)) or len(axes) != 2 \
            or any(not isinstance(a, str) or a not in free for a in axes) \
            or axes[0] == axes[1]:
        raise ValueError(f"axes must be two variables of {system.name} not fixed by plane, "
                         f"got {axes!r}")
    missing = [v for v in free if v not in axes]
    if missing:
        raise ValueError(f"{system.name}: give fixed values for {', '.join(missing)} in plane")
    i, j = (system.variables.index(a) for a in axes)
    cols = np.zeros((D, 2))
    cols[i, 0] = 1.0
    cols[j, 1] = 1.0
    return (i, j), plane, cols


def default_grid(system, n=200):
    """Grid coordinates (x, y) over a transport flow's domain, ``n`` points on the long side."""
    system = as_system(system)
    if not system.domain:
        raise ValueError(f"{system.name} has no domain; pass the grid coordinates yourself")
    (x0, x1), (y0, y1) = system.domain[:2]
    ratio = (y1 - y0) / (x1 - x0)
    nx, ny = (n, max(2, int(round(n * ratio)))) if ratio <= 1 else (max(2, int(round(n / ratio))), n)
    return np.linspace(x0, x1, nx), np.linspace(y0, y1, ny)


def ftle_field(system, x, y, T, t0=0.0, plane=None, *, axes=None, dt=None, params=None,
               bound=1e8, backend="numba", device=None, dtype=None):
    """The FTLE field on a grid of initial conditions.

    Parameters
    ----------
    system : System or str
        A flow: a 2-D transport flow, or any flow with ``plane`` fixing all but two
        variables (a 2-D slice of its phase space).
    x, y : 1-D arrays
        Grid coordinates along the two free variables (in order, or as named by ``axes``).
    T : float
        Integration time; negative for the backward FTLE.
    t0 : float
        Initial time (for time-dependent flows).
    plane : dict, optional
        Fixed values of the other variables, e.g. ``{"z": 27.0}`` for Lorenz.
    axes : pair of str, optional
        Which two variables the grid spans (default: the two not in ``plane``).
    dt : float, optional
        RK4 step (default the system's ``dt``); the step is adjusted to divide ``|T|``.
    backend : {"numba", "torch"}
        numba: compiled, float64, threads over the CPU's cores. torch: every grid point a
        row of one batch on tensors (fast on a GPU).
    device : None, "cpu", "cuda" or "cuda:k"
        torch backend: where the tensors live (None: CUDA when present, else the CPU).
    dtype : {"float64", "float32"} or torch dtype, optional
        torch backend: the precision (default float64).

    Returns
    -------
    ndarray
        ``(len(x), len(y))`` FTLE values, per unit time. For a slice of a
        higher-dimensional flow it is the stretching of displacements that start in the
        slice: ``log sigma_max(dF/dx P) / |T|`` with ``P`` the two grid directions. Points
        whose trajectory diverges are NaN (with a warning).
    """
    system = as_system(system)
    backend = check_choice(backend, "backend", ("numba", "torch"))
    if backend == "numba" and (device not in (None, "cpu") or dtype not in (None, "float64")):
        raise ValueError(f"device={device!r} and dtype={dtype!r} need backend='torch'; the "
                         "numba backend runs in float64 on the CPU")
    if system.is_map:
        raise ValueError(f"system must be a flow: ftle_field needs a flow, {system.name} is "
                         "a map (for maps use lyapunov_spectrum)")
    T = check_float(T, "T")
    if T == 0:
        raise ValueError("T must be non-zero")
    t0 = check_float(t0, "t0")
    bound = check_float(bound, "bound", positive=True)
    x = as_float_array(x, "x", ndim=1, finite=True, min_size=1)
    y = as_float_array(y, "y", ndim=1, finite=True, min_size=1)
    check_memory(8.0 * len(x) * len(y) * (3 * system.dim + 4),
                 f"ftle_field: a grid of {len(x)} x {len(y)} points")
    (i, j), plane, cols = _axes_and_columns(system, plane, axes)
    X, Y = np.meshgrid(x, y, indexing="ij")
    pts = np.empty((X.size, system.dim))
    for k, v in enumerate(system.variables):
        pts[:, k] = plane.get(v, 0.0)
    pts[:, i] = X.ravel()
    pts[:, j] = Y.ravel()
    if backend == "torch":  # the same field on tensors, CPU or CUDA
        from .ftle_torch import ftle_torch
        return ftle_torch(system, pts, cols, T, t0=t0, dt=dt, params=params, bound=bound,
                          device=device, dtype=dtype).reshape(len(x), len(y))
    phi, _, bad = tangent_map(system, pts, T, dt=dt, t0=t0, columns=cols, params=params,
                              bound=bound)
    # largest singular value of the (dim x 2) gradient: sqrt of the largest eigenvalue of
    # the 2 x 2 Cauchy-Green tensor C = phi^T phi
    # scale each gradient by its largest entry first: C's entries would overflow for
    # strong stretching (e^(2 lambda T)) long before the gradient itself does
    # the entries are walked as (dim, 2) rows of length n (contiguous for the SIMD
    # kernel's output), one pass of whole-array operations per term
    g = phi.transpose(1, 2, 0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        scale = np.abs(g[0, 0])
        for r in range(system.dim):
            for k in (0, 1):
                if r or k:
                    np.maximum(scale, np.abs(g[r, k]), out=scale)
        inv = 1.0 / np.where(scale > 0, scale, 1.0)
        a = np.zeros(len(scale))
        c = np.zeros(len(scale))
        b = np.zeros(len(scale))
        for r in range(system.dim):
            u0 = g[r, 0] * inv
            u1 = g[r, 1] * inv
            a += u0 * u0
            c += u1 * u1
            b += u0 * u1
        lam_max = 0.5 * (a + c) + np.sqrt(0.25 * (a - c) ** 2 + b * b)
        f = (np.log(scale) + 0.5 * np.log(lam_max)) / abs(T)
    dead = bad >= 0
    if dead.any():
        f[dead] = np.nan
        warnings.warn(f"{system.name}: {int(dead.sum())} of {len(f)} grid points diverged; "
                      "their FTLE is NaN", DivergenceWarning, stacklevel=2)
    return f.reshape(len(x), len(y))


def ftle_ridges(field, x, y, quantile=0.9):
    """A boolean mask of FTLE ridges (second-derivative ridge criterion).

    A grid point is on a ridge when its FTLE is in the top ``1 - quantile`` of the field,
    the Hessian's smallest eigenvalue is negative (the field curves down across the ridge)
    and the derivative along that eigenvector changes sign between the neighbours on either
    side (Shadden et al. 2005, section 4).
    """
    f = np.asarray(field, dtype=float)
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if f.shape != (len(x), len(y)):
        raise ValueError(f"field must have shape ({len(x)}, {len(y)}), got {f.shape}")
    fx, fy = np.gradient(f, x, y)
    fxx, fxy = np.gradient(fx, x, y)
    _, fyy = np.gradient(fy, x, y)
    # eigenvector of the smallest Hessian eigenvalue
    tr = fxx + fyy
    det = fxx * fyy - fxy ** 2
    lam_min = 0.5 * tr - np.sqrt(np.maximum(0.25 * tr ** 2 - det, 0.0))
    # two expressions of the same eigenvector; take the better conditioned one
    ax, ay = fxy, lam_min - fxx
    bx, by = lam_min - fyy, fxy
    use_a = np.hypot(ax, ay) >= np.hypot(bx, by)
    nx = np.where(use_a, ax, bx)
    ny = np.where(use_a, ay, by)
    norm = np.hypot(nx, ny)
    norm[norm == 0] = 1.0
    nx, ny = nx / norm, ny / norm
    # the gradients at the two neighbours along the normal, projected on this point's
    # normal (an eigenvector's sign is arbitrary, so each point uses its own)
    step_i = np.rint(nx).astype(int)
    step_j = np.rint(ny).astype(int)
    I, J = np.meshgrid(np.arange(len(x)), np.arange(len(y)), indexing="ij")
    ip = np.clip(I + step_i, 0, len(x) - 1)
    jp = np.clip(J + step_j, 0, len(y) - 1)
    im = np.clip(I - step_i, 0, len(x) - 1)
    jm = np.clip(J - step_j, 0, len(y) - 1)
    d_plus = fx[ip, jp] * nx + fy[ip, jp] * ny
    d_minus = fx[im, jm] * nx + fy[im, jm] * ny
    crossing = (d_plus * d_minus) < 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        high = f >= np.nanquantile(f, quantile)
    curved = lam_min < -1e-8 * np.nanmax(np.abs(lam_min))
    return high & curved & crossing
