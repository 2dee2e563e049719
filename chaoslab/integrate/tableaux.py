"""Butcher tableaux: the one source of every Runge-Kutta method in chaoslab.

The numba code printers (:mod:`chaoslab.integrate.numba_codegen`), the torch backend and
the torch learners that integrate a learned vector field all take their coefficients
from here, so a method is written once.

A tableau ``(c, a, b)`` advances ``x' = f(t, x)`` by one step ``h``::

    k_i = f(t + c_i h, x + h sum_j a_ij k_j),   x_next = x + h sum_i b_i k_i

``DOPRI5.e`` holds ``b - b_hat`` (fifth minus fourth order weights): ``h sum_i e_i k_i``
is the local error estimate of Dormand and Prince (1980), J. Comput. Appl. Math. 6, 19.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Tableau", "RK4", "EULER", "DOPRI5", "rk_step"]


@dataclass(frozen=True)
class Tableau:
    """An explicit Runge-Kutta method: nodes ``c``, matrix ``a`` (rows of the strictly
    lower triangle), weights ``b``; ``e`` the error weights of an embedded pair."""

    name: str
    c: tuple
    a: tuple
    b: tuple
    e: tuple = ()
    order: int = 0
    #: ``(d, w)`` with ``b = w / d``, small whole ``w``: the step is then taken as
    #: ``x + (h / d) * (w_1 k_1 + ...)``, the form every RK4 in chaoslab has used, so
    #: results stay the same to the last bit
    b_over: tuple = ()

    @property
    def stages(self) -> int:
        return len(self.c)

    def __post_init__(self):
        if self.b_over:
            d, w = self.b_over
            if any(abs(wi / d - bi) > 1e-15 for wi, bi in zip(w, self.b)):
                raise ValueError(f"{self.name}: b_over does not match b")


#: Classical fourth-order Runge-Kutta (Kutta 1901).
RK4 = Tableau("rk4", c=(0.0, 0.5, 0.5, 1.0),
              a=((), (0.5,), (0.0, 0.5), (0.0, 0.0, 1.0)),
              b=(1 / 6, 1 / 3, 1 / 3, 1 / 6), order=4, b_over=(6.0, (1.0, 2.0, 2.0, 1.0)))

#: Explicit Euler.
EULER = Tableau("euler", c=(0.0,), a=((),), b=(1.0,), order=1)

#: Dormand-Prince 5(4), first same as last: row 7 of ``a`` is ``b``.
DOPRI5 = Tableau(
    "dopri5",
    c=(0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0),
    a=((), (1 / 5,), (3 / 40, 9 / 40), (44 / 45, -56 / 15, 32 / 9),
       (19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729),
       (9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656),
       (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84)),
    b=(35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0.0),
    e=(71 / 57600, 0.0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40),
    order=5)


def rk_step(f, t, x, h, tableau: Tableau = RK4):
    """One step of ``tableau`` for ``x' = f(t, x)`` on anything with ``+`` and ``*``
    (numpy arrays, torch tensors); returns ``x`` after ``h``."""
    ks = []
    for ci, row in zip(tableau.c, tableau.a):
        terms = [(aij, kj) for aij, kj in zip(row, ks) if aij != 0.0]
        if len(terms) == 1:
            xi = x + (terms[0][0] * h) * terms[0][1]
        elif terms:
            xi = x + h * _weighted(terms)
        else:
            xi = x
        ks.append(f(t + ci * h if ci != 0.0 else t, xi))
    if tableau.b_over:
        d, w = tableau.b_over
        return x + (h / d) * _weighted(list(zip(w, ks)))
    return x + h * _weighted([(bi, ki) for bi, ki in zip(tableau.b, ks) if bi != 0.0])


def _weighted(terms):
    """``w_1 k_1 + w_2 k_2 + ...`` left to right, with weights 1 folded."""
    out = None
    for w, k in terms:
        term = k if w == 1.0 else w * k
        out = term if out is None else out + term
    return out
