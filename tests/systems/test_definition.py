"""A system typed as text (the app's form): split into define() keywords, linear time."""
import time

import numpy as np
import pytest

import chaoslab as cl
from chaoslab.systems import EquationError, define_from_text, parse_definition


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


@pytest.mark.parametrize("line, want", [
    ("a = 1.4 [1, 1.5]", ("a", ["1.4", "1", "1.5"])),
    ("a=1.4[1,1.5]", ("a", ["1.4", "1", "1.5"])),
    ("  rho   =   28   [ 0 , 100 ]  ", ("rho", ["28", "0", "100"])),
    ("b = 8/3", ("b", "8/3")),
    ("c = max(1, 2)", ("c", "max(1, 2)")),        # a comma in the value, no range
    ("d = max(1, 2) [0, 5]", ("d", ["max(1, 2)", "0", "5"])),
    ("w = 2*pi/10 [0, 2*pi]", ("w", ["2*pi/10", "0", "2*pi"])),
])
def test_parameter_lines(line, want):
    d = parse_definition("S", "flow", "dx/dt = -x", line)
    assert d["params"] == {want[0]: want[1]}


@pytest.mark.parametrize("line", [
    "a = [0, 1]",            # no value
    "a = 1 [0, 1",           # unclosed range
    "a = 1 0, 1]",           # unopened range
    "a = 1 [0]",             # one bound
    "a = 1 [0, 1, 2]",       # three bounds
    "a = 1 [0, ]",           # an empty bound
    "a = 1 [0, 1] x",        # text after the range
    "a = 1 [[0, 1]]",        # nested brackets
    "2a = 1",                # not a name
    "a b = 1",               # not a name
    "a =",                   # nothing after '='
])
def test_malformed_parameter_lines_are_refused(line):
    with pytest.raises(EquationError, match="parameter line 1"):
        parse_definition("S", "flow", "dx/dt = -x", line)


def _hostile(n, end):
    """The shape that made the former regular expression backtrack: runs of spaces
    between every part (131 characters took 10 s)."""
    s = " " * n
    return "a =" + s + "1" + s + "[" + s + "0" + s + "," + s + "1" + s + end


@pytest.mark.parametrize("end, ok", [("] x", False), ("]", True), ("", False)])
def test_a_long_hostile_parameter_line_is_linear(end, ok):
    line = _hostile(830, end)
    assert len(line) >= 4980
    t = time.perf_counter()
    if ok:
        d = parse_definition("S", "flow", "dx/dt = -a*x", line)
        assert d["params"] == {"a": ["1", "0", "1"]}
    else:
        with pytest.raises(EquationError, match="parameter line 1") as info:
            parse_definition("S", "flow", "dx/dt = -a*x", line)
        assert len(str(info.value)) < 200  # the message quotes the line cut short
    assert time.perf_counter() - t < 0.5  # microseconds; the former regex: hours


@pytest.mark.parametrize("eqs", [
    "x" + "_" * 5000 + " = 1",
    "d" + " " * 2500 + "x" + " " * 2500 + "/dt = 1",
    "x" + " " * 2500 + "_" + " " * 2500 + "{ n + 2} = 1",
    "a" * 5000 + "dot = 1",
    "x" * 5000 + "_next = 1",
])
def test_long_hostile_equation_lines_are_linear(eqs):
    t = time.perf_counter()
    try:
        parse_definition("S", "flow", eqs)
    except EquationError:
        pass
    assert time.perf_counter() - t < 0.5  # microseconds; the former regex: hours


def test_define_from_text_builds_a_system():
    s = define_from_text(name="Spring", kind="flow", equations="dx/dt = v\ndv/dt = -k*x",
                         params="k = 4 [0, 10]", x0="1, 0", dt="0.01")
    assert s.variables == ("x", "v") and s.values == {"k": 4.0}
    assert (s.params["k"].min, s.params["k"].max) == (0.0, 10.0)
    np.testing.assert_allclose(s.rhs([1.0, 0.5]), [0.5, -4.0])
    assert cl.systems.define_from_text is define_from_text
    with pytest.raises(EquationError, match="unknown symbol 'q'"):
        define_from_text(name="Bad", kind="flow", equations="dx/dt = q*x")
