"""A shared link or a control cannot make one session take the server's memory or CPU:
parameters stay in their catalog ranges, sizes and steps within the app's limits."""
import json

import param
import pytest

import chaoslab as cl
from chaoslab.app.limits import MAX_DIM
from chaoslab.app.main import ChaosLab
from chaoslab.app.urlstate import parse_query


def test_a_link_with_a_huge_size_is_clamped_and_reported():
    lab = ChaosLab(query="?system=Lorenz96&N=64")
    assert lab.state.system_name == "Lorenz96"
    assert lab.state.values["N"] == MAX_DIM == 16
    assert lab.state.path_x.shape[1] == 16
    assert any("N = 64" in p and "16 is used" in p for p in lab.problems), lab.problems
    assert lab.error.visible and "16 is used" in lab.error.object
    # the size slider ends at the limit too
    assert lab.parameters.sliders["N"].end == 16
    lab = ChaosLab(query="?system=Lorenz96&N=6.5")
    assert lab.state.values["N"] == 6 and "whole number" in lab.problems[0]
    lab = ChaosLab(query="?system=Lorenz96&N=2")
    assert lab.state.values["N"] == cl.systems.get("Lorenz96").size.min


def test_parameters_outside_their_range_are_clamped_and_reported():
    p = cl.systems.get("Lorenz").params["rho"]
    lab = ChaosLab(query="?system=Lorenz&rho=1e6&sigma=12")
    assert lab.state.values["rho"] == p.max and lab.state.values["sigma"] == 12.0
    assert lab.problems == [f"parameter rho = 1e+06 is outside its range [{p.min:g}, "
                            f"{p.max:g}]; {p.max:g} is used"]
    lab = ChaosLab(query="?system=Lorenz&rho=-1e6")
    assert lab.state.values["rho"] == p.min


def test_a_large_step_is_clamped():
    lab = ChaosLab(query="?system=Lorenz&dt=1000&method=dopri5")
    assert lab.state.dt == pytest.approx(10 * cl.systems.get("Lorenz").dt)
    assert "dt = 1000" in lab.problems[0]


def test_a_typed_system_with_too_many_variables_is_refused():
    n = MAX_DIM + 1
    fields = dict(name="Big", kind="flow",
                  equations="\n".join(f"dx{i}/dt = -x{i}" for i in range(n)),
                  params="", x0=", ".join(["1"] * n), dt="0.01")
    lab = ChaosLab(query={"system": "Big", "define": json.dumps(fields)})
    assert lab.state.system_name == "Lorenz" and "Big" not in lab.state.custom_systems
    assert any(f"{n} variables; the app allows {MAX_DIM}" in p for p in lab.problems)
    ed = lab.editor
    ed.name_input.value, ed.equations.value = "Big", fields["equations"]
    ed.params_input.value, ed.x0.value = "", fields["x0"]
    assert ed.submit() is None and "allows 16" in ed.message.object


def test_many_problems_are_counted_not_all_listed():
    q = {f"p{i}": "1" for i in range(40)}
    lab = ChaosLab(query={"system": "Lorenz", **q})
    assert len(lab.problems) == 40
    assert lab.error.object.count("has no parameter") == 8
    assert "and 32 more problems" in lab.error.object


def test_a_slider_value_outside_its_range_is_kept_in_range():
    lab = ChaosLab(system="Lorenz96")
    w = lab.parameters.sliders["N"]
    with param.edit_constant(w):  # as Panel applies a (crafted) message from the page
        w.value_throttled = 200
    assert lab.state.values["N"] == MAX_DIM
