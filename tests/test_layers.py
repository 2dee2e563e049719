"""chaoslab's layers, enforced on the source: no module imports a layer above its own, and
no private name crosses a module boundary.

    systems <- integrate <- analysis <- learners <- experiments <- plots / app / cli / tools

``metrics``, ``validation`` and ``progress`` are leaves: anyone may import them, they
import no other part of chaoslab (``metrics`` may use ``validation``). Every import
counts, also one inside a function: a lazy import is still a dependency.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "chaoslab"

#: rank of each top-level part of the package; a module may import ranks <= its own
RANKS = {"validation": 0, "progress": 0, "metrics": 0,
         "systems": 1, "integrate": 2, "analysis": 3, "learners": 4, "experiments": 5,
         "plots": 6, "app": 7, "widgets": 7, "cli": 7, "tools": 7}
#: leaves: may import only these parts of chaoslab (besides themselves)
LEAVES = {"validation": set(), "progress": set(), "metrics": {"validation"}}


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute module an ``ImportFrom`` reads from."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(path: Path, root: Path):
    """``(line, imported module, private names taken from it)`` for every import in
    ``path``; ``from pkg import sub`` counts as importing ``pkg.sub``."""
    module = _module_name(path, root)
    tree = ast.parse(path.read_text(), filename=str(path))
    out = []
    aliases = {}   # local name -> chaoslab module it is bound to
    pkg = root.name
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == pkg:
                    out.append((node.lineno, a.name, []))
                    aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else pkg
        elif isinstance(node, ast.ImportFrom):
            src = _resolve(node, module, path.name == "__init__.py")
            if src.split(".")[0] != pkg:
                continue
            for a in node.names:
                sub = f"{src}.{a.name}"
                is_module = (root.parent / Path(*sub.split("."))).with_suffix(".py").exists() \
                    or (root.parent / Path(*sub.split(".")) / "__init__.py").exists()
                if is_module:
                    out.append((node.lineno, sub, []))
                    aliases[a.asname or a.name] = sub
                else:
                    # dunders (``__version__``) are public by convention
                    private = [a.name] if (a.name.startswith("_")
                                           and not a.name.startswith("__")) else []
                    out.append((node.lineno, src, private))
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in aliases and node.attr.startswith("_")
                and not node.attr.startswith("__")):
            out.append((node.lineno, aliases[node.value.id], [node.attr]))
    return module, out


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def violations(root: Path = PACKAGE) -> list[str]:
    """Every upward import and every private name imported from another module."""
    bad = []
    for path in sorted(root.rglob("*.py")):
        module, imports = imports_of(path, root)
        me = _part(module)
        if not me:                       # chaoslab/__init__.py: the lazy public facade
            continue
        for line, target, private in imports:
            other = _part(target)
            where = f"{path.relative_to(root.parent)}:{line}"
            if other and other != me:
                if me in LEAVES and other not in LEAVES[me]:
                    bad.append(f"{where}: {module} is a leaf but imports {target}")
                elif other in RANKS and me in RANKS and RANKS[other] > RANKS[me]:
                    bad.append(f"{where}: {module} (layer {me}) imports {target} "
                               f"(layer {other}, above it)")
            same_file = target == module
            for name in private:
                # a private module used inside its own package is fine; a private name
                # taken from another module is not
                if not same_file:
                    bad.append(f"{where}: {module} uses the private name {name} of {target}")
    return bad


def test_every_part_has_a_layer():
    parts = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
             if (p.suffix == ".py" and p.stem != "__init__")
             or (p.is_dir() and (p / "__init__.py").exists())}
    assert parts <= set(RANKS), f"give these a layer in tests/test_layers.py: {parts - set(RANKS)}"


def test_no_upward_import_and_no_private_name_across_modules():
    found = violations()
    assert not found, "\n".join(found)


def _write(root: Path, rel: str, text: str):
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)


@pytest.mark.parametrize("rel, text, expect", [
    ("systems/catalog.py", "from ..analysis import lyapunov_spectrum\n", "above it"),
    ("systems/catalog.py", "def f():\n    from chaoslab.integrate import simulate\n",
     "above it"),
    ("metrics/forecast.py", "from ..learners import make\n", "is a leaf"),
    ("analysis/ftle.py", "from ..integrate.simulate import _check_float\n", "private name"),
    ("analysis/ftle.py", "from ..integrate import numba_backend as nb\nnb._pool()\n",
     "private name"),
])
def test_the_check_fails_on_an_upward_or_private_import(tmp_path, rel, text, expect):
    root = tmp_path / "chaoslab"
    for d in ("systems", "integrate", "analysis", "metrics", "learners"):
        _write(root, f"{d}/__init__.py", "")
    _write(root, "__init__.py", "")
    _write(root, "integrate/simulate.py", "def _check_float():\n    pass\n")
    _write(root, "integrate/numba_backend.py", "def _pool():\n    pass\n")
    _write(root, rel, text)
    found = violations(root)
    assert any(expect in v for v in found), found
    # and the same tree without the offending file is clean
    (root / rel).write_text("")
    assert violations(root) == []


def test_benchmarks_and_docs_use_only_public_names():
    """The benchmarks and the doc scripts are users of chaoslab: a private name they reach
    breaks silently when the package is refactored (``make bench`` is not run by CI)."""
    root = PACKAGE.parent
    found = []
    for path in sorted([*root.glob("benchmarks/*.py"), *root.glob("docs/*.py")]):
        _, imports = imports_of(path, PACKAGE)
        for line, target, private in imports:
            found += [f"{path.relative_to(root)}:{line}: {target}.{name}" for name in private]
    assert not found, "\n".join(found)
