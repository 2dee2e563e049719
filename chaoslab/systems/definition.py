"""A whole system typed as text (the app's "define a system" form), read into
:func:`~chaoslab.systems.define` keywords. The fields are plain text::

    name       MyHenon
    kind       map
    equations  x_{n+1} = 1 - a*x^2 + y     (one per line, or separated by ';')
               y_{n+1} = b*x
    params     a = 1.4 [1, 1.5]            (name = value, or name = value [min, max])
               b = 0.3
    x0         0.1, 0.1
    dt         (flows only)

:func:`parse_definition` only splits the text into names and strings; every expression
and number is read by chaoslab's parser inside :func:`~chaoslab.systems.define`, which
accepts numbers, the system's own symbols, arithmetic and a fixed list of math functions,
and never passes user text to ``eval``. Every step here is linear in the length of the
text (a parameter line is split with string methods, not a backtracking regular
expression), so a long or hostile line costs microseconds.

Sizes are bounded before anything is read: each field holds at most
:data:`MAX_FIELD_LENGTH` characters (the name :data:`MAX_NAME_LENGTH`), at most
:data:`MAX_EQUATIONS` equations and :data:`MAX_PARAMS` parameters, and only printable
ASCII outside comments (a look-alike letter is an error naming its line and column).
:func:`define_from_text` checks every equation and value with
:func:`~chaoslab.systems.expressions.check_expression` (no sympy; time about linear in
the text) before it builds the system, so a typed mistake is reported at once however
large the rest is.
"""
from __future__ import annotations

import re

from .catalog import define
from .expressions import EquationError, check_ascii, check_expression, check_identifier

__all__ = ["parse_definition", "define_from_text", "check_definition", "MAX_FIELD_LENGTH",
           "MAX_NAME_LENGTH", "MAX_EQUATIONS", "MAX_PARAMS"]

#: Most characters in one field of a typed system (equations, parameters, x0, dt).
MAX_FIELD_LENGTH = 10_000
#: Most characters in a typed system's name.
MAX_NAME_LENGTH = 100
#: Most equations (variables) in a typed system.
MAX_EQUATIONS = 64
#: Most parameters in a typed system.
MAX_PARAMS = 100

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_NAME_RE = re.compile(_NAME)
# each pattern is anchored and has no nested or adjacent overlapping repetition: linear
_FLOW_LHS = [re.compile(rf"^d\s*({_NAME})\s*/\s*dt$"), re.compile(rf"^({_NAME})\s*'$"),
             re.compile(rf"^({_NAME})_?dot$")]
_MAP_LHS = [re.compile(rf"^({_NAME})\s*_\s*\{{?\s*n\s*\+\s*1\s*\}}?$"),
            re.compile(rf"^({_NAME})\s*\(\s*n\s*\+\s*1\s*\)$"),
            re.compile(rf"^({_NAME})_next$")]
_PLAIN_LHS = re.compile(rf"^({_NAME})$")


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
    raise EquationError(f"equation {line_no}: the left side {_short(lhs)!r} should be dx/dt, "
                        "x' or x (flows), or x_{n+1} or x (maps)")


def _short(text: str, n: int = 60) -> str:
    """``text``, cut to ``n`` characters for an error message."""
    return text if len(text) <= n else text[:n] + "..."


def _field(value, what: str, limit: int = MAX_FIELD_LENGTH) -> str:
    """A form field as text ('' for None), refused early when it is not text or too long."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise EquationError(f"{what}: expected text, got {type(value).__name__}")
    if len(value) > limit:
        raise EquationError(f"{what}: {len(value)} characters is too long (at most {limit})")
    return value


def _lines(text: str, what: str):
    """The lines of a field (split at newlines and ';'), comments cut, blanks skipped;
    every character outside a comment is printable ASCII."""
    k = 0
    for raw in re.split(r"[\n;]", text):
        line = raw.split("#", 1)[0].strip()
        if line:
            k += 1
            check_ascii(line, f"{what} {k}")
            yield line


def _param_line(line: str):
    """``(name, value, lo, hi)`` from ``name = value`` or ``name = value [lo, hi]``
    (``lo`` and ``hi`` None without a range), or None if the line reads otherwise.

    The value may hold commas (``max(1, 2)``) but no brackets; the bounds neither.
    """
    if "=" not in line:
        return None
    name, rest = line.split("=", 1)
    name, rest = name.strip(), rest.strip()
    if not _NAME_RE.fullmatch(name):
        return None
    lo = hi = None
    if rest.endswith("]"):
        i = rest.rfind("[")
        if i < 0:
            return None
        bounds = rest[i + 1:-1]
        rest = rest[:i].rstrip()
        if bounds.count(",") != 1 or "[" in bounds:
            return None
        lo, hi = (b.strip() for b in bounds.split(","))
        if not lo or not hi:
            return None
    if not rest or "[" in rest or "]" in rest:
        return None
    return name, rest, lo, hi


def parse_definition(name, kind, equations, params="", x0="", dt="") -> dict:
    """Keyword arguments for :func:`chaoslab.systems.define` from a system typed as text.

    ``equations`` holds one ``LHS = RHS`` per line (``dx/dt = ...``, ``x' = ...`` or
    ``x = ...`` for flows; ``x_{n+1} = ...`` or ``x = ...`` for maps): the left sides name
    the variables, in order. ``params`` holds ``name = value`` or
    ``name = value [min, max]`` per line (or separated by ``;``). ``x0`` is a comma- or
    space-separated list; ``dt`` a number. ``#`` starts a comment. Values and right-hand
    sides stay text, for ``define`` to parse.

    Raises
    ------
    EquationError
        Naming the line and what is wrong with it.

    Examples
    --------
    >>> parse_definition("M", "map", "x_{n+1} = r*x*(1 - x)", "r = 3.9 [0, 4]")["params"]
    {'r': ['3.9', '0', '4']}
    """
    name = _field(name, "name", MAX_NAME_LENGTH).strip()
    if not name:
        raise EquationError("give the system a name")
    if not name.isprintable():
        raise EquationError(f"name: {name!r} holds a character that cannot be shown "
                            "(a control character)")
    if kind not in ("flow", "map"):
        raise EquationError(f"kind must be 'flow' or 'map', got {_short(repr(kind))}")
    equations = _field(equations, "equations")
    params = _field(params, "params")
    x0 = _field(x0, "x0")
    dt = _field(dt, "dt")
    variables, rhs = [], []
    for k, line in enumerate(_lines(equations, "equation"), 1):
        if k > MAX_EQUATIONS:
            raise EquationError(f"more than {MAX_EQUATIONS} equations: a typed system has "
                                f"at most {MAX_EQUATIONS} variables")
        if "=" not in line:
            raise EquationError(f"equation {k}: {_short(line)!r} has no '=' "
                                "(write dx/dt = ...)")
        lhs, right = line.split("=", 1)
        if not right.strip():
            raise EquationError(f"equation {k}: nothing after '='")
        variables.append(_lhs_variable(lhs, kind, k))
        rhs.append(right.strip())
    if not variables:
        raise EquationError("type at least one equation, e.g. dx/dt = -x")
    pars = {}
    for k, line in enumerate(_lines(params, "parameter line"), 1):
        if k > MAX_PARAMS:
            raise EquationError(f"more than {MAX_PARAMS} parameter lines: a typed system has "
                                f"at most {MAX_PARAMS} parameters")
        parsed = _param_line(line)
        if parsed is None:
            raise EquationError(f"parameter line {k}: {_short(line)!r} should read "
                                "name = value or name = value [min, max]")
        pname, value, lo, hi = parsed
        if pname in pars:
            raise EquationError(f"parameter {pname} is given twice")
        pars[pname] = [value, lo, hi] if lo is not None else value
    check_ascii(x0, "x0")
    check_ascii(dt, "dt")
    x0_items = [v for v in re.split(r"[,\s]+", x0.strip()) if v]
    if x0_items and len(x0_items) != len(variables):
        raise EquationError(f"x0 needs {len(variables)} values (one per variable "
                            f"{', '.join(variables)}), got {len(x0_items)}")
    out = dict(name=name, variables=variables, equations=rhs, params=pars,
               x0=x0_items or None, kind=kind)
    if kind == "flow" and dt.strip():
        out["dt"] = dt.strip()
    return out


def check_definition(d: dict) -> None:
    """Check what :func:`parse_definition` returned without building it: names, every
    equation and every number, with
    :func:`~chaoslab.systems.expressions.check_expression` (no sympy).
    The labels are those :func:`~chaoslab.systems.define` uses, so a message reads the
    same whichever step finds the problem."""
    name, variables, params = d["name"], d["variables"], d["params"]
    for v in variables:
        check_identifier(v, f"{name}: variable")
    for p in params:
        check_identifier(p, f"{name}: parameter")
    names = list(variables) + list(params) + (["t"] if d["kind"] == "flow" else [])
    lhs = "{}_next" if d["kind"] == "map" else "d{}/dt"
    for v, text in zip(variables, d["equations"]):
        check_expression(text, names, label=f"{name}: {lhs.format(v)}")
    for p, value in params.items():
        if isinstance(value, list):
            for text, what in zip(value, ("", " min", " max")):
                check_expression(text, (), label=f"{name}: parameter {p}{what}")
        else:
            check_expression(value, (), label=f"{name}: parameter {p}")
    for text in d["x0"] or ():
        check_expression(text, (), label=f"{name}: x0")
    if "dt" in d:
        check_expression(d["dt"], (), label=f"{name}: dt")


def define_from_text(**fields):
    """:func:`chaoslab.systems.define` on a system typed as text (the keywords of
    :func:`parse_definition`: ``name``, ``kind``, ``equations``, ``params``, ``x0``,
    ``dt``).

    Every equation and number is checked (:func:`check_definition`) before the system is
    built, so a mistake anywhere in a large system is reported at once.
    """
    d = parse_definition(**fields)
    check_definition(d)
    return define(**d)
