"""Typing a new system: a form whose text goes to ``cl.systems.define`` (the safe parser).

:func:`chaoslab.systems.parse_definition` only splits the form's text into names and
strings (parameter lines with string methods, no regular expression that could
backtrack); every expression and number is read by chaoslab's parser, which accepts
numbers, the system's own symbols, arithmetic and a fixed list of math functions, and
never passes user text to ``eval``. Sizes are bounded and checked before anything is
parsed, so a hostile form costs milliseconds and holds no one else's session. Messages
quote the typed text escaped: it shows as typed and never becomes markup.
"""
from __future__ import annotations

import logging

import panel as pn
import param

from ..systems import EquationError, define_from_text
from .jobs import locked
from .limits import check_dim
from .state import LabState
from .text import plain

__all__ = ["SystemEditor", "EXAMPLES"]

EXAMPLES = {
    "Duffing oscillator (flow)": dict(
        name="MyDuffing", kind="flow",
        equations="dx/dt = v\ndv/dt = -delta*v + x - x^3 + gamma*cos(omega*t)",
        params="delta = 0.25 [0, 1]\ngamma = 0.3 [0, 1]\nomega = 1.0 [0.5, 2]",
        x0="0.1, 0", dt="0.05"),
    "Lorenz-like (flow)": dict(
        name="MyLorenz", kind="flow",
        equations="dx/dt = s*(y - x)\ndy/dt = x*(r - z) - y\ndz/dt = x*y - b*z",
        params="s = 10 [0, 30]\nr = 28 [0, 100]\nb = 8/3 [0, 10]", x0="1, 1, 1",
        dt="0.01"),
    "Henon-like (map)": dict(
        name="MyHenon", kind="map",
        equations="x_{n+1} = 1 - a*x^2 + y\ny_{n+1} = b*x",
        params="a = 1.4 [1, 1.5]\nb = 0.3 [0, 0.4]", x0="0.1, 0.1", dt=""),
}


class SystemEditor(pn.viewable.Viewer):
    """A form for typing a system; errors appear inline, never as a traceback."""

    state = param.ClassSelector(class_=LabState)

    def __init__(self, **params):
        super().__init__(**params)
        ex = EXAMPLES["Duffing oscillator (flow)"]
        w = pn.widgets
        self.example = w.Select(name="Start from an example", options=list(EXAMPLES),
                                value="Duffing oscillator (flow)", sizing_mode="stretch_width")
        self.name_input = w.TextInput(name="Name", value=ex["name"], placeholder="MySystem",
                                      sizing_mode="stretch_width")
        self.kind = w.RadioButtonGroup(name="Kind", options=["flow", "map"], value=ex["kind"])
        self.equations = w.TextAreaInput(
            name="Equations (one per line: dx/dt = ... for flows, x_{n+1} = ... for maps)",
            value=ex["equations"], height=110, sizing_mode="stretch_width",
            placeholder="dx/dt = -x + y")
        self.params_input = w.TextAreaInput(name="Parameters (name = value [min, max])",
                                            value=ex["params"], height=80,
                                            placeholder="a = 1 [0, 2]",
                                            sizing_mode="stretch_width")
        self.x0 = w.TextInput(name="Initial condition x0", value=ex["x0"], width=140,
                              placeholder="0.1, 0")
        self.dt = w.TextInput(name="dt", value=ex["dt"], width=80, placeholder="0.01")
        self.button = w.Button(name="Define and run", button_type="primary",
                               sizing_mode="stretch_width")
        self.message = pn.pane.Alert("", alert_type="danger", visible=False,
                                     sizing_mode="stretch_width", name="editor-message")
        self.example.param.watch(self._load_example, "value")
        self.button.on_click(locked(lambda e: self.submit()))
        self._layout = pn.Column(
            pn.pane.Markdown("Functions: sin cos tan exp log sqrt abs tanh sinh cosh arctan "
                             "atan2 sign heaviside mod min max; use t for time.",
                             styles={"font-size": "12px"}),
            self.example, self.name_input, self.kind, self.equations, self.params_input,
            pn.Row(self.x0, self.dt), self.button, self.message,
            sizing_mode="stretch_width")

    def __panel__(self):
        return self._layout

    def _load_example(self, event):
        ex = EXAMPLES[event.new]
        self.name_input.value = ex["name"]
        self.kind.value = ex["kind"]
        self.equations.value = ex["equations"]
        self.params_input.value = ex["params"]
        self.x0.value = ex["x0"]
        self.dt.value = ex["dt"]

    def fields(self) -> dict:
        return dict(name=self.name_input.value, kind=self.kind.value,
                    equations=self.equations.value, params=self.params_input.value,
                    x0=self.x0.value, dt=self.dt.value)

    def submit(self):
        """Define the system from the form and show it; return it (None on an error)."""
        try:
            s = define_from_text(**self.fields())
            check_dim(s)
            self.state.add_system(s)
        except (EquationError, ValueError, KeyError, TypeError) as exc:
            text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
            self.message.alert_type = "danger"
            self.message.object = f"**Not defined:** {plain(text)}"
            self.message.visible = True
            return None
        except Exception as exc:  # never a traceback in the page (the log keeps it)
            logging.getLogger(__name__).exception("defining a system failed")
            self.message.alert_type = "danger"
            self.message.object = f"**Not defined:** {type(exc).__name__}: {plain(exc)}"
            self.message.visible = True
            return None
        self.message.alert_type = "success"
        self.message.object = (f"**{plain(s.name)}** defined ({s.kind}, {s.dim} variables) "
                               "and selected.")
        self.message.visible = True
        return s
