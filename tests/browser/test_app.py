"""The served app in headless Chromium: it loads cleanly, reacts to the controls, runs a
typed system, fills the FTLE view, restores a shared link and renders every tab."""
import math

import pytest

pytestmark = pytest.mark.browser

# the data of a named ColumnDataSource, read from BokehJS
_COLUMN = """([name, col]) => {
    const d = window.Bokeh && window.Bokeh.documents[0];
    const s = d && d.get_model_by_name(name);
    if (!s) return null;
    const c = s.data.get ? s.data.get(col) : s.data[col];
    return c ? Array.from(c) : null;
}"""

_HAS_DATA = """([name, col, n]) => {
    const d = window.Bokeh && window.Bokeh.documents[0];
    const s = d && d.get_model_by_name(name);
    if (!s) return false;
    const c = s.data.get ? s.data.get(col) : s.data[col];
    return c != null && c.length >= n;
}"""

_CHANGED = """([name, col, before]) => {
    const d = window.Bokeh.documents[0];
    const s = d.get_model_by_name(name);
    const c = s.data.get ? s.data.get(col) : s.data[col];
    if (!c || c.length < 100) return false;
    for (let i = 0; i < before.length; i++) if (c[i] !== before[i]) return true;
    return false;
}"""


def column(page, name, col):
    return page.evaluate(_COLUMN, [name, col])


def wait_data(page, name="attractor-path", col="x", n=100, timeout=60_000):
    page.wait_for_function(_HAS_DATA, arg=[name, col, n], timeout=timeout)


def wait_changed(page, before, name="attractor-path", col="x", timeout=60_000):
    page.wait_for_function(_CHANGED, arg=[name, col, before[:50]], timeout=timeout)


def open_app(page, server, query="", errors=None, source="attractor-path", col="x"):
    """Open the app (with a shared link's query) and wait for ``source`` to fill."""
    if errors is not None:
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server + query)
    if source:
        wait_data(page, source, col, n=1)


def _figure_center(page, name):
    """Page coordinates of the centre of a named figure's plotting area."""
    return page.evaluate("""(name) => {
        const m = window.Bokeh.documents[0].get_model_by_name(name);
        for (const r of window.Bokeh.index.roots) {
            const v = r.owner.find_one(m);
            if (v == null) continue;
            const box = v.el.getBoundingClientRect(), f = v.frame.bbox;
            return [box.left + (f.x0 + f.x1) / 2, box.top + (f.y0 + f.y1) / 2];
        }
        return null; }""", name)


def click_tab(page, title):
    page.locator(".bk-tab", has_text=title).first.click()


def test_page_loads_without_console_errors(page, server):
    errors = []
    open_app(page, server, errors=errors)
    assert page.locator("canvas").count() >= 3
    assert "chaoslab" in page.title()
    assert len(column(page, "attractor-path", "x")) == 20_000
    assert len(column(page, "butterfly-cloud", "x")) == 32
    page.wait_for_timeout(500)
    assert not errors, errors


def test_switching_system_and_moving_a_slider_change_the_plotted_data(page, server):
    open_app(page, server)
    before = column(page, "attractor-path", "x")
    page.locator("select").first.select_option("Rossler")
    wait_changed(page, before)
    assert page.locator("select").first.input_value() == "Rossler"
    before = column(page, "attractor-path", "x")
    handle = page.locator(".noUi-handle").nth(0)  # the first parameter, a
    handle.focus()
    handle.press("ArrowRight")
    wait_changed(page, before)
    # the shared link follows
    page.wait_for_function("() => window.location.search.includes('a=')", timeout=10_000)


def test_live_run_streams_new_points(page, server):
    open_app(page, server)
    page.evaluate("""() => { const s = window.Bokeh.documents[0].get_model_by_name(
        'attractor-trail'); window.__frames = 0; s.streaming.connect(() => window.__frames++) }""")
    page.get_by_role("button", name="▶ Play").click()
    page.wait_for_function("() => window.__frames >= 10", timeout=20_000)
    page.get_by_role("button", name="❚❚ Pause").click()
    assert len(column(page, "attractor-path", "x")) == 20_000  # rollover: memory flat


def test_a_typed_system_runs_and_a_malformed_one_shows_an_inline_error(page, server):
    errors = []
    open_app(page, server, errors=errors)
    page.get_by_text("Define a system").click()
    page.locator("input[placeholder='MySystem']").fill("Spring")
    page.locator("textarea[placeholder='dx/dt = -x + y']").fill("dx/dt = v\ndv/dt = -k*x")
    page.locator("textarea[placeholder='a = 1 [0, 2]']").fill("k = 4 [0, 10]")
    page.locator("input[placeholder='0.1, 0']").fill("1, 0")
    page.get_by_role("textbox", name="dt", exact=True).fill("0.01")
    before = column(page, "attractor-path", "x")
    page.get_by_role("button", name="Define and run").click()
    wait_changed(page, before)
    x = column(page, "attractor-path", "x")
    assert max(x) == pytest.approx(1.0, abs=1e-3) and min(x) == pytest.approx(-1.0, abs=1e-3)
    assert page.locator("select").first.input_value() == "Spring"
    page.locator("textarea[placeholder='dx/dt = -x + y']").fill("dx/dt = v +\ndv/dt = -k*x")
    page.get_by_role("button", name="Define and run").click()
    alert = page.get_by_text("Not defined:")
    alert.wait_for(timeout=10_000)
    text = alert.evaluate("e => e.closest('.markdown, div').innerText")
    assert "dx/dt" in text and "Traceback" not in text, text
    assert page.locator("select").first.input_value() == "Spring"
    assert not errors, errors


def test_ftle_view_fills(page, server):
    open_app(page, server, "?system=DoubleGyre&tab=ftle", source="ftle-image", col="image")
    page.wait_for_function("""() => {
        const s = window.Bokeh.documents[0].get_model_by_name('ftle-image');
        const im = s && (s.data.get ? s.data.get('image') : s.data.image);
        return im && im.length == 1 && im[0].length > 1000; }""", timeout=60_000)
    values = page.evaluate("""() => {
        const s = window.Bokeh.documents[0].get_model_by_name('ftle-image');
        const im = (s.data.get ? s.data.get('image') : s.data.image)[0];
        return [im.length, Array.from(im).every(Number.isFinite), Math.max(...im)]; }""")
    n, finite, top = values
    assert n == 160 * 80 and finite and 0.1 < top < 5
    # a click on the field releases particles there
    page.mouse.click(*_figure_center(page, "ftle"))
    wait_data(page, "ftle-seeds", "x0", 9, timeout=30_000)


def test_shared_link_restores_the_view(page, server):
    open_app(page, server, "?system=Rossler&a=0.3&view=x-y")
    assert page.locator("select").first.input_value() == "Rossler"
    title = page.locator(".bk-slider-title", has_text="a:").first.inner_text()
    assert "0.3" in title
    # the plotted path is Rossler's at a = 0.3 in the x-y plane (x' = -y - z)
    x = column(page, "attractor-path", "x")
    assert len(x) == 20_000 and all(math.isfinite(v) for v in x[:100])
    assert page.evaluate("() => window.location.search").count("a=0.3") == 1


def test_script_in_a_shared_link_does_not_run(page, server):
    """A link whose values carry markup with an event handler: the page shows the text
    and runs nothing (a teacher opening a student's link runs no one's script)."""
    inject = "%3Cimg%20src%3Dx%20onerror%3D%22window.__injected%3D1%22%3E"
    open_app(page, server, f"?system=Lorenz&tab={inject}&{inject}=1&method={inject}")
    message = page.get_by_text("Shared link").first
    message.wait_for(timeout=30_000)
    assert "<img src=x" in message.inner_text()
    page.wait_for_timeout(500)
    assert page.evaluate("() => window.__injected") is None
    assert page.locator("img[src='x']").count() == 0


def test_each_tab_renders(page, server):
    errors = []
    open_app(page, server, errors=errors)
    click_tab(page, "Lyapunov")
    wait_data(page, "lyapunov-spectrum", "value", 3)
    lam = column(page, "lyapunov-spectrum", "value")
    assert lam[0] == pytest.approx(0.906, abs=0.05)
    wait_data(page, "lyapunov-sweep", "p", 10)
    click_tab(page, "FTLE")
    page.wait_for_function("""() => { const s = window.Bokeh.documents[0]
        .get_model_by_name('ftle-image');
        const im = s && (s.data.get ? s.data.get('image') : s.data.image);
        return im && im.length == 1; }""", timeout=60_000)
    click_tab(page, "Orbit diagram")
    wait_data(page, "orbit-data", "p", 100)
    click_tab(page, "Explore")
    wait_data(page)
    assert not errors, errors


def test_learners_train_with_progress_and_show_divergence(page, server):
    """The Learners tab trains the default learners in the background (progress shown),
    then draws their divergence curves and valid prediction times."""
    errors = []
    open_app(page, server, "?tab=learners", errors=errors, source=None)
    button = page.get_by_role("button", name="Train and compare")
    button.wait_for(timeout=60_000)
    button.click()
    page.get_by_text("Training", exact=False).first.wait_for(timeout=30_000)
    wait_data(page, "learners-divergence", "m0", 100, timeout=300_000)
    try:
        wait_data(page, "learners-vpt", "vpt", 4, timeout=30_000)
    except Exception:
        raise AssertionError(f"no VPT data in the page; console errors: {errors}; "
                             f"{column(page, 'learners-vpt', 'vpt')} "
                             f"{column(page, 'learners-vpt', 'learner')}")
    vpt = page.evaluate("""() => { const s = window.Bokeh.documents[0]
        .get_model_by_name('learners-vpt');
        const g = k => Array.from(s.data.get ? s.data.get(k) : s.data[k]);
        return [g('learner'), g('vpt')]; }""")
    names, values = vpt
    assert names == ["ngrc", "esn", "sindy", "edmd"]
    assert all(v > 3 for v in values), dict(zip(names, values))   # measured: 9.8 to 11
    page.get_by_text("tracks the truth longest", exact=False).first.wait_for(timeout=30_000)
    assert not [e for e in errors if "favicon" not in e], errors


def test_a_sweep_table_uploaded_in_the_learners_tab_is_drawn(page, server, tmp_path):
    """A sweep's CSV chosen in the browser's file picker reaches the server, is validated
    and drawn: the ranking, the scatter against lambda_1 and the heat map; a learner name
    with markup shows as text."""
    from pathlib import Path

    csv = Path(__file__).resolve().parents[2] / "benchmarks/results/gilpin_sweep.csv"
    f = tmp_path / "results.csv"
    f.write_text(csv.read_text().replace(",esn,", ",<img src=x onerror=alert(1)>,"))
    errors = []
    open_app(page, server, "?tab=learners", errors=errors, source=None)
    page.get_by_text("Sweep results: load a sweep's table").first.click()
    page.locator("input[type=file]").first.set_input_files(str(f))
    page.get_by_text("First by median", exact=False).first.wait_for(timeout=60_000)
    factors = page.evaluate("""() => { const d = window.Bokeh.documents[0];
        const p = d.get_model_by_name('sweep-ranking');
        return p ? Array.from(p.y_range.factors) : null; }""")
    assert factors is not None and len(factors) >= 6, factors
    assert "<img src=x onerror=alert(1)>" in factors   # a category name, drawn as text
    assert page.evaluate("() => window.Bokeh.documents[0]"
                         ".get_model_by_name('sweep-heatmap') != null")
    assert page.locator("img[src=x]").count() == 0
    assert not [e for e in errors if "favicon" not in e], errors


def test_beyond_lyapunov_tab_draws_fixed_points_and_basins(page, server):
    """The Beyond Lyapunov tab: Lorenz's three fixed points on its attractor, then the
    Henon map's basins with a click showing a start's path; no request leaves the server
    (components created later in a job point at the server's own stylesheets)."""
    errors, failed = [], []
    page.on("requestfailed", lambda r: failed.append(r.url))
    open_app(page, server, errors=errors)
    click_tab(page, "Beyond Lyapunov")
    renderer_x = """([name, n]) => { const d = window.Bokeh.documents[0];
        const r = d.get_model_by_name(name); if (!r) return false;
        const s = r.data_source; const c = s.data.get ? s.data.get('x') : s.data.x;
        return c != null && c.length == n; }"""
    page.wait_for_function(renderer_x, arg=["fixed-point-markers", 3], timeout=120_000)
    page.locator("select").first.select_option("Henon")
    page.get_by_role("button", name="Basins").click()
    page.wait_for_function("""() => { const d = window.Bokeh.documents[0];
        const r = d.get_model_by_name('basins-image'); if (!r) return false;
        const s = r.data_source; const im = s.data.get ? s.data.get('image') : s.data.image;
        return im && im.length == 1; }""", timeout=120_000)
    x, y = page.evaluate("""() => {  // the centre of the plot that holds the basins image
        const m = window.Bokeh.documents[0].get_model_by_name('basins-image');
        for (const r of window.Bokeh.index.roots) {
            const v = r.owner.find_one(m);
            if (v == null) continue;
            const p = v.parent, box = p.el.getBoundingClientRect(), f = p.frame.bbox;
            return [box.left + (f.x0 + f.x1) / 2, box.top + (f.y0 + f.y1) / 2];
        }
        return null; }""")
    page.mouse.click(x, y)
    page.wait_for_function("""() => { const s = window.Bokeh.documents[0]
        .get_model_by_name('basin-trajectory');
        const c = s && (s.data.get ? s.data.get('x') : s.data.x);
        return c && c.length > 10; }""", timeout=60_000)
    # Known gap (Panel issue 7073): after a switch to a system whose kernels are compiled
    # on demand, one component asks cdn.holoviz.org for Panel's loading.css (the spinner's
    # style) instead of the server; nothing else may leave the server
    outside = [u for u in failed if not u.startswith(server.split("/chaoslab")[0])]
    assert all("/dist/css/loading.css" in u for u in outside), outside
    errors = [e for e in errors if not (e.startswith("Failed to load resource")
                                        and len(outside) > 0)]
    assert not errors, errors


def test_beyond_lyapunov_cobweb_early_warning_and_density(page, server):
    """The other pictures of the Beyond Lyapunov tab on a map: the logistic map's cobweb,
    early warnings along a ramp of r, its continuation, and the Henon map's density
    image."""
    errors = []
    open_app(page, server, query="?system=Logistic&r=2.5", errors=errors)
    click_tab(page, "Beyond Lyapunov")
    has_renderer = """(name) => { const d = window.Bokeh.documents[0];
        const r = d.get_model_by_name(name); if (!r) return false;
        const s = r.data_source; const c = s.data.get ? s.data.get('x') || s.data.get('image')
            : (s.data.x || s.data.image);
        return c != null && c.length > 0; }"""
    page.get_by_role("button", name="Cobweb").click()
    page.wait_for_function(has_renderer, arg="cobweb-orbit", timeout=120_000)
    page.get_by_role("button", name="Early warning").click()
    page.wait_for_function(has_renderer, arg="ew-variance-line", timeout=120_000)
    title = page.evaluate("""() => window.Bokeh.documents[0]
        .get_model_by_name('ew-variance').title.text""")
    assert "Kendall tau +" in title, title  # r from 2.5 up: the variance rises
    # the continuation over the same range: the orbit diagram of the attractors found
    page.get_by_role("button", name="Continuation").click()
    page.wait_for_function(has_renderer, arg="continuation-orbit-0", timeout=120_000)
    page.locator("select").first.select_option("Henon")
    page.get_by_role("button", name="Density").click()
    page.wait_for_function(has_renderer, arg="density-image", timeout=120_000)
    errors = [e for e in errors if not e.startswith("Failed to load resource")]
    assert not errors, errors
