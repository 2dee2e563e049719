"""The served app in headless Chromium: responsiveness, live streaming, memory, first view.

    python -m benchmarks.app                 # about 10 minutes
    python -m benchmarks.app --seconds 10    # a shorter memory run
    python -m benchmarks.app --only slider --before DIR   # slider, this code vs DIR's
    python -m benchmarks.app --only first --before DIR    # first views, this vs DIR's

Starts ``chaoslab serve`` (with an empty kernel cache, so that every system but the
warm-up one is really never used) and measures, in one run:

* slider -> redraw: from the key press that moves a parameter slider (Lorenz, 20,000-point
  attractor) to the second animation frame after the new path reached BokehJS (the frame
  that shows it); median of repeated moves.                       target < 100 ms
  With ``--before DIR`` (the root of another checkout: an earlier version of chaoslab)
  a server of each takes turns, ``--rounds`` times, so a busy machine slows both alike.
* live streaming: updates per second of the live run's trail (every frame) and of the
  long path (batched), over 10 s of play.                         target >= 20 /s
* memory: the server process's resident memory, sampled every second while the live
  run plays for ``--seconds`` (default 60): start, end, peak and the fitted slope.
* first view of a system on a warm server: from choosing it in the system picker to the
  frame that shows its attractor.                                  target < 1.5 s
  - ``ahead_of_time``: systems of the list the server compiles ahead of time
    (:data:`chaoslab.app.warm.AHEAD_OF_TIME`), picked once that compile is done (its
    duration is recorded);
  - ``outside_list``: never-used systems outside that list (compiled now, in the child
    the ahead-of-time compile left idle);
  - ``disk_cache``: a second server process, the kernels in the disk cache;
  - ``no_ahead_of_time``: a server that compiles nothing ahead (``before``: DIR's code).

Writes ``benchmarks/results/app.json`` and prints a table.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from .common import RESULTS, save

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
#: Systems visited for the first-view timing (none is the warm-up system, Lorenz); all
#: are in the server's ahead-of-time list.
FRESH = ["Chen", "Halvorsen", "Thomas", "Aizawa", "Dadras"]
#: Three-variable flows outside the ahead-of-time list: compiled when first picked.
OUTSIDE = ["BurkeShaw", "Finance", "HastingsPowell", "RayleighBenard", "WangSun"]

# time the key press (capture phase) and the second frame after the path's data arrived
ARM_LATENCY = """() => {
    const d = window.Bokeh.documents[0];
    const s = d.get_model_by_name('attractor-path');
    window.__lat = [];
    window.__arrive = [];
    window.__t0 = null;
    // key events are composed: they reach the document from inside the shadow DOM
    document.addEventListener('keydown', () => { window.__t0 = performance.now() }, true);
    s.properties.data.change.connect(() => {
        const t0 = window.__t0;
        if (t0 == null) return;
        window.__t0 = null;
        window.__arrive.push(performance.now() - t0);  // the new path reached BokehJS
        requestAnimationFrame(() => requestAnimationFrame(() =>
            window.__lat.push(performance.now() - t0)));
    });
}"""

_CHANGED = """(before) => {
    const d = window.Bokeh.documents[0];
    const s = d.get_model_by_name('attractor-path');
    if (!s) return false;
    const c = s.data.get ? s.data.get('x') : s.data.x;
    return c && c.length > 100 && c[0] !== before;
}"""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _start_server(cache_dir, code=None, ahead=False):
    """``chaoslab serve`` on a free port with the kernel cache ``cache_dir``; ``code``: the
    root of another checkout to run instead of this one; ``ahead``: compile the classic
    systems ahead of time. Returns (process, url, log path)."""
    port = _free_port()
    env = {**os.environ, "CHAOSLAB_CACHE_DIR": cache_dir,
           "CHAOSLAB_AHEAD_OF_TIME": "1" if ahead else "0"}
    cwd = None
    if code is not None:
        env["PYTHONPATH"] = str(code)
        cwd = str(code)
    # the log goes to a file: a pipe nobody reads would stall the server once full
    log = tempfile.NamedTemporaryFile("w+", prefix="chaoslab-serve-", suffix=".log",
                                      delete=False)
    proc = subprocess.Popen([sys.executable, "-m", "chaoslab.cli", "serve", "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, text=True, env=env, cwd=cwd)
    url = f"http://127.0.0.1:{port}/chaoslab"
    deadline = time.time() + 300
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("chaoslab serve exited:\n" + open(log.name).read())
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                pass
            # a request creates a session: wait for it however long it takes (a retry
            # on a short timeout would pile up sessions on a busy machine)
            urllib.request.urlopen(url, timeout=300)
            return proc, url, log.name
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("chaoslab serve did not answer")


def _stop(proc):
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _wait_ahead(log, timeout=900.0):
    """Seconds the server's ahead-of-time compile took (from its log line)."""
    pat = re.compile(r"compiled (\d+) of (\d+) systems ahead of time in ([0-9.]+) s")
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = pat.search(open(log).read())
        if m:
            return {"systems": int(m.group(2)), "compiled": int(m.group(1)),
                    "seconds": float(m.group(3))}
        time.sleep(1.0)
    raise RuntimeError("the ahead-of-time compile did not finish")


def _open(page, url):
    page.goto(url)
    page.wait_for_function("""() => { const d = window.Bokeh && window.Bokeh.documents[0];
        const s = d && d.get_model_by_name('attractor-path');
        return s && s.get_length() > 1000; }""", timeout=120_000)


def slider_latency(page, url, n=21):
    """Median ms from a slider key press to the frame showing the new 20,000-point path."""
    _open(page, url)
    assert page.evaluate("() => window.Bokeh.documents[0].get_model_by_name("
                         "'attractor-path').get_length()") == 20_000
    page.evaluate(ARM_LATENCY)
    handle = page.locator(".noUi-handle").nth(1)  # rho
    handle.focus()
    for i in range(n + 1):  # the first move is a warm-up
        before = page.evaluate("() => window.__lat.length")
        handle.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
        page.wait_for_function(f"() => window.__lat.length > {before}", timeout=30_000)
        page.wait_for_timeout(600)  # a person looks before moving again; the time
        # series and the butterfly arrive in this pause
    lat = page.evaluate("() => window.__lat")[1:]
    arrive = page.evaluate("() => window.__arrive")[1:]
    return {"median_ms": statistics.median(lat), "min_ms": min(lat), "max_ms": max(lat),
            "n": len(lat), "points": 20_000, "all_ms": lat, "arrive_ms": arrive}


def live_rate(page, url, seconds=10.0):
    """Updates per second of the trail (every frame) and the path (batched) while live."""
    _open(page, url)
    page.evaluate("""() => { const d = window.Bokeh.documents[0];
        window.__trail = 0; window.__path = 0; window.__frames = 0;
        d.get_model_by_name('attractor-trail').streaming.connect(() => window.__trail++);
        d.get_model_by_name('attractor-path').streaming.connect(() => window.__path++);
        const f = () => { window.__frames++; requestAnimationFrame(f) }; f(); }""")
    page.get_by_role("button", name="▶ Play").click()
    page.wait_for_timeout(1000)
    a = page.evaluate("() => [window.__trail, window.__path, window.__frames]")
    t = time.perf_counter()
    page.wait_for_timeout(seconds * 1000)
    b = page.evaluate("() => [window.__trail, window.__path, window.__frames]")
    dt = time.perf_counter() - t
    return {"trail_updates_per_s": (b[0] - a[0]) / dt, "path_updates_per_s": (b[1] - a[1]) / dt,
            "browser_frames_per_s": (b[2] - a[2]) / dt, "seconds": dt}


def memory(page, pid, seconds=60.0):
    """Server RSS while the live run (already playing on ``page``) continues."""
    samples = []
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        samples.append((time.perf_counter() - t0, _rss_mb(pid)))
        page.wait_for_timeout(1000)
    n_frames = page.evaluate("() => window.__trail")
    page.get_by_role("button", name="❚❚ Pause").click()
    ts = [s[0] for s in samples]
    ms = [s[1] for s in samples]
    half = len(ms) // 2
    slope = _slope(ts[half:], ms[half:]) * 60.0
    return {"seconds": seconds, "rss_start_mb": ms[0], "rss_end_mb": ms[-1],
            "rss_peak_mb": max(ms), "rss_slope_second_half_mb_per_min": slope,
            "frames_streamed_total": n_frames}


def _slope(x, y):
    mx, my = statistics.fmean(x), statistics.fmean(y)
    den = sum((a - mx) ** 2 for a in x)
    return sum((a - mx) * (b - my) for a, b in zip(x, y)) / den if den else 0.0


def first_view(page, url, names=FRESH):
    """Seconds from picking a system to the frame that shows it: first visit (kernel
    compiled now: the server's kernel cache started empty) and a second visit."""
    _open(page, url)
    out = {}
    for visit in ("first", "second"):
        times = []
        for name in names:
            before = page.evaluate("() => { const s = window.Bokeh.documents[0]"
                                   ".get_model_by_name('attractor-path');"
                                   "const c = s.data.get ? s.data.get('x') : s.data.x; "
                                   "return c[0] }")
            page.evaluate("() => { window.__shown = null }")
            t = time.perf_counter()
            page.locator("select").first.select_option(name)
            page.wait_for_function(_CHANGED, arg=before, timeout=120_000)
            page.evaluate("() => new Promise(r => requestAnimationFrame(() => "
                          "requestAnimationFrame(r)))")
            times.append(time.perf_counter() - t)
            page.wait_for_timeout(300)
        out[visit] = {"median_s": statistics.median(times), "max_s": max(times),
                      "per_system_s": dict(zip(names, times))}
    return out


def _browser_page(browser):
    return browser.new_page(viewport={"width": 1400, "height": 1000})


def _slider_runs(browser, trees, rounds):
    """Slider latencies of a server of each tree (name -> checkout root or None for this
    one), taking turns ``rounds`` times; all moves of a tree pooled."""
    lat = {name: [] for name in trees}
    arrive = {name: [] for name in trees}
    for _ in range(rounds):
        for name, code in trees.items():
            cache = tempfile.mkdtemp(prefix="chaoslab-bench-kernels-")
            proc, url, _ = _start_server(cache, code)
            try:
                page = _browser_page(browser)
                r = slider_latency(page, url)
                lat[name] += r["all_ms"]
                arrive[name] += r["arrive_ms"]
                page.close()
            finally:
                _stop(proc)
                shutil.rmtree(cache, ignore_errors=True)
    # key press -> the path reaches BokehJS (the server's part and the network), then
    # -> the second frame after it (the browser's part)
    return {name: {"median_ms": statistics.median(v), "min_ms": min(v), "max_ms": max(v),
                   "n": len(v), "points": 20_000, "rounds": rounds,
                   "key_to_data_median_ms": statistics.median(arrive[name]),
                   "data_to_frame_median_ms": statistics.median(
                       b - a for a, b in zip(arrive[name], v))}
            for name, v in lat.items()}


def _first_views(browser, before=None):
    """First views: ahead-of-time list, outside it, disk cache, and no ahead-of-time
    compile (``before``'s code when given)."""
    out = {}
    cache = tempfile.mkdtemp(prefix="chaoslab-bench-kernels-")
    try:
        proc, url, log = _start_server(cache, ahead=True)
        try:
            out["ahead_of_time_compile"] = _wait_ahead(log)
            page = _browser_page(browser)
            out["ahead_of_time"] = first_view(page, url, FRESH)
            out["outside_list"] = first_view(page, url, OUTSIDE)
            page.close()
        finally:
            _stop(proc)
        # a second server process: the systems are new to it, their kernels are in
        # the disk cache the first one wrote (a machine where they ran before)
        proc, url, _ = _start_server(cache)
        try:
            page = _browser_page(browser)
            out["disk_cache"] = first_view(page, url, OUTSIDE)["first"]
            page.close()
        finally:
            _stop(proc)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    cache = tempfile.mkdtemp(prefix="chaoslab-bench-kernels-")
    try:
        proc, url, _ = _start_server(cache, code=before)
        try:
            page = _browser_page(browser)
            out["no_ahead_of_time"] = first_view(page, url, FRESH)
            out["no_ahead_of_time"]["code"] = str(before) if before else "this checkout"
            page.close()
        finally:
            _stop(proc)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="memory run length")
    ap.add_argument("--only", choices=["all", "slider", "first"], default="all")
    ap.add_argument("--before", default=None, metavar="DIR",
                    help="the root of another checkout, to compare with (slider and the "
                         "first view without ahead-of-time compile)")
    ap.add_argument("--rounds", type=int, default=2,
                    help="slider runs per version (with --before)")
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("CHAOSLAB_CHROMIUM") or shutil.which("chromium") or \
        "/usr/bin/chromium"
    before = Path(args.before).resolve() if args.before else None
    trees = {"before": before, "now": None} if before else {"now": None}
    res = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=ARGS)
        if args.only in ("all", "first"):
            res["first_view"] = _first_views(browser, before)
        if args.only in ("all", "slider"):
            res["slider_to_redraw"] = _slider_runs(browser, trees,
                                                   args.rounds if before else 1)
        if args.only == "all":
            cache = tempfile.mkdtemp(prefix="chaoslab-bench-kernels-")
            proc, url, _ = _start_server(cache)
            try:
                page = _browser_page(browser)
                res["live"] = live_rate(page, url)
                res["memory"] = memory(page, proc.pid, args.seconds)
            finally:
                _stop(proc)
                shutil.rmtree(cache, ignore_errors=True)
        browser.close()
    old = {}
    path = RESULTS / "app.json"
    if args.only != "all" and path.exists():
        old = {k: v for k, v in json.loads(path.read_text()).items()
               if k not in ("machine", "date")}
    r = save("app", {**old, **res})
    print(f"\nchaoslab app in headless Chromium ({r['machine']}, {r['date']}; a shared "
          "machine: compare figures of one run)\n")
    print("| measure | value | target |")
    print("|---|---|---|")
    for name, lat in res.get("slider_to_redraw", {}).items():
        print(f"| slider -> redrawn 20,000-point attractor ({name}; median of {lat['n']}) | "
              f"{lat['median_ms']:.0f} ms (min {lat['min_ms']:.0f}, max {lat['max_ms']:.0f}) "
              "| < 100 ms |")
    if "live" in res:
        live, mem = res["live"], res["memory"]
        print(f"| live run: trail updates | {live['trail_updates_per_s']:.1f} /s | >= 20 /s |")
        print(f"| live run: 20,000-point path updates (batched) | "
              f"{live['path_updates_per_s']:.1f} /s | |")
        print(f"| server RSS over {mem['seconds']:.0f} s live | {mem['rss_start_mb']:.0f} -> "
              f"{mem['rss_end_mb']:.0f} MB (peak {mem['rss_peak_mb']:.0f}; second half "
              f"{mem['rss_slope_second_half_mb_per_min']:+.1f} MB/min) | flat |")
    fv = res.get("first_view")
    if fv:
        a = fv["ahead_of_time_compile"]
        print(f"| ahead-of-time compile at server start | {a['compiled']} of {a['systems']} "
              f"systems in {a['seconds']:.0f} s | |")
        for key, label in (("ahead_of_time", "a system of the ahead-of-time list"),
                           ("outside_list", "a never-used system outside the list "
                                            "(compiled now)"),
                           ("no_ahead_of_time", "a never-used system, no ahead-of-time "
                                                "compile")):
            v = fv[key]["first"]
            print(f"| first view of {label} (median of {len(v['per_system_s'])}) | "
                  f"{v['median_s']:.2f} s (max {v['max_s']:.2f}) | < 1.5 s |")
        print(f"| first view, kernel in the disk cache (second server) | "
              f"{fv['disk_cache']['median_s']:.2f} s | |")
        print(f"| second view of the same systems | "
              f"{fv['outside_list']['second']['median_s']:.2f} s | |")
    return r


if __name__ == "__main__":
    main()
