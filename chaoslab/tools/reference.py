"""Reference invariants of the catalog, computed by chaoslab itself.

    python -m chaoslab.tools.reference            # regenerate data/reference.json
    python -m chaoslab.tools.reference --check    # rerun from another start, half the step
    python -m chaoslab.tools.reference Lorenz Henon   # only these
    python -m chaoslab.tools.reference --diagnose     # windows and twin cross-checks of
                                                      # the flows >15% from dysts
    python -m chaoslab.tools.reference --table docs/catalog.md \
        --check-report benchmarks/results/reference_check.json   # the table, no integration

Each entry records the Lyapunov spectrum (the largest exponent only for delay systems),
the Kaplan-Yorke dimension, and how they were computed (method, integration time, step,
transient, initial condition, date), so anyone can recompute them. The catalog reads the
record with :func:`chaoslab.systems.invariants.load_reference`.

The values from outside chaoslab (:data:`PUBLISHED`) and the explanations of differences
from dysts (:data:`DYSTS_KINDS`, :data:`DYSTS_NOTES`) are data:
``chaoslab/tools/data/published.toml`` and ``chaoslab/tools/data/dysts_notes.toml``.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
import tomllib
import warnings
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path

import numpy as np

from ..analysis import kaplan_yorke_dimension, lyapunov_spectrum
from ..analysis.lyapunov import lyapunov_run_length
from ..integrate import simulate
from ..systems import get, names as all_names, raw_entries
from ..systems.expressions import EquationError, parse_constant
from ..systems.invariants import REFERENCE_FILE, load_reference, reference_path

__all__ = ["compute", "load", "check", "diagnose", "table", "compare_published", "published",
           "dysts_far", "PUBLISHED", "Published", "DYSTS_KINDS", "DYSTS_NOTES",
           "REFERENCE_FILE", "load_published", "load_dysts_notes"]

#: Agreement asked of a rerun: 5% relative, or 0.005 absolute near zero.
REL_TOL, ABS_TOL = 0.05, 0.005

#: The recorded invariants, ``{name: {...}}`` (the catalog's loader).
load = load_reference


def compute(name: str, *, dt_factor: float = 1.0, x0=None, seed: int = 0, T=None) -> dict:
    """The invariants of one catalog system at its default parameters."""
    s = get(name)
    dt = None if s.is_map else s.dt * dt_factor
    kw = {} if T is None else {"T": T}
    if s.is_delay and T is None:
        kw["T"] = 2_000.0 * s.period if s.period * 2_000 / (dt or 1) < 3e6 else 3e6 * dt
    t = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lam = np.atleast_1d(lyapunov_spectrum(s, dt=dt, x0=x0, seed=seed, **kw))
    elapsed = time.perf_counter() - t
    h, n_steps, n_tr = lyapunov_run_length(s, kw.get("T"), dt, None)
    out = {
        "lyapunov_spectrum": [None if not math.isfinite(v) else float(v) for v in lam],
        "max_lyapunov": None if not math.isfinite(lam[0]) else float(lam[0]),
        "kaplan_yorke_dimension": (float(kaplan_yorke_dimension(lam))
                                   if len(lam) == s.dim and np.all(np.isfinite(lam)) else None),
        "method": ("twin trajectories over the discretised history (delay system)"
                   if s.is_delay else
                   "Benettin QR on the exact tangent dynamics"
                   + (", iterated map" if s.is_map else ", RK4")),
        "unit": "per iteration" if s.is_map else "per unit time",
        "T": n_steps * h, "dt": h, "transient": n_tr * h,
        "x0": [float(v) for v in (s.x0 if x0 is None else x0)],
        "date": time.strftime("%Y-%m-%d"), "seconds": round(elapsed, 2),
    }
    if caught:
        out["warnings"] = [str(w.message) for w in caught]
    return out


def agree(a, b) -> bool:
    if a is None or b is None:
        return False
    return abs(a - b) <= max(REL_TOL * abs(b), ABS_TOL)


def check(names=None) -> dict:
    """Rerun each system from another initial condition (the point its default run reaches
    after 50 characteristic periods) with half the step, and another random tangent
    basis; compare the largest exponent with the recorded one."""
    ref = load()
    names = names or sorted(ref)
    report = {}
    for n in names:
        s = get(n)
        # another initial condition on the same attractor: where the default run is 50
        # characteristic periods later (a perturbed x0 could land in another basin)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                n_per = max(1, int(round(50 * s.period / s.dt)))
                x = simulate(s, 2, dt=None if s.is_map else n_per * s.dt,
                             substeps=1 if s.is_map else n_per, on_diverge="ignore") \
                    if not s.is_map else simulate(s, 51, on_diverge="ignore")
            x1 = x[-1] if np.all(np.isfinite(x[-1])) else s.x0
        except ValueError:
            x1 = s.x0
        rec_entry = ref.get(n, {})
        # the same integration time as the recorded run, with half the step
        rerun = compute(n, dt_factor=1.0 if s.is_map else 0.5, x0=x1, seed=1,
                        T=rec_entry.get("T") if not s.is_map else None)
        rec = rec_entry.get("max_lyapunov")
        report[n] = {"recorded": rec, "rerun": rerun["max_lyapunov"],
                     "agree": agree(rerun["max_lyapunov"], rec)}
        print(f"{n:28s} recorded {rec!s:>12.12} rerun {rerun['max_lyapunov']!s:>12.12} "
              f"{'ok' if report[n]['agree'] else 'DIFFERS'}", flush=True)
    return report


@dataclass(frozen=True)
class Published:
    """A value of the largest Lyapunov exponent from a source outside chaoslab.

    ``value`` is base e, per unit time (per iteration for maps), at the catalog entry's
    default parameters, converted where the source used other units (``note`` says so).
    ``kind`` is how much weight it carries: ``"published"`` (a paper, a book or its
    author's own pages), ``"encyclopedia"`` (Wikipedia, quoting a reference),
    ``"independent"`` (a third party's stated numerical computation) or ``"exact"`` (a
    closed form, derived in ``note``). A non-empty ``exclude`` says why the value is not
    comparable with chaoslab's (other parameters, another orbit); it is then listed but
    not tested.
    """
    value: float
    source: str
    url: str = ""
    kind: str = "published"
    spectrum: tuple = ()
    kaplan_yorke: float | None = None
    note: str = ""
    exclude: str = ""


def _data(filename: str) -> dict:
    text = resources.files("chaoslab.tools").joinpath("data", filename).read_text("utf-8")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"chaoslab/tools/data/{filename} is malformed: {exc}") from None


def _number(value, label: str) -> float:
    """A number, or a closed form in chaoslab's expression syntax (``"log(2)"``)."""
    try:
        return parse_constant(value, label=label)
    except EquationError as exc:
        raise ValueError(str(exc)) from None


def load_published(filename: str = "published.toml") -> dict[str, tuple[Published, ...]]:
    """The records of ``chaoslab/tools/data/published.toml``, ``{name: (Published, ...)}``."""
    allowed = {f.name for f in fields(Published)}
    out = {}
    for name, records in _data(filename).items():
        recs = []
        for i, r in enumerate(records):
            where = f"{filename}: {name} record {i + 1}"
            unknown = set(r) - allowed
            if unknown:
                raise ValueError(f"{where}: unknown field(s) {', '.join(sorted(unknown))} "
                                 f"(allowed: {', '.join(sorted(allowed))})")
            if "value" not in r or "source" not in r:
                raise ValueError(f"{where}: needs a value and a source")
            kw = dict(r)
            kw["value"] = _number(r["value"], f"{where}: value")
            kw["spectrum"] = tuple(_number(v, f"{where}: spectrum")
                                   for v in r.get("spectrum", ()))
            if "kaplan_yorke" in r:
                kw["kaplan_yorke"] = _number(r["kaplan_yorke"], f"{where}: kaplan_yorke")
            recs.append(Published(**kw))
        out[name] = tuple(recs)
    return out


def load_dysts_notes(filename: str = "dysts_notes.toml") -> tuple[dict, dict]:
    """``(DYSTS_KINDS, DYSTS_NOTES)`` from ``chaoslab/tools/data/dysts_notes.toml``:
    ``{kind: (label, sentence)}`` and ``{name: (kind, text)}``."""
    data = _data(filename)
    kinds = {k: (v["label"], v["text"]) for k, v in data.get("kinds", {}).items()}
    notes = {}
    for name, v in data.get("notes", {}).items():
        if v.get("kind") not in kinds:
            raise ValueError(f"{filename}: {name}: kind {v.get('kind')!r} is not one of "
                             f"{', '.join(kinds)}")
        notes[name] = (v["kind"], v.get("text", ""))
    return kinds, notes


#: Largest Lyapunov exponents from outside chaoslab, each read from its source for the
#: same parameter values as the catalog entry (the first record of a system is the one the
#: table shows), from ``data/published.toml``.
PUBLISHED: dict[str, tuple[Published, ...]] = load_published()

#: Kinds of explanation for a difference from dysts' maximum estimate: (label, sentence);
#: and why each system's recorded exponent differs from dysts' stored maximum estimate by
#: more than 15%: (kind, what is specific to the system). From ``data/dysts_notes.toml``.
DYSTS_KINDS, DYSTS_NOTES = load_dysts_notes()


#: What a comparison with a published value asks: the rerun tolerance (5%, or 0.005 near
#: zero), since a published value is itself one finite run; closed forms must be met to
#: 1e-4 (relative) or 1e-6 (absolute), all that is left of a finite run on a constant
#: Jacobian being rounding.
EXACT_REL_TOL, EXACT_ABS_TOL = 1e-4, 1e-6


def tolerance(record: Published) -> tuple[float, float]:
    """(relative, absolute) tolerance for comparing chaoslab with ``record``."""
    return (EXACT_REL_TOL, EXACT_ABS_TOL) if record.kind == "exact" else (REL_TOL, ABS_TOL)


def within(value, target, rel, abs_) -> bool:
    return value is not None and abs(value - target) <= max(rel * abs(target), abs_)


def published(name: str) -> Published | None:
    """The record the table shows for ``name`` (the first comparable one), or None."""
    for rec in PUBLISHED.get(name, ()):
        if not rec.exclude:
            return rec
    return None


def compare_published(ref: dict | None = None) -> list[dict]:
    """Every comparable published record against chaoslab's recorded largest exponent."""
    ref = load() if ref is None else ref
    rows = []
    for name, records in PUBLISHED.items():
        ours = ref.get(name, {}).get("max_lyapunov")
        for rec in records:
            if rec.exclude:
                continue
            rel, abs_ = tolerance(rec)
            rows.append({"name": name, "record": rec, "chaoslab": ours,
                         "difference": None if ours is None else ours - rec.value,
                         "agree": within(ours, rec.value, rel, abs_)})
    return rows


def dysts_estimates() -> dict:
    """dysts' stored metadata by catalog name: its flow entry for a flow, its map entry for a
    map (dysts uses the name Duffing for both a flow and a map); empty without dysts."""
    import os

    try:
        import dysts
    except ImportError:
        return {}
    base = os.path.join(os.path.dirname(dysts.__file__), "data")
    with open(os.path.join(base, "chaotic_attractors.json")) as fh:
        flows = json.load(fh)
    with open(os.path.join(base, "discrete_maps.json")) as fh:
        maps = json.load(fh)
    out = {}
    for name, entry in raw_entries().items():
        src = maps if entry.get("kind", "flow") == "map" else flows
        if name in src:
            out[name] = src[name]
    return out


def dysts_parameter_differences(name: str, d: dict) -> list[str]:
    """Where chaoslab's defaults differ from dysts' stored ones (``d``: dysts' entry)."""
    s = get(name)
    theirs = d.get("parameters", {})
    out = []
    for k, v in s.values.items():
        dk = s.meta.get("dysts_names", {}).get(k, k)
        if dk in theirs and np.ndim(theirs[dk]) == 0 and not np.isclose(
                float(v), float(theirs[dk]), rtol=1e-5, atol=1e-12):
            out.append(f"{k} = {float(v):.6g} (dysts {float(theirs[dk]):.6g})")
    n = len(d.get("initial_conditions") or ())
    if s.size is not None and n and n != s.dim:
        out.append(f"{s.size.name} = {s.dim} (dysts {n})")
    return out


#: A difference from dysts' stored maximum estimate above this is explained in the table.
DYSTS_FAR = 0.15


def dysts_far(ref: dict | None = None, dy: dict | None = None) -> list[str]:
    """Systems whose recorded largest exponent differs from dysts' maximum estimate by more
    than 15% of the latter."""
    ref = load() if ref is None else ref
    dy = dysts_estimates() if dy is None else dy
    out = []
    for name in sorted(ref):
        ours = ref[name].get("max_lyapunov")
        theirs = dy.get(name, {}).get("maximum_lyapunov_estimated")
        if ours is None or theirs is None:
            continue
        if abs(ours - theirs) > DYSTS_FAR * abs(theirs):
            out.append(name)
    return out


def diagnose(name: str, periods: float = 300.0, intervals: int = 2000) -> dict:
    """Two cheap cross-checks of a flow's recorded largest exponent.

    ``windows``: lambda_1 over ``periods`` characteristic periods (after the default
    transient) from three starts: x0, and the states the default start reaches at half and
    at the whole of min(recorded T, 3,000 periods). A long transient, intermittency or an
    orbit-dependent exponent shows as a spread. ``twin``: lambda_1 from two trajectories
    1e-8 apart (relative), renormalised every half period over ``intervals`` half periods:
    no Jacobian is used, so it checks the tangent dynamics as well. Each run is a batch of
    one, so the result does not depend on the number of cores.
    """
    s = get(name)
    if s.is_map or s.is_delay:
        raise ValueError(f"{name}: diagnose is for flows (the delay method is already a "
                         "twin-trajectory one)")
    t_rec = load().get(name, {}).get("T") or 10_000.0 * s.period
    t_late = min(t_rec, 3000.0 * s.period)
    n_sub = max(1, int(round(t_late / (2 * s.dt))))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = simulate(s, 3, dt=n_sub * s.dt, substeps=n_sub, on_diverge="ignore")
        starts = [0.0, n_sub * s.dt, 2 * n_sub * s.dt]
        lam = []
        for t0, xi in zip(starts, x):
            if not np.all(np.isfinite(xi)):
                lam.append(None)
                continue
            v = lyapunov_spectrum(s, 1, x0=np.asarray(xi)[None, :], T=periods * s.period,
                                  t0=t0)
            lam.append(float(v[0, 0]) if math.isfinite(v[0, 0]) else None)
        # twin trajectories
        half = max(1, int(round(0.5 * s.period / s.dt)))
        tau = half * s.dt
        n_tr = max(1, int(round(20 * s.period / s.dt)))
        xa = simulate(s, 2, dt=n_tr * s.dt, substeps=n_tr, on_diverge="ignore")[-1]
        t0 = n_tr * s.dt
        rng = np.random.default_rng(0)
        v = rng.normal(size=s.dim)
        d0 = 1e-8 * max(1.0, float(np.linalg.norm(xa)))
        X = np.array([xa, xa + d0 * v / np.linalg.norm(v)])
        logs, skip = 0.0, 20
        twin = None
        for i in range(intervals):
            Y = simulate(s, 2, x0=X, dt=tau, substeps=half, t0=t0, on_diverge="ignore")[:, -1]
            t0 += tau
            dv = Y[1] - Y[0]
            d = float(np.linalg.norm(dv))
            if not (np.all(np.isfinite(Y)) and d > 0):
                break
            if i >= skip:
                logs += math.log(d / d0)
            X = np.array([Y[0], Y[0] + dv * (d0 / d)])
        else:
            twin = logs / ((intervals - skip) * tau)
    return {"windows": {"periods": periods, "t": starts, "max_lyapunov": lam},
            "twin": {"max_lyapunov": twin, "T": (intervals - skip) * tau,
                     "renorm_every": tau, "separation": 1e-8},
            "date": time.strftime("%Y-%m-%d")}


def _fmt(v, digits=4):
    return "" if v is None else f"{v:.{digits}g}"


def _dysts_note(name: str, ours, d: dict, diag: dict | None, check: dict | None) -> str:
    """The note of a system whose exponent differs from dysts' maximum estimate by >15%."""
    dmax = d.get("maximum_lyapunov_estimated")
    dqr = (d.get("lyapunov_spectrum_estimated") or [None])[0]
    parts = []
    kind, text = DYSTS_NOTES.get(name, ("", ""))
    if kind:
        parts.append(f"**{DYSTS_KINDS[kind][0]}**." + (" " + text if text else ""))
    else:
        parts.append("**unexplained**: no note in chaoslab/tools/data/dysts_notes.toml.")
    facts = []
    if dqr is not None and dmax:
        facts.append(f"dysts' estimates differ from each other by {abs(dqr / dmax - 1):.0%}")
    if dqr is not None and abs(ours - dqr) <= DYSTS_FAR * abs(dqr):
        facts.append("chaoslab is within 15% of dysts' spectrum[0]")
    if abs(ours) < 0.01:
        facts.append(f"|chaoslab - dysts max| = {abs(ours - dmax):.2g} in absolute terms")
    pub = published(name)
    if pub is not None:
        rel, abs_ = tolerance(pub)
        facts.append(("agrees with" if within(ours, pub.value, rel, abs_) else "DIFFERS from")
                     + f" the {pub.kind} value {pub.value:.4g}")
    if diag:
        w = diag["windows"]["max_lyapunov"]
        facts.append("windows " + " / ".join("n/a" if v is None else f"{v:.3g}" for v in w))
        tw = diag["twin"]["max_lyapunov"]
        facts.append("twin " + ("diverged" if tw is None else f"{tw:.3g}"))
    if check is not None:
        facts.append("half-step rerun " + ("agrees" if check["agree"] else "differs"))
    return parts[0] + " (" + "; ".join(facts) + ")"


def table(check_report: dict | None = None) -> str:
    """The markdown comparison table of docs/catalog.md: chaoslab's largest exponent against
    dysts' stored estimates and published values, with the reason for every difference from
    dysts' maximum estimate above 15%. It reads recorded data only (reference.json, dysts'
    metadata, a saved check report): nothing is integrated."""
    ref = load()
    dy = dysts_estimates()
    far = set(dysts_far(ref, dy)) if dy else set()
    sources: list[Published] = []

    def cite(rec: Published) -> int:
        if rec not in sources:
            sources.append(rec)
        return sources.index(rec) + 1

    rows = ["| system | chaoslab λ1 | dysts max estimate | dysts spectrum[0] | published "
            "| note |", "|---|---|---|---|---|---|"]
    n_pub = n_pub_ok = 0
    for name in sorted(ref):
        flag = get(name).reference.get("flag", "")
        ours = ref[name].get("max_lyapunov")
        d = dy.get(name, {})
        dmax = d.get("maximum_lyapunov_estimated")
        dspec = (d.get("lyapunov_spectrum_estimated") or [None])[0]
        pub_cell = ""
        comparable = [r for r in PUBLISHED.get(name, ()) if not r.exclude]
        if comparable:
            n_pub += 1
            first = comparable[0]
            pub_cell = f"{_fmt(first.value, 5)} [{cite(first)}]"
            more = [f"[{cite(r)}]" for r in comparable[1:]]
            if more:
                pub_cell += " also " + " ".join(more)
            n_pub_ok += all(within(ours, r.value, *tolerance(r)) for r in comparable)
        for r in PUBLISHED.get(name, ()):
            if r.exclude:
                pub_cell += (" " if pub_cell else "") + f"({_fmt(r.value, 5)} [{cite(r)}]: " \
                            f"not comparable)"
        note = ""
        if name in far:
            note = _dysts_note(name, ours, d, ref[name].get("diagnostics"),
                               (check_report or {}).get(name))
        elif name in DYSTS_NOTES:
            note = "(note kept for a system no longer >15% from dysts: remove it)"
        differ = dysts_parameter_differences(name, d) if d else []
        if differ:
            note = (note + "; " if note else "") + "parameters differ from dysts: " + \
                ", ".join(differ)
        if flag:
            note = (note + "; " if note else "") + "flagged: " + flag
        rows.append(f"| {name} | {_fmt(ours)} | {_fmt(dmax)} | {_fmt(dspec)} | {pub_cell} "
                    f"| {note} |")
    kinds = {}
    for name in sorted(far):
        kinds.setdefault(DYSTS_NOTES.get(name, ("unexplained", ""))[0], []).append(name)
    head = [f"{len(ref)} systems; {len(far)} differ from dysts' stored maximum estimate by "
            f"more than 15%. {n_pub} have a published or exact value at the same parameters; "
            f"chaoslab's recorded exponent agrees with every such value for {n_pub_ok} of them "
            "(within 5% or 0.005, and within 1e-4 for closed forms).", "",
            "Generated by `python -m chaoslab.tools.reference --table docs/catalog.md "
            "--check-report benchmarks/results/reference_check.json` from recorded data "
            "only. Edit the data in `chaoslab/tools/data/published.toml` and "
            "`chaoslab/tools/data/dysts_notes.toml`, not this file.", "",
            "## Reading the note column", "",
            "dysts stores two estimates of the largest exponent, both from short runs. The "
            "*max estimate* (`dysts.analysis.max_lyapunov_exponent`) is the mean, over up to "
            "1,000 starts drawn from one trajectory, of the slope of a straight line fitted "
            "to the log-distance of two trajectories started 1e-10 apart, cut where they are "
            "1e-3 apart relative to the state. *spectrum[0]* is the largest exponent of a "
            "Gram-Schmidt spectrum (`dysts.analysis.find_lyapunov_exponents`) whose tangent "
            "vectors are advanced by a first-order backward-Euler step along a resampled "
            "trajectory. For a flow, chaoslab's value is Benettin's QR method on the exact "
            "Jacobian with RK4, over about 10,000 characteristic periods (method, T, dt and "
            "x0 of each run are in `reference.json`). The vector fields are dysts' "
            "(tests/systems/test_dysts.py) and the default parameters too, except where a "
            "note says *parameters differ*; "
            "elsewhere the differences come from the estimators and the runs, not the "
            "equations.", "",
            "Each explained row starts with its kind:", ""]
    head += [f"- *{DYSTS_KINDS[k][0]}* ({len(v)}): {DYSTS_KINDS[k][1]}" for k, v in sorted(
        kinds.items(), key=lambda kv: -len(kv[1])) if k in DYSTS_KINDS]
    head += ["", "The facts in brackets are computed: *windows* is chaoslab's λ1 over 300 "
            "characteristic periods from x0 / from the state at half / at the whole of "
            "min(recorded T, 3,000 periods); *twin* is λ1 from two trajectories 1e-8 apart "
            "renormalised every half period over about 1,000 periods, which uses no Jacobian "
            "(`python -m chaoslab.tools.reference --diagnose NAME` recomputes both). "
            "Where |λ1| < 0.01 a relative difference says nothing and the absolute one is "
            "given.", ""]
    foot = ["", "## Sources of the published column", ""]
    for i, rec in enumerate(sources, 1):
        url = f" <{rec.url}>" if rec.url else ""
        extra = f" {rec.note}" if rec.note else ""
        excl = f" Not comparable: {rec.exclude}." if rec.exclude else ""
        src = rec.source.removeprefix("exact: ")
        foot.append(f"{i}. ({rec.kind}) {src}.{url}{extra}{excl}")
    return "\n".join(head + rows + foot) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m chaoslab.tools.reference",
                                description=__doc__.splitlines()[0])
    p.add_argument("names", nargs="*", help="systems (default: the whole catalog)")
    p.add_argument("--check", action="store_true",
                   help="rerun from another start with half the step and compare")
    p.add_argument("--out", default=None, help="where to write (default: the package data)")
    p.add_argument("--table", default=None, metavar="FILE",
                   help="write the comparison table (markdown) to FILE; with --check-report, "
                        "use a saved check")
    p.add_argument("--check-report", default=None, help="a JSON file written by --check --out")
    p.add_argument("--diagnose", action="store_true",
                   help="store windows and twin-trajectory cross-checks in reference.json "
                        "(default: the flows more than 15%% from dysts' maximum estimate)")
    args = p.parse_args(argv)
    if args.table:
        rep = json.loads(Path(args.check_report).read_text()) if args.check_report else None
        Path(args.table).write_text(table(rep))
        print(f"wrote {args.table}")
        return 0
    names = args.names or all_names()
    if args.check:         # a fresh rerun compared with the recorded values
        report = check(names)
        flows = [n for n in report]
        ok = sum(report[n]["agree"] for n in flows)
        print(f"\n{ok} of {len(flows)} agree within {REL_TOL:.0%} (or {ABS_TOL} absolute)")
        if args.out:
            Path(args.out).write_text(json.dumps(report, indent=1))
        return 0
    path = Path(args.out) if args.out else reference_path()
    existing = json.loads(path.read_text())["systems"] if path.exists() else {}

    def write():
        path.write_text(json.dumps({"about": __doc__.splitlines()[0],
                                    "systems": dict(sorted(existing.items()))}, indent=1))

    if args.diagnose:
        names = args.names or [n for n in dysts_far()
                               if not (get(n).is_map or get(n).is_delay)]
        for n in names:
            t = time.perf_counter()
            existing[n]["diagnostics"] = diag = diagnose(n)
            w = diag["windows"]["max_lyapunov"]
            print(f"{n:28s} {time.perf_counter() - t:6.1f} s  recorded "
                  f"{_fmt(existing[n]['max_lyapunov'])}  windows "
                  + " / ".join(_fmt(v) or "n/a" for v in w)
                  + f"  twin {_fmt(diag['twin']['max_lyapunov']) or 'diverged'}", flush=True)
            write()
        return 0
    for n in names:
        old = existing.get(n, {})
        existing[n] = compute(n)
        if "diagnostics" in old:  # cross-checks of the same system at the same defaults
            existing[n]["diagnostics"] = old["diagnostics"]
        lam = existing[n]["lyapunov_spectrum"]
        print(f"{n:28s} {existing[n]['seconds']:6.1f} s  lambda = "
              + ", ".join("nan" if v is None else f"{v:.4g}" for v in lam), flush=True)
        write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
