"""Sweeps: many forecast-divergence or Lyapunov tasks on dask.distributed, resumable.

:func:`sweep` runs every (system, learner, seed) of a protocol as one task;
:func:`parameter_sweep` runs a system over a grid of its parameters (its Lyapunov
spectrum, or the forecast skill of learners). Both run on a dask cluster: by default an
embedded :class:`distributed.LocalCluster` with one single-threaded worker process per
core, or the user's cluster when given a scheduler address (``"tcp://HOST:8786"``) or a
:class:`distributed.Client`.

The store is a folder of Parquet files, one per task, named by the task's key: a hash
of everything that decides its numbers (the system and its parameter values, the
learner and all its hyperparameters, the seed, the protocol's settings, the options of
the sweep and :data:`STORE_VERSION`, the version of the row definitions). A file is
written under a temporary name and moved into place with :func:`os.replace`, so a
reader never sees half a result; a rerun of the same sweep skips every key already in
the store; :func:`read_store` gives the results so far as one table at any time, also
while a sweep runs.

The client writes each result as it arrives, so the store need only be reachable from
the machine that calls :func:`sweep` (workers need chaoslab installed, not the store).
A worker that dies mid-task loses nothing: the scheduler runs its tasks again on another
worker (dask's ``distributed.scheduler.allowed-failures``). A task whose learner or
system raises returns a row with ``status == "error"`` and the error's text; a task dask
gives up on (a worker killed on every attempt) is recorded the same way by the client.

Seeds: seed ``k`` sets the learner's ``seed`` hyperparameter to ``k`` (learners that
have one, unless it is given explicitly) and starts the data ``k`` training spans later
on the same trajectory (the protocol's transient plus ``k * n_train * dt``), so seeds
differ in both the model's randomness and the data; seed 0 is the protocol's own data.
"""
from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import os
import socket
import sys
import time
import traceback
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..integrate import DivergenceWarning
from ..progress import Reporter
from ..validation import check_choice, check_int

__all__ = ["sweep", "parameter_sweep", "read_store", "read_results_csv", "SweepResult",
           "task_key", "sweep_tasks", "run_task", "STORE_VERSION", "resolve_systems"]

#: Version of the task and row definitions; part of every task's key, so a change of
#: what a task computes makes a rerun compute afresh instead of reusing old rows.
STORE_VERSION = 1

#: The published VPT definitions every forecast row reports (column ``vpt_<method>``),
#: each at its default threshold.
VPT_COLUMNS = ("nrmse", "smape", "cumulative_smape")

#: Protocol fields that do not change a number (left out of the task key).
_PROSE = ("citation", "source", "notes")

_SEARCH_KEYS = ("kind", "dim", "transport", "text")


# -- inputs ---------------------------------------------------------------------------

def resolve_systems(systems) -> list:
    """Catalog names (and System objects, kept as they are) from a sweep's ``systems``.

    ``"all"`` is the whole catalog; a dict is a search: ``kind`` ("flow"/"map"), ``dim``,
    ``transport`` (as :func:`chaoslab.systems.names`) and ``text`` (as
    :func:`chaoslab.systems.search`), all given must match; a name, a System or a list
    of them is taken as given (names checked against the catalog). Duplicates are
    dropped, the order kept.
    """
    from .. import systems as catalog

    if isinstance(systems, str) and systems.strip().lower() == "all":
        out = catalog.names()
    elif isinstance(systems, dict):
        unknown = sorted(set(systems) - set(_SEARCH_KEYS))
        if unknown:
            raise ValueError(f"systems: unknown search key(s) {', '.join(map(repr, unknown))}; "
                             f"allowed: {', '.join(map(repr, _SEARCH_KEYS))}")
        out = catalog.names(kind=systems.get("kind"), dim=systems.get("dim"),
                            transport=systems.get("transport"))
        if systems.get("text") is not None:
            hits = set(catalog.search(str(systems["text"])))
            out = [n for n in out if n in hits]
        if not out:
            raise ValueError(f"systems: the search {systems!r} matches no catalog system")
    else:
        items = [systems] if isinstance(systems, (str, catalog.System)) else list(systems)
        out = []
        for item in items:
            if isinstance(item, catalog.System):
                out.append(item)
            else:
                out.append(catalog.as_system(item, "systems").name)
    if not out:
        raise ValueError("systems: no systems given")
    seen, unique = set(), []
    for s in out:
        tag = s if isinstance(s, str) else id(s)
        if tag not in seen:
            seen.add(tag)
            unique.append(s)
    return unique


def _jsonable(value):
    """``value`` with numpy scalars and arrays as plain Python (for keys and rows)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


def _learner_specs(learners) -> list:
    """``[{"label", "name", "params", "given"}]`` from names, ``(name, params)`` pairs,
    Learner objects or a ``{label: spec}`` dict; every name and hyperparameter is
    checked by building the learner once here."""
    from .. import learners as registry

    if isinstance(learners, str):
        learners = [learners]
    if isinstance(learners, dict):
        pairs = [(str(label), spec) for label, spec in learners.items()]
    else:
        pairs = [(None, spec) for spec in learners]
    out = []
    for label, spec in pairs:
        if isinstance(spec, registry.Learner):
            name, given = spec.name, spec.get_params(deep=False)
        elif isinstance(spec, str):
            name, given = spec, {}
        elif (isinstance(spec, (tuple, list)) and len(spec) == 2 and isinstance(spec[0], str)
              and isinstance(spec[1], dict)):
            name, given = spec[0], dict(spec[1])
        else:
            raise ValueError(f"learners: each must be a name, a (name, hyperparameters) pair "
                             f"or a Learner, got {spec!r:.80}")
        full = registry.make(name, **given).get_params(deep=False)
        out.append({"label": label or name, "name": name, "params": _jsonable(full),
                    "given": sorted(given)})
    if not out:
        raise ValueError("learners: no learners given")
    labels = [s["label"] for s in out]
    twice = sorted({x for x in labels if labels.count(x) > 1})
    if twice:
        raise ValueError(f"learners: {twice[0]!r} is given twice; to compare two settings of "
                         "one learner, pass a dict {label: (name, hyperparameters)}")
    return out


def _seeds(seeds) -> list:
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        n = check_int(seeds, "seeds", 1)
        return list(range(n))
    try:
        out = [check_int(s, "seeds", 0) for s in seeds]
    except TypeError:
        raise ValueError(f"seeds must be a count (int >= 1) or a list of ints >= 0, "
                         f"got {seeds!r}") from None
    if not out:
        raise ValueError("seeds: no seeds given")
    return list(dict.fromkeys(out))


def _protocol_spec(protocol) -> dict:
    from .protocols import as_protocol

    p = as_protocol(protocol)
    d = dataclasses.asdict(p)
    for k in _PROSE:
        d.pop(k, None)
    return _jsonable(d)


def _system_spec(system, values=None) -> dict:
    """What identifies a system in a task: a catalog name and parameter values, or a
    user-defined System's equations and settings (the object then travels with the
    task)."""
    from .. import systems as catalog

    if isinstance(system, str):
        s = catalog.get(system)
        vals = dict(s.values)
        vals.update(values or {})
        return {"name": s.name, "values": _jsonable(vals), "catalog": True}
    s = system.with_params(**values) if values else system
    return {"name": s.name, "values": _jsonable(dict(s.values)), "catalog": False,
            "equations": list(s.equations), "variables": list(s.variables),
            "x0": _jsonable(s.x0), "dt": float(s.dt), "period": float(s.period),
            "kind": s.kind}


def task_key(spec: dict) -> str:
    """The stable key of a task: a SHA-256 of its spec (canonical JSON) and
    :data:`STORE_VERSION`, 24 hex digits."""
    payload = {k: v for k, v in spec.items() if k != "object"}
    payload["store_version"] = STORE_VERSION
    text = json.dumps(_jsonable(payload), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


# -- the task itself (runs on a worker) ------------------------------------------------

def _build_system(spec, obj):
    from .. import systems as catalog

    if obj is not None:
        s = obj
    else:
        s = catalog.get(spec["name"])
    vals = {k: v for k, v in spec["values"].items() if s.values.get(k) != v}
    return s.with_params(**vals) if vals else s


def _reference(s):
    """The system's lambda_1 (recorded or computed) and Kaplan-Yorke dimension."""
    from ..analysis.exponent import at_reference_parameters, largest_lyapunov_exponent

    lam = largest_lyapunov_exponent(s)
    ky = s.reference.get("kaplan_yorke_dimension") if at_reference_parameters(s) else None
    return float(lam), (math.nan if ky is None else float(ky))


def _median(values):
    a = np.asarray(values, dtype=float)
    return float(np.median(a)) if a.size else math.nan


def _forecast_row(spec, s, lam) -> dict:
    from .. import learners as registry
    from ..metrics.forecast import smape, smape_at, valid_prediction_steps
    from .divergence import evaluate, prepare
    from .protocols import as_protocol

    opts = spec["options"]
    lspec = spec["learner"]
    params = dict(lspec["params"])
    if "seed" in params and "seed" not in lspec["given"]:
        params["seed"] = spec["seed"]
    lrn = registry.make(lspec["name"], **params)
    p = spec.get("protocol_object") or as_protocol(spec["protocol"]["name"])
    overrides = {k: v for k, v in opts["overrides"].items() if v is not None}
    st = p.settings(s, lyapunov_exponent=lam, **overrides)
    transient = st.transient + spec["seed"] * st.n_train * st.dt
    n_free = opts["n_free"] if opts["statistics"] else 0
    row = {"lyapunov_exponent": st.lyapunov_exponent}
    data = prepare(s, protocol=p, transient=transient, n_free=n_free,
                   min_context=lrn.context_length, lyapunov_exponent=st.lyapunov_exponent,
                   **overrides)
    r = evaluate(lrn, lspec["label"], data, statistics=opts["statistics"],
                 learned_exponent=opts["learned_exponent"])
    n_starts = data.truths.shape[0]
    t0 = time.perf_counter()
    with warnings.catch_warnings():  # a blown-up forecast is what the VPT measures
        warnings.simplefilter("ignore", DivergenceWarning)
        pred = (r.example[None] if n_starts == 1
                else r.learner.forecast(data.contexts, data.n_steps))
    extra_s = time.perf_counter() - t0
    lam, dt = data.lyapunov_exponent, data.dt
    row.update({"dt": dt, "n_train": int(data.train.shape[0]), "context": data.context,
                "n_steps": data.n_steps, "n_starts": int(n_starts),
                "horizon": data.n_steps * dt * lam, "vpt_method": data.vpt_method,
                "vpt_threshold": float(data.threshold), "vpt": r.vpt_median,
                "vpt_q25": float(np.quantile(r.vpt, 0.25)),
                "vpt_q75": float(np.quantile(r.vpt, 0.75))})
    for m in VPT_COLUMNS:
        steps = valid_prediction_steps(data.truths, pred, method=m, scale=data.scale)
        row[f"vpt_{m}"] = _median(np.atleast_1d(steps) * dt * lam)
    row["smape"] = _median(np.atleast_1d(smape(data.truths, pred)))
    for h in opts["horizons"]:
        key = f"smape@{h:g}"
        try:
            row[key] = _median(smape_at(data.truths, pred, dt, lam, (h,))[..., 0])
        except ValueError:                 # beyond the forecast, or under one row
            row[key] = math.nan
    for k, v in r.metrics.items():         # the protocol's own (nrmse, smape@h)
        if k not in row or (isinstance(row[k], float) and math.isnan(row[k])):
            row[k] = _median(v)
    row.update({"d_stsp": float(r.d_stsp), "d_h": float(r.d_h),
                "learned_lyapunov_exponent": float(r.lyapunov_exponent),
                "lyapunov_error": (abs(r.lyapunov_exponent - lam) / lam
                                   if math.isfinite(r.lyapunov_exponent) else math.nan),
                "fit_seconds": float(r.fit_seconds),
                "forecast_seconds": float(r.forecast_seconds),
                "metrics_forecast_seconds": extra_s})
    return row


def _lyapunov_row(spec, s) -> dict:
    from ..analysis import kaplan_yorke_dimension, lyapunov_spectrum

    opts = spec["options"]
    lam = lyapunov_spectrum(s, opts["n_exponents"], T=opts["T"])
    row = {f"lambda_{i}": float(v) for i, v in enumerate(lam, 1)}
    row["lyapunov_exponent"] = float(lam[0])
    row["kaplan_yorke_dimension"] = (float(kaplan_yorke_dimension(lam)) if len(lam) == s.dim
                                     else math.nan)
    return row


def run_task(spec: dict) -> dict:
    """Run one task of a sweep and return its row (a flat dict of plain values).

    What a worker runs; public so that a task can be rerun by hand from its spec. An
    exception of the system, the learner or a metric is caught: the row then has
    ``status == "error"`` and the error's text in ``error`` (the sweep goes on).
    """
    t0 = time.perf_counter()
    row = _base_row(spec)
    row["worker"] = f"{socket.gethostname()}:{os.getpid()}"
    try:
        s = _build_system(spec["system"], spec.get("object"))
        row["dim"] = int(s.dim)
        if spec["kind"] == "lyapunov":
            row.update(_lyapunov_row(spec, s))
        else:
            lam, ky = _reference(s)
            row["kaplan_yorke_dimension"] = ky
            row["lyapunov_exponent"] = lam
            row.update(_forecast_row(spec, s, lam))
        row["status"] = "ok"
    except Exception as exc:       # recorded as a row: one failure never loses a sweep
        row["status"] = "error"
        row["error"] = f"{type(exc).__name__}: {exc}"
        row["traceback"] = "".join(traceback.format_exception(exc)[-6:])[-4000:]
    row["task_seconds"] = time.perf_counter() - t0
    return row


def _base_row(spec) -> dict:
    from .. import __version__

    row = {"key": spec["key"], "kind": spec["kind"], "system": spec["system"]["name"],
           "seed": spec.get("seed", 0), "protocol": spec.get("protocol", {}).get("name", ""),
           "status": "", "error": "", "traceback": "",
           "system_params": json.dumps(spec["system"]["values"], sort_keys=True),
           "store_version": STORE_VERSION, "chaoslab_version": __version__,
           "finished_at": time.time()}
    for k, v in spec.get("grid_point", {}).items():
        row[f"param_{k}"] = float(v)
    if spec["kind"] == "forecast":
        lspec = spec["learner"]
        row.update({"learner": lspec["label"], "learner_name": lspec["name"],
                    "learner_params": json.dumps(lspec["params"], sort_keys=True)})
    return row


def _failed_row(spec, exc) -> dict:
    """The row of a task dask gave up on (e.g. its worker was killed on every try)."""
    row = _base_row(spec)
    row.update({"status": "error", "error": f"{type(exc).__name__}: {exc}"[:4000],
                "worker": ""})
    return row


# -- the store -------------------------------------------------------------------------

def _store_path(store) -> Path:
    if store is None:
        raise ValueError("store must be a folder path (results are written there, one "
                         "Parquet file per task), got None")
    path = Path(store).expanduser()
    if path.exists() and not path.is_dir():
        raise ValueError(f"store must be a folder, got the file {str(path)!r}")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _write_row(path: Path, row: dict) -> None:
    """Write one row as ``<key>.parquet``, atomically (a temporary name, then
    :func:`os.replace`)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    clean = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
    table = pa.Table.from_pylist([clean])
    # a column that is None in this row keeps a float type, so tables concatenate
    cols = [table.column(i).cast(pa.float64()) if table.schema.field(i).type == pa.null()
            else table.column(i) for i in range(table.num_columns)]
    table = pa.Table.from_arrays(cols, names=table.column_names)
    final = path / f"{row['key']}.parquet"
    tmp = path / f".{row['key']}.{uuid.uuid4().hex}.tmp"
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()


def _stored_status(path: Path, keys) -> dict:
    """``{key: status}`` of the keys already in the store."""
    import pyarrow.parquet as pq

    out = {}
    for key in keys:
        f = path / f"{key}.parquet"
        if f.exists():
            try:
                out[key] = pq.read_table(f, columns=["status"]).column(0)[0].as_py()
            except Exception:      # unreadable: not finished
                continue
    return out


def read_store(path, *, keys=None):
    """The results in a store as one :class:`pandas.DataFrame`, one row per task.

    Readable at any time, also while a sweep writes to it: every file is complete (each
    is moved into place whole). Rows of forecast and Lyapunov tasks may share a store;
    columns one kind lacks are empty. Sorted by kind, system, learner, parameters and
    seed. ``keys`` keeps only those tasks. An empty or missing store gives an empty table.
    """
    import pandas as pd
    import pyarrow.parquet as pq

    path = Path(path).expanduser()
    files = sorted(path.glob("*.parquet")) if path.is_dir() else []
    if keys is not None:
        wanted = set(keys)
        files = [f for f in files if f.stem in wanted]
    frames = []
    for f in files:
        try:
            frames.append(pq.read_table(f).to_pandas())
        except Exception:          # a file that vanished or is foreign: skip it
            continue
    if not frames:
        return pd.DataFrame(columns=["key", "kind", "system", "learner", "seed", "status",
                                     "error"])
    with warnings.catch_warnings():   # all-NaN columns of some rows are expected
        warnings.simplefilter("ignore", FutureWarning)
        df = pd.concat(frames, ignore_index=True, sort=False)
    order = [c for c in ("kind", "system", "learner") if c in df.columns]
    order += sorted(c for c in df.columns if c.startswith("param_"))
    order += [c for c in ("seed", "key") if c in df.columns]
    return df.sort_values(order, kind="stable", na_position="first").reset_index(drop=True)


#: Text columns of a results table; every other column is read as a number.
TEXT_COLUMNS = ("key", "kind", "system", "learner", "learner_name", "learner_params",
                "status", "error", "traceback", "system_params", "protocol", "vpt_method",
                "worker", "chaoslab_version")
#: Columns a results table needs to be drawn (:mod:`chaoslab.plots.sweep`).
REQUIRED_COLUMNS = ("system", "learner", "seed", "status", "lyapunov_exponent", "vpt")
#: Limits of :func:`read_results_csv`: bytes, rows, columns, characters per text cell.
MAX_TABLE_BYTES = 20_000_000
MAX_TABLE_ROWS = 200_000
MAX_TABLE_COLUMNS = 200
MAX_CELL_CHARS = 4_000


def read_results_csv(source, *, max_bytes: int = MAX_TABLE_BYTES,
                     max_rows: int = MAX_TABLE_ROWS):
    """A sweep's results table from CSV, validated: what the app accepts as an upload.

    ``source`` is the CSV's bytes or text, or a path; a table written by
    ``read_store(store).to_csv(path, index=False)`` reads back with the same columns.
    The text is read as data only (UTF-8, the csv module's rules); the file is refused,
    with a ValueError naming what is wrong, when it is larger than ``max_bytes``, has
    more than ``max_rows`` rows or :data:`MAX_TABLE_COLUMNS` columns, lacks a column of
    :data:`REQUIRED_COLUMNS`, repeats a column name, has a row of another length, a text
    cell over :data:`MAX_CELL_CHARS` characters or control characters, or a value that
    is not a number in a numeric column (every column not in :data:`TEXT_COLUMNS`;
    empty cells, ``nan`` and ``inf`` are numbers). Returns a :class:`pandas.DataFrame`.
    """
    import csv
    import io

    import pandas as pd

    max_bytes = check_int(max_bytes, "max_bytes", minimum=1)
    max_rows = check_int(max_rows, "max_rows", minimum=1)
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, str) and ("\n" in source or "," in source):
        data = source.encode("utf-8")
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source).expanduser()
        if not path.is_file():
            raise ValueError(f"source must be CSV text or the path of a file, got "
                             f"{str(source)[:200]!r} (no such file)")
        if path.stat().st_size > max_bytes:
            raise ValueError(f"source is {path.stat().st_size:,} bytes; at most "
                             f"{max_bytes:,} are allowed (max_bytes)")
        data = path.read_bytes()
    else:
        raise TypeError(f"source must be bytes, CSV text or a path, got "
                        f"{type(source).__name__}")
    if len(data) > max_bytes:
        raise ValueError(f"source is {len(data):,} bytes; at most {max_bytes:,} are "
                         "allowed (max_bytes)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"source must be UTF-8 text; byte {exc.start} is not "
                         f"({data[exc.start:exc.start + 1]!r})") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if not header:
            raise ValueError("source has no header row (a results table's first row "
                             "names its columns)")
        header = [h.strip() for h in header]
        if header and header[0] == "":      # pandas' index column, written by default
            header[0] = "_index"
        if len(header) > MAX_TABLE_COLUMNS:
            raise ValueError(f"source has {len(header)} columns; at most "
                             f"{MAX_TABLE_COLUMNS} are allowed")
        seen = set()
        for h in header:
            _check_cell(h, "the header")
            if h in seen:
                raise ValueError(f"source repeats the column {h!r}")
            seen.add(h)
        missing = [c for c in REQUIRED_COLUMNS if c not in seen]
        if missing:
            raise ValueError(f"source lacks the column(s) {', '.join(missing)}; a "
                             f"results table has {', '.join(REQUIRED_COLUMNS)} (and "
                             "more), as read_store(...).to_csv(path, index=False) writes")
        rows = []
        for row in reader:
            if len(rows) >= max_rows:
                raise ValueError(f"source has more than {max_rows:,} rows (max_rows)")
            if not row:
                continue
            if len(row) != len(header):
                raise ValueError(f"row {len(rows) + 1} of source has {len(row)} cells; "
                                 f"the header has {len(header)}")
            rows.append(row)
    except csv.Error as exc:
        raise ValueError(f"source is not valid CSV at line {reader.line_num}: {exc}") \
            from None
    columns = {}
    for j, name in enumerate(header):
        cells = [r[j] for r in rows]
        if name in TEXT_COLUMNS:
            for i, c in enumerate(cells):
                _check_cell(c, f"row {i + 1}, column {name!r}")
            columns[name] = cells
        else:
            values = np.empty(len(cells))
            for i, c in enumerate(cells):
                c = c.strip()
                try:
                    values[i] = float(c) if c else math.nan
                except ValueError:
                    raise ValueError(f"column {name!r} must hold numbers; row {i + 1} "
                                     f"has {c[:60]!r}") from None
            columns[name] = values
    columns.pop("_index", None)
    return pd.DataFrame(columns)


def _check_cell(text: str, where: str) -> None:
    if len(text) > MAX_CELL_CHARS:
        raise ValueError(f"{where} of source has {len(text):,} characters; at most "
                         f"{MAX_CELL_CHARS:,} are allowed in a cell")
    if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in text):
        raise ValueError(f"{where} of source holds control characters")


# -- running ----------------------------------------------------------------------------

@dataclass
class SweepResult:
    """What a :func:`sweep` or :func:`parameter_sweep` call did.

    ``n_tasks`` tasks in all: ``skipped`` were in the store already, ``computed`` ran
    now and succeeded, ``failed`` ran now and recorded an error; ``cancelled`` tells
    whether ``cancel`` stopped the run (``remaining`` tasks then have no result yet).
    ``dashboard_link`` is the dask dashboard's address (None if it has none).
    """

    store: Path
    keys: list
    n_tasks: int
    skipped: int = 0
    computed: int = 0
    failed: int = 0
    cancelled: bool = False
    dashboard_link: str | None = None
    seconds: float = 0.0
    workers: int = 0

    @property
    def remaining(self) -> int:
        return self.n_tasks - self.skipped - self.computed - self.failed

    def table(self):
        """This sweep's rows of the store (see :func:`read_store`)."""
        return read_store(self.store, keys=self.keys)

    def __repr__(self):
        return (f"SweepResult({self.n_tasks} tasks: {self.computed} computed, "
                f"{self.failed} failed, {self.skipped} skipped"
                + (f", cancelled with {self.remaining} left" if self.cancelled else "")
                + f"; store {str(self.store)!r})")


def _open_client(client, n_workers):
    """``(client, to_close)``: an embedded LocalCluster (None), a Client from an address,
    or the Client given."""
    from distributed import Client, LocalCluster

    if client is None:
        n = ((os.cpu_count() or 1) if n_workers is None
             else check_int(n_workers, "n_workers", 1))
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                               silence_logs=40)
        c = Client(cluster)
        return c, [c, cluster]
    if isinstance(client, str):
        if not client.strip():
            raise ValueError("client must be None, a scheduler address such as "
                             "'tcp://HOST:8786' or a distributed.Client, got ''")
        c = Client(client)
        return c, [c]
    if isinstance(client, Client):
        return client, []
    raise ValueError(f"client must be None, a scheduler address such as 'tcp://HOST:8786' "
                     f"or a distributed.Client, got {type(client).__name__}")


class _Progress:
    """tqdm (``progress=True``), a callable ``progress(fraction, text)``, or nothing."""

    def __init__(self, progress, total, done, link):
        self.total, self.done, self.bar, self.call = total, done, None, None
        if progress is True:
            from tqdm.auto import tqdm

            if link:
                print(f"dask dashboard: {link}", file=sys.stderr)
            self.bar = tqdm(total=total, initial=done, desc="sweep", unit="task")
        elif callable(progress):
            self.call = Reporter(progress, None, min_interval=0.1)
            self.call(done / total if total else 1.0,
                      f"{done}/{total} tasks" + (f"; dask dashboard {link}" if link else ""))
        elif progress not in (None, False):
            raise ValueError(f"progress must be True, None or a callable(fraction, text), "
                             f"got {progress!r}")

    def step(self, text):
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(text, refresh=False)
        if self.call is not None:
            self.call(self.done / self.total, f"{self.done}/{self.total} tasks: {text}")

    def close(self, text):
        if self.bar is not None:
            self.bar.close()
        if self.call is not None:
            self.call(1.0 if self.done >= self.total else self.done / self.total, text)


def _run(specs, *, store, client, n_workers, progress, cancel, retries, rerun_errors):
    from distributed import as_completed

    t_start = time.perf_counter()
    path = _store_path(store)
    cancelled = Reporter(None, cancel)   # .cancelled reads the cancel flag
    keys = [s["key"] for s in specs]
    stored = _stored_status(path, keys)
    todo = [s for s in specs if s["key"] not in stored
            or (rerun_errors and stored[s["key"]] == "error")]
    res = SweepResult(path, keys, len(specs), skipped=len(specs) - len(todo))
    if not todo:
        if callable(progress):
            progress(1.0, f"all {len(specs)} tasks are in the store")
        res.seconds = time.perf_counter() - t_start
        return res
    c, to_close = _open_client(client, n_workers)
    try:
        res.dashboard_link = getattr(c, "dashboard_link", None)
        res.workers = len(c.scheduler_info().get("workers", {}))
        bar = _Progress(progress, len(specs), res.skipped, res.dashboard_link)
        by_key = {}
        for s in todo:
            f = c.submit(run_task, s, key=f"chaoslab-sweep-{s['key']}", retries=retries)
            by_key[f.key] = (f, s)
        pending = {f for f, _ in by_key.values()}
        finished = as_completed(list(pending))
        try:
            while pending:
                if cancelled.cancelled:
                    c.cancel(list(pending))
                    res.cancelled = True
                    break
                done = finished.next_batch(block=False) if finished.has_ready() else []
                if not done:
                    time.sleep(0.05)
                    continue
                for f in done:
                    pending.discard(f)
                    spec = by_key[f.key][1]
                    if f.status == "finished":
                        row = f.result()
                    elif f.status == "error":
                        row = _failed_row(spec, f.exception())
                    else:                      # cancelled elsewhere: no result, not done
                        continue
                    _write_row(path, row)
                    if row["status"] == "ok":
                        res.computed += 1
                    else:
                        res.failed += 1
                    label = f"{row['system']} {row.get('learner', '')} seed {row['seed']}"
                    bar.step(label.replace("  ", " "))
                    f.release()
        finally:
            if pending and not res.cancelled:        # an error of the client itself
                c.cancel(list(pending))
            finished.clear()
        bar.close("cancelled" if res.cancelled else "done")
    finally:
        for obj in to_close:
            obj.close()
    res.seconds = time.perf_counter() - t_start
    return res


def _options(n_train, horizon, n_starts, context, statistics, n_free, learned_exponent,
             horizons):
    hs = tuple(float(h) for h in horizons)
    if any(not (h > 0 and math.isfinite(h)) for h in hs):
        raise ValueError(f"horizons must be positive numbers of Lyapunov times, got "
                         f"{horizons!r}")
    return {"overrides": {"n_train": None if n_train is None
                          else check_int(n_train, "n_train", 1),
                          "horizon": None if horizon is None else float(horizon),
                          "n_starts": None if n_starts is None
                          else check_int(n_starts, "n_starts", 1),
                          "context": None if context is None
                          else check_int(context, "context", 1)},
            "statistics": bool(statistics), "n_free": check_int(n_free, "n_free", 1),
            "learned_exponent": bool(learned_exponent), "horizons": list(hs)}


def _forecast_specs(system_items, learners, seeds, protocol, options):
    from .protocols import Protocol, as_protocol

    p = as_protocol(protocol)
    pspec = _protocol_spec(p)
    lspecs = _learner_specs(learners)
    out = []
    for system, values, point in system_items:
        if not isinstance(system, str) and _is_catalog_default(system):
            values = {**dict(system.values), **(values or {})}   # rebuilt by name
            system = system.name
        sspec = _system_spec(system, values)
        for lspec in lspecs:
            for seed in seeds:
                spec = {"kind": "forecast", "system": sspec, "grid_point": point,
                        "learner": lspec, "seed": seed, "protocol": pspec,
                        "options": options}
                spec["key"] = task_key(spec)
                if not isinstance(system, str):
                    spec["object"] = system
                if isinstance(protocol, Protocol):
                    spec["protocol_object"] = p
                out.append(spec)
    return out


def sweep(systems, learners, seeds=1, protocol="gilpin2023", *, client=None, store,
          n_workers=None, progress=None, cancel=None, n_train=None, horizon=None,
          n_starts=None, context=None, statistics=True, n_free=5000,
          learned_exponent=False, horizons=(1.0, 4.0, 10.0), retries=1,
          rerun_errors=False) -> SweepResult:
    """Every (system, learner, seed) of a forecasting protocol, as tasks on dask.

    Each task simulates the system's data in the protocol's setting
    (:func:`~chaoslab.experiments.prepare`), fits the learner and scores its forecasts
    (:func:`~chaoslab.experiments.evaluate`), and writes one row to ``store`` (see the
    module notes: keyed, atomic, resumable). The row holds, medians over the protocol's
    starts: ``vpt`` (the protocol's definition) and its quartiles ``vpt_q25``,
    ``vpt_q75``; ``vpt_nrmse``, ``vpt_smape``, ``vpt_cumulative_smape`` (the published
    VPT definitions of :func:`chaoslab.metrics.valid_prediction_time` at their default
    thresholds, in Lyapunov times); ``smape`` (whole forecast) and ``smape@h`` for each
    of ``horizons`` (NaN past the forecast); the protocol's ``nrmse`` where it has one;
    ``d_stsp`` and ``d_h`` (free run of ``n_free`` samples, with ``statistics``);
    ``learned_lyapunov_exponent`` and ``lyapunov_error`` (relative; with
    ``learned_exponent``, which costs a Lyapunov run of every model); ``fit_seconds``,
    ``forecast_seconds``, ``task_seconds``; the system's ``lyapunov_exponent``
    (lambda_1 per unit time), ``dim`` and ``kaplan_yorke_dimension`` (recorded
    reference, NaN where none applies); ``seed``, ``status`` (``"ok"`` or ``"error"``)
    and ``error``.

    Parameters
    ----------
    systems : "all", dict, str, System or list
        The whole catalog, a search (``{"kind": "flow", "dim": 3}``; keys ``kind``,
        ``dim``, ``transport``, ``text``), or names / Systems (see :func:`resolve_systems`).
    learners : list or dict
        Names, ``(name, hyperparameters)`` pairs or Learner objects (their
        hyperparameters are used), or ``{label: spec}``.
    seeds : int or list of int
        A count (seeds ``0 .. seeds - 1``) or the seeds. See the module notes for what a
        seed changes.
    protocol : str or Protocol
        Default ``"gilpin2023"``.
    client : None, str or distributed.Client
        None: an embedded LocalCluster of ``n_workers`` (default: one per core)
        single-threaded worker processes, closed at the end; a scheduler address: that
        cluster; a Client: used as it is (not closed).
    store : str or Path
        The results folder (created if missing).
    progress : True, callable(fraction, text) or None
        True: the dashboard's address and a tqdm bar over tasks (terminal or notebook);
        a callable gets the fraction of tasks done (the dashboard's address in its
        first message).
    cancel : threading.Event or callable, optional
        Checked about five times a second: once set, the tasks not yet finished are
        cancelled, the finished ones are kept, and the result has ``cancelled=True``.
    n_train, horizon, n_starts, context : optional
        Overrides of the protocol (as in :func:`~chaoslab.experiments.forecast_divergence`).
    statistics, n_free, learned_exponent : optional
        As in :func:`~chaoslab.experiments.evaluate`.
    horizons : sequence of float
        Lyapunov times for the ``smape@h`` columns.
    retries : int
        dask retries of a task that raises outside chaoslab's own error handling.
    rerun_errors : bool
        Run again the tasks whose stored row is an error (default: kept as they are).

    Returns
    -------
    SweepResult
        Counts, the dashboard link and ``.table()``, this sweep's rows.

    Notes
    -----
    The embedded LocalCluster starts worker processes by spawning: a script that calls
    :func:`sweep` with ``client=None`` must do so under ``if __name__ == "__main__":``
    (notebooks and the ``chaoslab sweep`` command need nothing).
    """
    specs = sweep_tasks(systems, learners, seeds, protocol, n_train=n_train,
                        horizon=horizon, n_starts=n_starts, context=context,
                        statistics=statistics, n_free=n_free,
                        learned_exponent=learned_exponent, horizons=horizons)
    return _run(specs, store=store, client=client, n_workers=n_workers, progress=progress,
                cancel=cancel, retries=check_int(retries, "retries", 0),
                rerun_errors=rerun_errors)


def sweep_tasks(systems, learners, seeds=1, protocol="gilpin2023", *, n_train=None,
                horizon=None, n_starts=None, context=None, statistics=True, n_free=5000,
                learned_exponent=False, horizons=(1.0, 4.0, 10.0)) -> list:
    """The tasks :func:`sweep` would run with these arguments, without running them: one
    dict per (system, learner, seed), its ``"key"`` the name of its file in the store
    (``<key>.parquet``). :func:`run_task` runs one of them here.
    """
    system_items = [(s, None, {}) for s in resolve_systems(systems)]
    options = _options(n_train, horizon, n_starts, context, statistics, n_free,
                       learned_exponent, horizons)
    return _forecast_specs(system_items, learners, _seeds(seeds), protocol, options)


def _grid_points(system, grid):
    from .. import systems as catalog

    s = catalog.as_system(system, "system")
    if not isinstance(grid, dict) or not grid:
        raise ValueError(f"grid must be a non-empty dict {{parameter: values}}, got {grid!r}")
    axes = []
    for name, values in grid.items():
        check_choice(name, "grid parameter", tuple(s.params))
        vals = [float(v) for v in np.atleast_1d(np.asarray(values, dtype=float))]
        if not vals or not all(math.isfinite(v) for v in vals):
            raise ValueError(f"grid[{name!r}] must hold finite numbers, got {values!r}")
        axes.append([(name, v) for v in vals])
    return s, [dict(combo) for combo in itertools.product(*axes)]


def parameter_sweep(system, grid, quantity="lyapunov", *, learners=None, seeds=1,
                    protocol="gilpin2023", client=None, store, n_workers=None,
                    progress=None, cancel=None, n_exponents=None, T=None, n_train=None,
                    horizon=None, n_starts=None, context=None, statistics=True,
                    n_free=5000, learned_exponent=False, horizons=(1.0, 4.0, 10.0),
                    retries=1, rerun_errors=False) -> SweepResult:
    """A system over a grid of its parameters, as tasks on dask (store and resume as in
    :func:`sweep`).

    ``quantity="lyapunov"``: one task per grid point computes the Lyapunov spectrum
    (:func:`chaoslab.lyapunov_spectrum`, ``n_exponents`` exponents over ``T``); its row
    has ``lambda_1 ... lambda_k``, ``lyapunov_exponent`` (lambda_1) and
    ``kaplan_yorke_dimension`` (with the full spectrum). ``quantity="forecast"``: one task
    per grid point, learner and seed, with the row of :func:`sweep` (lambda_1 computed at
    each point where no recorded value applies). Every row has a ``param_<name>`` column
    per grid parameter.

    Parameters
    ----------
    system : str or System
    grid : dict
        ``{parameter: values}``; the tasks cover every combination.
    quantity : {"lyapunov", "forecast"}
    learners, seeds, protocol, n_train, horizon, n_starts, context, statistics, n_free,
    learned_exponent, horizons :
        As in :func:`sweep` (``quantity="forecast"`` only; ``learners`` is required then).
    client, store, n_workers, progress, cancel, retries, rerun_errors :
        As in :func:`sweep`.
    n_exponents, T :
        As in :func:`chaoslab.lyapunov_spectrum` (``quantity="lyapunov"`` only).

    Returns
    -------
    SweepResult
    """
    check_choice(quantity, "quantity", ("lyapunov", "forecast"))
    s, points = _grid_points(system, grid)
    base = s.name if _is_catalog_default(s) else s
    fixed = dict(s.values) if isinstance(base, str) else {}   # s's own non-grid values
    if quantity == "forecast":
        if learners is None:
            raise ValueError("parameter_sweep(quantity='forecast') needs learners=")
        options = _options(n_train, horizon, n_starts, context, statistics, n_free,
                           learned_exponent, horizons)
        specs = _forecast_specs([(base, {**fixed, **p}, p) for p in points], learners,
                                _seeds(seeds),
                                protocol, options)
    else:
        options = {"n_exponents": None if n_exponents is None
                   else check_int(n_exponents, "n_exponents", 1, s.dim),
                   "T": None if T is None else float(T)}
        specs = []
        for p in points:
            spec = {"kind": "lyapunov", "system": _system_spec(base, {**fixed, **p}),
                    "grid_point": p,
                    "options": options}
            spec["key"] = task_key(spec)
            if not isinstance(base, str):
                spec["object"] = base
            specs.append(spec)
    return _run(specs, store=store, client=client, n_workers=n_workers, progress=progress,
                cancel=cancel, retries=check_int(retries, "retries", 0),
                rerun_errors=rerun_errors)


def _is_catalog_default(s) -> bool:
    """Whether ``s`` has a catalog system's equations, size, initial condition and step
    (so a worker rebuilds it from the name and parameter values)."""
    from .. import systems as catalog

    try:
        base = catalog.get(s.name)
    except Exception:
        return False
    return (base.equations == s.equations and base.variables == s.variables
            and np.array_equal(base.x0, s.x0) and base.dt == s.dt)
