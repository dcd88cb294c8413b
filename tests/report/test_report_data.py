"""The report's sections: grouping by protocol, QUBA per section, missing values, notices."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from _report_fakes import (
    KEYS,
    MODELS,
    MU,
    SIGMA,
    SIGN,
    WEIGHTS,
    expected_quba,
    expected_self_quba,
    fake_results,
)

from quba.errors import TableError
from quba.report import breakdown_panels, build_sections
from quba.report._data import NOT_EVALUATED


def _values(frame: pd.DataFrame, model: str) -> dict[str, float]:
    rows = frame[frame["model"] == model]
    return dict(zip(rows["dimension"], rows["value"], strict=True))


def test_quba_and_rank_match_protocol_formula(results):
    (section,) = build_sections(results)
    expected = {spec: expected_quba(_values(results, spec)) for spec, _ in MODELS}
    for spec, value in expected.items():
        assert section.scores.loc[spec, "quba"] == pytest.approx(value, abs=1e-12)
    order = sorted(expected, key=expected.get, reverse=True)
    ranks = section.scores["rank"]
    assert [ranks[m] for m in order] == list(range(1, len(order) + 1))
    assert section.correlations is not None
    assert section.notices == []


def test_values_intervals_and_breakdowns_are_carried(results):
    (section,) = build_sections(results)
    row = results[(results["model"] == MODELS[0][0]) & (results["dimension"] == "accuracy")].iloc[0]
    assert section.values.loc[MODELS[0][0], "accuracy"] == row["value"]
    assert section.ci_low.loc[MODELS[0][0], "accuracy"] == row["ci_low"]
    assert section.ci_high.loc[MODELS[0][0], "accuracy"] == row["ci_high"]
    assert section.breakdowns.loc[MODELS[0][0], "shape_bias"] == row_breakdown(
        results, "shape_bias"
    )
    assert list(section.values.columns) == KEYS


def row_breakdown(results: pd.DataFrame, key: str) -> dict:
    rows = results[(results["model"] == MODELS[0][0]) & (results["dimension"] == key)]
    return rows.iloc[0]["breakdown"]


def test_spearman_matches_pandas(results):
    (section,) = build_sections(results)
    rho, p, n = section.correlations
    assert (n.to_numpy() == len(MODELS)).all()
    wide = results.pivot(index="model", columns="dimension", values="value")[KEYS]
    reference = wide.corr(method="spearman")
    np.testing.assert_allclose(rho.to_numpy(), reference.to_numpy(), atol=1e-12)
    assert ((p.to_numpy() >= 0) & (p.to_numpy() <= 1)).all()
    np.testing.assert_allclose(np.diag(p.to_numpy()), 0.0, atol=1e-12)


def test_missing_dimension_gives_partial_score_and_no_rank():
    spec = MODELS[1][0]
    frame = fake_results(missing={spec: {"shape_bias": "no cue-conflict decision at all"}})
    frame = frame[~((frame["model"] == spec) & (frame["dimension"] == "params"))]
    (section,) = build_sections(frame)
    assert np.isnan(section.scores.loc[spec, "quba"])
    assert np.isnan(section.scores.loc[spec, "rank"])
    assert section.reasons.loc[spec, "shape_bias"] == "no cue-conflict decision at all"
    assert section.reasons.loc[spec, "params"] == NOT_EVALUATED
    present = {k: v for k, v in _values(frame, spec).items() if not np.isnan(v)}
    partial = sum(WEIGHTS[k] * SIGN[k] * (v - MU[k]) / SIGMA[k] for k, v in present.items())
    partial /= sum(WEIGHTS[k] for k in present)
    assert section.scores.loc[spec, "partial"] == pytest.approx(partial, abs=1e-12)
    complete = [m for m, _ in MODELS if m != spec]
    assert sorted(section.scores.loc[complete, "rank"]) == list(range(1, len(complete) + 1))
    assert any("lack dimensions" in n for n in section.notices)


def test_protocols_are_never_scored_together():
    paper = fake_results(protocol="paper", seed=1)
    pixel = fake_results(protocol="pixel", seed=2)
    sections = build_sections(pd.concat([paper, pixel], ignore_index=True))
    assert [s.protocol for s in sections] == ["paper", "pixel"]
    for section, frame in zip(sections, (paper, pixel), strict=True):
        for spec, _ in MODELS:
            assert section.scores.loc[spec, "quba"] == pytest.approx(
                expected_quba(_values(frame, spec)), abs=1e-12
            )
        assert "never scored together" in section.notices[0]


def test_subset_runs_and_suites_are_separate_sections():
    full = fake_results(seed=1)
    subset = fake_results(seed=2).assign(subset=200)
    synthetic = fake_results(seed=3).assign(suite="synthetic")
    sections = build_sections(pd.concat([full, subset, synthetic], ignore_index=True))
    labels = sorted(s.label for s in sections)
    assert labels == ["paper v1", "paper v1 (subset run, --limit 200)", "synthetic suite, paper v1"]
    by_label = {s.label: s for s in sections}
    assert any("--limit" in n for n in by_label["paper v1 (subset run, --limit 200)"].notices)
    assert any("synthetic suite" in n for n in by_label["synthetic suite, paper v1"].notices)
    assert by_label["paper v1 (subset run, --limit 200)"].slug == "paper-v1-subset200"


def test_single_model_says_what_needs_more_models():
    (section,) = build_sections(fake_results(MODELS[:1]))
    assert section.correlations is None
    assert section.scores["rank"].tolist() == [1.0]
    (notice,) = section.notices
    assert "at least 2" in notice and "at least 3" in notice


def test_two_models_have_no_correlations():
    (section,) = build_sections(fake_results(MODELS[:2]))
    assert section.correlations is None
    assert any("at least 3" in n for n in section.notices)


def test_model_filter_keeps_order_and_rejects_unknown(results):
    wanted = [MODELS[3][0], MODELS[0][0]]
    (section,) = build_sections(results, models=wanted)
    assert section.models == wanted
    with pytest.raises(TableError, match=r"timm:nope have no results in the store"):
        build_sections(results, models=["timm:nope"])


def test_breakdown_as_json_text_is_parsed(results):
    frame = results.copy()
    frame["breakdown"] = frame["breakdown"].map(json.dumps)
    (section,) = build_sections(frame)
    assert section.breakdowns.loc[MODELS[0][0], "shape_bias"] == row_breakdown(
        results, "shape_bias"
    )


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda f: f.drop(columns=["value"]), r"lacks the column\(s\) value"),
        (lambda f: f.assign(dimension="speed"), r"unknown dimension key\(s\) speed"),
        (lambda f: pd.concat([f, f.iloc[:1]]), r"two results for model 'timm:resnet50.a1_in1k'"),
        (lambda f: f.iloc[:0], "empty"),
        (lambda f: f.to_dict("records"), "expected a pandas DataFrame"),
        (lambda f: f.assign(breakdown="{not json"), "expected a JSON object in a `breakdown`"),
    ],
)
def test_malformed_tables_raise_table_error(results, mutate, message):
    with pytest.raises(TableError, match=message):
        build_sections(mutate(results))


def test_breakdown_panels_bars_grouped_and_heatmaps():
    severities = {str(k): 0.1 * k for k in range(1, 6)}
    panels = breakdown_panels(
        {
            "clean": 0.8,
            "pgd": 0.1,
            "num_images": 50_000,
            "ece_interval": [0.01, 0.02],
            "per_dataset": {"accuracy": {"edge": 0.2, "sketch": 0.5}},
            "corruption": {"fog": {"1": 0.6, "2": 0.5}, "snow": {"1": 0.4, "3": 0.2}},
            "severity": {"fog": severities, "snow": severities},
            "attack": {
                "pgd": {"clean": 0.8, "attacked": 0.1, "num_images": 9},
                "fgsm": {"clean": 0.8},
            },
            "note": "text is not drawn",
        }
    )
    assert [(p.kind, p.title) for p in panels] == [
        ("bar", "values"),
        ("bar", "per_dataset / accuracy"),
        ("grouped", "corruption"),
        ("heatmap", "severity"),
        ("grouped", "attack"),
    ]
    assert panels[0].labels == ["clean", "pgd"] and panels[0].values == [0.8, 0.1]
    grouped = panels[2]
    assert grouped.rows == ["fog", "snow"] and grouped.columns == ["1", "2", "3"]
    assert grouped.z == [[0.6, 0.5, None], [0.4, None, 0.2]]
    assert panels[3].columns == ["1", "2", "3", "4", "5"]
    assert panels[3].z[1] == [0.1 * k for k in range(1, 6)]
    assert panels[4].columns == ["clean", "attacked"] and panels[4].z == [[0.8, 0.1], [0.8, None]]
    assert breakdown_panels({}) == [] and breakdown_panels(None) == []
    assert breakdown_panels({"num_params": 25_000_000}) == []


def _by_model(frame: pd.DataFrame) -> dict[str, dict[str, float]]:
    return {spec: _values(frame, spec) for spec in dict.fromkeys(frame["model"])}


def test_synthetic_suite_is_scored_against_these_models_by_default():
    frame = fake_results(seed=5).assign(suite="synthetic")
    frame.loc[frame["dimension"] == "params", "value"] = 3.2  # one parameter count: no spread
    (section,) = build_sections(frame)
    assert section.reference == "self" and set(section.references) == {"paper", "self"}
    assert section.references["self"].ignored == ("params",)
    values = _by_model(frame)
    own = expected_self_quba(values)
    paper = {spec: expected_quba(v) for spec, v in values.items()}
    for spec in values:
        assert section.scores.loc[spec, "quba"] == pytest.approx(own[spec], abs=1e-12)
        by_ref = section.scores_by_reference
        assert by_ref["self"].loc[spec, "quba"] == pytest.approx(own[spec], abs=1e-12)
        assert by_ref["paper"].loc[spec, "quba"] == pytest.approx(paper[spec], abs=1e-12)
    order = sorted(own, key=own.get, reverse=True)
    assert [section.scores["rank"][m] for m in order] == list(range(1, len(order) + 1))
    assert any("normalised against these models" in n for n in section.notices)


def test_imagenet_suite_defaults_to_the_paper_and_offers_these_models(results):
    (section,) = build_sections(results)
    assert section.reference == "paper"
    assert section.scores is section.scores_by_reference["paper"]
    own = expected_self_quba(_by_model(results))
    for spec, value in own.items():
        assert section.scores_by_reference["self"].loc[spec, "quba"] == pytest.approx(
            value, abs=1e-12
        )
    assert section.references["self"].ignored == ()


def test_one_synthetic_model_falls_back_to_the_paper_reference():
    frame = fake_results(MODELS[:1]).assign(suite="synthetic")
    (section,) = build_sections(frame)
    assert section.reference == "paper" and set(section.references) == {"paper"}
    expected = expected_quba(_values(frame, MODELS[0][0]))
    assert section.scores.loc[MODELS[0][0], "quba"] == pytest.approx(expected, abs=1e-12)
    assert any("only illustrate the score" in n for n in section.notices)


def test_page_and_terminal_table_score_a_synthetic_run_alike():
    from types import SimpleNamespace

    from quba.cli.evaluate import quba_scores

    frame = fake_results(seed=11).assign(suite="synthetic")
    frame.loc[frame["dimension"] == "params", "value"] = 0.3  # the tiny zoo's shared count
    wide = frame.pivot(index="model", columns="dimension", values="value")[KEYS].reset_index()
    evaluation = SimpleNamespace(
        dims=tuple(KEYS), label_space="synthetic", to_frame=lambda: wide.copy()
    )
    terminal, reference = quba_scores(evaluation)
    (section,) = build_sections(frame)
    assert reference == section.reference == "self"
    own = expected_self_quba(_by_model(frame))
    for spec, value in own.items():
        assert terminal[spec] == pytest.approx(value, abs=1e-12)
        assert section.scores.loc[spec, "quba"] == pytest.approx(value, abs=1e-12)
