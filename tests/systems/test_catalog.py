"""Every catalog entry against its published equations, exact Jacobians, and the API."""
import math

import numpy as np
import pytest

import chaoslab as cl
from chaoslab.systems import EquationError, UnknownSystemError

from . import published

NAMES = cl.systems.names()
FIRST_25 = ["Lorenz", "Rossler", "Chen", "LuChen", "Thomas", "Aizawa", "Halvorsen", "Dadras",
            "Chua", "SprottA", "SprottB", "Rucklidge", "Arneodo", "GenesioTesi", "NoseHoover",
            "RabinovichFabrikant", "ShimizuMorioka", "Duffing", "DoublePendulum", "Lorenz96",
            "Logistic", "Henon", "Ikeda", "Chirikov", "Tinkerbell", "DoubleGyre"]


def _random_points(s, rng, n=50):
    """Points around x0, or inside the domain where an entry declares one (e.g. a map
    defined only on [-1, 1])."""
    if s.domain and len(s.domain) == s.dim and not s.transport:
        lo, hi = np.array(s.domain, dtype=float).T
        return lo + (hi - lo) * rng.uniform(0.02, 0.98, size=(n, s.dim))
    scale = np.maximum(np.abs(s.x0), 1.0)
    return s.x0 + rng.normal(size=(n, s.dim)) * scale


def _random_params(s, rng):
    return {k: rng.uniform(p.min, p.max) for k, p in s.params.items()}


def test_first_systems_present():
    assert set(FIRST_25) <= set(NAMES)
    assert {"Logistic", "Henon", "Ikeda", "Chirikov", "Tinkerbell"} <= set(
        cl.systems.names(kind="map"))
    assert "Lorenz" not in cl.systems.names(kind="map")
    assert "DoubleGyre" in cl.systems.names(transport=True)
    assert "Lorenz" in cl.systems.names(dim=3) and "Henon" not in cl.systems.names(dim=3)


@pytest.mark.parametrize("name", FIRST_25)
def test_vector_field_matches_published(name):
    rng = np.random.default_rng(0)
    ref = getattr(published, name)
    for trial in range(3):
        s = cl.systems.get(name)
        values = s.values if trial == 0 else _random_params(s, rng)
        s = s.with_params(**values)
        x = _random_points(s, rng)
        t = rng.uniform(0, 10, size=len(x))
        got = s.rhs(x, t=t)
        args = [x[:, i] for i in range(s.dim)]
        kw = dict(s.values)
        if name == "DoubleGyre":
            kw["t"] = t
        want = np.stack(np.broadcast_arrays(*ref(*args, **kw)), axis=-1)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_bickley_jet_is_the_papers_flow():
    """BickleyJet against the stream-function form of Rypina et al. (2007) and Hadjighasem
    et al. (2017), with their parameters: U = 62.66 m/s, L = 1770 km, r0 = 6371 km,
    k_n = 2n/r0, c2 = 0.205 U, c3 = 0.461 U, c1 = c3 + (sqrt 5 - 1)/2 (k2/k1)(c2 - c3)
    (in Mm and seconds), to full precision so that x is periodic with period pi r0; the
    jet and the waves both travel towards +x."""
    s = cl.systems.get("BickleyJet")
    v = s.values
    U, r0 = 62.66e-6, 6.371
    c2, c3 = 0.205 * U, 0.461 * U
    paper = {"u": U, "ell": 1.77, "eps1": 0.0075, "eps2": 0.15, "eps3": 0.3,
             "k1": 2 / r0, "k2": 4 / r0, "k3": 6 / r0, "sigma2": c2, "sigma3": c3,
             "sigma1": c3 + (math.sqrt(5) - 1) / 2 * 2 * (c2 - c3)}
    for k, want in paper.items():
        assert v[k] == pytest.approx(want, rel=1e-12), k
    rng = np.random.default_rng(3)
    for values in (v, _random_params(s, rng)):
        sv = s.with_params(**values)
        (y0, y1), (x0, x1) = s.domain
        x = np.column_stack([rng.uniform(y0, y1, 40), rng.uniform(x0, x1, 40)])
        t = rng.uniform(0, 5e6, 40)  # seconds
        want = np.stack(published.BickleyJet(x[:, 0], x[:, 1], t=t, **sv.values), axis=-1)
        np.testing.assert_allclose(sv.rhs(x, t=t), want, rtol=1e-12, atol=1e-18)
    assert 2 * math.pi / v["k1"] == pytest.approx(math.pi * r0, rel=1e-14)
    assert s.domain[1][1] == pytest.approx(math.pi * r0, rel=1e-11)
    # eps = 0: the steady jet, towards +x at speed u on its axis
    np.testing.assert_allclose(s.with_params(eps1=0, eps2=0, eps3=0).rhs([0.0, 5.0], t=1e5),
                               [0.0, v["u"]], atol=1e-20)


@pytest.mark.parametrize("name", NAMES)
def test_exact_jacobian_matches_central_differences(name):
    s = cl.systems.get(name)
    rng = np.random.default_rng(1)
    x = _random_points(s, rng, n=20)
    if name == "Chua":  # keep away from the kinks of |x +- 1|
        x[:, 0] = np.where(np.abs(np.abs(x[:, 0]) - 1) < 1e-3, 0.5, x[:, 0])
    J = s.jacobian(x, t=0.7)
    h = 1e-5
    for j in range(s.dim):
        e = np.zeros(s.dim)
        e[j] = h

        def f(k):
            return s.rhs(x + k * e, t=0.7)
        # five-point central difference: truncation error O(h^4)
        fd = (8 * (f(1) - f(-1)) - (f(2) - f(-2))) / (12 * h)
        # rounding in the differences is about eps |f| / h; allow 50 times that on top of
        # the 1e-6 relative agreement (matters where f itself is huge, e.g. exp terms)
        rounding = 50 * np.finfo(float).eps * np.abs(f(0)) / h
        scale = np.maximum(1.0, np.abs(fd))
        assert np.all(np.abs(J[..., j] - fd) < 1e-6 * scale + rounding), (name, j)


@pytest.mark.parametrize("name", NAMES)
def test_kernel_finite_and_latex(name):
    s = cl.systems.get(name)
    assert np.all(np.isfinite(s.rhs(s.x0)))
    assert len(s.latex) == s.dim and all("=" in line for line in s.latex)
    assert s.dt > 0 and s.citation and s.description


def test_lorenz_latex_and_values():
    s = cl.systems.get("Lorenz")
    assert s.values["beta"] == pytest.approx(8 / 3, rel=1e-15)
    assert s.latex[0] == r"\dot{x} = \sigma \left(- x + y\right)"
    np.testing.assert_allclose(s.rhs([1.0, 1.0, 1.0]), [0.0, 26.0, 1 - 8 / 3])


def test_get_is_case_insensitive_and_knows_aliases():
    assert cl.systems.get("lorenz").name == "Lorenz"
    assert cl.systems.get("Standard").name == "Chirikov"
    assert cl.systems.get("Lorenz", rho=20).values["rho"] == 20


def test_unknown_system_names_the_closest():
    with pytest.raises(UnknownSystemError, match="Lorenz"):
        cl.systems.get("Lorentz")
    with pytest.raises(UnknownSystemError, match="unknown system"):
        cl.systems.get("NoSuchThing")


@pytest.mark.parametrize("bad, match", [
    ({"rho": float("nan")}, "finite"),
    ({"rho": "abc"}, "unknown symbol"),
    ({"gamma": 1.0}, "no parameter 'gamma'"),
    ({"rho": "__import__('os')"}, "not allowed|unknown function"),
])
def test_bad_parameters_raise_clear_errors(bad, match):
    with pytest.raises((ValueError, EquationError), match=match):
        cl.systems.get("Lorenz").with_params(**bad)


def test_lorenz96_dimension_is_a_parameter():
    s = cl.systems.get("Lorenz96")
    assert s.dim == 10
    s40 = s.with_params(N=40, f=8.0)
    assert s40.dim == 40 and s40.x0.shape == (40,)
    x = np.random.default_rng(2).normal(size=(5, 40))
    want = np.stack(published.Lorenz96(*x.T, f=8.0), axis=-1)
    np.testing.assert_allclose(s40.rhs(x), want, rtol=1e-13)
    with pytest.raises(ValueError, match="N must lie in"):
        s.with_params(N=2)
    with pytest.raises(ValueError, match="integer"):
        s.with_params(N=4.5)


def test_entries_and_search_are_plain_data():
    rows = cl.systems.entries()
    assert len(rows) == len(NAMES)
    lorenz = next(r for r in rows if r["name"] == "Lorenz")
    assert lorenz["params"]["rho"]["default"] == 28 and lorenz["dim"] == 3
    assert "Lorenz" in cl.systems.search("convection")
    assert "DoubleGyre" in cl.systems.search("coherent")


def test_define_user_system_behaves_like_catalog():
    s = cl.systems.define("Spring", ["x", "v"], ["v", "-k*x"], params={"k": 4.0},
                          x0=[1.0, 0.0], dt=0.01)
    x = cl.simulate(s, 101)
    # x(t) = cos(2t); RK4's global error here is about t (w h)^4 w / 120 = 3e-9
    t = np.arange(101) * 0.01
    np.testing.assert_allclose(x[:, 0], np.cos(2 * t), atol=1e-8)
    assert s.latex[1] == r"\dot{v} = - k x"
    np.testing.assert_allclose(s.jacobian([0.3, 0.2]), [[0, 1], [-4, 0]])


def test_define_map_and_nonautonomous():
    m = cl.systems.define("Doubling", ["x"], ["mod(2*x, 1)"], kind="map", x0=[0.1])
    assert m.is_map and m.dt == 1.0
    np.testing.assert_allclose(cl.simulate(m, 4)[:, 0], [0.1, 0.2, 0.4, 0.8])
    f = cl.systems.define("Forced", ["x"], ["cos(t)"], x0=[0.0], dt=0.01)
    assert f.nonautonomous
    x = cl.simulate(f, 301)
    np.testing.assert_allclose(x[:, 0], np.sin(np.arange(301) * 0.01), atol=1e-10)


@pytest.mark.parametrize("kwargs, match", [
    (dict(variables=["x"], equations=["x +"]), "malformed"),
    (dict(variables=["x"], equations=["y"]), "unknown symbol 'y'"),
    (dict(variables=["x", "y"], equations=["x"]), "2 equations"),
    (dict(variables=["x"], equations=["x"], params={"x": 1.0}), "names used twice"),
    (dict(variables=["x"], equations=["x"], x0=[float("nan")]), "finite"),
    (dict(variables=["x"], equations=["x"], dt=-0.1), "dt must be positive"),
    (dict(variables=["1x"], equations=["1"]), "variable name"),
    (dict(variables=["x"], equations=["x"], kind="pde"), "kind"),
])
def test_define_rejects_bad_definitions(kwargs, match):
    with pytest.raises(EquationError, match=match):
        cl.systems.define("Bad", **kwargs)


def test_param_spec_forms():
    s = cl.systems.define("P", ["x"], ["a*x + b"], params={"a": [1, 0, 2], "b": "2*pi"})
    assert s.params["a"].min == 0 and s.params["a"].max == 2
    assert s.values["b"] == pytest.approx(2 * math.pi)
    with pytest.raises(EquationError, match="outside"):
        cl.systems.define("P", ["x"], ["a*x"], params={"a": [5, 0, 2]})


def test_metadata_is_read_only_and_separate_from_the_fields():
    s = cl.systems.get("Lorenz")
    assert s.meta["citation"].startswith("Lorenz, E. N. (1963)")
    assert s.citation == s.meta["citation"] == s.describe()["citation"]
    assert s.description == s.meta["description"] and s.notes == s.meta["notes"]
    with pytest.raises(TypeError):
        s.meta["citation"] = "x"
    with pytest.raises(AttributeError):
        s.citation = "x"
    # every key of a catalog entry that is not a field lands in meta, unchanged
    entry = cl.systems.raw_entries()["DoubleGyre"]
    g = cl.systems.get("DoubleGyre")
    assert g.meta["dysts_phase"] == entry["dysts_phase"] == "omega*t"
    assert g.meta["notes"] == entry["notes"]
    assert "dysts_phase" not in vars(g) and "citation" not in vars(g)
    # nested metadata is frozen too, and a copy from raw_entries changes nothing
    arrays = next(cl.systems.get(n).meta["dysts_arrays"] for n in cl.systems.names()
                  if "dysts_arrays" in cl.systems.raw_entries()[n])
    with pytest.raises(TypeError):
        arrays["x"] = ()
    entry["notes"] = "changed"
    assert cl.systems.raw_entries()["DoubleGyre"]["notes"] == g.notes
    # the describe() keys stay the same
    assert set(s.describe()) == {"name", "kind", "dim", "variables", "equations", "params",
                                 "x0", "dt", "period", "citation", "description",
                                 "reference"}


def test_define_takes_metadata_and_refuses_near_misses():
    s = cl.systems.define("Decay", ["x"], ["-k*x"], params={"k": 1.0}, x0=[1.0],
                          citation="A textbook", source_url="https://example.org",
                          tags=["linear", "stable"])
    assert s.citation == "A textbook" and s.notes == ""
    assert s.meta["source_url"] == "https://example.org"
    assert s.meta["tags"] == ("linear", "stable")
    # with_params keeps the metadata and the parsed equations
    s.rhs_tape
    t = s.with_params(k=2.0)
    assert t.meta is s.meta and t.rhs_tape is s.rhs_tape and t.values == {"k": 2.0}
    with pytest.raises(TypeError, match="'perod'; did you mean 'period'"):
        cl.systems.define("Bad", ["x"], ["-x"], perod=2.0)
    with pytest.raises(TypeError, match="'lyapunov_t'; did you mean 'lyapunov_T'"):
        cl.systems.define("Bad", ["x"], ["-x"], lyapunov_t=10.0)
    with pytest.raises(TypeError, match="'values' is an attribute"):
        cl.systems.define("Bad", ["x"], ["-x"], values={"a": 1})
    with pytest.raises(TypeError, match="citation must be text"):
        cl.systems.define("Bad", ["x"], ["-x"], citation=1963)


def test_system_pickles_with_its_metadata():
    import pickle

    s = cl.systems.get("Henon")
    t = pickle.loads(pickle.dumps(s))
    assert t.meta == s.meta and t.citation == s.citation
    np.testing.assert_allclose(t.rhs([0.1, 0.2]), s.rhs([0.1, 0.2]))
