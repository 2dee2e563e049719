"""Typing a system: the form's text goes through the safe parser; errors stay inline.

The parser of the form's text, ``chaoslab.systems.parse_definition``, is tested in
tests/systems/test_definition.py.
"""
import numpy as np

from chaoslab.app.editor import SystemEditor
from chaoslab.app.state import LabState


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
