"""A served app compiles the classic systems ahead of time in its niced child, one at a
time, behind visitors' own compiles, and never compiles one system twice at once."""
import threading
import time

import chaoslab as cl
from chaoslab.app import warm


def test_compile_ahead_leaves_the_machine_code_on_disk(tmp_path, monkeypatch):
    monkeypatch.setenv("CHAOSLAB_CACHE_DIR", str(tmp_path))
    seen = []
    done = warm.compile_ahead(("Tinkerbell",), report=lambda n, s: seen.append(n))
    assert done["Tinkerbell"] is not None and seen == ["Tinkerbell"]
    s = cl.systems.get("Tinkerbell")
    marker = warm.compiled_on_disk(s, "rk4", "numba")
    assert marker.exists()
    # the machine code is in the cache beside the module: numba's index files
    assert list(marker.parent.glob("__pycache__/*.nbi"))
    # asked again (a visitor picks it): no child runs
    monkeypatch.setattr(warm, "_run_child", lambda *a: (_ for _ in ()).throw(
        AssertionError("compiled twice")))
    assert warm.compile_elsewhere(s)


def _fake_child(calls, seconds=0.5):
    def run(system, method, backend, full, marker, cancelled, timeout):
        calls.append(system.name)
        time.sleep(seconds)
        marker.touch()
        return True
    return run


def test_one_system_is_compiled_once_when_asked_twice_at_once(tmp_path, monkeypatch):
    monkeypatch.setenv("CHAOSLAB_CACHE_DIR", str(tmp_path))
    calls = []
    monkeypatch.setattr(warm, "_run_child", _fake_child(calls))
    s = cl.systems.get("Henon")
    marker = warm.compiled_on_disk(s, "rk4", "numba")
    # not compiled yet: neither marker (an earlier test in this process may have compiled
    # Henon in full, e.g. for its basins, into a module whose place is remembered)
    for m in (marker, warm.compiled_on_disk(s, "rk4", "numba", True)):
        if m.exists():
            m.unlink()
    results = []
    threads = [threading.Thread(target=lambda: results.append(warm.compile_elsewhere(s)))
               for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert results == [True, True] and calls == ["Henon"]


def test_compile_ahead_waits_for_a_visitors_compile(tmp_path, monkeypatch):
    monkeypatch.setenv("CHAOSLAB_CACHE_DIR", str(tmp_path))
    calls = []
    monkeypatch.setattr(warm, "_run_child", _fake_child(calls, 0.0))
    for name in ("Ikeda", "Chirikov"):
        m = warm.compiled_on_disk(cl.systems.get(name), "rk4", "numba")
        if m.exists():
            m.unlink()
    monkeypatch.setattr(warm, "_WAITING", [1])  # a visitor's compile is in progress
    out = {}
    th = threading.Thread(target=lambda: out.update(warm.compile_ahead(("Ikeda", "Chirikov"))))
    th.start()
    time.sleep(0.5)
    assert calls == []          # it waited
    warm._WAITING[0] = 0        # the visitor's compile is done
    th.join(30)
    assert calls == ["Ikeda", "Chirikov"] and all(v is not None for v in out.values())


def test_compile_ahead_stops_when_asked(tmp_path, monkeypatch):
    monkeypatch.setenv("CHAOSLAB_CACHE_DIR", str(tmp_path))
    calls = []
    monkeypatch.setattr(warm, "_run_child", _fake_child(calls, 0.0))
    assert warm.compile_ahead(("Ikeda",), stop=lambda: True) == {} and calls == []


def test_the_list_names_catalog_systems():
    names = set(cl.systems.names())
    assert set(warm.AHEAD_OF_TIME) <= names and "Lorenz" not in warm.AHEAD_OF_TIME
