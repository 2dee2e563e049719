"""Loading a learner file someone sent: nothing blocks, nothing expands without bound."""
import os
import threading
import zipfile

import numpy as np
import pytest

import chaoslab as cl
from chaoslab.learners import LearnerFileError
from chaoslab.learners import base


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    X = cl.simulate("Lorenz", 1500, dt=0.01, transient=10.0)
    path = tmp_path_factory.mktemp("lrn") / "ngrc.npz"
    cl.learners.make("ngrc", ridge=1e-6).fit(X, 0.01).save(path)
    return path


def test_a_real_file_loads(saved):
    m = cl.learners.load(saved)
    assert m.is_fitted and m.name == "ngrc"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "model.npz"
    os.mkfifo(fifo)
    result = {}

    def run():
        try:
            cl.learners.load(fifo)
        except LearnerFileError as exc:
            result["error"] = str(exc)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(5.0)
    assert not t.is_alive(), "load blocked on a FIFO"
    assert "not a regular file" in result["error"]


def test_a_zip_bomb_is_refused_before_it_is_read(saved, tmp_path):
    """A member of 300 MB of zeros compresses to about 300 KB: refused by its ratio."""
    bomb = tmp_path / "bomb.npz"
    with zipfile.ZipFile(saved) as src, \
            zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
        with dst.open("zeros.npy", "w") as fh:   # streamed: never held in memory
            header = b"\x93NUMPY\x01\x00" + b"v\x00" + (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (37500000,), }"
                .ljust(117) + "\n").encode()
            fh.write(header)
            block = bytes(1 << 20)
            for _ in range(300):
                fh.write(block)
    assert bomb.stat().st_size < 5e6
    with pytest.raises(LearnerFileError, match="would expand"):
        cl.learners.load(bomb)


def test_declared_sizes_beyond_the_limit_are_refused(saved, monkeypatch):
    monkeypatch.setattr(base, "MAX_FILE_BYTES", 1000)
    with pytest.raises(LearnerFileError, match="more than the 1000"):
        cl.learners.load(saved)
    monkeypatch.setattr(base, "MAX_FILE_BYTES", 2 * 1024 ** 3)
    assert np.all(np.isfinite(cl.learners.load(saved).forecast(
        cl.simulate("Lorenz", 50, dt=0.01, transient=5.0), 5)))


def _with_header(saved, tmp_path, header: bytes):
    """A copy of ``saved`` whose JSON header is replaced by ``header``."""
    out = tmp_path / "edited.npz"
    with np.load(saved) as z:
        arrays = {k: z[k] for k in z.files if k != "__meta__"}
    with open(out, "wb") as fh:
        np.savez(fh, __meta__=np.frombuffer(header, dtype=np.uint8), **arrays)
    return out


@pytest.mark.parametrize("version", ['"1"', "null", "[1]", "true", "1.5"])
def test_a_header_version_of_the_wrong_type_is_a_clear_error(saved, tmp_path, version):
    with np.load(saved) as z:
        text = bytes(z["__meta__"]).decode()
    edited = text.replace('"version": 1', f'"version": {version}')
    assert edited != text
    with pytest.raises(LearnerFileError, match="format version must be an integer"):
        cl.learners.load(_with_header(saved, tmp_path, edited.encode()))


def test_a_deeply_nested_header_is_a_clear_error(saved, tmp_path):
    header = b'{"format": "chaoslab-learner", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(LearnerFileError, match="nested too deeply|corrupt"):
        cl.learners.load(_with_header(saved, tmp_path, header))
