"""Plot data as CSV text (what each figure's download button offers)."""
from __future__ import annotations

import csv
import io

import numpy as np

__all__ = ["columns_csv", "source_csv"]


def columns_csv(columns: dict) -> str:
    """CSV text of equal-length 1-D columns (a header row of the column names)."""
    names = list(columns)
    arrays = [np.asarray(columns[k]).ravel() for k in names]
    n = max((len(a) for a in arrays), default=0)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(names)
    for i in range(n):
        w.writerow(["" if i >= len(a) else _cell(a[i]) for a in arrays])
    return buf.getvalue()


def _cell(v):
    if isinstance(v, (float, np.floating)):
        return "" if not np.isfinite(v) else repr(float(v))
    if isinstance(v, np.integer):
        return int(v)
    return v


def source_csv(source, columns=None) -> str:
    """CSV text of a ColumnDataSource's 1-D columns (``columns`` picks and orders them)."""
    data = source.data
    names = [c for c in (columns or data.keys()) if c in data]
    return columns_csv({k: data[k] for k in names})
