"""Typing a system: the form's text goes through the safe parser; errors stay inline."""
import numpy as np
import pytest

from chaoslab.app.editor import SystemEditor, parse_definition
from chaoslab.app.state import LabState
from chaoslab.systems import EquationError


def test_parse_definition_reads_flows_and_maps():
    d = parse_definition("Mine", "flow", "dx/dt = a*y\ny' = -x  # a comment\n\nz = -z",
                         "a = 2 [0, 5]; b = 8/3", "1, 0 0", "0.02")
    assert d["variables"] == ["x", "y", "z"] and d["equations"] == ["a*y", "-x", "-z"]
    assert d["params"] == {"a": ["2", "0", "5"], "b": "8/3"}
    assert d["x0"] == ["1", "0", "0"] and d["dt"] == "0.02"
    m = parse_definition("M", "map", "x_{n+1} = r*x*(1 - x)", "r = 3.9")
    assert m["variables"] == ["x"] and "dt" not in m


@pytest.mark.parametrize("kind, eqs, params, x0, match", [
    ("flow", "x_{n+1} = x", "", "", "map update"),
    ("map", "dx/dt = x", "", "", "derivative"),
    ("flow", "dx/dt x", "", "", "has no '='"),
    ("flow", "", "", "", "at least one equation"),
    ("flow", "dx/dt = x", "a: 1", "", "parameter line 1"),
    ("flow", "dx/dt = x", "", "1, 2", "x0 needs 1 values"),
    ("flow", "2x = x", "", "", "left side"),
])
def test_parse_definition_names_the_problem(kind, eqs, params, x0, match):
    with pytest.raises(EquationError, match=match):
        parse_definition("S", kind, eqs, params, x0)


def test_editor_defines_runs_and_shows_errors_inline():
    st = LabState(system_name="Lorenz", n_steps=400)
    ed = SystemEditor(state=st)
    ed.name_input.value = "Spring"
    ed.equations.value = "dx/dt = v\ndv/dt = -k*x"
    ed.params_input.value = "k = 4 [0, 10]"
    ed.x0.value = "1, 0"
    ed.dt.value = "0.01"
    s = ed.submit()
    assert s is not None and st.system_name == "Spring" and st.is_custom
    # the state ran it: x(t) = cos(2 t)
    np.testing.assert_allclose(st.path_x[:, 0], np.cos(2 * st.path_t), atol=1e-6)
    assert ed.message.alert_type == "success"
    for bad in ("dx/dt = __import__('os').system('true')", "dx/dt = v +", "dx/dt = q*v"):
        ed.equations.value = bad + "\ndv/dt = -k*x"
        assert ed.submit() is None
        assert ed.message.visible and ed.message.alert_type == "danger"
        assert "Traceback" not in ed.message.object
    assert st.system_name == "Spring"  # the last good system stays
    ed.name_input.value = "Lorenz"      # a catalog name is refused
    ed.equations.value = "dx/dt = v\ndv/dt = -k*x"
    assert ed.submit() is None and "catalog" in ed.message.object
