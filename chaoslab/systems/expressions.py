"""Safe parsing of equation text into symbolic expressions.

A user types equations such as ``sigma*(y - x)``. chaoslab reads that text with
Python's parser (``ast.parse``, which builds a syntax tree and runs nothing), walks the
tree, and accepts only

* numbers,
* the system's own symbols (variables, parameters, ``t`` for non-autonomous flows),
* the constants ``pi`` and ``e``,
* ``+ - * / **`` (``^`` is read as a power, as people write it on paper),
* calls of the allow-listed math functions in :data:`FUNCTIONS`,
* for systems whose dimension is a parameter, indexed variables ``x[i]``, ``x[i+1]``,
  ``x[i-2]`` (cyclic).

Everything else (attribute access, keywords, strings, comparisons, lambdas, ...) is a
clear :class:`EquationError` naming the equation, the column and what is not allowed.
The accepted tree is converted node by node into a sympy expression; the text itself is
never handed to ``eval``, ``exec`` or ``sympy.sympify``.
"""
from __future__ import annotations

import ast
import math
import re

import sympy as sp

__all__ = ["EquationError", "FUNCTIONS", "CONSTANTS", "parse_expression", "parse_constant",
           "check_identifier"]

MAX_LENGTH = 4000
MAX_DEPTH = 60


class EquationError(ValueError):
    """An equation (or a parameter value) that chaoslab cannot accept."""


def _heaviside(arg):
    return sp.Heaviside(arg, sp.Rational(1, 2))


#: Allow-listed functions: name typed by the user -> (sympy constructor, number of args).
FUNCTIONS = {
    "sin": (sp.sin, 1), "cos": (sp.cos, 1), "tan": (sp.tan, 1),
    "arcsin": (sp.asin, 1), "asin": (sp.asin, 1), "arccos": (sp.acos, 1), "acos": (sp.acos, 1),
    "arctan": (sp.atan, 1), "atan": (sp.atan, 1), "atan2": (sp.atan2, 2), "arctan2": (sp.atan2, 2),
    "sinh": (sp.sinh, 1), "cosh": (sp.cosh, 1), "tanh": (sp.tanh, 1),
    "exp": (sp.exp, 1), "log": (sp.log, 1), "sqrt": (sp.sqrt, 1),
    "abs": (sp.Abs, 1), "sign": (sp.sign, 1), "heaviside": (_heaviside, 1),
    "mod": (sp.Mod, 2), "min": (sp.Min, 2), "max": (sp.Max, 2),
}

#: Named constants.
CONSTANTS = {"pi": sp.pi, "e": sp.E}

_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
# A system may name a parameter ``e`` (several published systems do): its own symbols take
# precedence over the constant e inside that system.
_RESERVED = set(FUNCTIONS) | {"pi", "t", "i"}


def check_identifier(name: str, what: str, *, allow_t: bool = False) -> str:
    """Validate a variable or parameter name; return it."""
    if not isinstance(name, str) or not _IDENT.match(name):
        raise EquationError(
            f"{what} name {name!r} is not allowed: use letters, digits and '_', "
            "starting with a letter")
    if name in _RESERVED and not (allow_t and name == "t"):
        raise EquationError(f"{what} name {name!r} is reserved (a function, a constant, "
                            "the time 't' or the index 'i')")
    return name


class _Converter:
    def __init__(self, label, symbols, indexed, index_value, size):
        self.label = label
        self.symbols = symbols            # name -> sympy Symbol
        self.indexed = indexed or {}      # name -> list of Symbols (cyclic)
        self.index_value = index_value    # int value of i, or None
        self.size = size

    def fail(self, node, message):
        col = getattr(node, "col_offset", None)
        where = f" at column {col + 1}" if col is not None else ""
        raise EquationError(f"{self.label}{where}: {message}")

    def convert(self, node, depth=0):
        if depth > MAX_DEPTH:
            self.fail(node, "the expression is nested too deeply")
        d = depth + 1
        if isinstance(node, ast.Expression):
            return self.convert(node.body, d)
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                self.fail(node, f"only numbers are allowed as constants, not {v!r}")
            if isinstance(v, float):
                if not math.isfinite(v):
                    self.fail(node, f"the number {v!r} is not finite")
                return sp.Float(v)
            return sp.Integer(v)
        if isinstance(node, ast.Name):
            name = node.id
            if name in self.symbols:
                return self.symbols[name]
            if name in CONSTANTS:
                return CONSTANTS[name]
            if name in FUNCTIONS:
                self.fail(node, f"'{name}' is a function: write {name}(...)")
            if name in self.indexed:
                self.fail(node, f"'{name}' is indexed: write {name}[i], {name}[i+1], ...")
            allowed = sorted(self.symbols)
            self.fail(node, f"unknown symbol '{name}' (allowed symbols: "
                            f"{', '.join(allowed) or 'none'}; constants: pi, e)")
        if isinstance(node, ast.UnaryOp):
            operand = self.convert(node.operand, d)
            if isinstance(node.op, ast.USub):
                return -operand
            if isinstance(node.op, ast.UAdd):
                return operand
            self.fail(node, "only unary + and - are allowed")
        if isinstance(node, ast.BinOp):
            a = self.convert(node.left, d)
            b = self.convert(node.right, d)
            op = node.op
            if isinstance(op, ast.Add):
                return a + b
            if isinstance(op, ast.Sub):
                return a - b
            if isinstance(op, ast.Mult):
                return a * b
            if isinstance(op, ast.Div):
                if b == 0:
                    self.fail(node, "division by zero")
                return a / b
            if isinstance(op, ast.Pow):
                if b.is_Number and abs(float(b)) > 64:
                    self.fail(node, "exponents above 64 in magnitude are not allowed")
                return a ** b
            self.fail(node, f"operator '{type(op).__name__}' is not allowed "
                            "(use + - * / ** or ^)")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name):
                self.fail(node, "only plain calls of allowed math functions are allowed")
            fname = node.func.id
            if fname not in FUNCTIONS:
                self.fail(node, f"unknown function '{fname}' (allowed: "
                                f"{', '.join(sorted(FUNCTIONS))})")
            if node.keywords:
                self.fail(node, f"{fname}() takes no keyword arguments")
            ctor, nargs = FUNCTIONS[fname]
            if len(node.args) != nargs:
                self.fail(node, f"{fname}() takes {nargs} argument(s), got {len(node.args)}")
            args = [self.convert(a, d) for a in node.args]
            return ctor(*args)
        if isinstance(node, ast.Subscript):
            return self.convert_index(node)
        self.fail(node, f"'{type(node).__name__}' is not allowed in an equation")

    def convert_index(self, node):
        if not isinstance(node.value, ast.Name) or node.value.id not in self.indexed:
            self.fail(node, "indexing is only allowed on the indexed variables of a "
                            "system whose dimension is a parameter")
        if self.index_value is None:
            self.fail(node, "an indexed variable needs the index 'i'")
        sl = node.slice
        offset = None
        if isinstance(sl, ast.Name) and sl.id == "i":
            offset = 0
        elif (isinstance(sl, ast.BinOp) and isinstance(sl.left, ast.Name) and sl.left.id == "i"
              and isinstance(sl.op, (ast.Add, ast.Sub)) and isinstance(sl.right, ast.Constant)
              and isinstance(sl.right.value, int) and not isinstance(sl.right.value, bool)):
            offset = sl.right.value if isinstance(sl.op, ast.Add) else -sl.right.value
        if offset is None:
            self.fail(node, "an index must be i, i+k or i-k with an integer k")
        comps = self.indexed[node.value.id]
        return comps[(self.index_value + offset) % len(comps)]


def _parse_tree(text: str, label: str) -> ast.Expression:
    if not isinstance(text, str):
        raise EquationError(f"{label}: expected text, got {type(text).__name__}")
    if not text.strip():
        raise EquationError(f"{label}: the equation is empty")
    if len(text) > MAX_LENGTH:
        raise EquationError(f"{label}: the equation is longer than {MAX_LENGTH} characters")
    # '^' means a power, as on paper; swapping the token before parsing gives it the
    # precedence of '**' (Python's '^' binds looser than '+').
    text = text.strip().replace("^", "**")
    try:
        return ast.parse(text, mode="eval")
    except SyntaxError as exc:
        col = f" at column {exc.offset}" if exc.offset else ""
        raise EquationError(f"{label}{col}: malformed equation ({exc.msg}): {text!r}") from None
    except (ValueError, RecursionError, MemoryError):
        raise EquationError(f"{label}: malformed equation: {text!r}") from None


def parse_expression(text: str, symbols: dict, *, label: str = "equation",
                     indexed: dict | None = None, index_value: int | None = None) -> sp.Expr:
    """Parse equation text into a sympy expression over the given symbols.

    Parameters
    ----------
    text : str
        The right-hand side, e.g. ``"sigma*(y - x)"``.
    symbols : dict
        Allowed names -> sympy Symbols.
    label : str
        How the equation is named in error messages (e.g. ``"dx/dt"``).
    indexed, index_value
        For systems whose dimension is a parameter: indexed name -> list of component
        symbols, and the value of ``i`` for this component.
    """
    tree = _parse_tree(text, label)
    conv = _Converter(label, symbols, indexed, index_value, None)
    try:
        expr = conv.convert(tree)
    except RecursionError:
        raise EquationError(f"{label}: the expression is nested too deeply") from None
    expr = sp.sympify(expr)  # already a sympy object: this only normalises numbers
    if expr.has(sp.zoo, sp.oo, -sp.oo, sp.nan):
        raise EquationError(f"{label}: the expression is not finite ({expr})")
    return expr


def parse_constant(value, *, label: str = "value") -> float:
    """A parameter value: a finite number, or text such as ``"8/3"`` or ``"2*pi/10"``."""
    if isinstance(value, bool):
        raise EquationError(f"{label}: expected a number, got {value!r}")
    if isinstance(value, (int, float)):
        v = float(value)
    elif isinstance(value, str):
        expr = parse_expression(value, {}, label=label)
        try:
            v = float(expr)
        except TypeError:
            raise EquationError(f"{label}: {value!r} is not a number") from None
    else:
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise EquationError(f"{label}: expected a number, got {value!r}") from None
    if not math.isfinite(v):
        raise EquationError(f"{label}: must be a finite number, got {v!r}")
    return v
