"""A real browser: every page of the built site loads offline, draws its charts, logs no error.

Uses Debian's Chromium (``make test`` installs it where it can). Without it the test is skipped,
except under CI=true, where a missing browser is a failure.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
from urllib.parse import urlparse

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# The book theme declares this once on every page; it is harmless and filtered by exact text.
KNOWN_HARMLESS = {"Identifier 'THEBE_JS_URL' has already been declared"}
CHART_PAGES = {
    "book/fleet.html": 3,
    "book/power.html": 3,
    "book/costs.html": 3,
    "book/emissions.html": 2,
    "book/training.html": 4,
    "book/validation.html": 1,
    "book/uncertainty.html": 2,
    "book/history.html": 4,
    "book/scenarios.html": 1,
}


def _require_browser():
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed; CI needs it for the browser test")
        pytest.skip("chromium is not installed (make test installs it where it can)")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass


@pytest.fixture(scope="module")
def served(site):
    handler = functools.partial(QuietHandler, directory=str(site / "_build" / "html"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", site
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield launched
        launched.close()


#: What the machinery leaves on a page when a value is handed over wrong: a tuple where a
#: number belongs (myst-nb read "200,000" as a literal), NumPy's or Python's reprs, an
#: unresolved glue or reference, a traceback, Markdown inside a glued text, a number written
#: with a format of its own rather than by gpufleet.formatting (Python's "1.23457e+06", "-0").
MACHINERY = (
    r"\(\d+, \d+\)",
    r"np\.float",
    r"np\.int",
    r"\bnan\b",
    r"\de[+-]\d\d",
    r"(?<![\w.,])-0(?![\d.,])",
    r"\{glue",
    r"\?\?",
    r"Traceback",
    r"object at 0x",
    r"`",  # Markdown pasted as text: glued text is not parsed again
)


def _pages(site):
    html = site / "_build" / "html"
    return sorted(
        str(p.relative_to(html))
        for p in html.rglob("*.html")
        if "_static" not in p.parts and "_sources" not in p.parts
    )


def test_every_page_loads_offline_and_draws(served, browser):
    base, site = served
    pages = _pages(site)
    assert "book/fleet.html" in pages
    for page_path in pages:
        page = browser.new_page()
        errors, outside = [], []
        page.on(
            "console",
            lambda msg, errors=errors: (
                msg.type == "error" and msg.text not in KNOWN_HARMLESS and errors.append(msg.text)
            ),
        )
        page.on(
            "pageerror",
            lambda exc, errors=errors: str(exc) not in KNOWN_HARMLESS and errors.append(str(exc)),
        )
        page.on(
            "request",
            lambda req, outside=outside: (
                urlparse(req.url).hostname not in ("127.0.0.1", None)
                and not req.url.startswith("data:")
                and outside.append(req.url)
            ),
        )
        page.on(
            "requestfailed", lambda req, errors=errors: errors.append(f"failed request {req.url}")
        )
        page.goto(f"{base}/{page_path}", wait_until="networkidle")
        shown = page.inner_text("main") if page.locator("main").count() else ""
        leftovers = [pattern for pattern in MACHINERY if re.search(pattern, shown)]
        assert not leftovers, f"{page_path} shows {leftovers} where a reader expects words"
        expected = CHART_PAGES.get(page_path, 0)
        if expected:
            page.wait_for_function(
                f"document.querySelectorAll('.vega-embed .marks').length >= {expected}",
                timeout=15_000,
            )
            drawn = page.eval_on_selector_all(
                ".vega-embed .marks",
                "els => els.map(e => [e.getBoundingClientRect().width, "
                "e.getBoundingClientRect().height])",
            )
            assert len(drawn) >= expected
            assert all(w > 200 and h > 50 for w, h in drawn), drawn
            assert page.locator("text=Error loading script").count() == 0
            assert page.locator(".vega-embed .error").count() == 0
        page.close()
        assert not errors, f"{page_path}: {errors}"
        assert not outside, f"{page_path} requested {outside}"


def test_chart_has_tooltips(served, browser):
    base, _ = served
    page = browser.new_page()
    page.goto(f"{base}/book/fleet.html", wait_until="networkidle")
    page.wait_for_selector(".vega-embed svg .mark-rect path")
    bar = page.locator(".vega-embed svg .mark-rect path").first
    bar.hover()
    page.wait_for_selector("#vg-tooltip-element.visible", timeout=5_000)
    assert "GPUs" in page.locator("#vg-tooltip-element").inner_text()
    page.close()


def test_an_explorer_follows_its_slider_to_the_models_value(served, browser, project):
    """Moving a slider, then picking an option, on the power page shows the yearly energy the
    package computes for that setting."""
    from gpufleet.model import headlines
    from gpufleet.model.params import defaults

    base, _ = served
    page = browser.new_page()
    page.goto(f"{base}/book/power.html", wait_until="networkidle")
    panel = page.locator(".vega-embed:has(input[type=range])").first
    panel.wait_for(timeout=15_000)
    readout = panel.locator("svg g.mark-text text").first
    default = defaults(project)
    expected = headlines.compute_all(default, project)["annual_energy_twh"]
    assert readout.text_content() == f"{expected:,.2f}"
    slider = panel.locator("input[type=range]").first
    name = slider.evaluate(
        "el => el.closest('.vega-bind').querySelector('.vega-bind-name').textContent"
    )
    assert name.startswith("Average draw as a share of peak")
    for position in ("min", "max"):
        value = slider.evaluate(
            f"el => {{ el.value = el.{position}; el.dispatchEvent(new Event('input', "
            "{bubbles: true})); return el.value; }"
        )
        page.wait_for_timeout(300)
        moved = headlines.compute_all({**default, "avg_power_fraction": float(value)}, project)
        assert readout.text_content() == f"{moved['annual_energy_twh']:,.2f}", position
    # The second assumption is a choice: a selector, its options in words.
    selector = panel.locator("select").first
    labels = selector.evaluate("el => [...el.options].map(o => o.textContent)")
    assert "memory capacity" in labels and "dense BF16 throughput" in labels
    selector.select_option(label="memory capacity")
    page.wait_for_timeout(300)
    picked = headlines.compute_all(
        {**default, "avg_power_fraction": float(value), "equivalence_metric": "memory_capacity"},
        project,
    )
    assert readout.text_content() == f"{picked['annual_energy_twh']:,.2f}"
    assert picked["annual_energy_twh"] != moved["annual_energy_twh"]
    page.close()


@pytest.mark.parametrize("width", [1400, 412])
def test_no_page_is_wider_than_the_screen(served, browser, width):
    """Wide tables and charts scroll inside the text column, on a desktop and on a phone:
    nothing makes the page itself wider than the window."""
    base, site = served
    page = browser.new_page(viewport={"width": width, "height": 900})
    wider = {}
    for page_path in _pages(site):
        page.goto(f"{base}/{page_path}", wait_until="networkidle")
        page.wait_for_timeout(300)  # the charts draw
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        if overflow > 0:
            wider[page_path] = overflow
        # Charts shrink to their column rather than scroll inside it.
        charts = page.evaluate(
            "() => [...document.querySelectorAll('.vega-embed svg.marks')].map(svg => "
            "svg.getBoundingClientRect().right - "
            "svg.closest('.vega-embed').parentElement.getBoundingClientRect().right)"
        )
        if charts and max(charts) > 1:
            wider[f"{page_path} (a chart)"] = round(max(charts))
    page.close()
    assert not wider, f"pages or charts wider than a {width}-pixel window, by pixels: {wider}"
