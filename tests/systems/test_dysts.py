"""Where dysts has a system, chaoslab's vector field equals dysts' with the same parameters.

dysts is a test extra; these tests are skipped without it.
"""
import numpy as np
import pytest

import chaoslab as cl

dysts_flows = pytest.importorskip("dysts.flows")
dysts_maps = pytest.importorskip("dysts.maps")

import json  # noqa: E402
import os  # noqa: E402

import dysts  # noqa: E402

_DATA = os.path.join(os.path.dirname(dysts.__file__), "data")
FLOWS = json.load(open(os.path.join(_DATA, "chaotic_attractors.json")))
MAPS = json.load(open(os.path.join(_DATA, "discrete_maps.json")))
SHARED = [n for n in cl.systems.names() if n in FLOWS or n in MAPS]

# Systems written differently on purpose (each entry's `notes` says why):
#   DoubleGyre: chaoslab uses explicit t, dysts a phase variable z = omega t;
#   Lorenz96: dysts fixes N = 4 and f = 20;
#   DoublePendulum: dysts has a wrong 1/(l1 l2) factor, so compare only where l1 l2 = 1;
#   BickleyJet: dysts negates the velocity (the jet runs against its Rossby waves);
#     chaoslab follows Rypina et al. (2007), so its field is minus dysts' (tested below).
SPECIAL = {"Lorenz96", "BickleyJet"}


def _ours_and_theirs(name):
    ours = cl.systems.get(name)
    mapping = ours.meta.get("dysts_names", {})  # our parameter name -> dysts' name
    cls = getattr(dysts_maps if name in MAPS and ours.is_map else dysts_flows, name, None)
    if cls is None:  # listed in dysts' metadata, but its class is commented out there
        pytest.skip(f"dysts 0.96 has no class for {name}")
    meta = MAPS[name] if ours.is_map else FLOWS[name]
    theirs_params = {mapping.get(k, k): v for k, v in ours.values.items()}
    # dysts' vector and matrix parameters are scalar parameters here, one per element
    for arr, names in ours.meta.get("dysts_arrays", {}).items():
        # an element is one of our parameters, or a number dysts fixes (e.g. a leading 0)
        theirs_params[arr] = np.vectorize(
            lambda n: ours.values[n] if isinstance(n, str) else float(n), otypes=[float])(
            np.array(names, dtype=object))
        for n in np.ravel(np.array(names, dtype=object)):
            if isinstance(n, str):
                theirs_params.pop(n, None)
    missing = set(meta["parameters"]) - set(theirs_params)
    assert not missing, f"{name}: dysts parameters {missing} have no chaoslab counterpart"
    return ours, cls(parameters=theirs_params)


def _phase(ours, t):
    """The value of dysts' phase variable for a flow chaoslab writes in explicit t."""
    from chaoslab.systems.expressions import parse_expression
    import sympy as sp

    syms = {k: sp.Symbol(k, real=True) for k in list(ours.params) + ["t"]}
    e = parse_expression(ours.meta["dysts_phase"], syms, label=f"{ours.name}: dysts_phase")
    return float(e.subs({syms[k]: v for k, v in ours.values.items()} | {syms["t"]: t}))


@pytest.mark.parametrize("name", [n for n in SHARED if n not in SPECIAL])
def test_vector_field_equals_dysts(name):
    ours, theirs = _ours_and_theirs(name)
    rng = np.random.default_rng(5)
    scale = np.maximum(np.abs(ours.x0), 1.0)
    for _ in range(20):
        x = ours.x0 + 0.5 * rng.normal(size=ours.dim) * scale
        t = float(rng.uniform(0, 5))
        if ours.is_delay:  # dysts' delay rhs takes (x, x(t - tau), t, *params)
            xd = ours.x0 + 0.5 * rng.normal(size=ours.dim) * scale
            want = np.atleast_1d(np.asarray(theirs._rhs(*x, *xd, t, *theirs.param_list),
                                            dtype=float))
            np.testing.assert_allclose(ours.rhs(x, t=t, delayed=xd), want, rtol=1e-10,
                                       atol=1e-10, err_msg=name)
            continue
        if ours.meta.get("dysts_phase"):  # explicit t here, a phase variable (last) in dysts
            full = np.append(x, _phase(ours, t))
            want = np.asarray(theirs.rhs(full, t), dtype=float)[:ours.dim]
        elif ours.is_map:  # dysts' map rhs cannot stack a 1-D map's scalar image
            want = np.atleast_1d(np.asarray(theirs._rhs(*x, *theirs.param_list), dtype=float))
        else:
            want = np.asarray(theirs.rhs(x, t), dtype=float)
        got = ours.rhs(x, t=t)
        np.testing.assert_allclose(got, want.reshape(got.shape), rtol=1e-10, atol=1e-10,
                                   err_msg=name)


def test_lorenz96_matches_dysts_at_its_size():
    ours = cl.systems.get("Lorenz96").with_params(N=4, f=20.0)
    theirs = dysts_flows.Lorenz96()
    x = np.random.default_rng(6).normal(size=4)
    np.testing.assert_allclose(ours.rhs(x), theirs.rhs(x, 0.0), rtol=1e-12)


def test_double_gyre_matches_dysts_phase_form():
    ours = cl.systems.get("DoubleGyre")
    theirs = dysts_flows.DoubleGyre(parameters={"alpha": 0.1, "eps": 0.25,
                                                "omega": ours.values["omega"]})
    for t in (0.0, 1.3, 7.1):
        x = np.array([0.7, 0.4])
        want = theirs.rhs(np.array([x[0], x[1], ours.values["omega"] * t]), t)[:2]
        np.testing.assert_allclose(ours.rhs(x, t=t), want, rtol=1e-12)


def test_bickley_jet_is_minus_dysts():
    """dysts' BickleyJet reverses the jet but not its waves (its phase z = omega t still
    increases); chaoslab's is the papers' flow, so at every state and time its velocity
    is exactly the negative of dysts'."""
    ours, theirs = _ours_and_theirs("BickleyJet")
    rng = np.random.default_rng(7)
    (y0, y1), (x0, x1) = ours.domain
    for _ in range(20):
        x = np.array([rng.uniform(y0, y1), rng.uniform(x0, x1)])
        t = float(rng.uniform(0, 5e6))  # seconds, about two months
        want = -np.asarray(theirs.rhs(np.append(x, _phase(ours, t)), t), dtype=float)[:2]
        np.testing.assert_allclose(ours.rhs(x, t=t), want, rtol=1e-10, atol=1e-16)
    # the same as dysts' with the jet speed reversed: u -> -u
    rev = ours.with_params(u=-ours.values["u"])
    x, t = np.array([1.2, 7.0]), 1.7e6
    np.testing.assert_allclose(rev.rhs(x, t=t), np.asarray(
        theirs.rhs(np.append(x, _phase(ours, t)), t), dtype=float)[:2], rtol=1e-12)
