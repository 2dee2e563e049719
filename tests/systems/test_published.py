"""chaoslab's recorded Lyapunov exponents against values from outside chaoslab.

``reference.PUBLISHED`` (chaoslab/tools/data/published.toml) holds largest exponents (and, where the source gives them, the
spectrum and the Kaplan-Yorke dimension) read from papers, books, their authors' pages,
Wikipedia and stated third-party computations at the catalog's parameters, plus closed
forms. The recorded values (reference.json) must agree with every comparable record:

* within 5%, or 0.005 absolute near zero: the tolerance asked of chaoslab's own rerun from
  another start with half the step, since a published value is itself one finite run
  (Sprott: "the least significant digit is only a best estimate");
* within 1e-4 relative, or 1e-6 absolute, for a closed form: on a constant Jacobian all
  that is left of a finite run is rounding.

A record that is not comparable (other parameters, another orbit) carries its reason in
``exclude`` and is not tested; nothing is marked as an expected failure.

These tests read recorded data; only ``test_recomputed`` integrates (a few seconds).
"""
import json
import math
from pathlib import Path

import numpy as np
import pytest

import chaoslab as cl
from chaoslab.tools import reference
from chaoslab.tools.reference import PUBLISHED, tolerance, within

REF = reference.load()
RECORDS = [(name, i, rec) for name, recs in PUBLISHED.items()
           for i, rec in enumerate(recs) if not rec.exclude]
IDS = [f"{name}-{i}" for name, i, _ in RECORDS]


@pytest.mark.parametrize("name,i,rec", RECORDS, ids=IDS)
def test_recorded_largest_exponent_agrees(name, i, rec):
    ours = REF[name]["max_lyapunov"]
    rel, abs_ = tolerance(rec)
    assert within(ours, rec.value, rel, abs_), (
        f"{name}: chaoslab records {ours}, {rec.source} gives {rec.value} "
        f"(tolerance {rel:g} relative, {abs_:g} absolute)")


@pytest.mark.parametrize("name,i,rec", [r for r in RECORDS if r[2].spectrum],
                         ids=[i for i, r in zip(IDS, RECORDS) if r[2].spectrum])
def test_recorded_spectrum_agrees(name, i, rec):
    ours = REF[name]["lyapunov_spectrum"]
    assert len(ours) == len(rec.spectrum), name
    rel, abs_ = tolerance(rec)
    for k, (a, b) in enumerate(zip(ours, rec.spectrum)):
        assert within(a, b, rel, abs_), f"{name}: lambda_{k + 1} = {a}, source {b}"


@pytest.mark.parametrize("name,i,rec", [r for r in RECORDS if r[2].kaplan_yorke],
                         ids=[i for i, r in zip(IDS, RECORDS) if r[2].kaplan_yorke])
def test_recorded_kaplan_yorke_dimension_agrees(name, i, rec):
    ours = REF[name]["kaplan_yorke_dimension"]
    # the fractional part is a ratio of exponents: 5% of it, and at least 0.01
    frac = rec.kaplan_yorke - math.floor(rec.kaplan_yorke)
    assert abs(ours - rec.kaplan_yorke) <= max(0.05 * frac, 0.01, tolerance(rec)[1]), (
        name, ours, rec.kaplan_yorke)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_records_are_complete(name):
    s = cl.systems.get(name)  # the name is a catalog entry
    for rec in PUBLISHED[name]:
        assert rec.source and rec.kind in {"published", "encyclopedia", "independent", "exact"}
        assert rec.kind == "exact" or rec.url, f"{name}: a non-exact record needs its URL"
        assert math.isfinite(rec.value)
        if rec.spectrum:
            assert rec.spectrum[0] == rec.value and len(rec.spectrum) == s.dim, name
            assert list(rec.spectrum) == sorted(rec.spectrum, reverse=True), name
        if rec.kaplan_yorke and rec.spectrum:  # the source's dimension fits its spectrum
            lam = np.array(rec.spectrum)
            assert abs(cl.kaplan_yorke_dimension(lam) - rec.kaplan_yorke) < 2e-3, name
        if rec.exclude:
            assert len(rec.exclude) > 20, f"{name}: say why it is not comparable"


def test_compare_published_covers_every_comparable_record():
    rows = reference.compare_published(REF)
    assert len(rows) == len(RECORDS)
    assert all(r["agree"] for r in rows), [r["name"] for r in rows if not r["agree"]]


@pytest.mark.parametrize("name,T", [("Henon", 200_000), ("Tinkerbell", 200_000),
                                    ("ArnoldCat", 10_000), ("Lorenz", 1_500.0)])
def test_recomputed(name, T):
    """A short run from scratch lands on the published value too (not only the record)."""
    got = cl.lyapunov_spectrum(name, 1, T=T)[0]
    rec = reference.published(name)
    rel, abs_ = tolerance(rec)
    if name == "Lorenz":  # 1,000 periods instead of 10,000: a looser 3%
        rel = 0.03
    assert within(float(got), rec.value, rel, abs_), (name, got, rec.value)


# -- the explanations of differences from dysts (docs/catalog.md); these need dysts' metadata
# (a test extra) and are skipped without it

def _far():
    pytest.importorskip("dysts")
    return reference.dysts_far(REF)


def test_every_difference_from_dysts_is_explained():
    far = _far()
    missing = [n for n in far if n not in reference.DYSTS_NOTES]
    stale = [n for n in reference.DYSTS_NOTES if n not in far]
    assert not missing, f"explain these in chaoslab/tools/data/dysts_notes.toml: {missing}"
    assert not stale, f"these no longer differ from dysts by >15%: {stale}"
    for n in far:
        kind, text = reference.DYSTS_NOTES[n]
        assert kind in reference.DYSTS_KINDS, (n, kind)
        assert kind != "parameters" or text, f"{n}: say which parameters differ"
        s = cl.systems.get(n)
        if not (s.is_map or s.is_delay):  # the facts the table quotes are recorded
            assert "diagnostics" in REF[n], f"run --diagnose {n}"


def _chaoslab_estimates(name):
    """The recorded value and the diagnostics' windows and twin estimate."""
    est = [REF[name]["max_lyapunov"]]
    diag = REF[name].get("diagnostics")
    if diag:
        est += [v for v in diag["windows"]["max_lyapunov"] if v is not None]
        if diag["twin"]["max_lyapunov"] is not None:
            est.append(diag["twin"]["max_lyapunov"])
    return est


def test_explanation_kinds_fit_the_data():
    """Each kind of explanation makes a claim the recorded data can check."""
    far = _far()
    dy = reference.dysts_estimates()
    wrong = []
    for n in far:
        kind, _ = reference.DYSTS_NOTES[n]
        ours = REF[n]["max_lyapunov"]
        dmax = dy[n]["maximum_lyapunov_estimated"]
        dqr = dy[n]["lyapunov_spectrum_estimated"][0]
        est = _chaoslab_estimates(n)
        s = cl.systems.get(n)
        fits = {
            "max-outlier": abs(ours - dqr) <= reference.DYSTS_FAR * abs(dqr),
            "bracket": min(dqr, dmax) < ours < max(dqr, dmax),
            # both dysts values on one side of every chaoslab estimate
            "short-runs": max(est) < min(dqr, dmax) or min(est) > max(dqr, dmax),
            "stiff": max(est) < min(dqr, dmax) or min(est) > max(dqr, dmax),
            "regular": abs(ours) < 0.01 and abs(est[-1]) < 0.03,
            "transient": max(est) - min(est) > 0.5 * max(abs(e) for e in est),
            "conservative": bool(dy[n].get("hamiltonian"))
                            or abs(sum(REF[n]["lyapunov_spectrum"])) < 1e-3,
            "delay": s.is_delay,
            "parameters": bool(reference.dysts_parameter_differences(n, dy[n])),
        }[kind]
        if not fits:
            wrong.append((n, kind))
    assert not wrong, wrong


def test_catalog_doc_is_generated_from_the_data():
    pytest.importorskip("dysts")
    root = Path(__file__).resolve().parents[2]
    report = root / "benchmarks" / "results" / "reference_check.json"
    want = reference.table(json.loads(report.read_text()))
    assert (root / "docs" / "catalog.md").read_text() == want, (
        "docs/catalog.md is stale: python -m chaoslab.tools.reference --table "
        "docs/catalog.md --check-report benchmarks/results/reference_check.json")
