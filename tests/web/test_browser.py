"""End to end in a real browser: Playwright driving the system's Chromium (never a download).

A uvicorn server runs the app in a thread on a free loopback port. Screenshots of every page go
to ``out/test-artifacts/web/`` (or ``$BLOCSIM_ARTIFACTS``). Skipped, saying why, when Chromium
or the playwright package is missing: ``make test-slow`` and ``.ci/run`` install both.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from html import unescape

import numpy as np
import pandas as pd
import pytest

from model.web import whatif as wi

from .conftest import ROOT, serving, shot

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server():
    """The app on a loopback port, served by uvicorn in a thread; yields its base URL."""
    from model.web import security as sec
    from model.web.app import create_app

    app = create_app(codes=sec.Codes.issue(["red", "blue"]))
    with serving(app) as base:
        yield base, app


def median_path(page) -> str:
    return page.locator("#bloc-chart path.median").first.get_attribute("d")


def test_slider_redraws_and_download_reproduces_numbers(server, browser, tmp_path):
    base, _ = server
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{base}/whatif")
    page.wait_for_selector("#bloc-chart")
    shot(page, "whatif-baseline")
    key, before = page.get_attribute("#result", "data-key"), median_path(page)

    page.locator("#lever-public_diplomacy-intensity").fill("1")
    page.wait_for_selector(f"#result:not([data-key='{key}'])", timeout=20_000)
    assert median_path(page) != before  # the chart was redrawn with other numbers
    assert "baseline-whatif" in page.inner_text("#result .meta")
    assert page.input_value("#lever-public_diplomacy-intensity") == "1"
    assert page.inner_text("output[for=lever-public_diplomacy-intensity]") == "1.00"
    page.wait_for_selector("#drivers table", timeout=20_000)  # loaded after the chart
    assert page.inner_text("#drivers tbody tr th >> nth=0") == "West: public diplomacy"
    shot(page, "whatif-moved")

    with page.expect_download() as dl:
        page.click("#download-yaml")
    yaml_file = tmp_path / "whatif.yaml"
    dl.value.save_as(yaml_file)
    numbers = context.request.get(base + page.get_attribute("#download-numbers", "href"))
    assert numbers.ok

    out = tmp_path / "run"
    done = subprocess.run([sys.executable, "-m", "model", "run", str(yaml_file), "--out",
                           str(out), "--no-plots", "-q"], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert done.returncode == 0, done.stderr
    assert (out / "blocs.csv").read_bytes() == numbers.body()  # to the byte

    # and the chart's own numbers are the quantiles of those runs
    blocs = pd.read_csv(out / "blocs.csv")
    rows = page.locator("#fan-numbers tbody tr")
    seen = 0
    for i in range(0, rows.count(), 5):
        cells = [unescape(c) for c in rows.nth(i).locator("td").all_text_contents()]
        year, camp, qs = int(cells[0]), cells[1], [float(c) for c in cells[2:]]
        values = blocs.loc[blocs["year"] == year, f"gdp_share_{camp}"].to_numpy()
        np.testing.assert_allclose(qs, np.quantile(values, wi.FAN_QUANTILES), atol=2e-5)
        seen += 1
    assert seen >= 6
    context.close()


def test_target_picker_loads_and_picking_redraws(server, browser):
    base, _ = server
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{base}/whatif")
    page.wait_for_selector("#bloc-chart")
    key = page.get_attribute("#result", "data-key")
    page.click("#lever-cpec summary")
    picker = page.wait_for_selector("select[name=lever-cpec-targets]")
    assert picker.evaluate("s => [...s.selectedOptions].map(o => o.value)") == ["PAK"]
    picker.select_option(["PAK", "IRN"])
    page.wait_for_selector(f"#result:not([data-key='{key}'])", timeout=20_000)
    assert "baseline-whatif" in page.inner_text("#result .meta")
    shot(page, "whatif-targets")
    page.close()


def test_upload_error_shows_beside_the_field(server, browser, tmp_path):
    base, _ = server
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{base}/whatif")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nsco:\n  cpec:\n    intensity: 3\n", encoding="utf-8")
    page.set_input_files("#upload", str(bad))
    page.click("form[action='/whatif/upload'] button")
    page.wait_for_selector("#err-upload:has-text('sco.cpec.intensity')")
    assert "upload bad.yaml:4" in page.inner_text("#err-upload")
    shot(page, "whatif-upload-error")

    good = tmp_path / "mine.yaml"
    shutil.copy(wi.SCENARIO_DIR / "sco_expansion.yaml", good)
    text = good.read_text(encoding="utf-8")
    assert "extends" in text  # shipped files extend the baseline: an upload must be whole
    page.set_input_files("#upload", str(good))
    page.click("form[action='/whatif/upload'] button")
    page.wait_for_selector("#err-upload:has-text('cannot extend')")
    page.close()


def test_pages_and_roles_in_a_browser(server, browser):
    base, app = server
    codes = app.state.web.codes
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    for path, name in (("/", "index"), ("/join", "join"), ("/board", "board")):
        page.goto(base + path)
        shot(page, name)
    response = page.goto(f"{base}/facilitator")
    assert response.status == 403
    page.goto(f"{base}/join")
    page.fill("#code", codes.teams["red"])
    page.click("form.join button")
    page.wait_for_url("**/team")
    assert "team:red" in page.inner_text("main")
    shot(page, "team-stub")
    assert page.goto(f"{base}/facilitator").status == 403  # a team's session is not enough
    phone = browser.new_page(viewport={"width": 390, "height": 844})
    phone.goto(f"{base}/whatif")
    phone.wait_for_selector("#bloc-chart")
    shot(phone, "whatif-phone")
    page.close()
    phone.close()

