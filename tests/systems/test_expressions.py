"""The equation parser accepts arithmetic on known symbols and nothing else."""
import pytest
import sympy as sp

from chaoslab.systems.expressions import EquationError, parse_constant, parse_expression

x, y, a = sp.symbols("x y a", real=True)
SYMS = {"x": x, "y": y, "a": a}


@pytest.mark.parametrize("text, want", [
    ("a*(y - x)", a * (y - x)),
    ("x^2 + y**3", x ** 2 + y ** 3),
    ("x^2 + 1", x ** 2 + 1),
    ("-x + +y", -x + y),
    ("sin(x)*exp(-a*y)", sp.sin(x) * sp.exp(-a * y)),
    ("sqrt(abs(x))", sp.sqrt(sp.Abs(x))),
    ("2*pi*x", 2 * sp.pi * x),
    ("1e-3*x", sp.Float(1e-3) * x),
    ("atan2(y, x)", sp.atan2(y, x)),
    ("max(x, 0)", sp.Max(x, 0)),
])
def test_accepts_arithmetic_and_allowed_functions(text, want):
    assert sp.simplify(parse_expression(text, SYMS) - want) == 0


@pytest.mark.parametrize("text, match", [
    ("__import__('os').system('true')", "only plain calls"),
    ("__import__('os')", "unknown function '__import__'"),
    ("x.real", "'Attribute' is not allowed"),
    ("(lambda: 1)()", "only plain calls"),
    ("'abc'", "only numbers"),
    ("x if y else a", "'IfExp' is not allowed"),
    ("x < y", "'Compare' is not allowed"),
    ("[x, y]", "'List' is not allowed"),
    ("sin(x, y)", "takes 1 argument"),
    ("sin(x=1)", "keyword"),
    ("foo(x)", "unknown function 'foo'"),
    ("z + 1", "unknown symbol 'z'"),
    ("x[0]", "indexing is only allowed"),
    ("x //", "malformed"),
    ("", "empty"),
    ("x / 0", "division by zero"),
    ("x ** 1000", "exponents above 64"),
    ("x % 2", "operator 'Mod' is not allowed"),
    ("sin", "is a function"),
    ("True", "only numbers"),
    ("1e999 * x", "not finite"),
])
def test_rejects_everything_else(text, match):
    with pytest.raises(EquationError, match=match):
        parse_expression(text, SYMS, label="dx/dt")


def test_error_names_equation_and_column():
    with pytest.raises(EquationError, match=r"dy/dt at column 5: unknown symbol 'q'"):
        parse_expression("x + q", SYMS, label="dy/dt")


def test_deep_nesting_and_long_text_are_refused():
    with pytest.raises(EquationError, match="nested too deeply|malformed"):
        parse_expression("(" * 500 + "x" + ")" * 500, SYMS)
    with pytest.raises(EquationError, match="longer than"):
        parse_expression("x+" * 3000 + "x", SYMS)


def test_constants():
    assert parse_constant("8/3") == pytest.approx(8 / 3)
    assert parse_constant(2) == 2.0
    for bad in ("nan", float("inf"), "x", None, True):
        with pytest.raises(EquationError):
            parse_constant(bad)
