"""The catalog: systems stored as data in ``data/catalog.toml``, built on first use."""
from __future__ import annotations

import copy
import difflib
import hashlib
import json
import os
import tomllib
from dataclasses import replace
from functools import lru_cache
from importlib import resources

import numpy as np

from .invariants import load_reference
from .system import Size, System, make_system

__all__ = ["names", "get", "as_system", "define", "entries", "search", "raw_entries",
           "UnknownSystemError"]


class UnknownSystemError(KeyError):
    """A system name that is not in the catalog."""

    def __str__(self):  # KeyError quotes its message; show it plainly
        return str(self.args[0])


@lru_cache(maxsize=1)
def _raw() -> dict:
    """All entries: ``data/catalog.toml`` first, then the other ``data/*.toml`` files.

    Parsing the TOML takes about 0.1 s; the parsed entries are kept as JSON in
    chaoslab's cache (keyed by a hash of the files' text), which loads in milliseconds.
    """
    data = resources.files("chaoslab.systems").joinpath("data")
    files = sorted((f for f in data.iterdir() if f.name.endswith(".toml")),
                   key=lambda f: (f.name != "catalog.toml", f.name))
    texts = [(f.name, f.read_text()) for f in files]
    digest = hashlib.sha256(repr(texts).encode()).hexdigest()[:32]
    cached = _load_parsed(digest)
    if cached is not None:
        return cached
    out = {}
    for fname, text in texts:
        try:
            entries = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"catalog file {fname} is malformed: {exc}") from None
        for name, entry in entries.items():
            if name in out:
                raise ValueError(f"catalog: {name} is defined twice (again in {fname})")
            out[name] = entry
    _store_parsed(digest, out)
    return out


def _parsed_path(digest: str):
    from .tapecache import cache_root

    return cache_root("catalog-v1") / f"{digest}.json"


def _load_parsed(digest: str):
    """The entries parsed by an earlier process from the same files, or None."""
    try:
        stored = json.loads(_parsed_path(digest).read_text())
    except (OSError, ValueError):
        return None
    if not (isinstance(stored, dict) and stored.get("digest") == digest
            and isinstance(stored.get("entries"), dict)):
        return None
    return stored["entries"]


def _store_parsed(digest: str, entries: dict) -> None:
    try:
        text = json.dumps({"digest": digest, "entries": entries})
        if json.loads(text)["entries"] != entries:  # only what JSON keeps exactly
            return
        path = _parsed_path(digest)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text)
        os.replace(tmp, path)
    except (OSError, TypeError, ValueError):
        pass


def raw_entries() -> dict:
    """Every catalog entry as written in the ``data/*.toml`` files, ``{name: entry}``.

    A fresh copy (changing it changes nothing in the catalog); for tools that compare
    the data with other sources. :func:`get` gives the built systems.
    """
    return copy.deepcopy(_raw())


@lru_cache(maxsize=1)
def _recorded() -> dict:
    """Invariants computed by ``python -m chaoslab.tools.reference``."""
    return load_reference()


@lru_cache(maxsize=1)
def _aliases() -> dict:
    out = {}
    for name, entry in _raw().items():
        for alias in entry.get("aliases", []):
            out[alias] = name
    return out


def _sized_variables(base: str, n: int) -> tuple:
    return tuple(f"{base}{i + 1}" for i in range(n))


#: The keys of a catalog entry that become fields of the System; every other key of the
#: entry (citation, description, notes, dysts_names, aliases, ...) goes to ``System.meta``.
_ENTRY_FIELDS = frozenset({"variables", "equations", "params", "x0", "dt", "kind", "period",
                           "reference", "domain", "size", "template", "aux", "transport",
                           "delayed", "tau", "lyapunov_T"})


def _build(name: str, entry: dict) -> System:
    size = None
    template = None
    variables = entry.get("variables")
    equations = entry.get("equations", ())
    x0 = entry.get("x0")
    params = entry.get("params", {})
    if "size" in entry:
        sz = entry["size"]
        size = Size(sz["name"], int(sz["value"]), int(sz["min"]), int(sz["max"]))
        tpl = entry["template"]
        template = (tpl["variable"], tpl["equation"])
        variables = _sized_variables(template[0], size.value)
        equations = (template[1],)
    meta = {k: v for k, v in entry.items() if k not in _ENTRY_FIELDS}
    sys_ = make_system(
        name, variables, equations, params, x0, entry.get("dt"), kind=entry.get("kind", "flow"),
        period=entry.get("period"),
        reference={**_recorded().get(name, {}), **entry.get("reference", {})},
        domain=tuple(tuple(b) for b in entry["domain"]) if "domain" in entry else None,
        size=size, template=template, aux=entry.get("aux"),
        transport=entry.get("transport", False), delayed=entry.get("delayed"),
        lyapunov_T=entry.get("lyapunov_T"), tau=entry.get("tau", ""), **meta)
    if size is not None and x0 is None:
        sys_ = replace(sys_, x0=_sized_x0(sys_, size.value))
    return sys_


def _sized_x0(sys_: System, n: int) -> np.ndarray:
    """A deterministic start near the uniform state: forcing plus a small ramp."""
    level = next(iter(sys_.values.values()), 0.0)
    x0 = level + 0.01 * np.cos(np.arange(n))
    x0.setflags(write=False)
    return x0


def build_sized(sys_: System, size: Size, values: dict) -> System:
    """Rebuild a system whose dimension is a parameter with a new size."""
    base, text = sys_.template
    variables = _sized_variables(base, size.value)
    # ``replace`` builds a new object: nothing derived for the old size comes along
    new = replace(sys_, variables=variables, size=size, values=dict(values))
    return replace(new, x0=_sized_x0(new, size.value))


@lru_cache(maxsize=None)
def _get_default(name: str) -> System:
    return _build(name, _raw()[name])


def _resolve(name) -> str:
    if isinstance(name, System):
        return name.name
    if not isinstance(name, str):
        raise TypeError(f"name: a system name must be text, got {type(name).__name__} "
                        f"{name!r:.60}")
    raw = _raw()
    if name in raw:
        return name
    if name in _aliases():
        return _aliases()[name]
    lower = {k.lower(): k for k in list(raw) + list(_aliases())}
    if name.lower() in lower:
        return _resolve(lower[name.lower()])
    close = difflib.get_close_matches(name, list(raw), n=3)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    raise UnknownSystemError(f"unknown system {name!r}.{hint} "
                             "(chaoslab.systems.names() lists the catalog)")


def get(name, **params) -> System:
    """A catalog system by name (dysts names; case-insensitive), optionally with new values.

    >>> s = get("Lorenz", rho=20)
    """
    if isinstance(name, System):
        return name.with_params(**params) if params else name
    sys_ = _get_default(_resolve(name))
    return sys_.with_params(**params) if params else sys_


def as_system(system, name: str = "system") -> System:
    """``system`` as a :class:`System`: a System is returned as it is, a catalog name
    (dysts names; case-insensitive) is looked up. Every public function that takes "a
    System or a name" starts with this call.

    Raises
    ------
    UnknownSystemError
        For a name that is not in the catalog (with the closest names).
    TypeError
        For anything else, naming the argument ``name`` and the type given.
    """
    if isinstance(system, System):
        return system
    if isinstance(system, str):
        return _get_default(_resolve(system))
    raise TypeError(f"{name} must be a System or a catalog name, got "
                    f"{type(system).__name__} {system!r:.60}")


def names(kind: str | None = None, dim: int | None = None, transport: bool | None = None) -> list:
    """Catalog names, optionally only flows or maps, of one dimension, or transport flows."""
    if kind is not None and kind not in ("flow", "map"):
        raise ValueError(f"kind must be 'flow' or 'map', got {kind!r}")
    out = []
    for name, entry in _raw().items():
        if kind is not None and entry.get("kind", "flow") != kind:
            continue
        if transport is not None and bool(entry.get("transport", False)) != transport:
            continue
        if dim is not None:
            d = entry["size"]["value"] if "size" in entry else len(entry["variables"])
            if d != dim:
                continue
        out.append(name)
    return out


def entries() -> list:
    """The catalog's metadata as a list of plain dicts (one per system)."""
    return [get(n).describe() for n in names()]


def search(text: str) -> list:
    """Names whose name, description or citation contains ``text`` (case-insensitive)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str to search the catalog for, got "
                        f"{type(text).__name__} {text!r:.60}")
    t = text.lower()
    out = []
    for name, entry in _raw().items():
        hay = " ".join([name, *entry.get("aliases", []), entry.get("description", ""),
                        entry.get("citation", "")]).lower()
        if t in hay:
            out.append(name)
    return out


def define(name, variables, equations, params=None, x0=None, dt=None, *, kind="flow",
           **meta) -> System:
    """A user-defined system, built exactly as catalog ones are.

    Parameters
    ----------
    name : str
    variables : list of str
        e.g. ``["x", "y", "z"]``.
    equations : list of str
        Right-hand sides as text, one per variable: ``dx/dt`` for a flow, ``x_{n+1}`` for a
        map. Only numbers, the system's symbols, ``t``, ``+ - * / ** ^`` and the functions
        of :data:`chaoslab.systems.expressions.FUNCTIONS` are accepted.
    params : dict
        name -> default value, or ``[default, min, max]``.
    x0 : sequence of float
    dt : float
        Default time step (flows).
    kind : {"flow", "map"}
    **meta
        Further fields of :func:`~chaoslab.systems.system.make_system` (``period``,
        ``domain``, ``aux``, ``delayed``, ``tau``, ...) and metadata keywords
        (``citation="..."``, ``notes="..."``, any other), which land in ``System.meta``.

    Raises
    ------
    EquationError
        Naming the equation, the column and what is not allowed.
    TypeError
        For a keyword that is a near miss of a field (``perod=``) or names a derived
        attribute (``values=``).
    """
    return make_system(name, variables, equations, params, x0, dt, kind=kind, **meta)
