"""The largest Lyapunov exponent of a system at its current parameters: recorded or computed.

Every place that needs "lambda_1 for these parameters" (forecast divergence, the default
sampling step, the butterfly ensemble, the app's summaries) asks this one function, so
they agree on when the catalog's recorded value applies.
"""
from __future__ import annotations

from ..systems import as_system
from ..systems.system import System
from ..validation import check_dt, check_float

__all__ = ["largest_lyapunov_exponent", "at_reference_parameters"]


def at_reference_parameters(system: System) -> bool:
    """Whether the recorded reference invariants of ``system`` apply to it.

    They do when every parameter has its default value and, for a system whose dimension
    is a parameter (Lorenz-96's ``N``), the size is the catalog's.
    """
    if any(system.values.get(k) != p.default for k, p in system.params.items()):
        return False
    if system.size is not None:
        try:
            base = as_system(system.name)
        except Exception:  # a user-defined sized system: no catalog size to compare
            return False
        if base.size is None or base.size.value != system.size.value:
            return False
    return True


def largest_lyapunov_exponent(system, dt=None, *, compute=True, T=None):
    """The largest Lyapunov exponent ``lambda_1`` of ``system`` at its parameter values.

    At the catalog-default parameters (and size) this is the recorded reference value
    ``system.reference["max_lyapunov"]``, which chaoslab computed once from a long run
    (see :mod:`chaoslab.systems.invariants`). Otherwise, or when no value is recorded, it
    is computed with :func:`chaoslab.lyapunov_spectrum` (``n_exponents=1``: the
    Benettin et al. (1980) QR method, or twin trajectories for a delay system), unless
    ``compute=False``.

    Parameters
    ----------
    system : System or str
        A system or a catalog name.
    dt : float, optional
        Integration step of the computation (default: the system's own); ignored when the
        recorded value is used.
    compute : bool
        Compute the exponent when no recorded value applies (may take seconds). With
        ``False`` the answer is ``None`` then.
    T : float, optional
        Length of the computation's run in time units (iterations for maps); default as in
        :func:`chaoslab.lyapunov_spectrum`.

    Returns
    -------
    float or None
        ``lambda_1`` per unit time (per iteration for maps); ``None`` only when
        ``compute=False`` and no recorded value applies.

    References
    ----------
    Benettin, G., Galgani, L., Giorgilli, A. and Strelcyn, J.-M. (1980). Lyapunov
    characteristic exponents for smooth dynamical systems and for Hamiltonian systems.
    Meccanica 15, 9-20.
    """
    s = as_system(system)
    recorded = (s.reference or {}).get("max_lyapunov")
    if recorded is not None and at_reference_parameters(s):
        return float(recorded)
    if not compute:
        return None
    from .lyapunov import lyapunov_spectrum

    kw = {}
    if dt is not None:
        kw["dt"] = check_dt(dt)
    if T is not None:
        kw["T"] = check_float(T, "T", positive=True)
    return float(lyapunov_spectrum(s, 1, **kw)[0])
