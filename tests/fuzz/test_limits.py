"""The calls issue 16 found broken, and the limits that refuse impossible requests."""
import numpy as np
import pytest

import chaoslab as cl
from chaoslab.validation import (MAX_STEPS, as_float_array, available_memory, check_choice,
                                 check_memory, check_steps)

S = cl.systems.get("Lorenz")
X = cl.simulate(S, 500, transient=5.0)
GRID = np.linspace(-10, 10, 4), np.linspace(-10, 10, 3)


@pytest.mark.parametrize("call, match", [
    (lambda: cl.simulate("Lorenz", 1, params=b"x"), r"params .*must be an array of real"),
    (lambda: cl.ftle_field(S, *GRID, T=1.0, plane=float("inf")),
     r"plane must be a dict .*got inf"),
    (lambda: cl.learners.make("ngrc", degree=(1,)).fit(X, 0.01),
     r"degree must be an integer, got \(1,\)"),
    (lambda: cl.power_spectrum(True, dt=1 + 2j), r"x must be an array of real numbers, got True"),
    (lambda: cl.lyapunov_spectrum(S, t0="1e3"), r"t0 must be a number, got '1e3'"),
    (lambda: cl.systems.search(4.0), r"text must be a str"),
    (lambda: cl.correlation_dimension(np.nan), r"points must be an array of 1 or 2"),
    (lambda: cl.simulate("Lorenz", 10, method=np.array([])), r"method must be one of"),
    (lambda: cl.systems.define("D", 3 + 1j, ["-x"]), r"variables must be a list of names"),
    (lambda: cl.experiments.forecast_divergence("Lorenz", 1.5),
     r"learners must be a list of learner names"),
    (lambda: cl.lyapunov_spectrum("Logistic", n_exponents=2, T=10),
     r"n_exponents must be <= 1: Logistic has 1 exponents, got 2"),
])
def test_calls_found_broken_now_name_the_argument(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


@pytest.mark.parametrize("call, match", [
    (lambda: cl.simulate("Lorenz", 10 ** 8, x0=np.ones((100, 3))),
     r"simulate\(n_steps=100000000\) of 100 trajectory\(ies\) of dimension 3 would need "
     r"224 GiB of memory"),
    (lambda: cl.ftle_field("DoubleGyre", np.zeros(10 ** 5), np.zeros(10 ** 5), T=1.0),
     r"a grid of 100000 x 100000 points would need \d+ GiB"),
    (lambda: cl.orbit_diagram("Logistic", "r", np.linspace(3, 4, 10 ** 6), T=1e6),
     r"1000000 values x T=1e\+06 \(1000000 samples\) would need 7.28 TiB"),
])
def test_requests_beyond_memory_are_refused_with_the_size(call, match):
    if available_memory() > 2 ** 42:
        pytest.skip("this machine has more than 4 TiB available")
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("call, match", [
    (lambda: cl.lyapunov_spectrum(S, T=1.0, dt=1e-300),
     r"T=1 at dt=1e-300 would take 1e\+300 steps"),
    (lambda: cl.simulate("Lorenz", 10 ** 10), r"n_steps=10000000000.* 1e\+10 steps"),
    (lambda: cl.simulate("Lorenz", 10, transient=1e300), r"transient=1e\+300 at dt=0.01"),
    (lambda: cl.ftle_field("DoubleGyre", [0.1], [0.1], T=1e300, dt=1e-300),
     r"would take inf steps"),
])
def test_runs_that_would_never_end_are_refused(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_check_memory_and_check_steps():
    avail = available_memory()
    assert 0 < avail
    check_memory(1024, "a small request")
    with pytest.raises(ValueError, match=r"^big: 3 trajectories would need .* of memory, more "
                                         r"than the .* available"):
        check_memory(2.0 * avail + 1, "big: 3 trajectories")
    with pytest.raises(ValueError, match="would need inf"):
        check_memory(float("inf"), "x")
    assert check_steps(MAX_STEPS, "n_steps") == MAX_STEPS
    assert check_steps(2.5, "T=2.5", exact=False) == 2.5
    with pytest.raises(ValueError, match=r"^T=1 at dt=1e-12 would take 1e\+12 steps"):
        check_steps(1e12, "T=1 at dt=1e-12")
    with pytest.raises(ValueError, match="nan steps"):
        check_steps(float("nan"), "T")


@pytest.mark.parametrize("value, match", [
    ("1, 2", "must be an array of real numbers, got '1, 2'"),
    (b"x", "got b'x'"), (None, "got None"), (True, "got True"), ({}, "got {}"),
    (1 + 2j, "complex"), (np.array([1 + 0j]), "complex"), ([1, "a"], "real numbers"),
    ([[1, 2], [3]], "real numbers"), ([10 ** 400], "real numbers"),
    (np.array([True, False]), "real numbers"),
])
def test_as_float_array_refuses_what_it_would_otherwise_convert(value, match):
    with pytest.raises(ValueError, match=r"^x0 " + ".*" + match.replace("(", r"\(")
                       .replace(")", r"\)").replace("[", r"\[").replace("{", r"\{")):
        as_float_array(value, "x0")


def test_as_float_array_keeps_numbers():
    np.testing.assert_array_equal(as_float_array([1, 2.5], "x"), [1.0, 2.5])
    assert as_float_array(np.float32(2), "x").dtype == np.float64
    with pytest.raises(ValueError, match=r"x must be an array of 1 dimension\(s\), got shape "
                                         r"\(2, 2\)"):
        as_float_array(np.eye(2), "x", ndim=1)
    with pytest.raises(ValueError, match=r"x holds a non-finite value at index \[1\]"):
        as_float_array([0.0, np.nan], "x", finite=True)


def test_check_choice_refuses_arrays_and_unhashables():
    assert check_choice("rk4", "method", ("rk4", "euler")) == "rk4"
    for bad in (np.array(["rk4"]), np.array([]), ["rk4"], {"a": 1}):
        with pytest.raises(ValueError, match="method must be one of 'rk4', 'euler'"):
            check_choice(bad, "method", ("rk4", "euler"))
