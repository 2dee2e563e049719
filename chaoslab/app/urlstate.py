"""Shared links: the app's state as URL query parameters, and back.

Scheme: ``?system=Rossler&a=0.3&b=0.2&c=5.7&tab=lyapunov`` -- the system, then each
parameter by its own name (only those that differ from the defaults), then the reserved
keys ``tab`` (explore, lyapunov, ftle, orbit), ``dt``, ``method``, ``backend`` and the
Explore view's ``view``, ``az``, ``el``. A system typed in the editor travels as
``define=<JSON of the editor's fields>`` and is rebuilt through the same safe parser.
"""
from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlencode

from .. import systems
from ..validation import check_dt, check_float
from .limits import check_dim, clamp_value, dt_range

__all__ = ["RESERVED", "state_query", "query_string", "parse_query", "apply_query"]

RESERVED = ("system", "tab", "dt", "method", "backend", "view", "az", "el", "define")


def _num(v) -> str:
    return format(float(v), ".10g")


def state_query(state, tab="explore", view=None, definition=None) -> dict:
    """The query parameters for the state (an ordered dict of strings)."""
    q = {"system": state.system_name}
    if definition is not None:
        q["define"] = json.dumps(definition, separators=(",", ":"))
    defaults = state.default_values(state.system)
    for k, v in state.values.items():
        if k in RESERVED:
            continue
        if defaults.get(k) != v:
            q[k] = _num(v)
    if tab and tab != "explore":
        q["tab"] = tab
    if state.dt is not None:
        q["dt"] = _num(state.dt)
    if state.method != "rk4":
        q["method"] = state.method
    if state.backend != "numba":
        q["backend"] = state.backend
    if view:
        q.update({k: v for k, v in view.items() if v is not None})
    return q


def query_string(query: dict) -> str:
    return "?" + urlencode(query) if query else ""


def parse_query(search) -> dict:
    """``"?a=1&b=2"`` or Bokeh's session arguments (name -> [bytes]) -> name -> str."""
    if isinstance(search, dict):
        out = {}
        for k, v in search.items():
            v = v[-1] if isinstance(v, (list, tuple)) and v else v
            out[k] = v.decode() if isinstance(v, bytes) else str(v)
        return out
    return dict(parse_qsl((search or "").lstrip("?"), keep_blank_values=False))


def apply_query(lab, query: dict) -> list:
    """Restore a shared view on a :class:`~chaoslab.app.main.ChaosLab`; returns a list of
    problems (bad values are skipped and reported, never raised).

    Values must be finite; parameters outside their catalog range, a size or a time step
    beyond what the app allows (:mod:`chaoslab.app.limits`) are brought into range and
    reported; a typed system with more variables than the app allows is refused."""
    problems = []
    q = dict(query)
    st = lab.state
    if "define" in q:
        try:
            from ..systems import define_from_text

            fields = json.loads(q.pop("define"))
            s = define_from_text(**{k: str(v) for k, v in fields.items()})
            check_dim(s)
            st.add_system(s, select=False)
            lab.definitions[s.name] = fields
        except Exception as exc:
            problems.append(f"the shared system could not be rebuilt: {exc}")
    system = q.pop("system", None)
    settings = {}
    for key in ("method", "backend"):
        if key in q:
            val = q.pop(key)
            if val in st.param[key].objects:
                settings[key] = val
            else:
                problems.append(f"{key} must be one of {st.param[key].objects}, got {val!r}")
    if "dt" in q:
        try:
            settings["dt"] = check_dt(float(q.pop("dt")))
        except ValueError:
            problems.append("dt must be a positive finite number")
    tab = q.pop("tab", None)
    view = {k: q.pop(k) for k in ("view", "az", "el") if k in q}
    values = {}
    for k, v in q.items():
        try:
            values[k] = check_float(float(v), f"parameter {k}")
        except ValueError:
            problems.append(f"parameter {k} must be a finite number, got {v!r}")
    try:
        if system is None:
            name = st.system_name
        elif system in st.custom_systems:
            name = system
        else:
            name = systems.get(system).name
        target = st.custom_systems.get(name) or systems.get(name)
        allowed = set(target.params) | ({target.size.name} if target.size else set())
        for k in [k for k in values if k not in allowed]:
            problems.append(f"{name} has no parameter {k!r}")
            values.pop(k)
        for k in list(values):
            values[k], problem = clamp_value(target, k, values[k])
            if problem:
                problems.append(problem)
        if "dt" in settings and not target.is_map:
            hi = dt_range(target)[1]
            if settings["dt"] > hi:
                problems.append(f"dt = {settings['dt']:g} is more than the app allows for "
                                f"{name} ({hi:g}, ten times its own step); {hi:g} is used")
                settings["dt"] = hi
        st.configure(system=name, values=values, **settings)
    except Exception as exc:
        problems.append(str(exc.args[0]) if isinstance(exc, KeyError) and exc.args
                        else str(exc))
    if tab:
        if not lab.select_tab(tab):
            problems.append(f"no tab {tab!r}")
    if view:
        lab.explore.apply_url_view(view)
    return problems
