"""The whole catalog: counts, a bounded default simulation for every entry, and the
recorded reference invariants."""
import warnings

import numpy as np
import pytest

import chaoslab as cl
from chaoslab.tools import reference

NAMES = cl.systems.names()


def test_catalog_counts():
    flows = cl.systems.names(kind="flow")
    assert len(flows) >= 135
    assert len(cl.systems.names(kind="map")) >= 23
    assert len(cl.systems.names(transport=True)) >= 5
    assert len(set(NAMES)) == len(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_default_simulation_stays_bounded(name):
    s = cl.systems.get(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = cl.simulate(s, 5000, full_output=True, on_diverge="ignore")
    if s.meta.get("unbounded"):
        # marked on purpose: the entry must say why
        assert s.notes, f"{name} is marked unbounded without a note saying why"
        assert np.all(np.isfinite(r.x[:100]))
        return
    assert not r.diverged, f"{name} diverged from its default initial condition"
    assert np.all(np.isfinite(r.x)) and np.abs(r.x).max() < 1e6


@pytest.mark.parametrize("name", NAMES)
def test_entry_metadata_and_slider_ranges(name):
    s = cl.systems.get(name)
    for p in s.params.values():
        assert p.min <= p.default <= p.max, (name, p)
    assert s.period > 0 and s.dt > 0
    assert s.citation and s.description


def test_reference_invariants_recorded_for_every_entry():
    ref = cl.systems.load_reference()
    missing = [n for n in NAMES if n not in ref]
    assert not missing, f"no recorded invariants for {missing}: run python -m chaoslab.tools.reference"
    for n, r in ref.items():
        assert {"lyapunov_spectrum", "method", "T", "dt", "date"} <= set(r), n
    assert cl.systems.get("Lorenz").reference["max_lyapunov"] == pytest.approx(0.9056, rel=5e-3)


@pytest.mark.parametrize("name", ["Lorenz", "Henon", "Rossler", "Chua", "SprottB",
                                  "MackeyGlass"])
def test_recorded_exponents_reproduce_from_another_start_with_half_the_step(name):
    rec = cl.systems.get(name).reference["max_lyapunov"]
    rep = reference.check([name])[name]
    assert reference.agree(rep["rerun"], rec), (name, rep)
