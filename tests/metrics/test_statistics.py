"""D_stsp (binned and GMM) and D_H: each against an independent implementation of the
authors' definition written here with explicit loops (dict bin counts, explicit KL sums,
a direct DFT and convolution), plus known answers."""
import itertools
import math

import numpy as np
import pytest

from chaoslab import metrics

# --------------------------------------------------------------- reference implementations


def ref_binned_stsp(x_true, x_gen, bins=30, alpha=1e-5):
    """DurstewitzLab's binned D_stsp: per variable, bins equal bins from min - 0.1 sd to
    max + 0.1 sd of the truth (sd with n - 1), closed on the left; samples outside are
    left out; Laplace smoothing (h + alpha) / (n_in + alpha B); KL(p || q) in nats."""
    n, dim = len(x_true), len(x_true[0])
    edges = []
    for i in range(dim):
        col = [row[i] for row in x_true]
        mean = sum(col) / n
        sd = math.sqrt(sum((c - mean) ** 2 for c in col) / (n - 1))
        lo, hi = min(col) - 0.1 * sd, max(col) + 0.1 * sd
        edges.append([lo + (hi - lo) * j / bins for j in range(bins + 1)])

    def counts(x):
        h = {}
        for row in x:
            key = []
            for i, v in enumerate(row):
                j = sum(1 for e in edges[i] if e <= v) - 1
                if j < 0 or j >= bins:
                    break
                key.append(j)
            else:
                h[tuple(key)] = h.get(tuple(key), 0) + 1
        return h

    ht, hg = counts(x_true), counts(x_gen)
    nt, ng = sum(ht.values()), sum(hg.values())
    n_bins = bins ** dim
    kl = 0.0
    for key in itertools.product(range(bins), repeat=dim):
        p = (ht.get(key, 0) + alpha) / (nt + alpha * n_bins)
        q = (hg.get(key, 0) + alpha) / (ng + alpha * n_bins)
        kl += p * math.log(p / q)
    return kl


def ref_gmm_stsp(x_true, x_gen, sigma2=1.0, n_samples=1000, max_points=10_000, seed=0):
    """DurstewitzLab's GMM D_stsp: a Gaussian of variance sigma2 on each of the first
    T points; Monte-Carlo KL from samples of the true mixture, drawn as documented."""
    T = min(len(x_true), max_points)
    X, Y = x_true[:T], x_gen[:T]
    dim = len(X[0])
    sigma = math.sqrt(sigma2)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, T, size=n_samples)
    noise = rng.standard_normal((n_samples, dim))

    def density(s, centres):
        total = 0.0
        for c in centres:
            d2 = sum((s[i] - c[i]) ** 2 for i in range(dim))
            total += math.exp(-0.5 * d2 / sigma2)
        return total / len(centres) / sigma ** dim

    acc = 0.0
    for j in range(n_samples):
        s = [X[idx[j]][i] + sigma * noise[j][i] for i in range(dim)]
        acc += math.log(density(s, X)) - math.log(density(s, Y))
    return acc / n_samples


def ref_spectrum(x, smoothing):
    """z-score, |DFT|^2 at frequencies 0..n//2 by the direct sum, Gaussian smoothing with
    a kernel of radius 4 sigma and reflection at the ends (d c b a | a b c d | d c b a),
    negatives to 0, normalise."""
    n = len(x)
    mean = sum(x) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in x) / (n - 1))
    z = [(v - mean) / sd for v in x]
    ps = []
    for k in range(n // 2 + 1):
        re = sum(z[t] * math.cos(2 * math.pi * k * t / n) for t in range(n))
        im = sum(z[t] * math.sin(2 * math.pi * k * t / n) for t in range(n))
        ps.append(re * re + im * im)
    if smoothing > 0:
        r = int(4 * smoothing + 0.5)
        w = [math.exp(-0.5 * (j / smoothing) ** 2) for j in range(-r, r + 1)]
        w = [v / sum(w) for v in w]
        m = len(ps)

        def at(i):                        # reflect about the outer edge
            while i < 0 or i >= m:
                i = -i - 1 if i < 0 else 2 * m - i - 1
            return ps[i]

        ps = [max(0.0, sum(w[j + r] * at(i + j) for j in range(-r, r + 1)))
              for i in range(m)]
    total = sum(ps)
    return [v / total for v in ps]


def ref_power_spectrum_distance(x_true, x_gen, smoothing=20.0):
    hs = []
    for i in range(len(x_true[0])):
        p = ref_spectrum([row[i] for row in x_true], smoothing)
        q = ref_spectrum([row[i] for row in x_gen], smoothing)
        bc = sum(math.sqrt(a * b) for a, b in zip(p, q))     # 1 - H^2
        hs.append(math.sqrt(max(0.0, 1.0 - bc)))
    return sum(hs) / len(hs)


def lorenz(n, dt=0.01, x0=(1.0, 1.0, 20.0), transient=1000):
    """Lorenz-63 by RK4 (no chaoslab involved)."""
    def f(u):
        x, y, z = u
        return np.array([10 * (y - x), x * (28 - z) - y, x * y - 8 / 3 * z])
    u = np.array(x0, dtype=float)
    out = np.empty((n, 3))
    for k in range(transient + n):
        k1 = f(u)
        k2 = f(u + dt / 2 * k1)
        k3 = f(u + dt / 2 * k2)
        k4 = f(u + dt * k3)
        u = u + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        if k >= transient:
            out[k - transient] = u
    return out


@pytest.fixture(scope="module")
def lor():
    return lorenz(6000)


# ----------------------------------------------------------------------------- D_stsp


def test_binned_stsp_matches_the_reference(lor):
    a, b = lor[:3000], lor[3000:]
    rng = np.random.default_rng(1)
    for x_true, x_gen, bins in [
        (a[:, :2], b[:, :2], 30),                        # 900 bins
        (a, b, 10),                                      # 1000 bins, 3 variables
        (a[:, :2], b[:, :2] * 1.3 + [2.0, -1.0], 30),    # partly outside the box
        (rng.normal(size=(800, 2)), rng.normal(size=(500, 2)) + [0.7, 0.0], 12),
    ]:
        want = ref_binned_stsp(x_true.tolist(), x_gen.tolist(), bins)
        got = metrics.state_space_divergence(x_true, x_gen, bins)
        assert got == pytest.approx(want, rel=1e-9, abs=1e-12)


def test_binned_stsp_in_many_dimensions():
    """30 bins in 14 variables are 30**14 bins, more than an int64 index counts: the bins
    are then named by their index rows. Against explicit sums over the occupied bins plus
    the empty ones, which all hold p0 log(p0 / q0)."""
    rng = np.random.default_rng(4)
    a = rng.normal(size=(400, 14))
    b = rng.normal(size=(300, 14)) * 1.2 + 0.1
    a[:, 3] = np.round(a[:, 3])               # a few shared bins in every variable
    b[:, 3] = np.round(b[:, 3])
    edges = metrics.bin_edges(a, 30)

    def counts(x):
        h = {}
        for row in x:
            key = tuple(int(np.searchsorted(e, v, side="right")) - 1
                        for e, v in zip(edges, row))
            if all(0 <= j < 30 for j in key):
                h[key] = h.get(key, 0) + 1
        return h

    ht, hg = counts(a), counts(b)
    nt, ng, B, alpha = sum(ht.values()), sum(hg.values()), 30 ** 14, 1e-5
    kl = 0.0
    for key in set(ht) | set(hg):
        p = (ht.get(key, 0) + alpha) / (nt + alpha * B)
        q = (hg.get(key, 0) + alpha) / (ng + alpha * B)
        kl += p * math.log(p / q)
    p0, q0 = alpha / (nt + alpha * B), alpha / (ng + alpha * B)
    kl += (B - len(set(ht) | set(hg))) * p0 * math.log(p0 / q0)
    assert metrics.state_space_divergence(a, b) == pytest.approx(kl, rel=1e-9)
    assert metrics.state_space_divergence(a, a) == pytest.approx(0.0, abs=1e-12)


def test_binned_stsp_known_answers():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(200_000, 2))
    b = rng.normal(size=(200_000, 2))
    assert metrics.state_space_divergence(a, a) == 0.0
    assert metrics.state_space_divergence(a, a[::-1]) == pytest.approx(0.0, abs=1e-12)
    same = metrics.state_space_divergence(a, b)
    shifted = metrics.state_space_divergence(a, b + [1.0, 0.0])
    assert same < 0.05 < shifted
    # KL of N(0,1) from N(1,1) is 1/2 nat per shifted coordinate; binning gets close
    assert shifted == pytest.approx(0.5, rel=0.15)
    # one generated point in the box, the rest far away: judged on the point alone (the
    # authors' definition leaves outside samples out); none in the box: inf
    far = b + 100.0
    assert metrics.state_space_divergence(a, far) == math.inf
    # the box is from the truth: the bins of bin_edges
    e = metrics.bin_edges(a, 30)
    assert len(e) == 2 and len(e[0]) == 31
    sd = a.std(axis=0, ddof=1)
    assert e[0][0] == pytest.approx(a[:, 0].min() - 0.1 * sd[0])
    assert e[1][-1] == pytest.approx(a[:, 1].max() + 0.1 * sd[1])


def test_gmm_stsp_matches_the_reference(lor):
    x_true = lor[:300] / 8.0
    x_gen = lor[3000:3250] / 8.0 + 0.2
    want = ref_gmm_stsp(x_true.tolist(), x_gen.tolist(), 0.5, n_samples=200,
                        max_points=280, seed=3)
    got = metrics.state_space_divergence(x_true, x_gen, method="gmm", scaling=0.5,
                                         n_samples=200, max_points=280, seed=3)
    assert got == pytest.approx(want, rel=1e-9)


def test_gmm_stsp_known_answers():
    """Samples of N(0, I) under a kernel of variance s2: the mixture is close to
    N(0, (1 + s2) I); a shift by c in one coordinate gives KL = c^2 / (2 (1 + s2))."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=(2000, 2))
    b = rng.normal(size=(2000, 2))
    kw = dict(method="gmm", n_samples=5000, seed=1)
    assert metrics.state_space_divergence(a, a, **kw) == 0.0
    assert abs(metrics.state_space_divergence(a, b, **kw)) < 0.02
    assert metrics.state_space_divergence(a, b + [1.0, 0.0], **kw) == pytest.approx(
        0.25, abs=0.03)
    # a truth at one point is exactly one Gaussian: KL = |c|^2 / (2 s2)
    zero = np.zeros((50, 2))
    assert metrics.state_space_divergence(zero, zero + [1.0, 0.0], scaling=0.25, **kw) \
        == pytest.approx(2.0, abs=0.1)
    assert metrics.state_space_divergence(zero, zero + [0.0, 3.0], **kw) \
        == pytest.approx(4.5, abs=0.15)
    # only the first max_points points count
    assert metrics.state_space_divergence(a, np.vstack([a[:100], b + 50]), max_points=100,
                                          **kw) == 0.0
    # far away: a large finite divergence, no sample dropped
    far = metrics.state_space_divergence(a, b + 40.0, **kw)
    assert math.isfinite(far) and far > 500


@pytest.mark.parametrize("method", ["binned", "gmm"])
def test_stsp_cannot_report_agreement_it_has_not_seen(method):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(2000, 3))
    bad = a.copy()
    bad[3] = np.inf
    assert metrics.state_space_divergence(a, bad, method=method) == math.inf
    bad[3] = np.nan
    assert metrics.state_space_divergence(a, bad, method=method) == math.inf
    for truth in (np.full_like(a, np.nan), bad):
        with pytest.raises(ValueError, match="x_true holds a non-finite value"):
            metrics.state_space_divergence(truth, a, method=method)
    with pytest.raises(ValueError, match="different dimensions"):
        metrics.state_space_divergence(a, a[:, :2], method=method)
    with pytest.raises(ValueError, match="method must be one of"):
        metrics.state_space_divergence(a, a, method="kde")


def test_stsp_of_a_constant_truth_is_an_error():
    with pytest.raises(ValueError, match="x_true is constant in variable"):
        metrics.state_space_divergence(np.ones((10, 2)), np.ones((10, 2)))


# -------------------------------------------------------------------------------- D_H


def test_power_spectrum_distance_matches_the_reference(lor):
    rng = np.random.default_rng(2)
    x_true = lor[:256]
    x_gen = lor[2000:2256] * [1.0, 0.5, 2.0] + rng.normal(scale=2.0, size=(256, 3))
    for smoothing in (20.0, 3.0, 0.0):
        want = ref_power_spectrum_distance(x_true.tolist(), x_gen.tolist(), smoothing)
        got = metrics.power_spectrum_distance(x_true, x_gen, smoothing=smoothing)
        assert got == pytest.approx(want, rel=1e-7, abs=1e-9)
    assert 0.05 < metrics.power_spectrum_distance(x_true, x_gen) < 1


def test_power_spectrum_distance_known_answers():
    t = np.arange(20_000) * 0.01
    x = np.sin(2 * np.pi * 1.0 * t)[:, None]
    y = np.sin(2 * np.pi * 1.0 * t + 1.0)[:, None]      # same spectrum, other phase
    z = np.sin(2 * np.pi * 7.0 * t)[:, None]            # disjoint spectrum
    assert metrics.power_spectrum_distance(x, x) == 0.0
    assert metrics.power_spectrum_distance(x, y) < 0.01
    assert metrics.power_spectrum_distance(x, z) > 0.99
    # each series is z-scored on its own: shifting and scaling change nothing
    w = np.column_stack([x[:, 0], z[:, 0] + 0.3 * x[:, 0]])
    assert metrics.power_spectrum_distance(w, 5.0 * w - 3.0) == pytest.approx(0.0, abs=1e-7)
    # the mean over variables
    two = metrics.power_spectrum_distance(np.hstack([x, x]), np.hstack([x, z]))
    assert two == pytest.approx(metrics.power_spectrum_distance(x, z) / 2, rel=1e-9)


def test_power_spectrum_distance_cannot_report_agreement_it_has_not_seen():
    t = np.arange(2000) * 0.01
    x = np.column_stack([np.sin(2 * np.pi * t), np.cos(3 * t)])
    assert metrics.power_spectrum_distance(x, x * np.nan) == 1.0
    bad = x.copy()
    bad[7, 1] = np.inf
    assert metrics.power_spectrum_distance(x, bad) == 1.0
    # a generated fixed point (constant up to rounding) has no power where the truth has
    fixed = np.tile([13.06198564, 4.04639553], (2000, 1))
    assert metrics.power_spectrum_distance(x, fixed) == 1.0
    half = np.column_stack([x[:, 0], np.full(2000, 2.0)])
    assert metrics.power_spectrum_distance(x, half) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="x_true holds a non-finite value"):
        metrics.power_spectrum_distance(x * np.nan, x)
    with pytest.raises(ValueError, match="x_true is constant"):
        metrics.power_spectrum_distance(fixed, x)
    with pytest.raises(ValueError, match="same length"):
        metrics.power_spectrum_distance(x, x[:1000])
