"""The analysis toolbox beyond Lyapunov exponents, against known answers."""
import math

import numpy as np
import pytest

import chaoslab as cl
from chaoslab.analysis import (chaos_test_01, fixed_points, gali, periodic_orbits, rqa,
                               recurrence_plot)


# ----------------------------------------------------------------- 0-1 test
@pytest.mark.parametrize("name, params", [("Lorenz", None), ("Logistic", {"r": 4.0}),
                                          ("Henon", None)])
def test_chaos_01_chaotic(name, params):
    assert chaos_test_01(name, params=params).K > 0.9


@pytest.mark.parametrize("name, params", [("Logistic", {"r": 3.2}),
                                          ("Rossler", {"c": 2.5})])  # a period-1 cycle
def test_chaos_01_regular(name, params):
    assert abs(chaos_test_01(name, params=params).K) < 0.1


def test_chaos_01_other_seeds_and_sampling():
    for seed in (1, 2):
        assert chaos_test_01("Lorenz", seed=seed, sample_time=0.5, n_samples=3000).K > 0.9
    x = np.sin(0.7 * np.arange(4000)) + 0.5 * np.sin(0.7 * math.sqrt(2) * np.arange(4000))
    assert abs(chaos_test_01(x).K) < 0.1  # quasi-periodic: regular


def test_chaos_01_bad_input():
    with pytest.raises(ValueError, match="data"):
        chaos_test_01(np.array([1.0, np.nan] * 100))
    with pytest.raises(ValueError, match="sample_time"):
        chaos_test_01("Lorenz", sample_time=-1.0)
    with pytest.raises(ValueError, match="observable"):
        chaos_test_01("Lorenz", observable="w")


# ------------------------------------------------------------- fixed points
def test_lorenz_fixed_points_closed_form():
    s = cl.systems.get("Lorenz")
    sigma, rho, beta = s.values["sigma"], s.values["rho"], s.values["beta"]
    c = math.sqrt(beta * (rho - 1))
    fps = fixed_points(s)
    xs = np.array([f.x for f in fps])
    np.testing.assert_allclose(xs, [[-c, -c, rho - 1], [0, 0, 0], [c, c, rho - 1]],
                               atol=1e-9)
    # eigenvalues at the origin: -beta and the roots of l^2 + (sigma+1) l - sigma(rho-1)
    disc = math.sqrt((sigma + 1) ** 2 + 4 * sigma * (rho - 1))
    expect = sorted([-beta, (-(sigma + 1) - disc) / 2, (-(sigma + 1) + disc) / 2])
    np.testing.assert_allclose(np.sort(fps[1].eigenvalues.real), expect, rtol=1e-10)
    assert all(f.kind == "saddle" and not f.stable for f in fps)
    # below rho = 1 the origin is the only fixed point, and it is stable
    (only,) = fixed_points(s, params={"rho": 0.5})
    np.testing.assert_allclose(only.x, 0, atol=1e-12)
    assert only.stable and only.kind == "stable"


def test_henon_fixed_points_closed_form():
    s = cl.systems.get("Henon")
    a, b = s.values["a"], s.values["b"]
    roots = sorted([(-(1 - b) + sg * math.sqrt((1 - b) ** 2 + 4 * a)) / (2 * a)
                    for sg in (1, -1)])
    xs = np.array([f.x for f in fixed_points(s)])
    np.testing.assert_allclose(xs[:, 0], roots, rtol=1e-12)
    np.testing.assert_allclose(xs[:, 1], b * np.array(roots), rtol=1e-12)


def test_logistic_periodic_orbits():
    r = 3.2
    (orbit,) = periodic_orbits("Logistic", 2, params={"r": r})
    expect = sorted(((r + 1) + sg * math.sqrt((r + 1) * (r - 3))) / (2 * r) for sg in (-1, 1))
    np.testing.assert_allclose(orbit.points[:, 0], expect, rtol=1e-12)
    # the multiplier of the 2-cycle is -r^2 + 2r + 4
    np.testing.assert_allclose(orbit.multipliers.real, [-r * r + 2 * r + 4], rtol=1e-10)
    assert orbit.stable
    # at r = 4 the map is conjugate to the doubling map: (2^p - sum over divisors) / p orbits
    counts = [len(periodic_orbits("Logistic", p, params={"r": 4.0}, n_starts=2000))
              for p in (1, 2, 3, 4)]
    assert counts == [2, 1, 2, 3]


def test_fixed_points_bad_input():
    with pytest.raises(ValueError, match="box"):
        fixed_points("Lorenz", box=[[0, 1]])
    with pytest.raises(ValueError, match="n_starts"):
        fixed_points("Lorenz", n_starts=0)


# --------------------------------------------------------------------- GALI
def test_gali2_decays_at_the_exponent_gap():
    x0 = cl.simulate("Lorenz", 1, transient=20.0)[-1]
    rate = gali("Lorenz", 2, T=60.0, x0=x0).decay_rate()
    ref = cl.systems.get("Lorenz").reference["lyapunov_spectrum"]
    gap = ref[0] - ref[1]
    assert rate == pytest.approx(gap, rel=0.15)
    # a map: Henon's exponents 0.419 and ln(b) - 0.419
    lam = cl.systems.get("Henon").reference["lyapunov_spectrum"]
    assert gali("Henon", 2, T=200).decay_rate() == pytest.approx(lam[0] - lam[1], rel=0.1)


def test_gali_regular_torus_stays_bounded():
    # Henon-Heiles at E = 1/8 on an invariant torus
    E, y = 0.125, 0.1
    px = math.sqrt(2 * (E - (y * y / 2 - y ** 3 / 3)))
    r = gali("HenonHeiles", 2, T=500.0, x0=[0.0, y, px, 0.0])
    assert r.t[-1] == pytest.approx(500.0)
    assert r.gali.min() > 1e-2
    # a chaotic orbit at E = 1/6 collapses
    px = math.sqrt(2 * (1 / 6 - (0.01 / 2 + 0.001 / 3)))
    assert gali("HenonHeiles", 2, T=500.0, x0=[0.0, -0.1, px, 0.0]).gali.min() < 1e-10


# ---------------------------------------------------------------------- RQA
def _brute_rqa(X, eps, theiler):
    D = np.sqrt(((X[:, None] - X[None]) ** 2).sum(-1))
    I, J = np.indices(D.shape)
    R = (D <= eps) & (np.abs(I - J) >= theiler)

    def runs(v):
        out, r = [], 0
        for b in v:
            if b:
                r += 1
            elif r:
                out.append(r)
                r = 0
        return out + ([r] if r else [])

    n = len(X)
    dl = np.array([l for k in range(-n + 1, n) for l in runs(np.diagonal(R, k))])
    vl = np.array([l for j in range(n) for l in runs(R[:, j])])
    rr = R.sum() / (np.abs(I - J) >= theiler).sum()
    return rr, dl[dl >= 2].sum() / dl.sum(), vl[vl >= 2].sum() / vl.sum(), R


@pytest.mark.parametrize("theiler", [0, 1, 4])
def test_rqa_matches_a_dense_count(theiler):
    X = np.random.default_rng(3).normal(size=(250, 2))
    r = rqa(X, eps=0.6, theiler=theiler)
    rr, det, lam, R = _brute_rqa(X, 0.6, theiler)
    assert r.recurrence_rate == pytest.approx(rr, rel=1e-12)
    assert r.determinism == pytest.approx(det, rel=1e-12)
    assert r.laminarity == pytest.approx(lam, rel=1e-12)
    sp = recurrence_plot(X, eps=0.6, theiler=theiler)
    assert (sp.toarray() == R).all()


def test_rqa_periodic_against_noise():
    t = np.arange(3000) * 0.1
    periodic = rqa(np.sin(t), embedding=(2, 5))
    noise = rqa(np.random.default_rng(0).normal(size=3000))
    assert periodic.determinism > 0.95
    assert noise.determinism < 0.3
    assert periodic.recurrence_rate == pytest.approx(0.05, abs=0.01)


def test_rqa_20000_points():
    x = cl.simulate("Lorenz", 20_000, transient=50.0)
    r = rqa(x, theiler=10)
    assert 0.04 < r.recurrence_rate < 0.06
    assert r.determinism > 0.9  # a smooth flow sampled densely


# ------------------------------------------------------------------- basins
def test_unforced_duffing_two_wells_split_evenly():
    from chaoslab.analysis import basin_entropy, basins_of_attraction

    xs = np.linspace(-2, 2, 60)
    r = basins_of_attraction("Duffing", {"x": xs, "y": xs}, params={"gamma": 0.0},
                             n_window=50)
    assert r.variables == ("x", "y")  # the clock variable z' = omega is left out
    assert sorted(r.fractions) == [0, 1]
    assert sum(r.fractions.values()) == pytest.approx(1.0)
    # the wells x = -1 and x = +1, reached from mirror-image starts
    np.testing.assert_allclose([r.attractors[k][:, 0].mean() for k in (0, 1)], [-1, 1],
                               atol=1e-3)
    assert r.fractions[0] == pytest.approx(0.5, abs=1e-12)
    assert (r.basins == 1 - r.basins[::-1, ::-1]).all()
    Sb, Sbb = basin_entropy(r.basins, box=5)
    assert 0 < Sb < Sbb <= math.log(2) + 1e-12


def test_bistable_lorenz_random_starts_split_half_and_half():
    from chaoslab.analysis import basin_fractions

    f = basin_fractions("Lorenz", 4000, params={"rho": 20.0}, seed=1)
    assert sorted(f) == [0, 1]
    assert f[0] == pytest.approx(0.5, abs=0.02)
    assert basin_fractions("Lorenz", 300) == {0: 1.0}


def test_henon_basin_of_infinity():
    from chaoslab.analysis import basins_of_attraction

    g = np.linspace(-2, 2, 80)
    r = basins_of_attraction("Henon", {"x": g, "y": g})
    assert sorted(r.fractions) == [-1, 0]
    assert (r.basins[np.argmin(abs(g)), np.argmin(abs(g))]) == 0  # the origin stays
    assert r.basins[0, 0] == -1  # (-2, -2) escapes


def test_basin_entropy_known_values():
    from chaoslab.analysis import basin_entropy

    assert basin_entropy(np.zeros((20, 20), int)) == (0.0, 0.0)
    checker = np.indices((20, 20)).sum(axis=0) % 2
    Sb, Sbb = basin_entropy(checker, box=2)
    assert Sb == pytest.approx(math.log(2)) and Sbb == pytest.approx(math.log(2))


# ------------------------------------------------------------- continuation
def test_logistic_period_doublings_and_feigenbaum():
    from chaoslab.analysis import period_doublings

    d = period_doublings("Logistic", "r", 2.5, 3.6, n=4)
    assert list(d.periods) == [1, 2, 4, 8]
    assert d.values[0] == pytest.approx(3.0, abs=1e-10)
    assert d.values[1] == pytest.approx(1 + math.sqrt(6), abs=1e-10)
    assert d.ratios[-1] == pytest.approx(4.669201609, rel=0.01)


def test_continuation_keeps_ids_and_sees_the_merge():
    from chaoslab.analysis import continuation

    c = continuation("Lorenz", "rho", [10.0, 15.0, 20.0, 28.0], n_starts=300)
    # two stable fixed points C- and C+ keep their ids; at rho = 28 one attractor
    assert [sorted(f) for f in c.fractions[:3]] == [[0, 1]] * 3
    assert len(c.fractions[3]) == 1
    for f in c.fractions:
        assert sum(f.values()) == pytest.approx(1.0)
    rho = np.array([10.0, 15.0, 20.0])
    for i, r in enumerate(rho):
        x = sorted(c.attractors[i][k][:, 0].mean() for k in (0, 1))
        np.testing.assert_allclose(x, [-math.sqrt(8 / 3 * (r - 1)), math.sqrt(8 / 3 * (r - 1))],
                                   rtol=1e-4)
    # the id follows the attractor: C- keeps one id across rho
    left = [min((0, 1), key=lambda k: c.attractors[i][k][:, 0].mean()) for i in range(3)]
    assert len(set(left)) == 1
    assert c.fraction_table().shape == (4, len(c.ids))


# ----------------------------------------------------------- early warnings
def test_rolling_indicators_match_pandas():
    pd = pytest.importorskip("pandas")
    r = np.random.default_rng(0).normal(size=1500) + np.linspace(0, 3, 1500)
    ind = cl.analysis.rolling_indicators(r, 200)
    s = pd.Series(r).rolling(200)
    np.testing.assert_allclose(ind["variance"][199:], s.var().values[199:], rtol=1e-9)
    np.testing.assert_allclose(ind["skewness"][199:], s.skew().values[199:], atol=1e-9)
    ac = s.apply(lambda v: pd.Series(v).autocorr(1), raw=True).values
    np.testing.assert_allclose(ind["ac1"][199:], ac[199:], atol=1e-9)
    assert np.isnan(ind["variance"][:199]).all()


def test_early_warning_before_the_logistic_first_doubling():
    from chaoslab.analysis import early_warning, ramp_run

    # r from 2.5 to 2.98: the fixed point's multiplier 2 - r falls towards -1, so the
    # fluctuations grow and their lag-1 autocorrelation tends to -1 (a flip)
    for seed in (0, 1, 2):
        t, x, r = ramp_run("Logistic", "r", (2.5, 2.98), 2000, noise=0.002, seed=seed,
                           transient=100)
        tau = early_warning(x[:, 0], t, bandwidth=0.05).tau
        assert tau["variance"] > 0.7
        assert tau["ac1"] < -0.7


def test_early_warning_before_a_saddle_node():
    from chaoslab.analysis import early_warning, ramp_run

    fold = cl.systems.define("Fold", ["x"], ["r - x**2"], params={"r": 1.0}, x0=[1.0],
                             dt=0.01)
    t, x, r = ramp_run(fold, "r", (1.0, 0.02), 200.0, noise=0.02, dt=0.1, seed=0)
    tau = early_warning(x[:, 0], t, bandwidth=0.05).tau
    assert tau["variance"] > 0.7 and tau["ac1"] > 0.7  # slowing down: AC1 towards +1


def test_early_warning_without_a_ramp_has_no_trend():
    from chaoslab.analysis import early_warning, ramp_run

    # Kendall's tau of one run scatters widely (sd about 0.35 here: overlapping windows),
    # so the median over 40 runs is tested; its standard error is about 0.07
    taus = [early_warning(ramp_run("Logistic", "r", (2.7, 2.7), 2000, noise=0.002,
                                   seed=1000 + s)[1][:, 0], window=0.25,
                          bandwidth=0.05).tau for s in range(40)]
    assert abs(np.median([t["variance"] for t in taus])) < 0.2
    assert abs(np.median([t["ac1"] for t in taus])) < 0.2


def test_early_warning_bad_input():
    from chaoslab.analysis import early_warning, ramp_run

    with pytest.raises(ValueError, match="window"):
        early_warning(np.ones(100), window=2.0)
    with pytest.raises(ValueError, match="detrend"):
        early_warning(np.ones(100), detrend="lowess")
    with pytest.raises(ValueError, match="parameter"):
        ramp_run("Logistic", "q", (1, 2), 100)


# ------------------------------------------- local growth, expansion entropy
def test_local_growth_rates_average_to_the_exponent():
    from chaoslab.analysis import local_growth_rates

    x = cl.simulate("Logistic", 5000, params={"r": 4.0}, transient=100)
    g = local_growth_rates("Logistic", x, 1, params={"r": 4.0})
    assert g.shape == (5000, 20)
    assert np.nanmean(g) == pytest.approx(math.log(2), abs=0.02)  # ln|f'| over the density
    x = cl.simulate("Lorenz", 300, transient=20.0, dt=0.5, substeps=50)
    g = local_growth_rates("Lorenz", x, 10.0)
    lam1 = cl.systems.get("Lorenz").reference["max_lyapunov"]
    assert np.mean(g) == pytest.approx(lam1, rel=0.1)
    assert np.std(g) > 0.05  # growth differs from place to place


def test_expansion_entropy_known_values():
    from chaoslab.analysis import expansion_entropy

    # logistic r = 4 on [0, 1]: E_T = total variation of f^T = 2^T, so H0 = ln 2
    r = expansion_entropy("Logistic", [[0, 1]], 12, params={"r": 4.0}, n_points=100_000)
    assert r.H0 == pytest.approx(math.log(2), abs=0.005)
    # Henon: the topological entropy 0.4645 (Newhouse and Pignataro 1993)
    r = expansion_entropy("Henon", [[-1.5, 1.5], [-0.5, 0.5]], 20, n_T=20, n_points=50_000)
    assert r.H0 == pytest.approx(0.4645, abs=0.02)
    # a region that contracts onto a stable fixed point has none
    r = expansion_entropy("Logistic", [[0.1, 0.9]], 12, params={"r": 2.5}, n_points=10_000)
    assert abs(r.H0) < 1e-3


def test_flow_periodic_orbits_by_shooting():
    # Viswanath (2003), "Symbolic dynamics and periodic orbits of the Lorenz attractor",
    # Nonlinearity 16: periods 1.558652 (AB), 2.305907 (AAB, ABB), 3.023583 (AAAB, ABBB),
    # 3.084296 (AABB)
    (ab,) = periodic_orbits("Lorenz", 2, section={"z": 27.0}, direction=1)
    assert ab.period == pytest.approx(1.558652, abs=1e-4)
    assert not ab.stable
    assert np.min(np.abs(ab.multipliers - 1)) < 1e-6  # the multiplier along the flow
    three = periodic_orbits("Lorenz", 3, section={"z": 27.0}, direction=1, n_starts=60)
    assert len(three) == 2  # the mirror-image pair
    for o in three:
        assert o.period == pytest.approx(2.305907, abs=1e-4)
    np.testing.assert_allclose(sorted(three[0].crossings[:, 0]),
                               sorted(-three[1].crossings[:, 0]), atol=1e-4)
    # Rossler's period-1 orbit: unstable at c = 5.7, a stable limit cycle at c = 2.5
    (r1,) = periodic_orbits("Rossler", 1, section={"x": 0.0}, direction=-1, n_starts=20)
    assert r1.period == pytest.approx(5.8811, abs=1e-3) and not r1.stable
    (r2,) = periodic_orbits("Rossler", 1, section={"x": 0.0}, direction=-1, n_starts=20,
                            params={"c": 2.5})
    assert r2.stable
    with pytest.raises(ValueError, match="section"):
        periodic_orbits("Lorenz", 2)


def test_continuation_orbit_points_are_the_logistic_orbit_diagram():
    """The orbit diagram of a continuation: below r = 3 the fixed point 1 - 1/r, above it
    the period-2 orbit (r + 1 +- sqrt((r - 3)(r + 1))) / (2 r); one attractor id
    throughout (the orbit doubles, it is not replaced)."""
    from chaoslab.analysis import continuation

    r = np.array([2.8, 2.9, 3.2, 3.3])
    c = continuation("Logistic", "r", r, n_starts=100, box=[(0.05, 0.95)])
    p, x, ids = c.orbit_points("x")
    assert set(ids) == {0} and set(p) == set(r)
    for v in r:
        got = np.unique(np.round(x[p == v], 6))
        if v < 3:
            exact = [1 - 1 / v]
        else:
            d = np.sqrt((v - 3) * (v + 1))
            exact = sorted([(v + 1 - d) / (2 * v), (v + 1 + d) / (2 * v)])
        np.testing.assert_allclose(got, exact, atol=1e-5)
    with pytest.raises(ValueError, match="variable"):
        c.orbit_points("q")
