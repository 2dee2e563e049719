"""A sweep's results table read back from CSV (what the app accepts as an upload): the
same table pandas reads from the same file, and every malformed file refused by name."""
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from chaoslab.experiments import read_results_csv
from chaoslab.experiments.sweeps import MAX_CELL_CHARS, TEXT_COLUMNS

STORED = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "gilpin_sweep.csv"


def assert_same_table(mine, peer):
    assert list(mine.columns) == list(peer.columns)
    assert len(mine) == len(peer)
    for c in peer.columns:
        if c in TEXT_COLUMNS:
            assert list(mine[c]) == [("" if isinstance(v, float) and math.isnan(v) else str(v))
                                     for v in peer[c]], c
        else:
            np.testing.assert_array_equal(mine[c].to_numpy(float),
                                          peer[c].to_numpy(float), err_msg=c)


def test_the_gilpin_sweep_table_reads_as_pandas_reads_it():
    mine = read_results_csv(STORED)
    peer = pd.read_csv(STORED, float_precision="round_trip")
    assert len(mine) >= 720 and mine["learner"].nunique() >= 6
    assert_same_table(mine, peer)
    # bytes, text and a path give the same table
    assert_same_table(read_results_csv(STORED.read_bytes()), peer)
    assert_same_table(read_results_csv(STORED.read_text()), peer)


def test_a_table_written_by_pandas_reads_back(tmp_path):
    peer = pd.read_csv(STORED, float_precision="round_trip").head(50)
    for index in (False, True):          # pandas writes its index column by default
        f = tmp_path / f"t{index}.csv"
        peer.to_csv(f, index=index)
        assert_same_table(read_results_csv(f), pd.read_csv(f, float_precision="round_trip", index_col=0 if index
                                          else None).reset_index(drop=True))


HEAD = "system,learner,seed,status,lyapunov_exponent,vpt\n"


@pytest.mark.parametrize("text, words", [
    ("", "no header"),
    ("system,learner\nLorenz,esn\n", "lacks the column(s) seed, status"),
    (HEAD.replace("vpt", "seed"), "repeats the column 'seed'"),
    (HEAD + "Lorenz,esn,0,ok,0.9\n", "row 1 of source has 5 cells"),
    (HEAD + "Lorenz,esn,0,ok,0.9,=cmd|' /C calc'!A0\n", "column 'vpt' must hold numbers"),
    (HEAD + "Lorenz,esn,zero,ok,0.9,1\n", "column 'seed' must hold numbers; row 1"),
    (HEAD + "Lor\x00enz,esn,0,ok,0.9,1\n", "control characters"),
    (HEAD + "Lorenz,\"esn,0,ok,0.9,1\n", "not valid CSV"),
    (HEAD + "x" * (MAX_CELL_CHARS + 1) + ",esn,0,ok,0.9,1\n", "characters; at most"),
])
def test_malformed_tables_are_refused_by_name(text, words):
    with pytest.raises(ValueError, match=None) as err:
        read_results_csv(text.encode())
    assert words in str(err.value), str(err.value)


def test_limits_and_wrong_types(tmp_path):
    body = HEAD + "Lorenz,esn,0,ok,0.9,1\n" * 10
    with pytest.raises(ValueError, match="at most 100 are allowed"):
        read_results_csv(body.encode(), max_bytes=100)
    with pytest.raises(ValueError, match="more than 5 rows"):
        read_results_csv(body.encode(), max_rows=5)
    with pytest.raises(ValueError, match="must be UTF-8"):
        read_results_csv(HEAD.encode() + b"Lorenz,\xff,0,ok,0.9,1\n")
    with pytest.raises(ValueError, match="no such file"):
        read_results_csv(tmp_path / "missing.csv")
    with pytest.raises(TypeError, match="source must be bytes, CSV text or a path"):
        read_results_csv(3.5)
    with pytest.raises(ValueError, match="max_rows"):
        read_results_csv(body, max_rows=0)
    big = tmp_path / "big.csv"
    big.write_text(body)
    with pytest.raises(ValueError, match=f"source is {len(body):,} bytes"):
        read_results_csv(big, max_bytes=100)


def test_markup_in_names_is_kept_as_data():
    t = read_results_csv(HEAD + "<script>alert(1)</script>,**esn**,1,ok,0.9,nan\n"
                         "Rossler,esn,2,error,inf,\n")
    assert list(t["system"]) == ["<script>alert(1)</script>", "Rossler"]
    assert t["seed"].tolist() == [1.0, 2.0]
    assert math.isnan(t["vpt"][0]) and math.isnan(t["vpt"][1])
    assert t["lyapunov_exponent"][1] == math.inf
