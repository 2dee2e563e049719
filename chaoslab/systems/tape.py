"""Straight-line programs ("tapes") compiled from symbolic expressions.

A tape is the common form that every backend consumes: common subexpressions are
eliminated once (``sympy.cse``), then each expression becomes a list of simple operations
on numbered slots. The numba backend prints a tape as the body of a compiled kernel; the
numpy and torch backends evaluate it directly on arrays or tensors. Because the tape is
built from a parsed and checked expression tree, only chaoslab's own printer writes kernel
source: slot names are ``s0, s1, ...`` and numbers are printed with ``repr(float)``.
"""
from __future__ import annotations

from dataclasses import dataclass

from .lazy import sp

__all__ = ["Tape", "build_tape", "UNARY", "BINARY"]

#: One-argument operations: sympy class name -> op name (:data:`UNARY`: keyed by the classes).
_UNARY_NAMES = {
    "sin": "sin", "cos": "cos", "tan": "tan", "asin": "asin", "acos": "acos",
    "atan": "atan", "sinh": "sinh", "cosh": "cosh", "tanh": "tanh", "exp": "exp",
    "log": "log", "Abs": "abs", "sign": "sign",
}
#: Two-argument operations (beside add, mul, div, pow); :data:`BINARY` as for UNARY.
_BINARY_NAMES = {"atan2": "atan2", "Mod": "mod", "Min": "min", "Max": "max"}


def _op_table(name: str) -> dict:
    """:data:`UNARY` or :data:`BINARY`, built on first use (this imports sympy, which
    evaluating a tape does not need)."""
    table = globals().get(name)
    if table is None:
        names = _UNARY_NAMES if name == "UNARY" else _BINARY_NAMES
        table = {getattr(sp, cls): op for cls, op in names.items()}
        globals()[name] = table
    return table


def __getattr__(name):
    if name in ("UNARY", "BINARY"):
        return _op_table(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class Tape:
    """A straight-line program.

    Slots ``0 .. n_inputs-1`` hold the inputs (in the order given to :func:`build_tape`);
    each op ``(op, dst, args)`` writes slot ``dst``; ``outputs`` lists, per expression,
    either a slot number or a float constant.
    """

    n_inputs: int
    ops: tuple
    outputs: tuple

    @property
    def n_slots(self) -> int:
        return self.n_inputs + len(self.ops)


class _Builder:
    def __init__(self, inputs):
        self.slot_of = {s: i for i, s in enumerate(inputs)}
        self.n = len(inputs)
        self.ops = []
        self.memo = {}

    def emit(self, op, *args):
        # tag each argument with its type: the constant 2.0 and slot 2 compare equal
        key = (op,) + tuple((type(a), a) for a in args)
        if key in self.memo:
            return self.memo[key]
        dst = self.n
        self.n += 1
        self.ops.append((op, dst, args))
        self.memo[key] = dst
        return dst

    def ref(self, e):
        """A slot number, or a float for a constant."""
        if e in self.slot_of:
            return self.slot_of[e]
        if e.is_Number or e.is_NumberSymbol:
            return float(e)
        if not e.free_symbols:
            v = complex(e.evalf())
            if v.imag:
                raise ValueError(f"the constant {e} is not real")
            return float(v.real)
        if isinstance(e, sp.Add):
            terms = list(e.args)
            acc = self.ref(terms[0])
            for term in terms[1:]:
                coeff, rest = term.as_coeff_Mul()
                if coeff == -1:
                    acc = self.emit("sub", acc, self.ref(rest))
                else:
                    acc = self.emit("add", acc, self.ref(term))
            return acc
        if isinstance(e, sp.Mul):
            coeff, rest = e.as_coeff_Mul()
            num, den = [], []
            for f in sp.Mul.make_args(rest):
                if isinstance(f, sp.Pow) and f.exp.is_Number and f.exp < 0:
                    den.append(sp.Pow(f.base, -f.exp))
                else:
                    num.append(f)
            acc = None
            if coeff != 1 and coeff != -1:
                acc = float(coeff)
            for f in num:
                r = self.ref(f)
                acc = r if acc is None else self.emit("mul", acc, r)
            if acc is None:
                acc = 1.0
            for f in den:
                acc = self.emit("div", acc, self.ref(f))
            if coeff == -1:
                acc = self.emit("neg", acc)
            return acc
        if isinstance(e, sp.Pow):
            base, ex = e.args
            if ex == sp.Rational(1, 2):
                return self.emit("sqrt", self.ref(base))
            if ex == -sp.Rational(1, 2):
                return self.emit("div", 1.0, self.emit("sqrt", self.ref(base)))
            if ex.is_Integer:
                n = int(ex)
                if n == 0:
                    return 1.0
                b = self.ref(base)
                r = self.emit("powi", b, abs(n)) if abs(n) != 1 else b
                return self.emit("div", 1.0, r) if n < 0 else r
            return self.emit("pow", self.ref(base), self.ref(ex))
        if isinstance(e, sp.Heaviside):
            return self.emit("heaviside", self.ref(e.args[0]))
        for cls, name in _op_table("UNARY").items():
            if isinstance(e, cls):
                return self.emit(name, self.ref(e.args[0]))
        for cls, name in _op_table("BINARY").items():
            if isinstance(e, cls):
                args = [self.ref(a) for a in e.args]
                acc = args[0]
                for a in args[1:]:  # Min/Max may hold more than two arguments
                    acc = self.emit(name, acc, a)
                return acc
        raise ValueError(f"chaoslab cannot compile the expression {e} "
                         f"({type(e).__name__} is not supported)")


def build_tape(exprs, inputs) -> Tape:
    """Compile expressions over ``inputs`` (sympy Symbols) into a :class:`Tape`."""
    b = _Builder(list(inputs))
    replacements, reduced = sp.cse(list(exprs), optimizations="basic")
    for sym, sub in replacements:
        r = b.ref(sub)
        if isinstance(r, float):
            # a constant subexpression: keep it as a constant
            b.slot_of[sym] = b.emit("const", r)
        else:
            b.slot_of[sym] = r
    outputs = tuple(b.ref(e) for e in reduced)
    return Tape(len(inputs), tuple(b.ops), outputs)


def _numpy_ops():
    import numpy as np
    return {
        "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
        "neg": np.negative, "powi": lambda a, n: a ** n, "pow": np.power, "sqrt": np.sqrt,
        "const": lambda c: c,
        "sin": np.sin, "cos": np.cos, "tan": np.tan, "asin": np.arcsin, "acos": np.arccos,
        "atan": np.arctan, "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh, "exp": np.exp,
        "log": np.log, "abs": np.abs, "sign": np.sign,
        "heaviside": lambda a: np.heaviside(a, 0.5),
        "atan2": np.arctan2, "mod": np.mod, "min": np.minimum, "max": np.maximum,
    }


_NUMPY_OPS = None


def evaluate(tape: Tape, inputs, ops=None):
    """Run a tape on arrays (numpy by default; pass ``ops`` for another array library).

    ``inputs`` is a sequence of arrays (or scalars) that broadcast together. Returns the
    list of outputs; constant outputs come back as Python floats.
    """
    global _NUMPY_OPS
    if ops is None:
        if _NUMPY_OPS is None:
            _NUMPY_OPS = _numpy_ops()
        ops = _NUMPY_OPS
    slots = list(inputs) + [None] * len(tape.ops)

    def val(r):
        return r if isinstance(r, float) else slots[r]

    for op, dst, args in tape.ops:
        if op == "powi":
            slots[dst] = ops["powi"](val(args[0]), args[1])
        else:
            slots[dst] = ops[op](*[val(a) for a in args])
    return [val(r) for r in tape.outputs]
