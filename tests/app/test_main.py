"""The whole app without a browser: tabs, picker, shared links."""
import numpy as np
import pytest

import chaoslab as cl
from chaoslab.app.main import ChaosLab
from chaoslab.app.tabs import tab_specs
from chaoslab.app.urlstate import parse_query


def test_tabs_are_listed_in_one_place_and_built_when_shown(lab):
    assert [s for s, _, _ in tab_specs()][:4] == ["explore", "lyapunov", "ftle", "orbit"]
    lab.__panel__().get_root()
    assert set(lab.views) == {"explore"}
    lab.select_tab("orbit")
    assert "orbit" in lab.views and lab.tab == "orbit"
    lab.jobs.wait(60)
    assert len(lab.views["orbit"].source.data["p"]) > 0
    assert lab.template() is not None


def test_picker_search_and_kind_filter(lab):
    pk = lab.picker
    pk.kind = "transport"
    assert set(pk.select.options) == {"Lorenz", *cl.systems.names(transport=True)}
    pk.kind = "map"
    pk.query = "henon"
    assert "Henon" in pk.select.options and "Lorenz" in pk.select.options
    assert all(n == "Lorenz" or cl.systems.get(n).is_map for n in pk.select.options)
    pk.select.value = "Henon"
    assert lab.state.system_name == "Henon"
    assert set(lab.parameters.sliders) == {"a", "b"}
    assert "x_{n+1}" in lab.equations.latex.object


def test_shared_link_restores_state_and_reports_bad_values():
    lab = ChaosLab(query="?system=Rossler&a=0.3&tab=lyapunov&view=x-y&method=euler")
    assert lab.state.system_name == "Rossler" and lab.state.values["a"] == 0.3
    assert lab.parameters.sliders["a"].value == 0.3
    assert lab.tab == "lyapunov" and lab.explore.view == "x-y"
    assert lab.state.method == "euler" and not lab.problems
    q = lab.query()
    assert q["system"] == "Rossler" and q["a"] == "0.3" and q["tab"] == "lyapunov"
    bad = ChaosLab(query=parse_query({"system": [b"Lorenz"], "rho": [b"abc"],
                                      "zz": [b"1"]}))
    assert bad.state.system_name == "Lorenz" and len(bad.problems) == 2
    assert "Shared link" in bad.error.object


def test_markup_in_a_shared_link_is_shown_as_text():
    """Values from a link reach the page as literal text, never as HTML or Markdown."""
    img = "<img src=x onerror=alert(1)>"
    bad = ChaosLab(query=parse_query({"system": [b"Lorenz"], "tab": [img.encode()],
                                      img.encode(): [b"1"], "rho": [b"[a](javascript:x)"]}))
    assert len(bad.problems) == 3
    shown = bad.error.object
    assert "<img" not in shown and "&lt;img" in shown
    assert "](" not in shown and "\\]\\(" in shown


@pytest.mark.parametrize("value", ["1e999", "-1e999", "nan", "inf"])
def test_a_link_with_a_non_finite_value_is_reported_and_ignored(value):
    lab = ChaosLab(query=parse_query({"system": [b"Lorenz"], "rho": [value.encode()],
                                      "dt": [value.encode()]}))
    assert lab.state.system_name == "Lorenz"
    assert lab.state.values["rho"] == 28.0 and lab.state.dt is None
    assert any("rho must be a finite number" in p for p in lab.problems)
    assert any("dt must be a positive finite number" in p for p in lab.problems)


def test_shared_link_carries_a_typed_system():
    lab = ChaosLab()
    ed = lab.editor
    ed.name_input.value = "Spring"
    ed.equations.value = "dx/dt = v\ndv/dt = -k*x"
    ed.params_input.value = "k = 4 [0, 10]"
    ed.x0.value = "1, 0"
    ed.button.clicks += 1
    assert lab.state.system_name == "Spring"
    q = lab.query()
    other = ChaosLab(query=q)
    assert other.state.system_name == "Spring"
    np.testing.assert_allclose(other.state.path_x, lab.state.path_x)
