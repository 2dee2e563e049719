"""A class on one server: many browser sessions moving sliders and switching systems.

    python -m benchmarks.load                          # 30 sessions, 10 minutes
    python -m benchmarks.load --sessions 10 --minutes 2

Starts ``chaoslab serve`` and one headless Chromium with one browser context per
session (a student). Each session, with its own random sequence, moves the first
parameter slider (most often), switches to another catalog system, or types a system of
its own in the editor ("Define and run"), pausing 0.5 to 2 s between actions as a person
would. Reported:

* page errors (uncaught exceptions and console errors in any page) and tracebacks in the
  server's log: both should be 0;
* state leaks: after each action the session checks that its page shows the system it
  chose, that its link names it, and that its system picker lists no other session's
  typed system: should be 0;
* slider -> new data: from the key press that moves a slider to the second animation
  frame after the new path reached BokehJS, p50 and p95 over all sessions (moves whose
  data never arrived within 30 s are counted as lost);
* system switch -> new data, p50 and p95;
* the server's resident memory: at start (before the sessions), peak, and 60 s after
  the sessions close (the server drops a closed session's state after about 30 s).

Writes ``benchmarks/results/load.json`` and prints a table.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from .app import ARM_LATENCY  # times a key press to the second frame after new data
from .common import save

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
#: Catalog systems the sessions switch between (each has parameters: a slider to move).
SYSTEMS = ["Lorenz", "Rossler", "Chen", "Thomas", "Halvorsen", "Dadras", "Aizawa", "Henon"]
#: Seconds a slider move or a switch may take before it counts as lost.
LOST_S = 30.0

_PATH_READY = """() => { const d = window.Bokeh && window.Bokeh.documents[0];
    const s = d && d.get_model_by_name('attractor-path');
    return !!s && s.get_length() > 100; }"""
_FIRST_X = """() => { const s = window.Bokeh.documents[0].get_model_by_name('attractor-path');
    const c = s.data.get ? s.data.get('x') : s.data.x; return c && c.length ? c[0] : null; }"""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


class Memory(threading.Thread):
    """Samples the server's resident memory every second."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.samples, self.stop = pid, [], threading.Event()

    def run(self):
        while not self.stop.is_set():
            self.samples.append((time.monotonic(), _rss_mb(self.pid)))
            self.stop.wait(1.0)


class Stats:
    def __init__(self):
        self.slider_ms, self.switch_ms = [], []
        self.lost_moves = self.lost_switches = 0
        self.page_errors, self.leaks = [], []
        self.actions = {"slider": 0, "switch": 0, "define": 0}


def _tracebacks(text):
    """``(n, n_closed)``: tracebacks in a server log, and those only of a message to a
    websocket that had just closed (tornado's WebSocketClosedError, logged by asyncio
    when a session's tab closes while the server writes to it)."""
    blocks = text.split("Traceback (most recent call last)")[1:]
    closed = sum(1 for b in blocks if "WebSocketClosedError" in b[:1500]
                 or "StreamClosedError" in b[:400])
    return len(blocks) - closed, closed


def _pct(values, q):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q * (len(v) - 1))))]


async def _check_own_state(page, i, expected, stats, others):
    """The page shows this session's system, its link names it, and its picker lists no
    other session's typed system."""
    select = page.locator("select").first
    shown = await select.input_value()
    if shown != expected:
        stats.leaks.append((i, f"picker shows {shown!r}, expected {expected!r}"))
    try:
        await page.wait_for_function(
            "(name) => new URLSearchParams(window.location.search).get('system') === name"
            " || (name === 'Lorenz' && !new URLSearchParams(window.location.search)"
            ".get('system'))", arg=expected, timeout=LOST_S * 1000)
    except Exception:
        search = await page.evaluate("() => window.location.search")
        stats.leaks.append((i, f"link {search[:80]!r} does not name {expected!r}"))
    options = await select.evaluate("s => Array.from(s.options).map(o => o.value)")
    foreign = [o for o in options if o in others]
    if foreign:
        stats.leaks.append((i, f"picker lists other sessions' systems {foreign}"))


async def _move_slider(page, rng, stats):
    before = await page.evaluate("() => window.__lat.length")
    handle = page.locator(".noUi-handle").nth(0)
    await handle.focus()
    await handle.press("ArrowRight" if rng.random() < 0.5 else "ArrowLeft")
    stats.actions["slider"] += 1
    try:
        await page.wait_for_function(f"() => window.__lat.length > {before}",
                                     timeout=LOST_S * 1000)
        stats.slider_ms.append((await page.evaluate("() => window.__lat"))[-1])
    except Exception:
        stats.lost_moves += 1


async def _wait_new_path(page, before, stats, t0):
    try:
        await page.wait_for_function(
            "(b) => { const s = window.Bokeh.documents[0].get_model_by_name("
            "'attractor-path'); const c = s.data.get ? s.data.get('x') : s.data.x;"
            " return c && c.length > 0 && c[0] !== b; }", arg=before, timeout=LOST_S * 1000)
        stats.switch_ms.append((time.perf_counter() - t0) * 1000)
    except Exception:
        stats.lost_switches += 1


async def _switch(page, current, rng, stats):
    name = rng.choice([s for s in SYSTEMS if s != current])
    before = await page.evaluate(_FIRST_X)
    t0 = time.perf_counter()
    await page.locator("select").first.select_option(name)
    stats.actions["switch"] += 1
    await _wait_new_path(page, before, stats, t0)
    return name


async def _define(page, i, k, stats, opened):
    name = f"S{i}x{k}"
    if not opened:
        await page.get_by_text("Define a system").click()
    await page.locator("input[placeholder='MySystem']").fill(name)
    await page.locator("textarea[placeholder='dx/dt = -x + y']").fill(
        "dx/dt = v\ndv/dt = -k*x - c*v")
    await page.locator("textarea[placeholder='a = 1 [0, 2]']").fill(
        f"k = {1 + (i + k) % 7} [0, 10]\nc = 0.1 [0, 1]")
    await page.locator("input[placeholder='0.1, 0']").fill("1, 0")
    await page.get_by_role("textbox", name="dt", exact=True).fill("0.01")
    before = await page.evaluate(_FIRST_X)
    t0 = time.perf_counter()
    await page.get_by_role("button", name="Define and run").click()
    stats.actions["define"] += 1
    await _wait_new_path(page, before, stats, t0)
    return name


async def _session(i, browser, url, deadline, stats, n_sessions):
    rng = random.Random(i)
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    page.on("pageerror", lambda e: stats.page_errors.append((i, str(e)[:300])))
    page.on("console", lambda m: stats.page_errors.append((i, m.text[:300]))
            if m.type == "error" and "favicon" not in m.text
            and "Failed to load resource" not in m.text else None)
    # a failed request says which address (the console line does not)
    page.on("requestfailed", lambda r: stats.page_errors.append(
        (i, f"request failed: {r.url[:200]} ({r.failure})")) if "favicon" not in r.url
        else None)
    others = {f"S{j}x{k}" for j in range(n_sessions) if j != i for k in range(1000)}
    try:
        await page.goto(url, timeout=180_000)
        await page.wait_for_function(_PATH_READY, timeout=180_000)
        await page.evaluate(ARM_LATENCY)
        current, k, opened = "Lorenz", 0, False
        while time.monotonic() < deadline:
            r = rng.random()
            if r < 0.65:
                await _move_slider(page, rng, stats)
            elif r < 0.9:
                current = await _switch(page, current, rng, stats)
            else:
                current = await _define(page, i, k, stats, opened)
                k, opened = k + 1, True
            await _check_own_state(page, i, current, stats, others)
            await asyncio.sleep(rng.uniform(0.5, 2.0))
    finally:
        await context.close()


async def _drive(url, n_sessions, seconds, chromium, stats):
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, headless=True, args=ARGS)
        deadline = time.monotonic() + seconds
        tasks = []
        for i in range(n_sessions):  # a class arrives over a few seconds
            tasks.append(asyncio.create_task(_session(i, browser, url, deadline, stats,
                                                      n_sessions)))
            await asyncio.sleep(0.5)
        results = await asyncio.gather(*tasks, return_exceptions=True)
        await browser.close()
    return [f"session {i}: {type(r).__name__}: {r}"[:300] for i, r in enumerate(results)
            if isinstance(r, Exception)]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=30, help="browser sessions (default 30)")
    ap.add_argument("--minutes", type=float, default=10.0,
                    help="how long they work (default 10)")
    ap.add_argument("--after", type=float, default=60.0,
                    help="seconds to wait after the sessions close before the last memory "
                         "sample (default 60)")
    args = ap.parse_args(argv)
    chromium = os.environ.get("CHAOSLAB_CHROMIUM") or shutil.which("chromium") or \
        "/usr/bin/chromium"
    logdir = tempfile.mkdtemp(prefix="chaoslab-load-")
    log_path = os.path.join(logdir, "serve.log")
    port = _free_port()
    log = open(log_path, "w")
    proc = subprocess.Popen([sys.executable, "-m", "chaoslab.cli", "serve", "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/chaoslab"
    stats = Stats()
    try:
        deadline = time.time() + 300
        while True:
            try:
                urllib.request.urlopen(url, timeout=60)
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("chaoslab serve did not start:\n" + open(log_path).read())
                time.sleep(0.5)
        time.sleep(5)
        mem = Memory(proc.pid)
        mem.start()
        time.sleep(2)
        start_mb = _rss_mb(proc.pid)
        t_start = time.monotonic()
        failures = asyncio.run(_drive(url, args.sessions, 60 * args.minutes, chromium, stats))
        t_closed = time.monotonic()
        time.sleep(args.after)
        after_mb = _rss_mb(proc.pid)
        mem.stop.set()
        mem.join()
        during = [mb for t, mb in mem.samples if t_start <= t <= t_closed]
        peak_mb = max(during) if during else float("nan")
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    text = open(log_path).read()
    tracebacks, closed = _tracebacks(text)
    r = save("load", {
        "sessions": args.sessions, "minutes": args.minutes,
        "actions": stats.actions,
        "page_errors": len(stats.page_errors), "page_error_examples": stats.page_errors[:10],
        "server_tracebacks": tracebacks,
        "closed_connection_tracebacks": closed,
        "state_leaks": len(stats.leaks), "state_leak_examples": stats.leaks[:10],
        "session_failures": failures,
        "slider_to_new_data_ms": {"p50": _pct(stats.slider_ms, 0.5),
                                  "p95": _pct(stats.slider_ms, 0.95),
                                  "n": len(stats.slider_ms), "lost": stats.lost_moves},
        "switch_to_new_data_ms": {"p50": _pct(stats.switch_ms, 0.5),
                                  "p95": _pct(stats.switch_ms, 0.95),
                                  "n": len(stats.switch_ms), "lost": stats.lost_switches},
        "server_rss_mb": {"start": start_mb, "peak": peak_mb, "after": after_mb,
                          "after_s": args.after},
        "server_log": log_path,
    })
    print(f"\nchaoslab: {args.sessions} sessions for {args.minutes:g} min "
          f"({r['machine']}, {r['date']})\n")
    print("| measure | value |")
    print("|---|---|")
    print(f"| actions (slider / switch / define) | {stats.actions['slider']} / "
          f"{stats.actions['switch']} / {stats.actions['define']} |")
    print(f"| page errors | {len(stats.page_errors)} |")
    print(f"| server tracebacks | {tracebacks} (and {closed} of a message sent to a tab "
          "that had just closed) |")
    print(f"| state leaks between sessions | {len(stats.leaks)} |")
    print(f"| sessions that failed | {len(failures)} |")
    s = r["slider_to_new_data_ms"]
    print(f"| slider -> new data p50 / p95 | {s['p50']:.0f} / {s['p95']:.0f} ms "
          f"(n {s['n']}, lost {s['lost']}) |")
    s = r["switch_to_new_data_ms"]
    print(f"| switch -> new data p50 / p95 | {s['p50']:.0f} / {s['p95']:.0f} ms "
          f"(n {s['n']}, lost {s['lost']}) |")
    m = r["server_rss_mb"]
    print(f"| server RSS start / peak / {m['after_s']:g} s after | {m['start']:.0f} / "
          f"{m['peak']:.0f} / {m['after']:.0f} MB |")
    for e in stats.page_errors[:5] + stats.leaks[:5] + failures[:5]:
        print("  ", e)
    print(f"server log: {log_path}")
    return r


if __name__ == "__main__":
    main()
