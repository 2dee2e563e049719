"""SINDy: sparse regression of the vector field (pysindy), rolled out by chaoslab."""
import math

import numpy as np

from ..validation import check_float, check_int, check_memory, reject_unknown, renamed_keyword
from .base import Learner, LearnerFileError, check_file_arrays, file_array

__all__ = ["SINDy", "WEIGHT_FLOOR"]


#: derivative errors below this fraction of a variable's typical rate (the standard
#: deviation of its derivative) count as exact in the weighted regression of :class:`SINDy`
WEIGHT_FLOOR = 1e-6


def _weights(err, rate_sd):
    """Row weights ``1 / sqrt(e^2 + f^2)`` per column of the derivative errors ``err``
    ``(n, dim)``, ``f = max(median(e), WEIGHT_FLOOR * rate_sd)``, scaled to a mean square
    of 1 (see :class:`SINDy`)."""
    floor = np.maximum(np.median(err, axis=0), WEIGHT_FLOOR * np.asarray(rate_sd))
    floor = np.where(floor > 0, floor, 1.0)
    w = 1.0 / np.sqrt(err ** 2 + floor ** 2)
    return w / np.sqrt(np.mean(w ** 2, axis=0))


class SINDy(Learner):
    """Sparse identification of nonlinear dynamics (Brunton, Proctor & Kutz, PNAS 113,
    3932, 2016).

    Derivatives are estimated by central finite differences of order
    ``derivative_order``; pysindy's sequentially thresholded least squares (STLSQ) picks
    a sparse combination of library terms for each variable: the monomials up to
    ``degree`` and, with ``frequencies=n``, ``sin(k x_i)`` and ``cos(k x_i)`` for
    ``k = 1..n`` (pysindy's polynomial and Fourier libraries). A vector field that is not
    polynomial, such as Thomas's ``-a x + b sin(y)`` over several radians, needs the
    Fourier terms: no low-degree polynomial represents it, and a polynomial model then
    fails within a fraction of a Lyapunov time. The learned
    vector field becomes a chaoslab :class:`~chaoslab.systems.System` (``system_``), with one
    parameter per kept coefficient, so forecasts run on chaoslab's compiled RK4 integrator
    (``substeps`` steps per sample) and ``equations()`` prints the model as text.

    Parameters
    ----------
    degree : int
        Highest polynomial degree of the library.
    frequencies : int
        Number of Fourier frequencies in the library (0: polynomial only).
    threshold : float
        STLSQ threshold: coefficients smaller in magnitude are set to zero.
    alpha : float
        Ridge penalty inside STLSQ (the kept terms are refitted without it).
    derivative_order : int
        Accuracy order of the finite differences (2 or 4 are sensible).
    substeps : int
        RK4 steps per sample in forecasts. At one step per sample the integration error
        of the learned model shortens forecasts noticeably on the benchmark flows (the
        default's figures are in the README's benchmark section and
        ``benchmarks/results/learners.json``); four steps give the converged rollout, as
        ten do.
    variables : list of str, optional
        Names of the variables in ``equations()``; ``x0, x1, ...`` by default.
    weighted : bool
        Weight each sample of the regression by the inverse of its estimated derivative
        error (below); ``False`` is plain STLSQ, as before.

    Notes
    -----
    **Coarse sampling.** The error of a finite-difference derivative grows like
    ``(dt / t_s)^order`` with ``t_s`` the local time scale of the motion, so it is not
    spread evenly: on Rossler it sits in the short spikes of ``z`` (7% of the samples),
    where at ``dt = 0.2`` it is about 130 times larger than elsewhere. Ordinary least
    squares is dominated by those samples and biased: the constant ``b = 0.2`` of
    ``dz/dt`` comes out as 0.07, under the threshold 0.1, so STLSQ drops it; without
    its source term ``z`` decays to 0, ``x`` and ``y`` spiral outward, and the next spike
    of the learned model grows without bound (every forecast non-finite within 150
    samples; at ``dt = 0.47``, 30 samples per Lyapunov time, spurious terms lose 2 of 5
    forecasts within 20 samples). With ``weighted=True`` (the default) each sample's
    derivative error is estimated as the difference ``e`` between the derivatives of
    orders ``derivative_order`` and ``derivative_order + 2``, and its row of the
    regression (for that variable) is weighted by ``1 / sqrt(e^2 + f^2)``: weighted least
    squares with the samples' own error estimates. The floor ``f`` is the median of ``e``
    or ``WEIGHT_FLOOR = 1e-6`` times the standard deviation of the variable's derivative,
    whichever is larger (errors below it count as exact: with no floor, on finely
    sampled Rossler the spikes weigh next to nothing and the ``z`` equation is lost;
    1e-7 to 3e-5 all serve on the flows measured, 1e-4 and above weaken the correction);
    the weights are scaled to a mean square of 1, which keeps the ridge ``alpha`` as
    strong as without them. The coefficient errors it removes, and its effect on noisy
    data, are measured in the README ("Lengths in time").
    ``substeps`` needs no change at coarse sampling: 4 and 16 give the same forecasts
    on Lorenz at ``dt`` 0.037 and Rossler at 0.2 and 0.47.
    """

    name = "sindy"

    def __init__(self, degree=2, threshold=0.1, alpha=0.05, derivative_order=6, substeps=4,
                 variables=None, frequencies=0, weighted=True):
        self.degree = degree
        self.weighted = weighted
        self.frequencies = frequencies
        self.threshold = threshold
        self.alpha = alpha
        self.derivative_order = derivative_order
        self.substeps = substeps
        self.variables = variables

    def _check_params(self):
        check_int(self.degree, "degree", minimum=0)
        check_float(self.threshold, "threshold", nonnegative=True)
        check_float(self.alpha, "alpha", nonnegative=True)
        check_int(self.derivative_order, "derivative_order", minimum=1)
        check_int(self.substeps, "substeps", minimum=1, maximum=1000)
        check_int(self.frequencies, "frequencies", minimum=0)
        if not isinstance(self.weighted, (bool, np.bool_)):
            raise ValueError(f"weighted must be True or False, got {self.weighted!r}")
        if self.variables is not None and (
                isinstance(self.variables, (str, bytes))
                or not isinstance(self.variables, (list, tuple))
                or not all(isinstance(v, str) for v in self.variables)):
            raise ValueError(f"variables must be None or a list of names, got "
                             f"{self.variables!r:.60}")

    def _min_samples(self):
        self._check_params()  # fit asks for this first: bad values never reach int()
        # the error estimate uses differences of order derivative_order + 2
        return int(self.derivative_order) + 5

    def _names(self, dim):
        if self.variables is None:
            return [f"x{i}" for i in range(dim)]
        names = list(self.variables)
        if len(names) != dim:
            raise ValueError(f"variables names {len(names)} variables, the data has {dim}")
        return names

    def _fit(self, parts, dt, report):
        import pysindy as ps

        dim = parts[0].shape[1]
        names = self._names(dim)
        order = int(self.derivative_order)
        fd = ps.FiniteDifference(order=order)
        fd_check = ps.FiniteDifference(order=order + 2)
        xs, xdots, errs = [], [], []
        for x in parts:
            d = np.asarray(fd(x, t=dt))
            err = np.abs(d - np.asarray(fd_check(x, t=dt)))
            keep = np.all(np.isfinite(d), axis=1) & np.all(np.isfinite(err), axis=1)
            xs.append(x[keep])
            xdots.append(d[keep])
            errs.append(err[keep])
        report(0.2, "derivatives estimated")
        n_freq = int(self.frequencies)
        if n_freq < 0:
            raise ValueError(f"frequencies must be >= 0, got {self.frequencies}")
        if not isinstance(self.weighted, (bool, np.bool_)):
            raise ValueError(f"weighted must be True or False, got {self.weighted!r}")
        library = ps.PolynomialLibrary(degree=int(self.degree))
        if n_freq:
            library = library + ps.FourierLibrary(n_frequencies=n_freq)
        x = np.concatenate(xs, axis=0)
        xdot = np.concatenate(xdots, axis=0)
        n_terms = math.comb(dim + int(self.degree), int(self.degree)) + 2 * n_freq * dim
        check_memory(8.0 * len(x) * n_terms * 4,
                     f"SINDy: degree={self.degree} on dim {dim} ({n_terms} terms) x "
                     f"{len(x)} samples")
        theta = np.asarray(library.fit_transform(x), dtype=np.float64)
        weights = (_weights(np.concatenate(errs, axis=0), xdot.std(axis=0)) if self.weighted
                   else None)
        coef = np.zeros((dim, theta.shape[1]))
        for i in range(dim):
            opt = ps.STLSQ(threshold=float(self.threshold), alpha=float(self.alpha))
            if weights is None:
                opt.fit(theta, xdot[:, i:i + 1])
            else:
                w = weights[:, i:i + 1]
                opt.fit(theta * w, xdot[:, i:i + 1] * w)
            coef[i] = np.asarray(opt.coef_, dtype=np.float64).reshape(-1)
            report(0.2 + 0.6 * (i + 1) / dim, "regression")
        self.coef_ = coef                                                    # (dim, terms)
        poly = library.libraries[0] if n_freq else library
        self.powers_ = np.asarray(poly.powers_, dtype=np.int64)             # (poly terms, dim)
        # Fourier terms in pysindy's order: for each frequency, each variable, sin then cos
        self.trig_ = np.array([(i, k, c) for k in range(1, n_freq + 1) for i in range(dim)
                               for c in (0, 1)], dtype=np.int64).reshape(-1, 3)
        if self._terms(names, pretty=True) != list(library.get_feature_names(names)):
            raise RuntimeError("chaoslab's reading of pysindy's library order is out of date: "
                               f"{library.get_feature_names(names)}")
        self.system_ = self._build_system(names)

    def _terms(self, names, pretty=False):
        """Each library term as text: parser syntax, or pysindy's names (``pretty``)."""
        out = []
        for row in self.powers_:
            factors = []
            for v, p in zip(names, row):
                if p == 1:
                    factors.append(v)
                elif p > 1:
                    factors.append(f"{v}^{int(p)}")
            out.append(("1" if pretty else "") if not factors else
                       (" " if pretty else "*").join(factors))
        for i, k, c in self.trig_:
            fn = ("sin", "cos")[int(c)]
            if pretty:
                out.append(f"{fn}({int(k)} {names[i]})")
            else:
                out.append(f"{fn}({names[i]})" if k == 1 else f"{fn}({int(k)}*{names[i]})")
        return out

    def _build_system(self, names):
        from .. import systems

        terms = self._terms(names)
        equations, params = [], {}
        for i in range(len(names)):
            pieces = []
            for j, term in enumerate(terms):
                c = self.coef_[i, j]
                if c == 0.0:
                    continue
                pname = f"c_{i}_{j}"
                params[pname] = float(c)
                pieces.append(pname if term == "" else f"{pname}*{term}")
            equations.append(" + ".join(pieces) if pieces else "0")
        return systems.define("SINDy model", names, equations, params,
                              x0=[0.0] * len(names), dt=self.dt_)

    def equations(self, precision=4):
        """The learned vector field as text, one line per variable."""
        self._check_fitted()
        names = self._names(self.dim_)
        terms = self._terms(names)
        lines = []
        for i, v in enumerate(names):
            pieces = [f"{self.coef_[i, j]:+.{precision}g}" + (f" {t}" if t else "")
                      for j, t in enumerate(terms) if self.coef_[i, j] != 0.0]
            lines.append(f"d{v}/dt = " + (" ".join(pieces) if pieces else "0"))
        return lines

    def _forecast(self, ctx, n_steps):
        from ..integrate import simulate

        x0 = ctx[:, -1]
        if n_steps == 0:
            return np.empty((len(x0), 0, self.dim_))
        x = simulate(self.system_, n_steps + 1, dt=self.dt_, x0=x0, method="rk4",
                     substeps=int(self.substeps), on_diverge="ignore")
        return x[:, 1:]

    #: ``transient`` of :meth:`lyapunov_exponent` was always a time here
    _transient_was_samples = False

    def lyapunov_exponent(self, context, *, T=None, transient=None, renorm=10, eps=1e-7,
                          **deprecated):
        """Largest Lyapunov exponent of the learned vector field, per unit time.

        Benettin's method on the model's exact Jacobian (:func:`chaoslab.lyapunov_spectrum`,
        RK4 at the training ``dt``), started from the last row of ``context`` (its first
        trajectory if a batch). The signature is that of
        :meth:`chaoslab.learners.Learner.lyapunov_exponent`.

        Parameters
        ----------
        context : array (n_ctx, dim) or (batch, n_ctx, dim)
        T, transient : float, optional
            Span of the estimate and the transient discarded first, in the system's time
            units; by default those of :func:`chaoslab.lyapunov_spectrum` (the exact
            Jacobian is cheap, so they are longer than other learners' defaults).
        renorm : int
            Steps between re-orthonormalisations.
        eps : float
            Unused: the tangent dynamics need no finite perturbation (kept for the shared
            signature).
        """
        from ..analysis import lyapunov_spectrum

        self._check_fitted()
        func = "SINDy.lyapunov_exponent"
        old_style = "n_steps" in deprecated
        T = renamed_keyword(deprecated, "n_steps", "T", T, None, func=func,
                            convert=lambda n: check_int(n, "n_steps", minimum=1) * self.dt_)
        reject_unknown(deprecated, func)
        T, transient = self._lyapunov_spans(T, transient, old_style, func, default=False)
        renorm = check_int(renorm, "renorm", minimum=1)
        ctx, _ = self._check_context(context)
        # the whole spectrum, as before: its first exponent equals a k=1 run only in law
        return float(lyapunov_spectrum(self.system_, T=T, transient=transient,
                                       x0=ctx[0, -1], dt=self.dt_, renorm=renorm)[0])

    def _state_arrays(self):
        return {"coef_": self.coef_, "powers_": self.powers_, "trig_": self.trig_}

    def _load_arrays(self, arrays, meta):
        dim = self.dim_
        degree = check_int(self.degree, "degree", minimum=0)
        n_freq = check_int(self.frequencies, "frequencies", minimum=0)
        check_int(self.substeps, "substeps", minimum=1, maximum=1000)
        check_file_arrays(arrays, ("coef_", "powers_"), optional=("trig_",))
        coef = file_array(arrays, "coef_", (dim, None))
        n_terms = coef.shape[1]
        # the library pysindy builds: every monomial of degree <= degree once, then sin
        # and cos of k * x_i for k = 1..frequencies (checked without listing a library
        # that a lying degree would make huge)
        n_poly = math.comb(dim + degree, degree) if degree < n_terms else n_terms + 1
        n_trig = 2 * dim * n_freq
        if n_terms != n_poly + n_trig:
            raise LearnerFileError(f"array 'coef_' has {n_terms} terms per variable; "
                                   f"degree={self.degree!r}, frequencies="
                                   f"{self.frequencies!r} and dim_={dim} give "
                                   f"{'more' if n_poly > n_terms else n_poly + n_trig}")
        powers = file_array(arrays, "powers_", (n_poly, dim), integer=True, minimum=0,
                            maximum=degree)
        if np.any(powers.sum(axis=1) > degree) or len(np.unique(powers, axis=0)) != n_poly:
            raise LearnerFileError(f"array 'powers_' is not the monomials of degree <= "
                                   f"{degree} in {dim} variables, each once")
        if "trig_" in arrays or n_trig:
            trig = file_array(arrays, "trig_", (n_trig, 3), integer=True, minimum=0)
        else:                                  # files of 0.2 and before
            trig = np.empty((0, 3), dtype=np.int64)
        if n_trig and (trig[:, 0].max() >= dim or trig[:, 1].min() < 1
                       or trig[:, 1].max() > n_freq or trig[:, 2].max() > 1
                       or len(np.unique(trig, axis=0)) != n_trig):
            raise LearnerFileError(f"array 'trig_' is not the Fourier terms (variable < "
                                   f"{dim}, frequency 1..{n_freq}, sin 0 or cos 1), each once")
        self.coef_, self.powers_, self.trig_ = coef, powers, trig
        self.system_ = self._build_system(self._names(self.dim_))
