"""The HTML page: self-contained, offline, one copy of plotly.js, the data and constants as JSON."""

from __future__ import annotations

import json
import re
import sys
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import plotly.offline
import pytest
from _report_fakes import (
    KEYS,
    MODELS,
    MU,
    SIGMA,
    WEIGHTS,
    expected_quba,
    expected_self_quba,
    fake_results,
)

from quba.errors import MissingExtraError
from quba.report import build_report


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _payload(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="quba-data">(.*?)</script>', html, re.S)
    assert match is not None
    return json.loads(match.group(1))


@pytest.fixture
def page(results, tmp_path) -> str:
    path = build_report(results, output=tmp_path / "out" / "report.html", title="My models")
    assert path == tmp_path / "out" / "report.html"
    return path.read_text("utf-8")


def test_plotly_is_embedded_once_and_nothing_is_fetched(page):
    plotly_js = plotly.offline.get_plotlyjs()
    assert page.count(plotly_js[:500]) == 1
    parser = _Tags()
    parser.feed(page)
    external = [
        (tag, attrs)
        for tag, attrs in parser.tags
        if any(re.match(r"\s*(https?:)?//", attrs.get(a) or "") for a in ("src", "href", "data"))
    ]
    assert external == []
    assert [t for t, a in parser.tags if t == "script" and a.get("src")] == []
    assert [t for t, _ in parser.tags if t == "link"] == []


def test_payload_carries_protocol_constants_and_python_scores(page):
    data = _payload(page)
    assert data["title"] == "My models"
    assert [d["key"] for d in data["dimensions"]] == KEYS
    for d in data["dimensions"]:
        assert d["mu"] == MU[d["key"]] and d["sigma"] == SIGMA[d["key"]]
        assert d["weight"] == pytest.approx(WEIGHTS[d["key"]], abs=1e-15)
    assert data["presets"]["paper"] == {d["key"]: d["weight"] for d in data["dimensions"]}
    (section,) = data["sections"]
    frame = fake_results()
    for model in section["models"]:
        rows = frame[frame["model"] == model["spec"]]
        values = dict(zip(rows["dimension"], rows["value"], strict=True))
        assert model["quba_python"] == pytest.approx(expected_quba(values), abs=1e-12)
        assert model["values"]["accuracy"]["value"] == values["accuracy"]
    assert section["correlations"]["num_models"] == len(MODELS)
    assert "c_robustness" in section["breakdowns"][MODELS[0][0]]
    assert section["reference"] == "paper"
    assert section["references"]["paper"] == {
        "label": "paper",
        "mu": MU,
        "sigma": SIGMA,
        "ignored": [],
    }


def test_payload_carries_these_models_statistics(tmp_path):
    frame = fake_results(seed=2).assign(suite="synthetic")
    frame.loc[frame["dimension"] == "params", "value"] = 7.0
    html = build_report(frame, output=tmp_path / "r.html").read_text("utf-8")
    (section,) = _payload(html)["sections"]
    assert section["reference"] == "self"
    own = section["references"]["self"]
    assert own["label"] == "these models" and own["ignored"] == ["params"]
    assert set(own["mu"]) == set(KEYS) - {"params"}
    for key, mu in own["mu"].items():
        column = frame[frame["dimension"] == key]["value"].to_numpy()
        assert mu == pytest.approx(column.mean(), abs=1e-15)
        assert own["sigma"][key] == pytest.approx(column.std(ddof=1), rel=1e-12)
    values = {
        spec: dict(zip(rows["dimension"], rows["value"], strict=True))
        for spec, rows in frame.groupby("model", sort=False)
    }
    expected = expected_self_quba(values)
    for model in section["models"]:
        by_ref = model["quba_python_by_reference"]
        assert model["quba_python"] == by_ref["self"]
        assert by_ref["self"] == pytest.approx(expected[model["spec"]], abs=1e-12)
        assert by_ref["paper"] == pytest.approx(expected_quba(values[model["spec"]]), abs=1e-12)


def test_missing_values_are_null_with_reason(tmp_path):
    spec = MODELS[0][0]
    frame = fake_results(missing={spec: {"object_focus": "clean accuracy is zero"}})
    html = build_report(frame, output=tmp_path / "r.html").read_text("utf-8")
    model = next(m for m in _payload(html)["sections"][0]["models"] if m["spec"] == spec)
    assert model["values"]["object_focus"] == {
        "value": None,
        "ci_low": None,
        "ci_high": None,
        "num_samples": 50_000,
        "reason": "clean accuracy is zero",
    }
    assert model["quba_python"] is None
    assert "NaN" not in html.split('id="quba-data">', 1)[1].split("</script>", 1)[0]


def test_hostile_names_cannot_break_out_of_the_script(tmp_path):
    evil = "</script><script>alert(1)</script><!--"
    frame = fake_results([(evil, 10.0), *MODELS[:2]])
    html = build_report(frame, output=tmp_path / "r.html", title="<b>t</b>").read_text("utf-8")
    assert html.count("</script>") == 3
    assert "<title>&lt;b&gt;t&lt;/b&gt;</title>" in html
    assert _payload(html)["sections"][0]["models"][0]["spec"] == evil


def test_two_protocols_give_two_sections(tmp_path):
    frame = pd.concat([fake_results(protocol="paper"), fake_results(protocol="pixel", seed=5)])
    html = build_report(frame, output=tmp_path / "r.html").read_text("utf-8")
    sections = _payload(html)["sections"]
    assert [s["protocol"] for s in sections] == ["paper", "pixel"]
    assert all("never scored together" in s["notices"][0] for s in sections)


def test_missing_plotly_raises_missing_extra(results, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "plotly", None)
    monkeypatch.setitem(sys.modules, "plotly.offline", None)
    with pytest.raises(MissingExtraError, match=r"plotly") as info:
        build_report(results, output=tmp_path / "r.html")
    assert "quba[report]" in str(info.value)
    assert not (tmp_path / "r.html").exists()


def test_output_is_replaced_atomically(results, tmp_path):
    target = tmp_path / "r.html"
    target.write_text("old")
    build_report(results, output=target)
    assert target.read_text("utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]
    assert np.isfinite(len(target.read_bytes()))
