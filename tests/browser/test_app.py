"""The served app in headless Chromium: it loads cleanly and reacts to the controls."""
import pytest

pytestmark = pytest.mark.browser


def _source_data(page, name="attractor"):
    """The x data of the first renderer of the named Bokeh figure, read from BokehJS."""
    return page.evaluate(
        """(name) => {
            const doc = window.Bokeh.documents[0];
            const fig = doc.get_model_by_name(name);
            const src = fig.renderers[0].data_source;
            return Array.from(src.data.get ? src.data.get('a') : src.data['a']).slice(0, 50);
        }""", name)


def _wait_for_data(page):
    page.wait_for_function(
        """() => {
            const d = window.Bokeh && window.Bokeh.documents[0];
            if (!d) return false;
            const f = d.get_model_by_name('attractor');
            if (!f) return false;
            const s = f.renderers[0].data_source.data;
            const a = s.get ? s.get('a') : s['a'];
            return a && a.length > 100;
        }""", timeout=60_000)


def test_page_loads_without_console_errors(page, server):
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server)
    _wait_for_data(page)
    assert page.locator("canvas").count() >= 1
    assert "chaoslab" in page.title()
    assert not errors, errors


def test_switching_system_changes_the_plotted_data(page, server):
    page.goto(server)
    _wait_for_data(page)
    before = _source_data(page)
    page.locator("select").first.select_option("Rossler")
    page.wait_for_function(
        """(before) => {
            const s = window.Bokeh.documents[0].get_model_by_name('attractor')
                         .renderers[0].data_source.data;
            const a = s.get ? s.get('a') : s['a'];
            return a && a.length > 100 && a[5] !== before[5];
        }""", arg=before, timeout=60_000)
    after = _source_data(page)
    assert after[:5] != before[:5]
