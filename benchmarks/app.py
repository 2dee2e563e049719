"""The served app in headless Chromium: responsiveness, live streaming, memory, first view.

    python -m benchmarks.app                 # about 3 minutes
    python -m benchmarks.app --seconds 20    # a shorter memory run

Starts ``chaoslab serve`` (with an empty kernel cache, so that every system but the
warm-up one is really never used) and measures, in one run:

* slider -> redraw: from the key press that moves a parameter slider (Lorenz, 20,000-point
  attractor) to the second animation frame after the new path reached BokehJS (the frame
  that shows it); median of repeated moves.                       target < 150 ms
* live streaming: updates per second of the live run's trail (every frame) and of the
  long path (batched), over 10 s of play.                         target >= 20 /s
* memory: the server process's resident memory, sampled every second while the live
  run plays for ``--seconds`` (default 60): start, end, peak and the fitted slope.
* first view of a never-used system on a warm server: from choosing it in the system
  picker to the frame that shows its attractor; with the kernel compile (numba, first
  use on this machine), with the kernel in the disk cache (a second server process on
  the same machine), and a second visit.                            target < 2 s

Writes ``benchmarks/results/app.json`` and prints a table.
"""
from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from .common import save

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
#: Systems visited for the first-view timing (none is the warm-up system, Lorenz).
FRESH = ["Chen", "Halvorsen", "Thomas", "Aizawa", "Dadras"]

# time the key press (capture phase) and the second frame after the path's data arrived
ARM_LATENCY = """() => {
    const d = window.Bokeh.documents[0];
    const s = d.get_model_by_name('attractor-path');
    window.__lat = [];
    window.__t0 = null;
    // key events are composed: they reach the document from inside the shadow DOM
    document.addEventListener('keydown', () => { window.__t0 = performance.now() }, true);
    s.properties.data.change.connect(() => {
        const t0 = window.__t0;
        if (t0 == null) return;
        window.__t0 = null;
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


def _start_server(cache_dir):
    port = _free_port()
    env = {**os.environ, "CHAOSLAB_CACHE_DIR": cache_dir}
    # the log goes to a file: a pipe nobody reads would stall the server once full
    log = tempfile.NamedTemporaryFile("w+", prefix="chaoslab-serve-", suffix=".log",
                                      delete=False)
    proc = subprocess.Popen([sys.executable, "-m", "chaoslab.cli", "serve", "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, text=True, env=env)
    url = f"http://127.0.0.1:{port}/chaoslab"
    deadline = time.time() + 180
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("chaoslab serve exited:\n" + open(log.name).read())
        try:
            urllib.request.urlopen(url, timeout=5)
            return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("chaoslab serve did not answer")


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
    return {"median_ms": statistics.median(lat), "min_ms": min(lat), "max_ms": max(lat),
            "n": len(lat), "points": 20_000}


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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="memory run length")
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("CHAOSLAB_CHROMIUM") or shutil.which("chromium") or \
        "/usr/bin/chromium"
    cache = tempfile.mkdtemp(prefix="chaoslab-bench-kernels-")
    proc, url = _start_server(cache)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, headless=True, args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            fv = first_view(page, url)
            # a second server process: the systems are new to it, their kernels are in
            # the disk cache the first one wrote (a machine where they ran before)
            proc2, url2 = _start_server(cache)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                fv["disk_cache"] = first_view(page, url2)["first"]
            finally:
                proc2.terminate()
                proc2.wait(10)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            lat = slider_latency(page, url)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            live = live_rate(page, url)
            mem = memory(page, proc.pid, args.seconds)
            browser.close()
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(cache, ignore_errors=True)
    r = save("app", {"slider_to_redraw": lat, "live": live, "memory": mem,
                     "first_view": fv})
    print(f"\nchaoslab app in headless Chromium ({r['machine']}, {r['date']})\n")
    print("| measure | value | target |")
    print("|---|---|---|")
    print(f"| slider -> redrawn 20,000-point attractor (median of {lat['n']}) | "
          f"{lat['median_ms']:.0f} ms (min {lat['min_ms']:.0f}, max {lat['max_ms']:.0f}) "
          "| < 150 ms |")
    print(f"| live run: trail updates | {live['trail_updates_per_s']:.1f} /s | >= 20 /s |")
    print(f"| live run: 20,000-point path updates (batched) | "
          f"{live['path_updates_per_s']:.1f} /s | |")
    print(f"| server RSS over {mem['seconds']:.0f} s live | {mem['rss_start_mb']:.0f} -> "
          f"{mem['rss_end_mb']:.0f} MB (peak {mem['rss_peak_mb']:.0f}; second half "
          f"{mem['rss_slope_second_half_mb_per_min']:+.1f} MB/min) | flat |")
    print(f"| first view of a never-used system (kernel compiled; median of {len(FRESH)}) | "
          f"{fv['first']['median_s']:.2f} s (max {fv['first']['max_s']:.2f}) | < 2 s |")
    print(f"| first view of a system new to the server, kernel in the disk cache | "
          f"{fv['disk_cache']['median_s']:.2f} s (max {fv['disk_cache']['max_s']:.2f}) | < 2 s |")
    print(f"| second view of the same systems | {fv['second']['median_s']:.2f} s | |")
    return r


if __name__ == "__main__":
    main()
