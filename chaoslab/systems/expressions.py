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

Bounds, so that no text makes the parser (or sympy behind it) run for long:

* an equation holds at most :data:`MAX_LENGTH` characters, all of them printable ASCII
  (a look-alike letter such as a mathematical bold x or a fullwidth x is refused, never
  read as another symbol); names hold at most :data:`MAX_IDENTIFIER` characters;
* nesting (sums, products, powers, function calls and signs inside one another) is at
  most :data:`MAX_DEPTH` levels deep; a flat sum or product counts as one level however
  many terms it has;
* at most :data:`MAX_PIECEWISE` calls of min, max, mod, abs, sign and heaviside (which
  sympy simplifies at length) stand in one equation;
* an exponent that is a number is at most :data:`MAX_EXPONENT` in magnitude, also after
  sympy combines powers (``(x**64)**2`` is ``x**128``);
* every constant (``1e300*1e300``, ``exp(exp(1000))``, ``(2**64)**64``) is folded in
  double precision before sympy sees it, and so are the numbers sympy gathers into one
  (``x*1e300*1e300``, ``(x*1e300)*(y*1e300)``): one that overflows, leaves the real
  numbers (``sqrt(-1)``, ``log(0)``), divides by zero or (as a product, a power or an
  ``exp``, which sympy would keep exact) underflows to zero is an error naming the
  column and the constant; an exact integer or fraction never grows past
  :data:`MAX_BITS` bits.

:func:`check_expression` applies every check that needs no sympy (all but the few that
only show once sympy simplifies, such as ``x/(x - x)`` or ``tan(pi/2)``) in a time about
linear in the length of the text; :func:`parse_expression` applies them all and returns
the sympy expression.
"""
from __future__ import annotations

import ast
import bisect
import keyword
import math
import re
import unicodedata
import warnings

from .lazy import sp

__all__ = ["EquationError", "FUNCTIONS", "CONSTANTS", "parse_expression", "parse_constant",
           "check_expression", "check_identifier", "check_ascii", "check_constants",
           "MAX_LENGTH", "MAX_DEPTH", "MAX_EXPONENT", "MAX_IDENTIFIER", "MAX_BITS",
           "MAX_PIECEWISE"]

#: Most characters in one equation (or one typed number).
MAX_LENGTH = 4000
#: Most nesting levels (a sum in a product in a call in a power ..., unary signs); the
#: terms of a flat sum and the factors of a flat product do not nest.
MAX_DEPTH = 60
#: Largest magnitude of a numeric exponent.
MAX_EXPONENT = 64
#: Most characters in a variable or parameter name.
MAX_IDENTIFIER = 64
#: Most bits in the numerator or denominator of an exact constant.
MAX_BITS = 4096
#: Most calls of the piecewise functions (min, max, mod, abs, sign, heaviside) in one
#: equation: sympy simplifies each by reasoning about its arguments, which costs far more
#: than arithmetic, for the expression and again for its derivatives.
MAX_PIECEWISE = 32
_PIECEWISE = {"min", "max", "mod", "abs", "sign", "heaviside"}


class EquationError(ValueError):
    """An equation (or a parameter value) that chaoslab cannot accept."""


def _heaviside(arg):
    return sp.Heaviside(arg, sp.Rational(1, 2))


#: Allow-listed functions: name typed by the user -> (name of the sympy constructor,
#: number of args); :data:`FUNCTIONS` holds the constructors themselves.
_FUNCTION_SPECS = {
    "sin": ("sin", 1), "cos": ("cos", 1), "tan": ("tan", 1),
    "arcsin": ("asin", 1), "asin": ("asin", 1), "arccos": ("acos", 1), "acos": ("acos", 1),
    "arctan": ("atan", 1), "atan": ("atan", 1), "atan2": ("atan2", 2), "arctan2": ("atan2", 2),
    "sinh": ("sinh", 1), "cosh": ("cosh", 1), "tanh": ("tanh", 1),
    "exp": ("exp", 1), "log": ("log", 1), "sqrt": ("sqrt", 1),
    "abs": ("Abs", 1), "sign": ("sign", 1), "heaviside": ("Heaviside", 1),
    "mod": ("Mod", 2), "min": ("Min", 2), "max": ("Max", 2),
}
#: Named constants and their values in double precision (:data:`CONSTANTS`: as sympy's).
_CONSTANT_VALUES = {"pi": math.pi, "e": math.e}


def _constructor(fname: str):
    """The sympy constructor of an allow-listed function (imports sympy)."""
    if fname == "heaviside":
        return _heaviside
    return getattr(sp, _FUNCTION_SPECS[fname][0])


def __getattr__(name):
    # FUNCTIONS (name -> (sympy constructor, number of args)) and CONSTANTS (name -> sympy
    # constant) are built when first asked for: building them imports sympy
    if name == "FUNCTIONS":
        value = {k: (_constructor(k), n) for k, (_, n) in _FUNCTION_SPECS.items()}
    elif name == "CONSTANTS":
        value = {"pi": sp.pi, "e": sp.E}
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


# ------------------------------------------------------------------ double-precision folding
def _sign(a):
    return float((a > 0) - (a < 0))


def _heaviside_value(a):
    return 1.0 if a > 0 else 0.0 if a < 0 else 0.5


def _mod(a, b):
    return a % b  # sympy's Mod: the result takes the sign of the divisor, as Python's %


# the value of each allow-listed function on floats, as sympy defines it
_FLOAT_FUNCTIONS = {
    "sin": math.sin, "cos": math.cos, "tan": math.tan,
    "arcsin": math.asin, "asin": math.asin, "arccos": math.acos, "acos": math.acos,
    "arctan": math.atan, "atan": math.atan, "atan2": math.atan2, "arctan2": math.atan2,
    "sinh": math.sinh, "cosh": math.cosh, "tanh": math.tanh,
    "exp": math.exp, "log": math.log, "sqrt": math.sqrt,
    "abs": abs, "sign": _sign, "heaviside": _heaviside_value,
    "mod": _mod, "min": min, "max": max,
}


class _Fold(Exception):
    """A constant that does not fold to a finite double; ``args[0]`` says why."""


def _finite(v: float) -> float:
    if not math.isfinite(v):
        raise _Fold("overflows double precision (its magnitude exceeds 1.8e308)")
    return v


def _nonzero(before: float, v: float) -> float:
    """``v``, a product or quotient of ``before`` and a nonzero number: finite, and not 0
    unless ``before`` was (sympy keeps such a constant exact, and working with one far
    below 1e-308 next to ordinary numbers takes it a long time)."""
    _finite(v)
    if v == 0 and before != 0:
        raise _Fold("underflows double precision (its magnitude is below 1e-308)")
    return v


def _fpow(a: float, b: float) -> float:
    if a == 0 and b < 0:
        raise _Fold("divides by zero (0 to a negative power)")
    try:
        v = _finite(math.pow(a, b))
    except OverflowError:
        raise _Fold("overflows double precision (its magnitude exceeds 1.8e308)") from None
    except ValueError:
        raise _Fold("is not a real number (a negative number to a fractional power)") from None
    if v == 0 and a != 0:
        # an exact fraction this small would also grow past MAX_BITS bits in sympy
        raise _Fold("underflows double precision (its magnitude is below 1e-308)")
    return v


def _coeff_pow(c: float, n: float) -> float:
    """``c**n`` for a collected coefficient ``c >= 0``: inf when it overflows."""
    if c == 0:
        return 0.0
    try:
        return math.pow(c, n)
    except OverflowError:
        return math.inf


def _fcall(fname: str, args) -> float:
    try:
        v = _finite(float(_FLOAT_FUNCTIONS[fname](*args)))
        if v == 0 and fname == "exp":
            # sympy keeps exp(-7000000) exact; comparing it with ordinary numbers (mod,
            # min, max) would make it work with millions of digits
            raise _Fold("underflows double precision (its magnitude is below 1e-308)")
        return v
    except OverflowError:
        raise _Fold("overflows double precision (its magnitude exceeds 1.8e308)") from None
    except ZeroDivisionError:
        raise _Fold("divides by zero") from None
    except ValueError:
        raise _Fold(f"lies outside the domain of {fname} (it is not a finite real "
                    "number)") from None


# ------------------------------------------------------------------ text checks
# printable ASCII; tab, newline and carriage return are read as spaces
_NOT_ALLOWED_CHAR = re.compile(r"[^\t\n\r\x20-\x7e]")
_HINTS = {"\u2212": "-", "\u2013": "-", "\u2014": "-", "\u00d7": "*", "\u22c5": "*",
          "\u00b7": "*", "\u2217": "*", "\u00f7": "/", "\u2044": "/", "\u2215": "/",
          "\u2019": "'", "\u2032": "'", "\u00b2": "^2", "\u00b3": "^3"}


def _describe_char(ch: str) -> str:
    name = unicodedata.name(ch, None) or f"U+{ord(ch):04X}"
    hint = _HINTS.get(ch) or unicodedata.normalize("NFKC", ch)
    if hint != ch and hint.isascii() and hint.isprintable():
        return f"{ch!r} ({name}; did you mean {hint!r}?)"
    return f"{ch!r} ({name})"


def check_ascii(text: str, label: str, *, offset: int = 0) -> str:
    """Refuse any character of ``text`` that is not printable ASCII; return ``text``.

    Names are ASCII letters, digits and ``_``, so a look-alike (a mathematical bold x,
    a fullwidth x, a roman numeral) is an error naming its column and what it is, never
    a symbol of its own. ``offset`` is added to the reported column.
    """
    m = _NOT_ALLOWED_CHAR.search(text)
    if m:
        raise EquationError(
            f"{label} at column {m.start() + 1 + offset}: the character "
            f"{_describe_char(m.group())} is not allowed: equations and names are written "
            "in ASCII (letters a-z and A-Z, digits, '_', + - * / ^ ( ) , . and spaces)")
    return text


def _short(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[:n] + "..."


_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
# A system may name a parameter ``e`` (several published systems do): its own symbols take
# precedence over the constant e inside that system.
_RESERVED = set(_FUNCTION_SPECS) | {"pi", "t", "i"}


def check_identifier(name: str, what: str, *, allow_t: bool = False) -> str:
    """Validate a variable or parameter name; return it.

    A name is ASCII letters, digits and ``_``, starts with a letter, holds at most
    :data:`MAX_IDENTIFIER` characters, and is neither a word of the equation syntax
    (``lambda``, ``if``, ...) nor a function, ``pi``, ``t`` or ``i``.
    """
    if not isinstance(name, str):
        raise EquationError(f"{what} name must be text, got {type(name).__name__} "
                            f"{_short(repr(name))}")
    if len(name) > MAX_IDENTIFIER:
        raise EquationError(f"{what} name {_short(name)!r} is {len(name)} characters long; "
                            f"at most {MAX_IDENTIFIER} are allowed")
    m = _NOT_ALLOWED_CHAR.search(name)
    if m or not name.isascii():
        ch = m.group() if m else next(c for c in name if not c.isascii())
        raise EquationError(f"{what} name {name!r} is not allowed: the character "
                            f"{_describe_char(ch)} is not ASCII; use letters a-z and A-Z, "
                            "digits and '_', starting with a letter")
    if not _IDENT.fullmatch(name):
        raise EquationError(
            f"{what} name {name!r} is not allowed: use letters, digits and '_', "
            "starting with a letter")
    if keyword.iskeyword(name):
        raise EquationError(f"{what} name {name!r} is reserved (a word of the equation "
                            f"syntax); choose another, e.g. {name + '_'!r}")
    if name in _RESERVED and not (allow_t and name == "t"):
        raise EquationError(f"{what} name {name!r} is reserved (a function, a constant, "
                            "the time 't' or the index 'i')")
    return name


# ------------------------------------------------------------------ the tree walker
class _Source:
    """Equation text as typed and as parsed ('^' becomes '**'), with a column map."""

    def __init__(self, text: str):
        self.lead = len(text) - len(text.lstrip())
        typed = text.strip()
        carets = [k for k, c in enumerate(typed) if c == "^"]
        # parsed position of the m-th '^': each earlier '^' became two characters
        self._moved = [c + m for m, c in enumerate(carets)]
        self.code = typed.replace("^", "**")

    def column(self, col: int) -> int:
        """The 1-based column, in the typed text, of the 0-based parsed offset ``col``."""
        return col - bisect.bisect_left(self._moved, col) + self.lead + 1

    def segment(self, node) -> str:
        end = getattr(node, "end_col_offset", None)
        return _short(self.code[node.col_offset:end].strip())


def _chain(node, ops):
    """The operands of a left-deep chain of ``ops``: [(op, operand, binop), ...], the
    first with op None. Python's parser nests ``a + b + c`` as ``(a + b) + c``; the terms
    of a flat sum are not nested in the reader's eyes, so they do not count as depth."""
    items = []
    while isinstance(node, ast.BinOp) and isinstance(node.op, ops):
        items.append((node.op, node.right, node))
        node = node.left
    items.append((None, node, node))
    items.reverse()
    return items


#: products up to this long are built one operation at a time, as typed (sympy then
#: distributes a number over a sum, 2*(1 - a) -> 2 - 2*a, exactly as before); longer ones
#: in one call, which costs time linear in their length instead of quadratic
_FOLD = 64


def _combine(items, cls, inverse_op, op, inverse):
    """``items`` [(inverted, expr), ...] combined left to right by ``op`` (or
    ``inverse_op`` where inverted), or by one ``cls(...)`` call for a long chain."""
    if len(items) <= _FOLD:
        out = items[0][1]
        for inverted, e in items[1:]:
            out = inverse_op(out, e) if inverted else op(out, e)
        return out
    return cls(*[inverse(e) if inverted else e for inverted, e in items])


class _Part:
    """What the walker knows of a subtree.

    ``expr``: the sympy expression (None when only checking); ``value``: for a constant,
    its value folded in double precision (None when the subtree holds a symbol);
    ``coeff``: the magnitude of the number sympy will collect in front of it (products
    and powers of products multiply theirs); ``powers``: base -> the exponent sympy will
    give it (x*x**63 is x**64, (x**8)**8 too); ``terms``: for a sum, the largest
    ``coeff`` of its terms (a number times a sum multiplies out).
    """

    __slots__ = ("expr", "value", "coeff", "powers", "terms")

    def __init__(self, expr, value=None, coeff=1.0, powers=None, terms=None):
        self.expr = expr
        self.value = value
        self.coeff = abs(value) if value is not None else coeff
        self.powers = powers if powers is not None else {}
        self.terms = terms


class _Walker:
    """Checks a parsed equation and (with ``build``) converts it into sympy.

    The checks need no sympy: constants are folded in double precision, and the numbers
    and exponents sympy will collect are tracked, so that a constant or an exponent out
    of bounds is refused (naming its column) before sympy is asked to compute it.
    """

    def __init__(self, label, source, symbols, indexed=None, index_value=None, build=True):
        self.label = label
        self.source = source
        self.symbols = symbols            # name -> sympy Symbol (or None when checking)
        self.indexed = indexed or {}      # name -> list of Symbols (cyclic)
        self.index_value = index_value    # int value of i, or None
        self.build = build
        self.piecewise = 0                # calls of min, max, mod, abs, sign, heaviside

    def fail(self, node, message):
        col = getattr(node, "col_offset", None)
        where = f" at column {self.source.column(col)}" if col is not None else ""
        raise EquationError(f"{self.label}{where}: {message}")

    def fold(self, node, thunk):
        """``thunk()``, a folded constant, or an error naming the constant at ``node``."""
        try:
            return thunk()
        except _Fold as exc:
            why = exc.args[0]
        self.fail(node, f"the constant {self.source.segment(node)} {why}")

    def scale(self, node, coeff, nonzero=False):
        """A collected coefficient (``nonzero``: it cannot be exactly 0); an error naming
        ``node`` if it leaves double range."""
        if not math.isfinite(coeff):
            self.fail(node, f"the numbers in {self.source.segment(node)} multiply to more "
                            "than 1.8e308 (sympy collects them into one constant, which "
                            "overflows double precision)")
        if nonzero and coeff == 0:
            self.fail(node, f"the numbers in {self.source.segment(node)} multiply to less "
                            "than 1e-308 (sympy collects them into one constant, which "
                            "underflows double precision)")
        return coeff

    def bound_powers(self, node, powers):
        for base, p in powers.items():
            if abs(p) > MAX_EXPONENT:
                self.fail(node, f"exponents above {MAX_EXPONENT} in magnitude are not "
                                f"allowed ({self.source.segment(node)} holds "
                                f"{_short(base)} to the power {p:g})")
        return powers

    def key(self, node) -> str:
        """The text of a subtree without spaces: equal texts are equal bases for sympy."""
        end = getattr(node, "end_col_offset", None)
        return "".join(self.source.code[node.col_offset:end].split())

    def atom(self, node, expr):
        """A subtree that is a base of its own (a sum, a call, a power with a symbolic
        exponent)."""
        return _Part(expr, powers={self.key(node): 1})

    def convert(self, node, depth=0) -> _Part:
        if depth > MAX_DEPTH:
            self.fail(node, f"the expression is nested too deeply (more than {MAX_DEPTH} "
                            "levels of sums, products, powers, signs and function calls "
                            "inside one another)")
        d = depth + 1
        if isinstance(node, ast.Expression):
            return self.convert(node.body, d)
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, (ast.USub, ast.UAdd)):
                self.fail(node, "only unary + and - are allowed")
            part = self.convert(node.operand, d)
            if isinstance(node.op, ast.USub):
                out = _Part(-part.expr if self.build else None,
                            None if part.value is None else -part.value, part.coeff,
                            part.powers, part.terms)
                return out
            return part
        if isinstance(node, ast.BinOp):
            op = node.op
            if isinstance(op, (ast.Add, ast.Sub)):
                return self.sum(node, d)
            if isinstance(op, (ast.Mult, ast.Div)):
                return self.product(node, d)
            if isinstance(op, ast.Pow):
                return self.power(node, d)
            self.fail(node, f"operator '{type(op).__name__}' is not allowed "
                            "(use + - * / ** or ^)")
        if isinstance(node, ast.Call):
            return self.call(node, d)
        if isinstance(node, ast.Subscript):
            return self.convert_index(node)
        self.fail(node, f"'{type(node).__name__}' is not allowed in an equation")

    def constant(self, node):
        v = node.value
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            self.fail(node, f"only numbers are allowed as constants, not "
                            f"{_short(repr(v))}")
        if isinstance(v, float):
            if not math.isfinite(v):
                self.fail(node, f"the number {self.source.segment(node)} is not finite "
                                "(it overflows double precision)")
            return _Part(sp.Float(v) if self.build else None, v)
        try:
            value = float(v)
        except OverflowError:
            self.fail(node, f"the number {self.source.segment(node)} is not finite (it "
                            "overflows double precision)")
        return _Part(sp.Integer(v) if self.build else None, value)

    def name(self, node):
        name = node.id
        if name in self.symbols:
            return _Part(self.symbols[name], powers={name: 1})
        if name in _CONSTANT_VALUES:
            expr = (sp.pi if name == "pi" else sp.E) if self.build else None
            return _Part(expr, _CONSTANT_VALUES[name])
        if name in _FUNCTION_SPECS:
            self.fail(node, f"'{name}' is a function: write {name}(...)")
        if name in self.indexed:
            self.fail(node, f"'{name}' is indexed: write {name}[i], {name}[i+1], ...")
        allowed = sorted(self.symbols)
        self.fail(node, f"unknown symbol '{_short(name)}' (allowed symbols: "
                        f"{', '.join(allowed) or 'none'}; constants: pi, e)")

    def sum(self, node, d):
        items = _chain(node, (ast.Add, ast.Sub))
        terms, folded, total, largest = [], None, None, 0.0
        for op, operand, binop in items:
            part = self.convert(operand, d)
            value = part.value
            largest = max(largest, part.coeff)
            if value is not None:
                # sympy adds up the numbers of a sum wherever they stand: fold them too
                v = -value if isinstance(op, ast.Sub) else value
                folded = v if folded is None else self.fold(binop, lambda: _finite(folded + v))
            if op is None:
                total = value
            elif total is not None:
                total = folded if value is not None else None
            if self.build:
                terms.append(-part.expr if isinstance(op, ast.Sub) else part.expr)
        # one Add call (linear; adding term by term re-sorts the sum at every step)
        expr = sp.Add(*terms) if self.build else None
        if total is not None:
            return _Part(expr, total)
        out = self.atom(node, expr)
        out.terms = largest
        return out

    def product(self, node, d):
        items = _chain(node, (ast.Mult, ast.Div))
        factors, parts, folded, total = [], [], None, None
        coeff, powers = 1.0, {}
        for op, operand, binop in items:
            part = self.convert(operand, d)
            value = part.value
            divide = isinstance(op, ast.Div)
            if divide and (value == 0 or (self.build and part.expr == 0)):
                self.fail(operand, "division by zero")
            if value is not None:
                # sympy multiplies the numbers of a product wherever they stand: fold them too
                if folded is None:
                    folded = self.fold(binop, lambda: _finite(1.0 / value)) if divide else value
                elif divide:
                    folded = self.fold(binop, lambda: _nonzero(folded, folded / value))
                else:
                    folded = self.fold(binop, lambda: _nonzero(folded, folded * value))
            if op is None:
                total = value
            elif total is not None:
                total = folded if value is not None else None
            if part.coeff:
                coeff = self.scale(binop, coeff / part.coeff if divide else coeff * part.coeff,
                                   nonzero=coeff != 0)
            for base, p in part.powers.items():
                powers[base] = powers.get(base, 0) + (-p if divide else p)
            parts.append(part)
            if self.build:
                factors.append((divide, part.expr))
        if len(parts) == 2 and total is None:
            # a number times a sum multiplies out: 1e300*(1e300*x + 1) is 1e600*x + 1e300
            num, other = (parts if parts[0].value is not None else parts[::-1])
            if num.value is not None and other.terms is not None:
                self.scale(node, num.coeff * other.terms)
        self.bound_powers(node, powers)
        expr = None
        if self.build:
            expr = _combine(factors, sp.Mul, lambda a, b: a / b, lambda a, b: a * b,
                            lambda f: sp.Pow(f, -1))
        if total is not None:
            return _Part(expr, total)
        return _Part(expr, coeff=coeff, powers=powers)

    def power(self, node, d):
        base_part = self.convert(node.left, d)
        exp_part = self.convert(node.right, d)
        bval, evalue = base_part.value, exp_part.value
        if evalue is not None and abs(evalue) > MAX_EXPONENT:
            self.fail(node.right, f"exponents above {MAX_EXPONENT} in magnitude are not "
                                  f"allowed (the exponent here is "
                                  f"{self.source.segment(node.right)})")
        value = None
        if bval is not None and evalue is not None:
            value = self.fold(node, lambda: _fpow(bval, evalue))
        out = None
        if evalue is not None and value is None:
            # sympy multiplies out a numeric power: (c*x**k)**n is c**n*x**(k*n)
            coeff = self.scale(node, _coeff_pow(base_part.coeff, evalue),
                               nonzero=base_part.coeff != 0)
            if base_part.powers:
                powers = {b: p * evalue for b, p in base_part.powers.items()}
            else:
                powers = {self.key(node): 1}
            out = _Part(None, coeff=coeff, powers=self.bound_powers(node, powers))
        expr = None
        if self.build:
            base, exp = base_part.expr, exp_part.expr
            if exp.is_Number:
                if abs(exp) > MAX_EXPONENT:
                    self.fail(node, f"exponents above {MAX_EXPONENT} in magnitude are not "
                                    f"allowed (the exponent here is {exp})")
                self.guard_power(node, base, exp)
            expr = base ** exp
        if value is not None:
            return _Part(expr, value)
        if out is None:
            return self.atom(node, expr)
        out.expr = expr
        return out

    def guard_power(self, node, base, exp):
        """Refuse a power whose exact result sympy would compute at great length: a
        fraction or integer of more than MAX_BITS bits, or a combined exponent (sympy
        turns (x**64)**64 into x**4096) above MAX_EXPONENT."""
        n = math.ceil(abs(exp))
        coeff, rest = base.as_coeff_Mul() if not base.is_Number else (base, sp.Integer(1))
        if coeff.is_Rational:
            bits = max(abs(coeff.p).bit_length(), coeff.q.bit_length())
            if bits * n > MAX_BITS:
                self.fail(node, f"the constant {self.source.segment(node)} is too large: "
                                f"its exact value would need about {bits * n} bits "
                                f"(at most {MAX_BITS})")
        if not exp.is_Integer:
            return
        for f in sp.Mul.make_args(rest):
            if f.is_Pow and f.exp.is_Number and abs(f.exp * exp) > MAX_EXPONENT:
                self.fail(node, f"exponents above {MAX_EXPONENT} in magnitude are not "
                                f"allowed ({self.source.segment(node)} is a power "
                                f"{f.exp * exp} of {f.base})")

    def call(self, node, d):
        if not isinstance(node.func, ast.Name):
            self.fail(node, "only plain calls of allowed math functions are allowed")
        fname = node.func.id
        if fname not in _FUNCTION_SPECS:
            self.fail(node, f"unknown function '{_short(fname)}' (allowed: "
                            f"{', '.join(sorted(_FUNCTION_SPECS))})")
        if node.keywords:
            self.fail(node, f"{fname}() takes no keyword arguments")
        nargs = _FUNCTION_SPECS[fname][1]
        if len(node.args) != nargs:
            self.fail(node, f"{fname}() takes {nargs} argument(s), got {len(node.args)}")
        if fname in _PIECEWISE:
            self.piecewise += 1
            if self.piecewise > MAX_PIECEWISE:
                self.fail(node, f"more than {MAX_PIECEWISE} calls of min, max, mod, abs, "
                                "sign and heaviside in one equation")
        parts = [self.convert(a, d) for a in node.args]
        values = [p.value for p in parts]
        if fname == "mod" and values[1] == 0:
            self.fail(node, f"{self.source.segment(node)} divides by zero")
        value = None
        if all(v is not None for v in values):
            value = self.fold(node, lambda: _fcall(fname, values))
        expr = None
        if self.build:
            try:
                expr = _constructor(fname)(*[p.expr for p in parts])
            except ZeroDivisionError:
                self.fail(node, f"{self.source.segment(node)} divides by zero")
        if value is not None:
            return _Part(expr, value)
        return self.atom(node, expr)

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
        return _Part(comps[(self.index_value + offset) % len(comps)],
                     powers={f"{node.value.id}[i{offset:+d}]": 1})


def _parse_tree(text: str, label: str):
    if not isinstance(text, str):
        raise EquationError(f"{label}: expected text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise EquationError(f"{label}: the equation is {len(text)} characters long, longer "
                            f"than {MAX_LENGTH} characters")
    if not text.strip():
        raise EquationError(f"{label}: the equation is empty")
    check_ascii(text, label)
    # line breaks and tabs read as spaces (the columns stay where they were)
    source = _Source(text.replace("\t", " ").replace("\r", " ").replace("\n", " "))
    # '^' means a power, as on paper; swapping the token before parsing gives it the
    # precedence of '**' (Python's '^' binds looser than '+').
    try:
        with warnings.catch_warnings():
            # "invalid decimal literal" and the like: the text is refused or read anyway,
            # so the parser's warnings would only fill the server's log
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(source.code, mode="eval")
    except SyntaxError as exc:
        col = f" at column {source.column(exc.offset - 1)}" if exc.offset else ""
        raise EquationError(f"{label}{col}: malformed equation ({exc.msg}): "
                            f"{_short(text.strip(), 80)!r}") from None
    except (RecursionError, MemoryError):
        raise EquationError(f"{label}: the expression is nested too deeply (more than "
                            f"{MAX_DEPTH} levels): {_short(text.strip(), 80)!r}") from None
    except (ValueError, OverflowError):
        raise EquationError(f"{label}: malformed equation: {_short(text.strip(), 80)!r}") from None
    return tree, source


def _walk(walker, tree, label):
    try:
        return walker.convert(tree)
    except EquationError:
        raise
    except RecursionError:
        raise EquationError(f"{label}: the expression is nested too deeply") from None
    except ZeroDivisionError:
        raise EquationError(f"{label}: division by zero (mod(x, 0) or similar)") from None
    except (ArithmeticError, TypeError, ValueError) as exc:
        # sympy refused an operation on values that passed every check above
        raise EquationError(f"{label}: the expression cannot be computed "
                            f"({type(exc).__name__}: {_short(str(exc), 80)})") from None


def check_expression(text: str, names=(), *, label: str = "equation",
                     indexed=None) -> float | None:
    """Check equation text without building it: every check of :func:`parse_expression`
    that needs no sympy (syntax, characters, symbols, functions, nesting, exponents and
    constants folded in double precision), in a time about linear in the text's length.

    Parameters
    ----------
    text : str
    names : iterable of str
        The allowed symbols (variables, parameters, ``t``).
    label : str
        How the equation is named in error messages.
    indexed : iterable of str, optional
        Names of indexed variables (``x[i]``) of a system whose dimension is a parameter.

    Returns
    -------
    float or None
        The value, folded in double precision, if the text holds no symbol.

    Raises
    ------
    EquationError
        Naming the equation, the column and the problem.
    """
    tree, source = _parse_tree(text, label)
    walker = _Walker(label, source, {n: None for n in names},
                     {n: [None] for n in (indexed or ())}, 0 if indexed else None, build=False)
    return _walk(walker, tree, label).value


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

    Raises
    ------
    EquationError
        Naming the equation, the column (where there is one) and the problem.
    """
    tree, source = _parse_tree(text, label)
    # every check that needs no sympy first: sympy never starts on text a check refuses
    checker = _Walker(label, source, dict.fromkeys(symbols),
                      {k: [None] * len(v) for k, v in (indexed or {}).items()}, index_value,
                      build=False)
    _walk(checker, tree, label)
    walker = _Walker(label, source, symbols, indexed, index_value, build=True)
    expr = _walk(walker, tree, label).expr
    expr = sp.sympify(expr)  # already a sympy object: this only normalises numbers
    if expr.has(sp.zoo, sp.oo, -sp.oo, sp.nan):
        raise EquationError(f"{label}: the expression is not finite ({_short(str(expr), 80)})")
    check_constants(expr, label)
    return expr


# ------------------------------------------------------------------ the built expression
_SYMPY_FLOAT = []  # (sympy class, its value on floats), filled on first use


def _sympy_float() -> list:
    if not _SYMPY_FLOAT:
        _SYMPY_FLOAT.extend([
            (sp.sin, math.sin), (sp.cos, math.cos), (sp.tan, math.tan), (sp.asin, math.asin),
            (sp.acos, math.acos), (sp.atan, math.atan), (sp.sinh, math.sinh),
            (sp.cosh, math.cosh), (sp.tanh, math.tanh), (sp.exp, math.exp),
            (sp.log, math.log), (sp.Abs, abs), (sp.sign, _sign), (sp.atan2, math.atan2),
            (sp.Mod, _mod),
        ])
    return _SYMPY_FLOAT


def _float_value(e, memo) -> float:
    """The value of a sympy constant in double precision (raises _Fold)."""
    if e in memo:
        return memo[e]
    if e.is_Number or e.is_NumberSymbol:
        if e in (sp.zoo, sp.oo, -sp.oo, sp.nan):
            raise _Fold("is not finite")
        try:
            v = _finite(float(e))
        except OverflowError:
            raise _Fold("overflows double precision (its magnitude exceeds 1.8e308)") from None
    elif e is sp.I:
        raise _Fold("is not a real number")
    elif isinstance(e, sp.Add):
        v = 0.0
        for a in e.args:
            v = _finite(v + _float_value(a, memo))
    elif isinstance(e, sp.Mul):
        v = 1.0
        for a in e.args:
            v = _finite(v * _float_value(a, memo))
    elif isinstance(e, sp.Pow):
        v = _fpow(_float_value(e.base, memo), _float_value(e.exp, memo))
    elif isinstance(e, sp.Heaviside):
        v = _heaviside_value(_float_value(e.args[0], memo))
    elif isinstance(e, (sp.Min, sp.Max)):
        vals = [_float_value(a, memo) for a in e.args]
        v = min(vals) if isinstance(e, sp.Min) else max(vals)
    else:
        for cls, f in _sympy_float():
            if isinstance(e, cls):
                args = [_float_value(a, memo) for a in e.args]
                try:
                    v = _finite(float(f(*args)))
                except OverflowError:
                    raise _Fold("overflows double precision (its magnitude exceeds "
                                "1.8e308)") from None
                except ZeroDivisionError:
                    raise _Fold("divides by zero") from None
                except ValueError:
                    raise _Fold("is not a finite real number") from None
                break
        else:
            raise _Fold("is not a real number" if e.has(sp.I) else
                        f"cannot be evaluated ({type(e).__name__})")
    memo[e] = v
    return v


def check_constants(expr, label: str = "expression") -> None:
    """Check a sympy expression: every constant in it is a finite real double, and every
    numeric exponent (after sympy combined powers) is at most :data:`MAX_EXPONENT`.

    :func:`parse_expression` runs it on what it built; it applies as well to expressions
    derived from parsed ones (a derivative multiplies a coefficient by an exponent).

    Raises
    ------
    EquationError
        Naming ``label`` and the constant or power.
    """
    memo = {}

    def constant(e):
        try:
            _float_value(e, memo)
        except _Fold as exc:
            raise EquationError(f"{label}: the constant {_short(str(e), 60)} "
                                f"{exc.args[0]}") from None

    def visit(e) -> bool:  # True when e holds no symbol
        if e.is_Symbol:
            return False
        if not e.args:
            return True
        flags = [visit(a) for a in e.args]
        if all(flags):
            return True
        for a, const in zip(e.args, flags):
            if const:
                constant(a)
        if e.is_Pow and e.exp.is_Number and abs(e.exp) > MAX_EXPONENT:
            raise EquationError(f"{label}: exponents above {MAX_EXPONENT} in magnitude are "
                                f"not allowed (sympy combined the powers into "
                                f"{_short(str(e), 60)})")
        return False

    if visit(expr):
        constant(expr)


def parse_constant(value, *, label: str = "value") -> float:
    """A parameter value: a finite number, or text such as ``"8/3"`` or ``"2*pi/10"``."""
    if isinstance(value, bool):
        raise EquationError(f"{label}: expected a number, got {value!r}")
    if isinstance(value, (int, float)):
        try:
            v = float(value)
        except OverflowError:
            raise EquationError(f"{label}: must be a finite number, got an integer of "
                                f"{abs(value).bit_length()} bits") from None
    elif isinstance(value, str):
        expr = parse_expression(value, {}, label=label)
        try:
            v = float(expr)
        except (TypeError, ValueError, OverflowError):
            raise EquationError(f"{label}: {_short(value)!r} is not a number") from None
    else:
        try:
            v = float(value)
        except (TypeError, ValueError, OverflowError):
            raise EquationError(f"{label}: expected a number, got "
                                f"{_short(repr(value))}") from None
    if not math.isfinite(v):
        raise EquationError(f"{label}: must be a finite number, got {v!r}")
    return v
