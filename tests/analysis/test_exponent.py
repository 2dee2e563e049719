"""lambda_1 for given parameters: the recorded value at the defaults, computed otherwise."""
import math

import pytest

import chaoslab as cl
from chaoslab.analysis import at_reference_parameters, largest_lyapunov_exponent


def test_recorded_at_the_defaults_computed_elsewhere():
    """The tent map stretches by |2 mu| everywhere: lambda_1 = ln(2 mu) exactly, so the
    computed value off the defaults is checked against the analytic one."""
    s = cl.systems.get("Tent")
    assert largest_lyapunov_exponent(s) == s.reference["max_lyapunov"]
    assert largest_lyapunov_exponent("Tent") == s.reference["max_lyapunov"]
    other = s.with_params(mu=0.8)
    assert largest_lyapunov_exponent(other, compute=False) is None
    assert largest_lyapunov_exponent(other, T=2000) == pytest.approx(math.log(1.6), rel=1e-9)


def test_the_size_counts_as_a_parameter():
    """A resized Lorenz-96 keeps its catalog reference dict, which is not its exponent."""
    s = cl.systems.get("Lorenz96")
    assert at_reference_parameters(s)
    assert not at_reference_parameters(s.with_params(N=12))
    assert not at_reference_parameters(s.with_params(f=5.0))
    assert largest_lyapunov_exponent(s.with_params(N=12), compute=False) is None
