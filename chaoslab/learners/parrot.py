"""Context parroting: forecast by copying what followed the nearest past motif."""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..validation import check_choice, check_float, check_int, reject_unknown
from .base import Learner, LearnerFileError, check_file_arrays, file_array
from .timescale import AUTO, RULES, auto_samples

__all__ = ["Parrot", "SEARCHES"]

#: where :class:`Parrot` looks for the motif (its ``search`` hyperparameter)
SEARCHES = ("both", "context", "training")

# distance evaluations held in memory at once (queries x windows), to bound temporaries
_CHUNK = 4_000_000


class Parrot(Learner):
    """Context parroting, the zero-parameter forecasting baseline of Zhang & Gilpin (2025),
    "Context parroting: a simple but tough-to-beat baseline for foundation models in
    scientific machine learning", arXiv:2505.11349.

    The method, as the paper describes it: the last ``D = motif_length``
    observations form a motif (a point in ``D``-dimensional delay coordinates, ``skip``
    samples apart); the earlier motif of the same length at the smallest Euclidean
    distance from it is found; the forecast copies what followed that earlier motif.
    Here the states are vectors, so a motif is ``D`` whole states, each variable divided
    by its standard deviation over the training data (for one variable this is the
    paper's plain Euclidean distance: the nearest motif is the same).

    Details, each a choice this implementation states:

    * **Candidates in the context** are the motifs that end before the last motif begins
      (they do not overlap it), as in a public implementation of the method; a motif
      shifted by one sample from the last would be nearest and would forecast
      persistence.
    * **Ties** (equal distances, e.g. on exactly periodic data) go to the earliest motif,
      and a motif in the context wins over one in the training data at the same distance.
    * **Running past the end.** A context match at row ``m`` of a context of ``n`` rows
      copies rows ``m + 1, ..., n - 1`` and then keeps parroting from the copied segment:
      the forecast is periodic with period ``n - 1 - m`` (for an exactly periodic signal,
      its exact continuation; the implementation mentioned above repeats rows
      ``m + 1 .. n - 2``, one sample short of that period). A training match copies the
      rest of its training trajectory; if the forecast is longer, the last motif of the
      context and the forecast so far is matched again and copying resumes from there.

    The paper searches only the context (zero-shot: ``search="context"``, which needs a
    context of at least ``2 D`` rows). chaoslab's learners are fitted, so by default
    (``search="both"``) the motif is also looked up in the training trajectories given to
    ``fit``: nearest-neighbour "analogue" forecasting over a long record (Lorenz 1969),
    which needs only ``D`` context rows; ``search="training"`` uses the training data
    alone. ``fit`` stores the training data (``train_``) and their scale; nothing is
    learned.

    Parameters
    ----------
    motif_length : int or "auto"
        ``D``, the number of states in a motif (the embedding dimension of the delay
        coordinates; ``motif_length_``). On Lorenz the skill hardly depends on it up to
        a few tens (the README's "Lengths in time" has the measurements): full states need no delays; 10 leaves room for
        a scalar observation, whose delay embedding needs more than twice the
        attractor's dimension. ``"auto"``: the motif spans half the data's time scale,
        ``(D - 1) * skip = round(time_scale_ / (2 dt))`` samples
        (:mod:`chaoslab.learners.timescale`): 10 on Lorenz at ``dt`` 0.01 (the previous
        default), 4 at 0.037 (median valid prediction time over 20 starts there 1.8
        Lyapunov times, 1.3 with 10).
    skip : int
        Spacing of the states of a motif, in samples (the delay ``tau``, 1 in the public
        implementation).
    search : {"both", "context", "training"}
        Where motifs are looked up (see above).

    Attributes
    ----------
    train_ : array (n_train, dim)
        The training trajectories, one after another (empty for ``search="context"``).
    lengths_ : int array
        Length of each training trajectory in ``train_``.
    scale_ : array (dim,)
        Standard deviation of each variable over the training data (distances are
        measured in these units).
    """

    name = "parrot"

    @classmethod
    def quick_params(cls):
        """Settings for tests and demos: the defaults (fitting only stores the data)."""
        return {}

    _lengths = {"motif_length": RULES["parrot", "motif_length"]}

    def __init__(self, motif_length=AUTO, skip=1, search="both"):
        self.motif_length = motif_length
        self.skip = skip
        self.search = search

    # ------------------------------------------------------------------ geometry
    @property
    def _span(self):
        """Rows covered by one motif."""
        return (self._length("motif_length") - 1) * int(self.skip) + 1

    @property
    def context_length(self):
        # the context-only search needs one earlier motif that does not overlap the last
        return 2 * self._span if self.search == "context" else self._span

    def _min_samples(self):
        # one training motif with at least one state after it
        return 2 if self.search == "context" else self._span + 1

    def _windows(self, u):
        """Motifs of ``u`` ``(n, dim)``, ``(n - span + 1, dim, D)``, row ``i`` ending at
        row ``i + span - 1`` (a view)."""
        return sliding_window_view(u, self._span, axis=0)[:, :, ::int(self.skip)]

    def _auto_length(self, name, tau, dt):
        # the rule gives the motif's span in samples; D states, skip apart, cover it
        span = auto_samples(self._lengths[name][0], tau, dt, minimum=0)
        return 1 + int(np.floor(span / int(self.skip) + 0.5))

    def _resolve_lengths(self, dt):
        check_int(self.skip, "skip", minimum=1)           # the motif's span needs it
        super()._resolve_lengths(dt)

    # ------------------------------------------------------------------ fitting
    def _fit(self, parts, dt, report):
        check_choice(self.search, "search", SEARCHES)
        allx = np.vstack(parts)
        scale = allx.std(axis=0)
        self.scale_ = np.where(scale > 0, scale, 1.0)
        if self.search == "context":
            self.train_ = np.empty((0, allx.shape[1]))
            self.lengths_ = np.empty(0, dtype=np.int64)
        else:
            keep = [p for p in parts if len(p) >= self._span + 1]
            self.train_ = np.vstack(keep)
            self.lengths_ = np.array([len(p) for p in keep], dtype=np.int64)
        self._library = None
        report(0.5, "training data stored")

    def _state_arrays(self):
        return {"train_": self.train_, "lengths_": self.lengths_, "scale_": self.scale_}

    def _load_arrays(self, arrays, meta):
        dim = self.dim_
        check_choice(self.search, "search", SEARCHES)
        check_int(self.skip, "skip", minimum=1)
        check_file_arrays(arrays, ("train_", "lengths_", "scale_"))
        train = file_array(arrays, "train_", (None, dim))
        lengths = file_array(arrays, "lengths_", (None,), integer=True,
                             minimum=0 if self.search == "context" else self._span + 1,
                             maximum=len(train))
        if int(lengths.sum()) != len(train) or (self.search == "context" and len(train)):
            raise LearnerFileError(f"array 'lengths_' (trajectory lengths summing to "
                                   f"{int(lengths.sum())}) does not describe 'train_' "
                                   f"({len(train)} rows, search={self.search!r})")
        scale = file_array(arrays, "scale_", (dim,), positive=True)
        with np.errstate(all="ignore"):
            reach = float(np.max(np.abs(train / scale), initial=0.0))
        # squared distances of motifs must stay finite (standardised data are of order 1)
        if not reach <= 1e100:
            raise LearnerFileError(f"array 'train_' reaches {reach:.3g} in units of "
                                   "'scale_': beyond what motif distances can be "
                                   "computed in")
        self.train_, self.lengths_, self.scale_ = train, lengths, scale
        self._library = None

    def _training_library(self):
        """``(W, norms, ends, part_ends)``: the training motifs (flattened, in units of
        ``scale_``), their squared norms, the row of ``train_`` each ends at and the end
        (exclusive) of its trajectory. Built on first use."""
        lib = getattr(self, "_library", None)
        if lib is None:
            span = self._span
            u = self.train_ / self.scale_
            starts = np.concatenate([[0], np.cumsum(self.lengths_)[:-1]])
            idx, part_end = [], []
            for s, n in zip(starts, self.lengths_):
                # motifs starting at s .. s + n - span - 1 keep a state after them
                w = np.arange(s, s + n - span, dtype=np.int64)
                idx.append(w)
                part_end.append(np.full(len(w), s + n, dtype=np.int64))
            idx = np.concatenate(idx) if idx else np.empty(0, dtype=np.int64)
            W = self._windows(u)[idx].reshape(len(idx), -1) if len(idx) else \
                np.empty((0, u.shape[1] * self.motif_length_))
            W = np.ascontiguousarray(W)
            lib = (W, np.einsum("ij,ij->i", W, W), idx + span - 1,
                   np.concatenate(part_end) if part_end else np.empty(0, dtype=np.int64))
            self._library = lib
        return lib

    # ------------------------------------------------------------------ searching
    def _nearest_training(self, queries):
        """Nearest training motif of each query ``(q, dim * D)``: ``(distance^2, row of
        train_ it ends at, end of its trajectory)``; ties go to the earliest.

        Squared distances are computed as ``|q|^2 + |w|^2 - 2 q.w`` (one matrix product);
        the motifs within rounding of the smallest are then compared exactly, so the
        answer (ties included) is that of exact arithmetic on the differences.
        """
        W, wn, ends, part_end = self._training_library()
        nq = len(queries)
        best_d = np.full(nq, np.inf)
        best_i = np.zeros(nq, dtype=np.int64)
        if len(W) == 0:
            return best_d, best_i, best_i
        qn = np.einsum("ij,ij->i", queries, queries)
        wmax = float(wn.max())
        step = max(1, _CHUNK // max(1, len(W)))
        for a in range(0, nq, step):
            q = queries[a:a + step]
            d2 = (qn[a:a + step, None] + wn[None, :]) - 2.0 * (q @ W.T)
            low = d2.min(axis=1)
            tol = 1e-10 * (qn[a:a + step] + wmax) + 1e-300
            for r in range(len(q)):
                cand = np.flatnonzero(d2[r] <= low[r] + tol[r])
                diff = W[cand] - q[r]
                exact = np.einsum("ij,ij->i", diff, diff)
                j = int(np.argmin(exact))
                best_d[a + r] = exact[j]
                best_i[a + r] = cand[j]
        return best_d, ends[best_i], part_end[best_i]

    def _nearest_in_sequence(self, u, n):
        """Nearest motif of ``u[:n]`` to its last motif, among those that end before the
        last one begins: ``(distance^2, row it ends at)``, or ``(inf, -1)`` if none."""
        span = self._span
        n_cand = n - 2 * span + 1
        if n_cand <= 0:
            return np.inf, -1
        win = self._windows(u[:n - span])               # ends at span - 1 .. n - span - 1
        q = self._windows(u[n - span:n])[0]
        per = max(1, _CHUNK // q.size)
        best_d, best_e = np.inf, -1
        for a in range(0, len(win), per):
            diff = win[a:a + per] - q
            d2 = np.einsum("ijk,ijk->i", diff, diff)
            j = int(np.argmin(d2))
            if d2[j] < best_d:
                best_d, best_e = float(d2[j]), a + j + span - 1
        return best_d, best_e

    # ------------------------------------------------------------------ forecasting
    def _forecast(self, ctx, n_steps):
        B, n_ctx, dim = ctx.shape
        total = n_ctx + n_steps
        seq = np.zeros((B, total, dim))
        seq[:, :n_ctx] = ctx
        useq = seq / self.scale_                        # distances in units of scale_
        length = np.full(B, n_ctx)
        span = self._span
        use_ctx = self.search in ("both", "context")
        use_train = self.search in ("both", "training")
        active = np.arange(B) if n_steps > 0 else np.arange(0)
        while len(active):
            d_ctx = np.full(len(active), np.inf)
            e_ctx = np.full(len(active), -1)
            if use_ctx:
                for r, b in enumerate(active):
                    d_ctx[r], e_ctx[r] = self._nearest_in_sequence(useq[b], length[b])
            d_tr = np.full(len(active), np.inf)
            if use_train:
                q = np.stack([self._windows(useq[b, length[b] - span:length[b]])[0].ravel()
                              for b in active])
                d_tr, e_tr, end_tr = self._nearest_training(q)
            still = []
            for r, b in enumerate(active):
                n = length[b]
                if e_ctx[r] >= 0 and d_ctx[r] <= d_tr[r]:
                    # copy what followed, then keep parroting the copied segment
                    m = e_ctx[r]
                    period = n - 1 - m
                    k = np.arange(total - n)
                    seq[b, n:] = seq[b, m + 1 + k % period]
                    length[b] = total
                elif np.isfinite(d_tr[r]):
                    src = e_tr[r] + 1
                    c = int(min(end_tr[r] - src, total - n))
                    seq[b, n:n + c] = self.train_[src:src + c]
                    length[b] = n + c
                    if length[b] < total:
                        useq[b, n:n + c] = seq[b, n:n + c] / self.scale_
                        still.append(b)
                else:                                   # pragma: no cover - fit prevents it
                    raise RuntimeError("parrot found no motif to copy")
            active = np.array(still, dtype=np.int64)
        return seq[:, n_ctx:]

    # ------------------------------------------------------------------ dynamics
    def lyapunov_exponent(self, context, *, T=None, transient=None, renorm=10, eps=1e-7,
                          **unknown):
        """0.0: parroting has no dynamics of its own to take an exponent of.

        The forecast copies recorded states. It is piecewise constant in the context: a
        small change of the context selects the same motif and gives the same forecast,
        so the twin-trajectory estimate of :meth:`Learner.lyapunov_exponent` has no
        separation to measure. The value returned is the exponent of a map that carries a
        perturbation along unchanged (as persistence does); the exponent of the copied
        data is the system's own, estimated from the data, not from this learner. The
        arguments are checked as for every learner.
        """
        self._check_fitted()
        reject_unknown(unknown, f"{type(self).__name__}.lyapunov_exponent")
        self._lyapunov_spans(T, transient, False, f"{type(self).__name__}.lyapunov_exponent")
        check_int(renorm, "renorm", minimum=1)
        check_float(eps, "eps", positive=True)
        self._check_context(context)
        return 0.0
