"""``quba report``: reads the results store, writes the page and figures, explains bad input."""

from __future__ import annotations

import json
import re

import pytest
from _report_fakes import MODELS, expected_quba, fake_results

from quba.cli.app import main
from quba.store import ResultRecord, ResultStore


def _fill(path, frame) -> None:
    records = [
        ResultRecord(
            model=row["model"],
            dimension=row["dimension"],
            protocol=row["protocol"],
            value=None if row["value"] != row["value"] else float(row["value"]),
            ci_low=None if row["ci_low"] != row["ci_low"] else float(row["ci_low"]),
            ci_high=None if row["ci_high"] != row["ci_high"] else float(row["ci_high"]),
            num_samples=int(row["num_samples"]),
            missing_reason=row["missing_reason"],
            breakdown=row["breakdown"] or {},
            provenance=row["provenance"],
            protocol_version=row["protocol_version"],
        )
        for _, row in frame.iterrows()
    ]
    ResultStore(path).put(records)


def _payload(path) -> dict:
    html = path.read_text("utf-8")
    match = re.search(r'<script type="application/json" id="quba-data">(.*?)</script>', html, re.S)
    return json.loads(match.group(1))


def _run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as done:
        main(argv)
    return done.value.code


def test_report_from_store_with_filters(tmp_path, capsys):
    store = tmp_path / "results.sqlite"
    paper = fake_results(protocol="paper", seed=1)
    _fill(store, paper)
    _fill(store, fake_results(protocol="pixel", seed=2))
    out = tmp_path / "report.html"
    wanted = [MODELS[2][0], MODELS[0][0]]
    code = _run(
        [
            "report",
            "--store",
            str(store),
            "--protocol",
            "paper",
            "--models",
            ",".join(wanted),
            "--output",
            str(out),
        ]
    )
    assert code == 0
    assert "paper v1: 2 models, 2 with a QUBA" in capsys.readouterr().out
    (section,) = _payload(out)["sections"]
    assert [m["spec"] for m in section["models"]] == wanted
    for model in section["models"]:
        rows = paper[paper["model"] == model["spec"]]
        values = dict(zip(rows["dimension"], rows["value"], strict=True))
        assert model["quba_python"] == pytest.approx(expected_quba(values), abs=1e-12)
    (provenance,) = section["provenance"][wanted[0]]  # one run: one entry for all nine
    assert provenance["device"] == "cuda:0"
    assert sorted(provenance["dimensions"]) == sorted(paper["dimension"].unique())


@pytest.mark.slow
def test_report_with_figures_and_two_protocols(tmp_path, capsys):
    store = tmp_path / "results.sqlite"
    # Without breakdowns: four views per protocol keep this test short.
    _fill(store, fake_results(MODELS[:3], protocol="paper").assign(breakdown=None))
    _fill(store, fake_results(MODELS[:3], protocol="pixel", seed=4).assign(breakdown=None))
    code = _run(
        [
            "report",
            "--store",
            str(store),
            "-o",
            str(tmp_path / "r.html"),
            "--figures",
            str(tmp_path / "fig"),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "paper v1: 3 models" in out and "pixel v1: 3 models" in out
    names = {p.name for p in (tmp_path / "fig").iterdir()}
    assert names == {
        f"{protocol}-v1_{view}.{ext}"
        for protocol in ("paper", "pixel")
        for view in ("leaderboard", "scatter", "radar", "correlation")
        for ext in ("png", "pdf")
    }


def test_missing_store_and_empty_selection_are_user_errors(tmp_path, capsys):
    code = _run(["report", "--store", str(tmp_path / "nope.sqlite")])
    assert code == 2
    assert "no such file" in " ".join(capsys.readouterr().err.split())
    assert not (tmp_path / "nope.sqlite").exists()

    store = tmp_path / "results.sqlite"
    _fill(store, fake_results(MODELS[:1]))
    code = _run(["report", "--store", str(store), "--protocol", "pixel"])
    assert code == 2
    err = " ".join(capsys.readouterr().err.split())  # rich wraps long lines
    assert "holds no results for protocol pixel" in err
    assert "timm:resnet50.a1_in1k (imagenet, paper)" in err
