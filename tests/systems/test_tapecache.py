"""The derived forms kept on disk (chaoslab.systems.tapecache) are exactly what sympy
derives, are keyed by everything the derivation reads, and a damaged entry is derived
again."""
import json

import numpy as np
import pytest

import chaoslab as cl
from chaoslab.systems import tapecache
from chaoslab.systems.tape import Tape


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CHAOSLAB_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(tapecache, "_MEMO", {})
    return tmp_path


def forced(**kw):
    """A forced, damped pendulum: sin, abs, powers, a division and the time t."""
    return cl.systems.define(
        "Forced", ["x", "v"],
        ["v", "-gamma*v - sin(x) + A*cos(w*t) - 0.1*abs(x)**3/(1 + x**2)"],
        params={"gamma": 0.2, "A": 1.1, "w": 0.7}, x0=[0.1, 0.0], dt=0.01, **kw)


def derived(s):
    return (s.rhs_tape, s.jacobian_tape, s.rhs_jac_tape, s.nonautonomous, s.latex)


def test_a_second_build_reads_what_sympy_derived(cache, monkeypatch):
    first = derived(forced())
    assert first[3] is True  # the forcing uses t
    files = list((cache / f"tapes-v{tapecache.SCHEMA}").glob("*.json"))
    assert len(files) == 1
    monkeypatch.setattr(tapecache, "_MEMO", {})  # as a new process
    import chaoslab.systems.system as system_mod

    def no_sympy(*a, **k):
        raise AssertionError("parsed again")

    monkeypatch.setattr(system_mod, "parse_expression", no_sympy)
    monkeypatch.setattr(system_mod, "build_tape", no_sympy)
    again = forced()
    assert derived(again) == first
    x = np.array([[0.3, -0.2], [2.0, 1.5]])
    # the pendulum's field, written out
    g, A, w, t = 0.2, 1.1, 0.7, 0.4
    want = np.stack([x[:, 1], -g * x[:, 1] - np.sin(x[:, 0]) + A * np.cos(w * t)
                     - 0.1 * np.abs(x[:, 0]) ** 3 / (1 + x[:, 0] ** 2)], axis=-1)
    np.testing.assert_allclose(again.rhs(x, t=t), want, rtol=1e-14)


def test_tapes_round_trip_exactly(cache):
    for name in ("Lorenz", "Thomas", "Chua", "DoublePendulum", "Henon", "Logistic",
                 "Ikeda"):
        s = cl.systems.get(name)
        for tape in (s.rhs_tape, s.jacobian_tape, s.rhs_jac_tape):
            back = tapecache.tape_from_json(json.loads(json.dumps(
                tapecache.tape_to_json(tape))))
            assert back == tape and repr(back) == repr(tape), name


def test_the_key_follows_the_equations_and_names_not_the_values(cache):
    base = forced()
    assert forced(citation="x")._definition_key == base._definition_key
    assert base.with_params(gamma=0.5)._definition_key == base._definition_key
    other = cl.systems.define("Forced", ["x", "v"], ["v", "-gamma*v - sin(x)"],
                              params={"gamma": 0.2, "A": 1.1, "w": 0.7})
    renamed = cl.systems.define("Forced", ["x", "u"], ["u", "-gamma*u - sin(x) + A*cos(w*t)"
                                                       " - 0.1*abs(x)**3/(1 + x**2)"],
                                params={"gamma": 0.2, "A": 1.1, "w": 0.7})
    reordered = cl.systems.define("Forced", ["x", "v"], list(base.equations),
                                  params={"A": 1.1, "gamma": 0.2, "w": 0.7})
    keys = {base._definition_key, other._definition_key, renamed._definition_key,
            reordered._definition_key}
    assert len(keys) == 4
    # the parameter order is the order of the kernel's inputs: the tapes differ too
    assert reordered.rhs_tape != base.rhs_tape


def test_a_damaged_entry_is_derived_again(cache, monkeypatch):
    first = derived(forced())
    (path,) = (cache / f"tapes-v{tapecache.SCHEMA}").glob("*.json")
    entry = json.loads(path.read_text())
    n = entry["rhs_tape"][0]
    entry["rhs_tape"][1][0][2] = [n + 5, 1.0]  # refers to a slot not yet written
    entry["latex"] = ["only one line"]
    path.write_text(json.dumps(entry))
    monkeypatch.setattr(tapecache, "_MEMO", {})
    assert derived(forced()) == first
    path.write_text("{not json")
    monkeypatch.setattr(tapecache, "_MEMO", {})
    assert derived(forced()) == first


def test_bad_tapes_are_refused():
    ok = [2, [["add", 2, [0, 1]], ["powi", 3, [2, 3]]], [3, 1.5]]
    assert tapecache.tape_from_json(ok) == Tape(2, (("add", 2, (0, 1)), ("powi", 3, (2, 3))),
                                                (3, 1.5))
    for bad in ([2, [["add", 2, [0, 2]]], [2]],          # reads its own slot
                [2, [["exec", 2, [0, 1]]], [2]],         # not an op
                [2, [["add", 3, [0, 1]]], [3]],          # writes a slot out of order
                [2, [["sin", 2, [0, 1]]], [2]],          # wrong number of arguments
                [2, [["powi", 2, [0, 2.5]]], [2]],       # a power that is not an int
                [2, [["add", 2, [0, True]]], [2]],       # a bool is no slot
                [2, [["add", 2, [0, 1]]], [7]]):         # an output past the end
        with pytest.raises((ValueError, TypeError)):
            tapecache.tape_from_json(bad)


def test_bad_equations_still_fail_at_definition(cache):
    with pytest.raises(cl.EquationError):
        cl.systems.define("Bad", ["x"], ["x/(x - x)"])
    with pytest.raises(cl.EquationError):
        cl.systems.define("Bad", ["x"], ["__import__('os')"])
    assert not list((cache / f"tapes-v{tapecache.SCHEMA}").glob("*.json"))
