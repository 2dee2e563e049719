"""The :class:`System`: a dynamical system described by data.

A system is its variables, its equations as text, its parameters (default, slider range),
an initial condition, a time step and metadata. Everything executable (the numba kernel,
the torch function, the exact Jacobian, the LaTeX) is derived from the equation text by
:mod:`chaoslab.systems.expressions` and :mod:`chaoslab.systems.tape`.
"""
from __future__ import annotations

import difflib
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from functools import cached_property

import numpy as np

from .expressions import (EquationError, check_constants, check_identifier, parse_constant,
                          parse_expression)
from . import tapecache
from .lazy import sp
from .tape import build_tape, evaluate
from ..validation import check_int

__all__ = ["Param", "Size", "System", "Metadata", "make_system"]

KINDS = ("flow", "map")


def _freeze(value):
    """``value`` with every dict made a :class:`Metadata` and every list a tuple."""
    if isinstance(value, Metadata):
        return value
    if isinstance(value, Mapping):
        return Metadata(value)
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value


class Metadata(Mapping):
    """A read-only mapping: a system's metadata (citation, notes, dysts names, ...).

    Nested dicts are read-only too and lists become tuples. Unlike
    :class:`types.MappingProxyType` it pickles, so a :class:`System` can be sent to
    another process.
    """

    __slots__ = ("_data",)

    def __init__(self, data=()):
        self._data = {k: _freeze(v) for k, v in dict(data).items()}

    def __getitem__(self, key):
        return self._data[key]

    def __iter__(self):
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"Metadata({self._data!r})"

    def __reduce__(self):
        return (Metadata, (self._data,))


@dataclass(frozen=True)
class Param:
    """A parameter: its default value and the slider range that keeps it meaningful."""

    name: str
    default: float
    min: float
    max: float
    description: str = ""


@dataclass(frozen=True)
class Size:
    """The dimension of a system whose size is a parameter (e.g. Lorenz-96's N)."""

    name: str
    value: int
    min: int
    max: int


def _as_params(spec, label) -> dict:
    out = {}
    if spec is not None and not isinstance(spec, dict):
        raise EquationError(f"{label}: params must be a dict of name -> value or "
                            f"[default, min, max], got {spec!r:.60}")
    for name, v in (spec or {}).items():
        check_identifier(name, f"{label}: parameter")
        if isinstance(v, Param):
            out[name] = v
            continue
        if isinstance(v, dict):
            default = parse_constant(v.get("default"), label=f"{label}: parameter {name}")
            lo = v.get("min", None)
            hi = v.get("max", None)
            desc = v.get("description", "")
        elif isinstance(v, (list, tuple)):
            if len(v) != 3:
                raise EquationError(f"{label}: parameter {name} must be given as "
                                    "[default, min, max] or a single value")
            default = parse_constant(v[0], label=f"{label}: parameter {name}")
            lo, hi, desc = v[1], v[2], ""
        else:
            default = parse_constant(v, label=f"{label}: parameter {name}")
            lo = hi = None
            desc = ""
        if lo is None or hi is None:
            span = abs(default) if default != 0 else 1.0
            lo, hi = default - span, default + span
        lo = parse_constant(lo, label=f"{label}: parameter {name} min")
        hi = parse_constant(hi, label=f"{label}: parameter {name} max")
        if not lo <= default <= hi:
            raise EquationError(f"{label}: parameter {name}: default {default} lies outside "
                                f"its range [{lo}, {hi}]")
        out[name] = Param(name, default, lo, hi, desc)
    return out


@dataclass(frozen=True, eq=False)
class System:
    """A dynamical system: a flow ``dx/dt = f(x, t)`` or a map ``x_{n+1} = f(x_n)``.

    Build one with :func:`chaoslab.systems.get` (catalog) or
    :func:`chaoslab.systems.define` (typed equations); do not call this directly.

    Attributes
    ----------
    name, kind : str
        The catalog name and ``"flow"`` or ``"map"``.
    variables : tuple of str
    equations : tuple of str
        Right-hand sides as typed, one per variable.
    params : dict of str -> Param
        Parameters with defaults and slider ranges; ``values`` holds the current values.
    x0 : ndarray
        Initial condition.
    dt : float
        Default time step (1 for maps).
    period : float
        Characteristic time (e.g. the dominant oscillation period).
    reference : dict
        Reference invariants (largest Lyapunov exponent, spectrum, ...) and how they
        were computed.
    meta : Metadata
        Read-only metadata that no computation reads: ``citation``, ``description``,
        ``notes``, ``unbounded`` (the default run is expected to diverge; ``notes`` says
        why), ``dysts_names`` (our parameter name -> dysts'), ``dysts_phase``,
        ``dysts_arrays``, ``aliases``, and whatever else a catalog entry or
        :func:`~chaoslab.systems.define` gives. ``citation``, ``description`` and
        ``notes`` are also attributes.

    Notes
    -----
    The fields are what the numerics and the app's behaviour depend on; ``lyapunov_T``
    is among them because it sets the default integration time of
    :func:`chaoslab.lyapunov_spectrum`, and ``transport`` because the FTLE tools choose
    their domain by it. ``unbounded`` only tells the catalog tests (and readers) that the
    default run leaves every bounded set, so it is metadata.
    """

    name: str
    kind: str
    variables: tuple
    equations: tuple
    params: dict
    values: dict
    x0: np.ndarray
    dt: float
    period: float = 1.0
    reference: dict = field(default_factory=dict)
    domain: tuple | None = None
    size: Size | None = None
    template: tuple | None = None  # (indexed variable name, equation template) for sized
    aux: tuple = ()        # ((name, text), ...): named intermediate expressions
    transport: bool = False  # a 2-D transport flow (FTLE work); ``domain`` gives its box
    delayed: tuple = ()    # delay systems: ((symbol, variable), ...), symbol = variable(t - tau)
    tau: str = ""          # delay systems: the parameter holding the delay time
    lyapunov_T: float | None = None  # a shorter default run for Lyapunov exponents (see notes)
    meta: Metadata = field(default_factory=Metadata)

    # ------------------------------------------------------------------ basics
    @property
    def dim(self) -> int:
        return len(self.variables)

    @property
    def param_names(self) -> tuple:
        return tuple(self.params)

    @property
    def param_vector(self) -> np.ndarray:
        return np.array([self.values[p] for p in self.params], dtype=float)

    @property
    def citation(self) -> str:
        """The paper that introduced the system (``meta["citation"]``)."""
        return self.meta.get("citation", "")

    @property
    def description(self) -> str:
        """One or two sentences on the system (``meta["description"]``)."""
        return self.meta.get("description", "")

    @property
    def notes(self) -> str:
        """Caveats: parameters, regimes, differences from dysts (``meta["notes"]``)."""
        return self.meta.get("notes", "")

    @property
    def is_map(self) -> bool:
        return self.kind == "map"

    @property
    def is_delay(self) -> bool:
        """A delay-differential system: its equations use delayed states."""
        return bool(self.delayed)

    @cached_property
    def nonautonomous(self) -> bool:
        """Whether the equations use the time ``t``."""
        return self._derived("nonautonomous", lambda: self._t_symbol in set().union(
            *(e.free_symbols for e in self.exprs)), decode=_as_bool)

    def __repr__(self) -> str:
        vals = ", ".join(f"{k}={v:g}" for k, v in self.values.items())
        return f"<System {self.name!r} ({self.kind}, dim={self.dim}{', ' if vals else ''}{vals})>"

    def with_params(self, **values) -> "System":
        """A copy with some parameter values changed, e.g. ``s.with_params(rho=20)``.

        For a system whose dimension is a parameter, its size (e.g. ``N=10``) may be
        changed too; the initial condition is then resized.
        """
        new_values = dict(self.values)
        size = self.size
        for k, v in values.items():
            if size is not None and k == size.name:
                try:
                    n = check_int(v, k)
                except ValueError:
                    raise ValueError(f"{self.name}: {k} must be an integer, got {v!r:.60}") \
                        from None
                if not size.min <= n <= size.max:
                    raise ValueError(f"{self.name}: {k} must lie in [{size.min}, {size.max}], "
                                     f"got {n}")
                size = replace(size, value=n)
                continue
            if k not in self.params:
                raise ValueError(f"{self.name} has no parameter {k!r} "
                                 f"(parameters: {', '.join(self.params) or 'none'})")
            new_values[k] = parse_constant(v, label=f"{self.name}: parameter {k}")
        if size is self.size:
            new = replace(self, values=new_values)
            # the parsed equations, tapes and kernels do not depend on parameter values:
            # carry them over, so a slider move does not parse and differentiate again
            new.__dict__.update({k: v for k, v in self.__dict__.items()
                                 if k in _DERIVED})
            return new
        from .catalog import build_sized  # resizing rebuilds the variables and equations
        return build_sized(self, size, new_values)

    # -------------------------------------------------------------- symbolics
    @cached_property
    def _t_symbol(self):
        return sp.Symbol("t", real=True)

    @cached_property
    def symbols(self) -> dict:
        syms = {v: sp.Symbol(v, real=True) for v in self.variables}
        syms.update({p: sp.Symbol(p, real=True) for p in self.params})
        syms.update({d: sp.Symbol(d, real=True) for d, _ in self.delayed})
        if self.kind == "flow":
            syms["t"] = self._t_symbol
        return syms

    @cached_property
    def exprs(self) -> tuple:
        """The right-hand sides as sympy expressions."""
        syms = dict(self.symbols)
        for name, text in self.aux:
            syms[name] = parse_expression(text, syms, label=f"{self.name}: {name}")
        out = []
        lhs = "{}_next" if self.is_map else "d{}/dt"
        if self.template is not None:
            base, text = self.template
            comps = [syms[v] for v in self.variables]
            for i, v in enumerate(self.variables):
                out.append(parse_expression(text, syms, label=f"{self.name}: {lhs.format(v)}",
                                            indexed={base: comps}, index_value=i))
        else:
            for v, text in zip(self.variables, self.equations):
                out.append(parse_expression(text, syms, label=f"{self.name}: {lhs.format(v)}"))
        return tuple(out)

    @cached_property
    def jacobian_exprs(self) -> sp.Matrix:
        """The exact Jacobian d f_i / d x_j as a sympy Matrix."""
        xs = [self.symbols[v] for v in self.variables]
        jac = sp.Matrix(self.exprs).jacobian(xs).applyfunc(_clean_derivative)
        # a derivative multiplies coefficients by exponents: 1e308*x**2 gives 2e308*x
        for (i, j), e in np.ndenumerate(np.array(jac.tolist(), dtype=object)):
            check_constants(e, f"{self.name}: d({self.variables[i]}')/d{self.variables[j]} "
                               "(Jacobian)")
        return jac

    @cached_property
    def _inputs(self) -> list:
        syms = self.symbols
        return ([self._t_symbol] + [syms[v] for v in self.variables]
                + [syms[d] for d, _ in self.delayed] + [syms[p] for p in self.params])

    # ------------------------------------------------- derived forms, cached on disk
    @cached_property
    def _definition_key(self) -> str:
        """A hash of what the derived forms (tapes, LaTeX) depend on: the equations,
        names and kind, not the parameter values (see :mod:`chaoslab.systems.tapecache`)."""
        return tapecache.definition_key(self)

    def _derived(self, name, build, encode=lambda v: v, decode=lambda v: v):
        """``build()``, or its value a process before stored in chaoslab's cache."""
        key = self._definition_key
        stored = tapecache.lookup(key).get(name)
        if stored is not None:
            try:
                return decode(stored)
            except (TypeError, ValueError):  # a damaged entry: derive it again
                pass
        value = build()
        tapecache.record(key, name, encode(value))
        return value

    def _tape(self, name, exprs):
        return self._derived(name, lambda: build_tape(exprs(), self._inputs),
                             tapecache.tape_to_json, tapecache.tape_from_json)

    @cached_property
    def rhs_tape(self):
        return self._tape("rhs_tape", lambda: self.exprs)

    @cached_property
    def jacobian_tape(self):
        return self._tape("jacobian_tape", lambda: list(self.jacobian_exprs))

    @cached_property
    def rhs_jac_tape(self):
        """The right-hand side and the Jacobian (row-major) with shared subexpressions."""
        return self._tape("rhs_jac_tape",
                          lambda: list(self.exprs) + list(self.jacobian_exprs))

    @cached_property
    def structure_key(self) -> str:
        """A hash of what the compiled kernels depend on (not the parameter values)."""
        delays = (tuple(self.variables.index(v) for _, v in self.delayed),
                  list(self.params).index(self.tau) if self.tau else -1)
        h = hashlib.sha256(repr((self.kind, self.dim, len(self.params), self.rhs_tape,
                                 self.jacobian_tape, delays)).encode())
        return h.hexdigest()[:20]

    @cached_property
    def latex(self) -> list:
        """One LaTeX equation per variable, e.g. ``\\dot{x} = \\sigma (y - x)``."""
        def build():
            out = []
            for v, e in zip(self.variables, self.exprs):
                s = sp.latex(self.symbols[v])
                lhs = f"{s}_{{n+1}}" if self.is_map else f"\\dot{{{s}}}"
                out.append(f"{lhs} = {sp.latex(e)}")
            return out

        def decode(stored):
            if not (isinstance(stored, list) and len(stored) == self.dim
                    and all(isinstance(line, str) for line in stored)):
                raise ValueError("bad LaTeX entry")
            return list(stored)

        return self._derived("latex", build, decode=decode)

    # ------------------------------------------------------------- numerics
    def _eval(self, tape, x, t, params, delayed=None):
        x = np.asarray(x, dtype=float)
        if x.shape[-1:] != (self.dim,):
            raise ValueError(f"{self.name}: x must have last dimension {self.dim}, "
                             f"got shape {x.shape}")
        p = self.param_vector if params is None else np.asarray(params, dtype=float)
        if p.shape[-1:] != (len(self.params),):
            raise ValueError(f"{self.name}: params must have last dimension "
                             f"{len(self.params)}, got shape {p.shape}")
        lagged = []
        if self.delayed:
            # the delayed state; by default the initial condition (a constant history)
            xd = self.x0 if delayed is None else np.asarray(delayed, dtype=float)
            if xd.shape[-1:] != (self.dim,):
                raise ValueError(f"{self.name}: delayed must have last dimension {self.dim}")
            lagged = [xd[..., self.variables.index(v)] for _, v in self.delayed]
        inputs = ([np.asarray(t, dtype=float)] + [x[..., i] for i in range(self.dim)] + lagged
                  + [p[..., j] for j in range(len(self.params))])
        shape = np.broadcast_shapes(*(np.shape(a) for a in inputs))
        return [np.broadcast_to(np.asarray(o, dtype=float), shape) for o in evaluate(tape, inputs)], shape

    def rhs(self, x, t=0.0, params=None, delayed=None) -> np.ndarray:
        """The vector field (flow) or the image (map) at ``x`` of shape ``(..., dim)``.

        For a delay system, ``delayed`` is the state at ``t - tau`` (default: ``x0``).
        """
        outs, shape = self._eval(self.rhs_tape, x, t, params, delayed)
        return np.stack(outs, axis=-1)

    def jacobian(self, x, t=0.0, params=None, delayed=None) -> np.ndarray:
        """The exact Jacobian at ``x`` of shape ``(..., dim)``; returns ``(..., dim, dim)``.

        For a delay system: the derivative with respect to the current state, the delayed
        state held fixed.
        """
        outs, shape = self._eval(self.jacobian_tape, x, t, params, delayed)
        d = self.dim
        return np.stack(outs, axis=-1).reshape(shape + (d, d))

    def describe(self) -> dict:
        """A plain dict of the metadata (for tables, JSON, the CLI)."""
        return {
            "name": self.name, "kind": self.kind, "dim": self.dim,
            "variables": list(self.variables),
            "equations": list(self.equations) if self.template is None else [self.template[1]],
            "params": {k: {"default": p.default, "min": p.min, "max": p.max,
                           "value": self.values[k]} for k, p in self.params.items()},
            "x0": [float(v) for v in self.x0], "dt": self.dt, "period": self.period,
            "citation": self.citation, "description": self.description,
            "reference": dict(self.reference),
            **({"size": {"name": self.size.name, "value": self.size.value,
                         "min": self.size.min, "max": self.size.max}} if self.size else {}),
            **({"domain": [list(b) for b in self.domain]} if self.domain else {}),
        }


def _as_bool(stored) -> bool:
    if not isinstance(stored, bool):
        raise ValueError("not a bool")
    return stored


#: The cached properties derived from the equations alone (not from parameter values).
_DERIVED = frozenset(name for name, v in vars(System).items()
                     if isinstance(v, cached_property))


def _clean_derivative(e):
    """Derivatives of the piecewise functions, taken almost everywhere."""
    e = e.replace(lambda a: isinstance(a, sp.Derivative) and isinstance(a.expr, sp.Mod),
                  lambda a: sp.diff(a.expr.args[0], *a.variables))
    e = e.replace(lambda a: isinstance(a, sp.DiracDelta), lambda a: sp.Integer(0))
    e = e.replace(lambda a: isinstance(a, sp.Subs), lambda a: a.doit())
    return e


#: The keywords of :func:`make_system` after the positional ones: everything else is metadata.
CORE_KEYWORDS = ("kind", "period", "reference", "domain", "size", "template", "aux",
                 "transport", "delayed", "tau", "lyapunov_T")
#: Metadata that must be text (they are shown as text by the app, the CLI and the docs).
TEXT_METADATA = ("citation", "description", "notes")


def _check_metadata(label: str, meta: dict) -> Metadata:
    """``meta`` as :class:`Metadata`, refusing keywords that mean something else.

    A metadata keyword may be any identifier, except the name of an attribute of
    :class:`System` (``values``, ``dim``, ...) or a near miss of a core keyword (``perod``,
    ``x_0``): those are mistakes, not metadata.
    """
    core = ("name", "variables", "equations", "params", "x0", "dt") + CORE_KEYWORDS
    taken = ({f.name for f in fields(System)}
             | {a for a in dir(System) if not a.startswith("_")}) - set(TEXT_METADATA)
    for key, value in meta.items():
        if not isinstance(key, str) or not key.isidentifier():
            raise TypeError(f"{label}: metadata keyword {key!r} is not an identifier")
        if key in taken:
            raise TypeError(f"{label}: {key!r} is an attribute of a System, not a keyword "
                            "of its definition (nor a metadata name)")
        close = difflib.get_close_matches(key, core + tuple(TEXT_METADATA), n=1, cutoff=0.8)
        if close and close[0] != key:
            raise TypeError(f"{label}: unknown keyword {key!r}; did you mean {close[0]!r}? "
                            f"(keywords: {', '.join(core)}; any other is metadata, but not "
                            "one this close to a keyword)")
        if key in TEXT_METADATA and not isinstance(value, str):
            raise TypeError(f"{label}: {key} must be text, got {type(value).__name__}")
    return Metadata(meta)


def _as_tuple(items, label, what, example) -> tuple:
    if isinstance(items, (str, bytes, dict)) or items is None:
        raise EquationError(f"{label}: {what} must be a list of {example}, got {items!r:.60}")
    try:
        return tuple(items)
    except TypeError:
        raise EquationError(f"{label}: {what} must be a list of {example}, got "
                            f"{items!r:.60}") from None


def make_system(name, variables, equations, params=None, x0=None, dt=None, *, kind="flow",
                period=None, reference=None, domain=None, size=None, template=None,
                aux=None, transport=False, delayed=None, tau="", lyapunov_T=None,
                **meta) -> System:
    """Validate user or catalog data and build a :class:`System`.

    The keywords named in the signature are what the numerics use; every other keyword
    (``citation``, ``description``, ``notes``, ``dysts_names``, ...) is stored, read-only,
    in :attr:`System.meta`. A keyword that is a near miss of a named one (``perod=``) is
    a TypeError naming it.
    """
    if not isinstance(name, str) or not name.strip():
        raise EquationError("a system needs a non-empty name")
    label = name
    if kind not in KINDS:
        raise EquationError(f"{label}: kind must be one of {KINDS}, got {kind!r}")
    meta = _check_metadata(label, meta)
    if isinstance(variables, str):  # one variable
        variables = (variables,)
    variables = _as_tuple(variables, label, "variables", "names such as ['x', 'y']")
    if not variables:
        raise EquationError(f"{label}: a system needs at least one variable")
    for v in variables:
        check_identifier(v, f"{label}: variable")
    if len(set(variables)) != len(variables):
        raise EquationError(f"{label}: variable names must be distinct")
    if isinstance(equations, str):
        equations = (equations,)
    equations = _as_tuple(equations, label, "equations", "texts such as ['-x']")
    if template is None and len(equations) != len(variables):
        raise EquationError(f"{label}: {len(variables)} variables need {len(variables)} "
                            f"equations, got {len(equations)}")
    params = _as_params(params, label)
    aux = tuple((check_identifier(k, f"{label}: intermediate"), v)
                for k, v in dict(aux or {}).items())
    delayed = tuple((check_identifier(k, f"{label}: delayed state"), v)
                    for k, v in dict(delayed or {}).items())
    for _, v in delayed:
        if v not in variables:
            raise EquationError(f"{label}: delayed state of {v!r}, which is not a variable")
    if delayed:
        if kind != "flow":
            raise EquationError(f"{label}: only flows can have delays")
        if tau not in params:
            raise EquationError(f"{label}: a delay system needs tau = the name of the "
                                f"parameter holding the delay (one of {', '.join(params)})")
    names = (list(variables) + list(params) + [k for k, _ in aux]
             + [k for k, _ in delayed])
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise EquationError(f"{label}: names used twice (variables, parameters and "
                            f"intermediates must differ): {', '.join(dup)}")
    if kind == "map":
        dt = 1.0
    else:
        dt = parse_constant(0.01 if dt is None else dt, label=f"{label}: dt")
        if dt <= 0:
            raise EquationError(f"{label}: dt must be positive, got {dt}")
    if x0 is None:
        x0 = np.full(len(variables), 0.1)
    x0 = np.array([parse_constant(v, label=f"{label}: x0") for v in np.ravel(x0)], dtype=float)
    if x0.shape != (len(variables),):
        raise EquationError(f"{label}: x0 needs {len(variables)} values, got {x0.size}")
    x0.setflags(write=False)
    period = parse_constant(1.0 if period is None else period, label=f"{label}: period")
    sys_ = System(name=name, kind=kind, variables=variables, equations=equations,
                  params=params, values={k: p.default for k, p in params.items()}, x0=x0,
                  dt=dt, period=period, reference=dict(reference or {}), domain=domain,
                  size=size, template=template, aux=aux, transport=bool(transport),
                  delayed=delayed, tau=tau,
                  lyapunov_T=None if lyapunov_T is None else parse_constant(
                      lyapunov_T, label=f"{label}: lyapunov_T"),
                  meta=meta)
    if not tapecache.lookup(sys_._definition_key):
        # parse now: errors surface at definition time, not at first use (an entry in the
        # cache is only ever written for equations that parsed and passed every check)
        sys_.exprs
    return sys_

