"""The page in headless Chromium: no console errors, plots drawn, weights re-rank live.

Drives Debian's ``chromium`` over the DevTools protocol (tests/report/_cdp.py). The screenshot is
kept as test-artifacts/report.png; with QUBA_UPDATE_SCREENSHOT=1 the test also writes
docs/report-screenshot.png (the README's picture) from a report of twelve fake zoo models.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _cdp import Browser
from _report_fakes import (
    KEYS,
    MODELS,
    MU,
    SCREENSHOT_MODELS,
    SIGMA,
    SIGN,
    WEIGHTS,
    expected_quba,
    expected_self_quba,
    fake_results,
)

from quba.report import build_report

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"headless Chromium not found at {CHROMIUM} (Debian: apt-get install chromium)",
    ),
]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    profile = tmp_path_factory.mktemp("chromium-profile")
    chromium = Browser(CHROMIUM, profile)
    for domain in ("Runtime", "Log", "Network", "Page"):
        chromium.call(f"{domain}.enable")
    yield chromium
    chromium.close()


def _open(browser: Browser, path: Path) -> None:
    browser.events.clear()
    browser.call("Page.navigate", url=path.as_uri())
    browser.wait_for("Page.loadEventFired")
    deadline = time.monotonic() + 30
    while browser.evaluate("document.body.getAttribute('data-ready')") != "true":
        assert time.monotonic() < deadline, "the page script never finished"
        time.sleep(0.1)


def _problems(browser: Browser) -> list[str]:
    """Console errors/warnings, uncaught exceptions, error log entries, network requests."""
    problems = []
    for event in browser.events:
        method, params = event["method"], event["params"]
        if method == "Runtime.consoleAPICalled" and params["type"] in (
            "error",
            "warning",
            "assert",
        ):
            problems.append(f"console.{params['type']}: {json.dumps(params['args'])[:300]}")
        elif method == "Runtime.exceptionThrown":
            problems.append(f"exception: {json.dumps(params['exceptionDetails'])[:300]}")
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            problems.append(f"log: {params['entry']['text']}")
        elif method == "Network.requestWillBeSent":
            url = params["request"]["url"]
            if not url.startswith(("file:", "data:", "blob:", "about:")):
                problems.append(f"network request: {url}")
    return problems


def _order(browser: Browser) -> list[str]:
    return browser.evaluate(
        "[...document.querySelectorAll('#leaderboard tbody tr')].map(r => r.dataset.model)"
    )


def _set_weight(browser: Browser, key: str, value: float) -> None:
    browser.evaluate(
        f"(() => {{ const i = document.getElementById('weight-{key}'); i.value = '{value}';"
        " i.dispatchEvent(new Event('input', {bubbles: true})); })()"
    )


def test_page_renders_scores_match_python_and_weights_rerank(browser, tmp_path):
    frame = fake_results()
    page = build_report(frame, output=tmp_path / "report.html", figures=None)
    _open(browser, page)
    assert _problems(browser) == []

    plots = browser.evaluate(
        "Object.fromEntries([...document.querySelectorAll('.js-plotly-plot')]"
        ".map(d => [d.id, d.querySelectorAll('svg.main-svg').length]))"
    )
    for plot in ("scatter", "radar", "correlation"):
        assert plots.get(plot, 0) > 0, plots
    assert sum(1 for k in plots if k.startswith("detail-")) >= 4
    points = browser.evaluate("document.querySelectorAll('#scatter .scatterlayer .point').length")
    assert points == len(MODELS)

    values = {
        spec: dict(zip(rows["dimension"], rows["value"], strict=True))
        for spec, rows in frame.groupby("model")
    }
    paper = {spec: expected_quba(v) for spec, v in values.items()}
    js = browser.evaluate(
        "Object.fromEntries([...document.querySelectorAll('#leaderboard tbody tr')]"
        ".map(r => [r.dataset.model, Number(r.dataset.quba)]))"
    )
    assert js.keys() == paper.keys()
    for spec, value in paper.items():
        assert js[spec] == pytest.approx(value, abs=1e-12)
    before = _order(browser)
    assert before == sorted(paper, key=paper.get, reverse=True)

    # Parameters dominate: the smallest model must come first, in the order Python predicts.
    _set_weight(browser, "params", 20)
    heavy = {**WEIGHTS, "params": 20}
    expected = sorted(values, key=lambda s: expected_quba(values[s], heavy), reverse=True)
    after = _order(browser)
    assert after == expected and after != before
    ranks = browser.evaluate(
        "[...document.querySelectorAll('#leaderboard tbody td.rank')].map(t => t.textContent)"
    )
    assert ranks == [str(i) for i in range(1, len(MODELS) + 1)]

    browser.evaluate("document.getElementById('paper-weights').click()")
    assert _order(browser) == before
    assert browser.evaluate("document.getElementById('weight-params').value") == "1"

    # Sorting by a column header: parameters ascending.
    browser.evaluate("document.querySelector('#leaderboard th[data-key=\"params\"]').click()")
    by_params = sorted(values, key=lambda s: values[s]["params"])
    assert _order(browser) == by_params
    browser.evaluate("document.querySelector('#leaderboard th[data-key=\"rank\"]').click()")
    assert _problems(browser) == []

    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    browser.evaluate("window.scrollTo(0, 0)")
    browser.screenshot(artifacts / "report.png")
    assert (artifacts / "report.png").read_bytes().startswith(b"\x89PNG")

    if os.environ.get("QUBA_UPDATE_SCREENSHOT") == "1":
        docs = build_report(fake_results(SCREENSHOT_MODELS), output=tmp_path / "docs.html")
        _open(browser, docs)
        assert _problems(browser) == []
        browser.screenshot(ROOT / "docs" / "report-screenshot.png", height=1350)


def test_awkward_stores_render_without_errors(browser, tmp_path):
    spec = MODELS[0][0]
    paper = fake_results(missing={spec: {"shape_bias": "no shape or texture decision"}})
    pixel = fake_results(MODELS[:1], protocol="pixel", seed=3)
    frame = pd.concat([paper, pixel], ignore_index=True)
    page = build_report(frame, output=tmp_path / "awkward.html")
    _open(browser, page)

    missing = browser.evaluate(
        f"(() => {{ const r = document.querySelector('#leaderboard tr[data-model=\"{spec}\"]');"
        " return [r.querySelector('td.rank').textContent, r.querySelector('td.quba').textContent,"
        f" r.children[6 + {KEYS.index('shape_bias')}].title]; }})()"
    )
    assert missing[0] == "—" and missing[1].endswith("(partial)")
    assert missing[2] == "no shape or texture decision"
    notices = browser.evaluate("document.getElementById('notices').textContent")
    assert "never scored together" in notices and "lack dimensions" in notices

    # Switch to the single-model protocol: one row, no correlation plot, and it says why.
    browser.evaluate(
        "(() => { const s = document.getElementById('section-select'); s.value = '1';"
        " s.dispatchEvent(new Event('change')); })()"
    )
    assert _order(browser) == [MODELS[0][0]]
    note = browser.evaluate("document.getElementById('correlation-note').textContent")
    assert "at least 3 models" in note
    notices = browser.evaluate("document.getElementById('notices').textContent")
    assert "Only one model" in notices
    assert _problems(browser) == []


def _js_quba(browser: Browser) -> dict[str, float]:
    return browser.evaluate(
        "Object.fromEntries([...document.querySelectorAll('#leaderboard tbody tr')]"
        ".map(r => [r.dataset.model, Number(r.dataset.quba)]))"
    )


def _select(browser: Browser, element: str, value: str) -> None:
    browser.evaluate(
        f"(() => {{ const s = document.getElementById('{element}'); s.value = '{value}';"
        " s.dispatchEvent(new Event('change')); })()"
    )


def _radar(browser: Browser) -> dict[str, list[float | None]]:
    """Model spec -> the radar's z-scores (nine axes, the first repeated to close the line)."""
    return browser.evaluate(
        "(() => { const data = JSON.parse(document.getElementById('quba-data').textContent);"
        " const s = data.sections[Number(document.getElementById('section-select').value)];"
        " const spec = Object.fromEntries(s.models.map(m => [m.name, m.spec]));"
        " return Object.fromEntries(document.getElementById('radar').data"
        ".map(t => [spec[t.name], t.r])); })()"
    )


def _signed_z(values: dict[str, float], mu: dict[str, float], sigma: dict[str, float]) -> list:
    return [
        None if k not in mu else SIGN[k] * (values[k] - mu[k]) / sigma[k] for k in [*KEYS, KEYS[0]]
    ]


def test_reference_selector_scores_against_paper_or_these_models(browser, tmp_path):
    imagenet = fake_results()
    synthetic = fake_results(seed=7).assign(suite="synthetic")
    synthetic.loc[synthetic["dimension"] == "params", "value"] = 3.2  # no spread: weight 0
    page = build_report(
        pd.concat([imagenet, synthetic], ignore_index=True), output=tmp_path / "r.html"
    )
    _open(browser, page)

    def values_of(frame):
        return {
            spec: dict(zip(rows["dimension"], rows["value"], strict=True))
            for spec, rows in frame.groupby("model")
        }

    def check(values, expected, mu, sigma):
        js = _js_quba(browser)
        assert js.keys() == expected.keys()
        for spec, value in expected.items():
            assert js[spec] == pytest.approx(value, abs=1e-12)
        assert _order(browser) == sorted(expected, key=expected.get, reverse=True)
        for spec, r in _radar(browser).items():
            want = _signed_z(values[spec], mu, sigma)
            assert [x is None for x in r] == [x is None for x in want]
            assert [x for x in r if x is not None] == pytest.approx(
                [x for x in want if x is not None], abs=1e-12
            )

    def own_stats(values, ignored=()):
        keys = [k for k in KEYS if k not in ignored]
        mu = {k: float(np.mean([v[k] for v in values.values()])) for k in keys}
        sigma = {k: float(np.std([v[k] for v in values.values()], ddof=1)) for k in keys}
        return mu, sigma

    # ImageNet section: the paper by default; "these models" on request.
    values = values_of(imagenet)
    assert browser.evaluate("document.getElementById('reference').value") == "paper"
    check(values, {s: expected_quba(v) for s, v in values.items()}, MU, SIGMA)
    _select(browser, "reference", "self")
    check(values, expected_self_quba(values), *own_stats(values))
    assert "these models" in browser.evaluate("document.getElementById('formula-note').textContent")

    # Synthetic section: "these models" by default, parameters ignored (no spread).
    _select(browser, "section-select", "1")
    values = values_of(synthetic)
    assert browser.evaluate("document.getElementById('reference').value") == "self"
    own = expected_self_quba(values)
    check(values, own, *own_stats(values, ("params",)))
    note = browser.evaluate("document.getElementById('reference-note').textContent")
    assert "No spread, so weight 0: Parameters" in note
    notices = browser.evaluate("document.getElementById('notices').textContent")
    assert "normalised against these models" in notices

    # Weights follow the reference: params has no spread, so its weight changes nothing ...
    _set_weight(browser, "params", 20)
    assert _order(browser) == sorted(own, key=own.get, reverse=True)
    # ... while accuracy re-ranks as Python predicts.
    _set_weight(browser, "accuracy", 20)
    heavy = {**WEIGHTS, "params": 20, "accuracy": 20}
    own_heavy = expected_self_quba(values, heavy)
    assert _order(browser) == sorted(own_heavy, key=own_heavy.get, reverse=True)
    browser.evaluate("document.getElementById('paper-weights').click()")

    _select(browser, "reference", "paper")
    check(values, {s: expected_quba(v) for s, v in values.items()}, MU, SIGMA)
    assert browser.evaluate("document.getElementById('radar-reference').textContent") == (
        "the paper's reference"
    )
    assert _problems(browser) == []
