"""Learner files that are damaged, truncated, lying or crafted: every one is a
LearnerFileError naming what is wrong, never a crash (issue 16, item 3).

Files are read and written here with numpy and zipfile directly, and the checksum is
computed from its description in ``Learner.save``'s docstring, so that the tests do not
lean on chaoslab's own writer. Loads that could crash the interpreter (numba reading
out of bounds) run in a subprocess: a crash fails the test instead of ending the run.
"""
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest

import chaoslab as cl
from chaoslab.learners import LearnerFileError
from chaoslab.learners.base import FORMAT_VERSION
from chaoslab.learners.testing import lorenz_data

ROOT = Path(__file__).resolve().parents[2]
DT = 0.01
# settings that fit in well under a second (the torch learners' quick_params)
FAST = {"esn": dict(size=60, washout=20), "edmd": dict(degree=2)}


def fast(name):
    cls = cl.learners.learner_class(name)
    hyper = dict(FAST.get(name, {}))
    quick = getattr(cls, "quick_params", None)
    if quick:
        hyper.update(quick())
    return cl.learners.make(name, **hyper)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """name -> path of a saved, fitted learner, for every registered learner."""
    folder = tmp_path_factory.mktemp("learner_files")
    train, _ = lorenz_data()
    out = {}
    for name in cl.learners.names():
        out[name] = fast(name).fit(train, DT).save(folder / f"{name}.npz")
    return out


@pytest.fixture(scope="module")
def context():
    return np.array(lorenz_data()[1][:200])


# ---------------------------------------------------------------------------- file I/O
def npy(a):
    buf = io.BytesIO()
    np.save(buf, np.asarray(a), allow_pickle=False)
    return buf.getvalue()


def digest(members):
    """The documented checksum: SHA-256 over a prefix and, per member in name order, its
    name, its length and its bytes."""
    h = hashlib.sha256(b"chaoslab-learner members\n")
    for name in sorted(members):
        h.update(f"{name}\n{len(members[name])}\n".encode())
        h.update(members[name])
    return h.hexdigest()


def read_members(path):
    with zipfile.ZipFile(path) as zf:
        return {m.filename[:-4]: zf.read(m) for m in zf.infolist()}


def read_comment(path):
    with zipfile.ZipFile(path) as zf:
        return zf.comment


def write_members(path, members, comment=b""):
    with zipfile.ZipFile(path, "w") as zf:
        zf.comment = comment
        for name, raw in members.items():
            zf.writestr(name + ".npy", raw)
    return path


def read_file(path):
    """(header dict, arrays dict) of a learner file."""
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(z["__meta__"].tobytes().decode())
        arrays = {k: z[k] for k in z.files if k != "__meta__"}
    return meta, arrays


def write_file(path, meta, arrays, checksum=True):
    """A learner file with header ``meta`` and ``arrays``; with a correct checksum (a
    crafted file) or, with ``checksum=False``, none (a file of an earlier release)."""
    members = {"__meta__": npy(np.frombuffer(json.dumps(meta).encode(), np.uint8))}
    members.update({k: npy(v) for k, v in arrays.items()})
    return write_members(path, members, sealed(members) if checksum else b"")


def sealed(members):
    return b"chaoslab-learner sha256 " + digest(members).encode()


def old_format(path, out):
    """The file as earlier releases wrote it (``numpy.savez``): no checksum."""
    meta, arrays = read_file(path)
    with open(out, "wb") as fh:
        np.savez(fh, __meta__=np.frombuffer(json.dumps(meta).encode(), np.uint8), **arrays)
    return out


def run_isolated(code, timeout=120):
    """Run ``code`` in a fresh interpreter; a crash shows as a negative return code."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


# ---------------------------------------------------------------------------- round trip
def test_save_writes_the_documented_checksum(files):
    for name, path in files.items():
        assert read_comment(path) == sealed(read_members(path)), name
        meta, _ = read_file(path)
        assert meta["version"] == FORMAT_VERSION and meta["learner"] == name


def test_every_learner_round_trips(files, context):
    for name, path in files.items():
        model = cl.learners.load(path)
        again = cl.learners.load(model.save(path.with_name(f"{name}-again.npz")))
        y = model.forecast(context, 10)
        assert np.all(np.isfinite(y)), name
        np.testing.assert_array_equal(again.forecast(context, 10), y, err_msg=name)


def test_files_without_a_checksum_still_load(files, tmp_path, context):
    """Files of earlier releases have no checksum: they load after the same checks."""
    for name in ("esn", "ngrc", "lstm"):
        old = old_format(files[name], tmp_path / f"{name}-old.npz")
        assert read_comment(old) == b""
        np.testing.assert_array_equal(cl.learners.load(old).forecast(context, 10),
                                      cl.learners.load(files[name]).forecast(context, 10))


# ---------------------------------------------------------------------------- crafted ESN
# each case changes a saved ESN and saves it again with a correct checksum: only the
# checks of the reservoir's structure stand between these files and the numba kernels
ESN_CASES = {
    "index past the reservoir": ("w_indices_", "m.w_indices_[7] = 10**9",
                                 "'w_indices_' holds 1000000000, above the largest allowed 59"),
    "negative index": ("w_indices_", "m.w_indices_[0] = -5", "below the smallest allowed 0"),
    "index pointer past the data": ("w_indptr_", "m.w_indptr_[-1] = 10**8",
                                    "'w_indptr_' holds 100000000, above the largest "
                                    "allowed 180"),
    "index pointer decreasing": ("w_indptr_", "m.w_indptr_[30] = 10",
                                 "not a row pointer"),
    # found by the fuzz test: differences of these wrap around int64 and look increasing
    "index pointers that overflow": ("w_indptr_",
                                     "m.w_indptr_[48] = 2**62 + 2**61; m.w_indptr_[49] = -2**62",
                                     "'w_indptr_' holds -4611686018427387904, below"),
    "index pointer not from 0": ("w_indptr_", "m.w_indptr_[0] = 3", "starts at 3"),
    "size larger than the arrays": ("size", "m.size = 100_000", r"'w_indptr_' has shape "
                                    r"\(61,\), expected \(100001,\) for size=100000"),
    "size smaller than the arrays": ("size", "m.size = 10", r"'w_indptr_' has shape "
                                     r"\(61,\), expected \(11,\) for size=10"),
    "fewer data than indices": ("w_data_", "m.w_data_ = m.w_data_[:-20]",
                                r"'w_data_' has shape \(160,\), expected \(180,\)"),
    "input weights of another dim": ("w_in_", "m.w_in_ = m.w_in_[:, :2]",
                                     r"'w_in_' has shape \(60, 2\), expected \(60, 3\)"),
    "readout of the wrong size": ("w_out_", "m.w_out_ = m.w_out_[:-1]",
                                  r"'w_out_' has shape \(63, 3\), expected \(64, 3\)"),
    "squares disagreeing with the readout": ("squares", "m.squares = True",
                                             r"expected \(124, 3\)"),
    "float indices": ("w_indices_", "m.w_indices_ = m.w_indices_ + 0.5",
                      "'w_indices_' has dtype float64, expected integers"),
    "NaN weight": ("w_out_", "m.w_out_[3, 1] = np.nan", "'w_out_' holds non-finite"),
    "zero scale": ("scale_", "m.scale_[0] = 0.0", "'scale_' must be > 0"),
}


def test_crafted_esn_files_are_refused_without_a_crash(files, tmp_path):
    """Before these checks each of the first cases crashed the interpreter (numba read
    out of bounds: exit by SIGSEGV) or forecast from garbage."""
    code = f"""
        import json
        import numpy as np
        import chaoslab as cl
        from chaoslab.learners import LearnerFileError
        from chaoslab.learners.testing import lorenz_data
        out = {{}}
        context = np.array(lorenz_data()[1][:200])
        for key, (_, change, _) in {json.dumps(ESN_CASES)}.items():
            m = cl.learners.load({str(files['esn'])!r})
            m.w_indices_ = m.w_indices_.copy()
            exec(change)                     # the test's own edit of the fitted model
            path = {str(tmp_path)!r} + "/crafted.npz"
            m.save(path)                     # a correct checksum over lying arrays
            try:
                y = cl.learners.load(path).forecast(context, 20)
                out[key] = "loaded; finite: " + str(bool(np.all(np.isfinite(y))))
            except LearnerFileError as exc:
                out[key] = "refused: " + str(exc)
            print(key, "->", out[key], flush=True)
        print("RESULT " + json.dumps(out))
    """
    proc = run_isolated(code)
    assert proc.returncode == 0, (f"the process ended with {proc.returncode} "
                                  f"(negative: killed by a signal)\n{proc.stdout[-3000:]}"
                                  f"\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.split("RESULT ", 1)[1])
    for key, (_, _, message) in ESN_CASES.items():
        assert result[key].startswith("refused: "), (key, result[key])
        assert "checksum" not in result[key], (key, result[key])
        assert re.search(message, result[key]), (key, result[key])


# ---------------------------------------------------------------------------- damage
def test_a_changed_array_byte_is_caught_by_the_checksum(files, tmp_path):
    """A changed byte with a correct zip CRC (a file edited and zipped again)."""
    for name in ("esn", "ngrc", "lstm"):
        members = read_members(files[name])
        for key in [k for k in members if k != "__meta__"][:3]:
            raw = bytearray(members[key])
            raw[-1] ^= 0x10                     # last byte of the array's data
            path = write_members(tmp_path / "flip.npz", {**members, key: bytes(raw)},
                                 read_comment(files[name]))
            with pytest.raises(LearnerFileError, match="checksum does not match"):
                cl.learners.load(path)


def test_a_changed_header_is_caught_by_the_checksum(files, tmp_path):
    members = read_members(files["esn"])
    comment = read_comment(files["esn"])
    text = np.load(io.BytesIO(members["__meta__"])).tobytes().decode()
    edited = text.replace('"ridge": 1e-07', '"ridge": 2e-07')
    assert edited != text
    members["__meta__"] = npy(np.frombuffer(edited.encode(), np.uint8))
    with pytest.raises(LearnerFileError, match="checksum does not match"):
        cl.learners.load(write_members(tmp_path / "hdr.npz", members, comment))


def test_a_flipped_bit_anywhere_in_the_file_is_refused(files, tmp_path):
    """In place, zip's CRC-32 or the checksum catch it (a flip in zip bookkeeping that
    changes no content may load: then the learner is the saved one)."""
    data = files["esn"].read_bytes()
    ref = cl.learners.load(files["esn"])
    rng = np.random.default_rng(1)
    loaded = 0
    for pos in rng.choice(len(data), 150, replace=False):
        flipped = bytearray(data)
        flipped[pos] ^= 1 << int(rng.integers(8))
        path = tmp_path / "bit.npz"
        path.write_bytes(bytes(flipped))
        try:
            m = cl.learners.load(path)
        except LearnerFileError:
            continue
        loaded += 1
        np.testing.assert_array_equal(m.w_out_, ref.w_out_)
        np.testing.assert_array_equal(m.w_indices_, ref.w_indices_)
    assert loaded < 30


def test_truncated_files_are_refused(files, tmp_path):
    data = files["esn"].read_bytes()
    for n in list(range(0, 64, 7)) + list(range(64, len(data), max(1, len(data) // 60))):
        path = tmp_path / "cut.npz"
        path.write_bytes(data[:n])
        with pytest.raises(LearnerFileError, match="corrupt|unreadable|not a chaoslab"):
            cl.learners.load(path)


def test_a_newer_format_is_refused_politely(files, tmp_path):
    meta, arrays = read_file(files["ngrc"])
    meta["version"] = FORMAT_VERSION + 1
    with pytest.raises(LearnerFileError, match=f"newer chaoslab \\(format "
                                               f"{FORMAT_VERSION + 1}.*update chaoslab"):
        cl.learners.load(write_file(tmp_path / "new.npz", meta, arrays))


def test_a_damaged_checksum_is_refused(files, tmp_path):
    members = read_members(files["ngrc"])
    comment = bytearray(read_comment(files["ngrc"]))
    for at, what in ((-1, "checksum does not match"), (3, "not a chaoslab checksum")):
        damaged = bytearray(comment)
        damaged[at] ^= 0x01
        with pytest.raises(LearnerFileError, match=what):
            cl.learners.load(write_members(tmp_path / "sum.npz", members, bytes(damaged)))


def test_members_swapped_are_refused(files, tmp_path):
    members = read_members(files["esn"])
    members["mean_"], members["scale_"] = members["scale_"], members["mean_"]
    with pytest.raises(LearnerFileError, match="checksum does not match"):
        cl.learners.load(write_members(tmp_path / "swap.npz", members,
                                       read_comment(files["esn"])))


# ---------------------------------------------------------------------------- oversized
def test_a_huge_declared_member_is_refused_before_reading(files, tmp_path):
    """The central directory declares 4 GB for a member of a few bytes."""
    data = bytearray(files["ngrc"].read_bytes())
    at = data.rindex(b"PK\x01\x02")             # the last central-directory entry
    data[at + 24:at + 28] = (0xFFFFFFF0).to_bytes(4, "little")   # its uncompressed size
    path = tmp_path / "huge.npz"
    path.write_bytes(bytes(data))
    with pytest.raises(LearnerFileError, match="declare 42949.* bytes, more than"):
        cl.learners.load(path)


def test_an_array_header_larger_than_its_member_is_refused(files, tmp_path):
    """An array header that declares 8 TB in a member of a few bytes: refused before an
    array is allocated (numpy would allocate the declared size first)."""
    meta, arrays = read_file(files["ngrc"])
    members = {"__meta__": npy(np.frombuffer(json.dumps(meta).encode(), np.uint8))}
    members.update({k: npy(v) for k, v in arrays.items()})
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }"
    members["w_out_"] = (b"\x93NUMPY\x01\x00" + len(header.ljust(117) + "\n").to_bytes(2, "little")
                         + (header.ljust(117) + "\n").encode() + bytes(64))
    with pytest.raises(LearnerFileError, match=r"'w_out_': its header declares shape "
                                               r"\(1000000000000,\)"):
        cl.learners.load(write_members(tmp_path / "big.npz", members, sealed(members)))


def test_arrays_of_objects_are_refused(files, tmp_path):
    meta, arrays = read_file(files["ngrc"])
    members = {"__meta__": npy(np.frombuffer(json.dumps(meta).encode(), np.uint8))}
    members.update({k: npy(v) for k, v in arrays.items()})
    buf = io.BytesIO()
    np.save(buf, np.array([1, "x"], dtype=object), allow_pickle=True)
    members["w_out_"] = buf.getvalue()
    with pytest.raises(LearnerFileError, match="dtype object is not allowed"):
        cl.learners.load(write_members(tmp_path / "obj.npz", members, sealed(members)))


# ---------------------------------------------------------------------------- header
HEADER_CASES = [
    (("fitted", "dim_"), "3", "fitted.dim_ must be an integer"),
    (("fitted", "dim_"), 0, "fitted.dim_ must be an integer in \\[1"),
    (("fitted", "dim_"), 10 ** 9, "fitted.dim_ must be an integer"),
    (("fitted", "dim_"), 3.0, "fitted.dim_ must be an integer"),
    (("fitted", "dt_"), -0.01, "fitted.dt_ must be a finite number > 0"),
    (("fitted", "dt_"), None, "fitted.dt_ is missing"),
    (("fitted", "dt_"), 10 ** 400, "fitted.dt_ must be a finite number > 0"),
    (("fitted", "n_train_"), [1], "fitted.n_train_ must be an integer"),
    (("fitted", "time_scale_"), "x", "fitted.time_scale_ must be a finite number"),
    (("fitted", "skip_"), -1, "fitted.skip_ must be an integer in \\[1"),
    (("fitted", "skip_"), 10 ** 12, "fitted.skip_ must be an integer in"),
    (("fitted",), [], "header field 'fitted' must be an object"),
    (("params",), "k=3", "header field 'params' must be an object"),
    (("params", "bogus"), 1, "hyperparameters \\['bogus'\\] that NGRC does not have"),
    (("params", "k"), 4, "'w_out_' has shape \\(55, 3\\), which does not fit k=4"),
    (("params", "degree"), 10 ** 9, "which does not fit k=3, degree=1000000000"),
    (("learner",), ["ngrc"], "header field 'learner' must be a learner's name"),
    (("learner",), "esn", "that ESN does not have"),
    (("learner",), "nonesuch", "unknown learner 'nonesuch'"),
]


@pytest.mark.parametrize("keys, value, message", HEADER_CASES,
                         ids=[f"{'.'.join(k)}={v!r:.12}" for k, v, _ in HEADER_CASES])
def test_a_lying_header_is_a_clear_error(files, tmp_path, keys, value, message):
    """Each header is written with a correct checksum: the schema must catch it."""
    meta, arrays = read_file(files["ngrc"])
    target = meta
    for k in keys[:-1]:
        target = target[k]
    target[keys[-1]] = value
    with pytest.raises(LearnerFileError, match=message):
        cl.learners.load(write_file(tmp_path / "lie.npz", meta, arrays))


# ---------------------------------------------------------------------------- every learner
#: arrays that files of earlier releases lack (loaded with a default)
OPTIONAL = {("ngrc", "ridge_"), ("sindy", "trig_")}


def _variants(name, arrays):
    """(what, arrays) pairs, each with one array wrong."""
    for key, a in arrays.items():
        if key == "loss_history_":          # a record of training, any length
            continue
        grown = np.concatenate([a.reshape(-1), a.reshape(-1)[:1]]) if a.size else np.ones(1)
        yield f"{key} one element longer", {**arrays, key: grown}
        if a.ndim:
            yield f"{key} with a dimension more", {**arrays, key: a[..., None]}
        if a.dtype.kind == "f" and a.size:
            bad = a.copy()
            bad.reshape(-1)[a.size // 2] = np.inf
            yield f"{key} with an infinity", {**arrays, key: bad}
        if (name, key) not in OPTIONAL:
            yield f"{key} missing", {k: v for k, v in arrays.items() if k != key}
    yield "an unexpected array", {**arrays, "extra_": np.zeros(3)}
    yield "an attribute's name", {**arrays, "forecast": np.zeros(3)}


@pytest.mark.parametrize("name", cl.learners.names())
def test_every_learner_refuses_wrong_arrays(files, tmp_path, name):
    """For every registered learner, a file (with a correct checksum) whose arrays do not
    fit its header is a LearnerFileError: nothing else escapes load."""
    meta, arrays = read_file(files[name])
    count = 0
    for what, changed in _variants(name, arrays):
        if name == "parrot" and what == "lengths_ one element longer":
            changed["lengths_"] = np.array([2000, 0])   # sums right, an empty trajectory
        path = write_file(tmp_path / "v.npz", meta, changed)
        with pytest.raises(LearnerFileError, match=f"{name}"):
            cl.learners.load(path)
        count += 1
    assert count >= 2


def test_parrot_training_values_beyond_distances_are_refused(files, tmp_path):
    """Found by fuzzing files without a checksum: finite but huge training values made
    every motif distance overflow, and the forecast failed with numpy's argmin error."""
    meta, arrays = read_file(files["parrot"])
    arrays["train_"] = arrays["train_"].copy()
    arrays["train_"][5, 1] = 1e300
    with pytest.raises(LearnerFileError, match="'train_' reaches 1.*e\\+299 in units of"):
        cl.learners.load(write_file(tmp_path / "p.npz", meta, arrays))


# ---------------------------------------------------------------------------- fuzz
FUZZ_SCRIPT = r'''
import io, json, sys, time, zipfile
import numpy as np
import chaoslab as cl
from chaoslab.learners import LearnerFileError
from chaoslab.learners.testing import lorenz_data

paths, n, seed = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
limit = float(sys.argv[4])
rng = np.random.default_rng(seed)
context = np.array(lorenz_data()[1][:200])


def members_of(data):
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(m.filename, zf.read(m)) for m in zf.infolist()], zf.comment


def rezip(members):
    members, comment = members
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.comment = comment                  # the checksum, when the file had one
        for name, raw in members:
            zf.writestr(name, raw)
    return buf.getvalue()


def mutate(data, members, no_checksum):
    kind = rng.choice(["flip", "truncate", "swap", "rezip-flip", "rezip-bytes"]
                      if not no_checksum else ["rezip-flip", "rezip-bytes", "swap"])
    if kind == "flip":                       # bits flipped in place (zip CRC unchanged)
        out = bytearray(data)
        for pos in rng.integers(0, len(out), rng.integers(1, 9)):
            out[pos] ^= 1 << int(rng.integers(8))
        return kind, bytes(out)
    if kind == "truncate":
        return kind, data[:int(rng.integers(0, len(data)))]
    ms, comment = list(members[0]), members[1]
    if kind == "swap" and len(ms) > 1:        # two members' contents exchanged
        i, j = rng.choice(len(ms), 2, replace=False)
        ms[i], ms[j] = (ms[i][0], ms[j][1]), (ms[j][0], ms[i][1])
        return kind, rezip((ms, comment))
    i = int(rng.integers(len(ms)))
    name, raw = ms[i]
    if no_checksum and name == "__meta__.npy":
        i = (i + 1) % len(ms)
        name, raw = ms[i]
    raw = bytearray(raw)
    if kind == "rezip-flip":                  # edited and zipped again: CRC correct
        for pos in rng.integers(0, len(raw), rng.integers(1, 5)):
            raw[pos] ^= 1 << int(rng.integers(8))
    else:                                     # a run of random bytes written over it
        a = int(rng.integers(0, len(raw)))
        b = min(len(raw), a + int(rng.integers(1, 17)))
        raw[a:b] = rng.integers(0, 256, b - a, dtype=np.uint8).tobytes()
    ms[i] = (name, bytes(raw))
    return kind, rezip((ms, comment))


stats = {"refused": 0, "loaded": 0, "kinds": {}}
bad = []
t0 = time.time()
for k in range(n):
    name = list(paths)[k % len(paths)]
    path = paths[name]
    data = open(path, "rb").read()
    no_checksum = name.endswith("-old")
    kind, mutated = mutate(data, members_of(data), no_checksum)
    stats["kinds"][kind] = stats["kinds"].get(kind, 0) + 1
    target = path + ".fuzz.npz"
    open(target, "wb").write(mutated)
    try:
        model = cl.learners.load(target)
    except LearnerFileError:
        stats["refused"] += 1
        continue
    except Exception as exc:
        bad.append(f"{name} {kind}: load raised {type(exc).__name__}: {exc}"[:300])
        continue
    stats["loaded"] += 1
    try:
        with np.errstate(all="ignore"):
            y = model.forecast(context, 10)
    except Exception as exc:
        bad.append(f"{name} {kind}: forecast raised {type(exc).__name__}: {exc}"[:300])
        continue
    if not no_checksum and not np.all(np.isfinite(y)):
        bad.append(f"{name} {kind}: loaded, forecast not finite")
    if time.time() - t0 > limit:
        break
stats["done"] = k + 1
stats["seconds"] = round(time.time() - t0, 1)
print("RESULT " + json.dumps({"stats": stats, "bad": bad[:20], "n_bad": len(bad)}))
'''

FUZZ_N = int(os.environ.get("CHAOSLAB_FUZZ_FILES", "3000"))


def test_fuzzed_files_never_crash(files, tmp_path):
    """Thousands of mutated files (bits flipped in place, truncations, members swapped,
    members edited and zipped again with a correct CRC, runs of random bytes): each load
    is a LearnerFileError or a learner that forecasts finitely. ``esn-old`` is an ESN file
    without a checksum (an earlier release's): there only the structural checks stand,
    and the test asks for no crash and no other exception (its forecast may overflow).
    The loop runs in a subprocess with a time limit, so a crash or a hang fails it.
    ``CHAOSLAB_FUZZ_FILES`` sets the number of files (``make fuzz`` sizes)."""
    paths = {name: str(files[name]) for name in ("esn", "ngrc", "linear_ar", "edmd",
                                                  "parrot", "lstm")}
    paths["esn-old"] = str(old_format(files["esn"], tmp_path / "esn-old.npz"))
    script = tmp_path / "fuzz.py"
    script.write_text(FUZZ_SCRIPT)
    limit = max(60.0, FUZZ_N / 40)
    proc = subprocess.run([sys.executable, str(script), json.dumps(paths), str(FUZZ_N), "0",
                           str(limit)], cwd=ROOT, capture_output=True, text=True,
                          timeout=limit + 120)
    assert proc.returncode == 0, (f"the fuzz process ended with {proc.returncode} "
                                  f"(negative: killed by a signal)\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.split("RESULT ", 1)[1])
    assert result["n_bad"] == 0, result
    stats = result["stats"]
    assert stats["done"] == FUZZ_N, f"only {stats['done']} files within {limit} s: {stats}"
    assert stats["refused"] > FUZZ_N // 2, stats
