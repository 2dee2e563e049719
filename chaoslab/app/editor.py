"""Typing a new system: a form whose text goes to ``cl.systems.define`` (the safe parser).

:func:`parse_definition` only splits the form's text into names and strings; every
expression and number is read by chaoslab's parser inside ``define``, which accepts
numbers, the system's own symbols, arithmetic and a fixed list of math functions, and
never passes user text to ``eval``.
"""
from __future__ import annotations

import logging
import re

import panel as pn
import param

from .. import systems
from ..systems import EquationError
from .jobs import locked
from .state import LabState

__all__ = ["parse_definition", "SystemEditor", "EXAMPLES"]

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_FLOW_LHS = [re.compile(rf"^d\s*({_NAME})\s*/\s*dt$"), re.compile(rf"^({_NAME})\s*'$"),
             re.compile(rf"^({_NAME})_?dot$")]
_MAP_LHS = [re.compile(rf"^({_NAME})\s*_\s*\{{?\s*n\s*\+\s*1\s*\}}?$"),
            re.compile(rf"^({_NAME})\s*\(\s*n\s*\+\s*1\s*\)$"),
            re.compile(rf"^({_NAME})_next$")]
_PLAIN_LHS = re.compile(rf"^({_NAME})$")
_PARAM = re.compile(rf"^({_NAME})\s*=\s*([^\[\]]+?)\s*(?:\[\s*([^,\[\]]+?)\s*,\s*([^,\[\]]+?)\s*\])?$")

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


def _lhs_variable(lhs: str, kind: str, line_no: int) -> str:
    lhs = lhs.strip()
    for pat in _FLOW_LHS:
        m = pat.match(lhs)
        if m:
            if kind != "flow":
                raise EquationError(f"equation {line_no}: {lhs!r} is a derivative, but the "
                                    "kind is 'map' (write x_{n+1} = ... for a map)")
            return m.group(1)
    for pat in _MAP_LHS:
        m = pat.match(lhs)
        if m:
            if kind != "map":
                raise EquationError(f"equation {line_no}: {lhs!r} is a map update, but the "
                                    "kind is 'flow' (write dx/dt = ... for a flow)")
            return m.group(1)
    m = _PLAIN_LHS.match(lhs)
    if m:
        return m.group(1)
    raise EquationError(f"equation {line_no}: the left side {lhs!r} should be dx/dt, x' or x "
                        "(flows), or x_{n+1} or x (maps)")


def _lines(text: str):
    for raw in re.split(r"[\n;]", text or ""):
        line = raw.split("#", 1)[0].strip()
        if line:
            yield line


def parse_definition(name, kind, equations, params="", x0="", dt="") -> dict:
    """Keyword arguments for :func:`chaoslab.systems.define` from the editor's text.

    ``equations`` holds one ``LHS = RHS`` per line (``dx/dt = ...``, ``x' = ...`` or
    ``x = ...`` for flows; ``x_{n+1} = ...`` or ``x = ...`` for maps): the left sides name
    the variables, in order. ``params`` holds ``name = value`` or
    ``name = value [min, max]`` per line (or separated by ``;``). ``x0`` is a comma- or
    space-separated list; ``dt`` a number. Values and right-hand sides stay text, for
    ``define`` to parse. Raises :class:`~chaoslab.systems.EquationError` naming the line.
    """
    name = (name or "").strip()
    if not name:
        raise EquationError("give the system a name")
    if kind not in ("flow", "map"):
        raise EquationError(f"kind must be 'flow' or 'map', got {kind!r}")
    variables, rhs = [], []
    for k, line in enumerate(_lines(equations), 1):
        if "=" not in line:
            raise EquationError(f"equation {k}: {line!r} has no '=' (write dx/dt = ...)")
        lhs, right = line.split("=", 1)
        if not right.strip():
            raise EquationError(f"equation {k}: nothing after '='")
        variables.append(_lhs_variable(lhs, kind, k))
        rhs.append(right.strip())
    if not variables:
        raise EquationError("type at least one equation, e.g. dx/dt = -x")
    pars = {}
    for k, line in enumerate(_lines(params), 1):
        m = _PARAM.match(line)
        if not m:
            raise EquationError(f"parameter line {k}: {line!r} should read name = value or "
                                "name = value [min, max]")
        pname, value, lo, hi = m.groups()
        if pname in pars:
            raise EquationError(f"parameter {pname} is given twice")
        pars[pname] = [value, lo, hi] if lo is not None else value
    x0_items = [v for v in re.split(r"[,\s]+", (x0 or "").strip()) if v]
    if x0_items and len(x0_items) != len(variables):
        raise EquationError(f"x0 needs {len(variables)} values (one per variable "
                            f"{', '.join(variables)}), got {len(x0_items)}")
    out = dict(name=name, variables=variables, equations=rhs, params=pars,
               x0=x0_items or None, kind=kind)
    if kind == "flow" and (dt or "").strip():
        out["dt"] = dt.strip()
    return out


def define_from_text(**fields):
    """``cl.systems.define`` on the editor's text (see :func:`parse_definition`)."""
    return systems.define(**parse_definition(**fields))


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
            self.state.add_system(s)
        except (EquationError, ValueError, KeyError, TypeError) as exc:
            text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
            self.message.alert_type = "danger"
            self.message.object = f"**Not defined:** {text}"
            self.message.visible = True
            return None
        except Exception as exc:  # never a traceback in the page (the log keeps it)
            logging.getLogger(__name__).exception("defining a system failed")
            self.message.alert_type = "danger"
            self.message.object = f"**Not defined:** {type(exc).__name__}: {exc}"
            self.message.visible = True
            return None
        self.message.alert_type = "success"
        self.message.object = (f"**{s.name}** defined ({s.kind}, {s.dim} variables) and "
                               "selected.")
        self.message.visible = True
        return s
