"""What a system's equations derive to, kept on disk between processes.

Parsing equations, differentiating them and eliminating common subexpressions is sympy's
work: importing sympy alone takes about 0.4 s, and the work itself tens of milliseconds
per system. None of it depends on parameter values, so chaoslab keeps its results, the
tapes (:class:`~chaoslab.systems.tape.Tape`), whether the equations use ``t``, and the
LaTeX, in a small JSON file per definition in its cache directory. A process that finds
them there builds, simulates and shows a system without importing sympy.

An entry is keyed by a hash of everything the derivation reads: the kind, the
variables, the equation texts (or the template), the parameter names in order, the
intermediates, the delayed states, the parser's bounds, and the source of the modules
that parse, differentiate and build tapes (a new chaoslab never reads an old entry).
An entry is only ever written after the equations parsed and passed every check, so a
definition with an entry is one that is known to be valid. An entry that cannot be read
or is malformed is ignored (and derived again).
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from pathlib import Path

__all__ = ["cache_root", "definition_key", "lookup", "record", "tape_to_json",
           "tape_from_json"]

#: Bump when the layout of an entry changes.
SCHEMA = 1

_LOCK = threading.Lock()
_MEMO: dict = {}
_CODE: list = []
#: The modules whose code decides what a definition derives to.
_SOURCES = ("expressions.py", "tape.py", "system.py", "tapecache.py")


def cache_root(name: str) -> Path:
    """A writable folder ``name`` in chaoslab's cache: ``$CHAOSLAB_CACHE_DIR`` if set,
    else ``$XDG_CACHE_HOME/chaoslab`` or ``~/.cache/chaoslab``; in the temporary
    directory (``chaoslab-NAME``) if none of these is writable."""
    env = os.environ.get("CHAOSLAB_CACHE_DIR")
    if env:
        base = Path(env)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = Path(xdg) / "chaoslab" if xdg else Path.home() / ".cache" / "chaoslab"
    path = base / name
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError:
        path = Path(tempfile.gettempdir()) / f"chaoslab-{name}"
        path.mkdir(parents=True, exist_ok=True)
    return path


def _code_digest() -> str:
    if not _CODE:
        h = hashlib.sha256()
        here = Path(__file__).parent
        for name in _SOURCES:
            h.update((here / name).read_bytes())
        _CODE.append(h.hexdigest())
    return _CODE[0]


def definition_key(system) -> str:
    """A hash of what ``system``'s derived forms depend on (not its parameter values)."""
    from . import expressions as ex

    bounds = (ex.MAX_LENGTH, ex.MAX_DEPTH, ex.MAX_EXPONENT, ex.MAX_IDENTIFIER, ex.MAX_BITS,
              ex.MAX_PIECEWISE)
    what = (SCHEMA, _code_digest(), bounds, system.kind, tuple(system.variables),
            tuple(system.equations), system.template, tuple(system.params),
            tuple(system.aux), tuple(system.delayed))
    return hashlib.sha256(repr(what).encode()).hexdigest()[:32]


def _path(key: str) -> Path:
    return cache_root(f"tapes-v{SCHEMA}") / f"{key}.json"


def lookup(key: str) -> dict:
    """The entry for ``key`` (``{}`` when there is none): item name -> stored value."""
    with _LOCK:
        entry = _MEMO.get(key)
    if entry is not None:
        return entry
    try:
        entry = json.loads(_path(key).read_text())
        if not isinstance(entry, dict) or entry.get("key") != key:
            entry = {}
    except (OSError, ValueError):
        entry = {}
    with _LOCK:
        return _MEMO.setdefault(key, entry)


def record(key: str, name: str, value) -> None:
    """Store ``value`` (JSON-able) as item ``name`` of ``key``'s entry. A cache that
    cannot be written is skipped: the next process derives again."""
    with _LOCK:
        entry = dict(_MEMO.get(key) or {})
        entry["key"] = key
        entry[name] = value
        _MEMO[key] = entry
        text = json.dumps(entry, allow_nan=True)
    try:
        path = _path(key)
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(text)
        os.replace(tmp, path)  # atomic: another process may be reading it
    except OSError:
        pass


#: Each op a tape may hold and its number of arguments.
_ARITY = {**dict.fromkeys(("add", "sub", "mul", "div", "pow", "powi", "atan2", "mod", "min",
                           "max"), 2),
          **dict.fromkeys(("neg", "sqrt", "const", "sin", "cos", "tan", "asin", "acos",
                           "atan", "sinh", "cosh", "tanh", "exp", "log", "abs", "sign",
                           "heaviside"), 1)}


def tape_to_json(tape) -> list:
    return [tape.n_inputs, [[op, dst, list(args)] for op, dst, args in tape.ops],
            list(tape.outputs)]


def _ref(r, n_slots):
    """A slot reference (an int below ``n_slots``) or a float constant."""
    if isinstance(r, float):
        return r
    if isinstance(r, int) and not isinstance(r, bool) and 0 <= r < n_slots:
        return r
    raise ValueError(f"bad reference {r!r}")


def tape_from_json(data):
    """A :class:`~chaoslab.systems.tape.Tape` from :func:`tape_to_json`'s form; raises
    ValueError unless every op is known and refers only to earlier slots."""
    from .tape import Tape

    n_inputs, ops, outputs = data
    if not isinstance(n_inputs, int) or n_inputs < 0:
        raise ValueError("bad tape")
    out = []
    for i, (op, dst, args) in enumerate(ops):
        if (op not in _ARITY or dst != n_inputs + i or not isinstance(args, list)
                or len(args) != _ARITY[op]):
            raise ValueError("bad tape op")
        if op == "powi":
            b, n = args
            if not isinstance(n, int) or isinstance(n, bool) or n < 0:
                raise ValueError("bad power")
            args = (_ref(b, dst), n)
        else:
            args = tuple(_ref(a, dst) for a in args)
        out.append((op, dst, args))
    n_slots = n_inputs + len(out)
    return Tape(n_inputs, tuple(out), tuple(_ref(r, n_slots) for r in outputs))
