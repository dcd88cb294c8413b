"""QUBA against a by-hand computation from PROTOCOL.md's constants; weights, presets, references,
correlations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from paper_constants import KEYS, MU, SIGMA, WEIGHT, by_hand

from quba.errors import ConfigError
from quba.scoring import (
    PAPER_REFERENCE,
    PAPER_WEIGHTS,
    Reference,
    get_preset,
    list_presets,
    parse_weights,
    quba_score,
    rank_correlations,
    self_reference,
)

ROW = dict(zip(KEYS, [0.81, 0.25, 0.62, 0.58, 0.003, 0.79, 0.94, 0.33, 25.6], strict=True))


def test_paper_reference_and_weights_are_the_published_constants():
    assert [PAPER_REFERENCE.mean[k] for k in KEYS] == MU
    assert [PAPER_REFERENCE.std[k] for k in KEYS] == SIGMA
    assert [PAPER_WEIGHTS[k] for k in KEYS] == WEIGHT


def test_quba_of_one_model_equals_the_hand_computation():
    score = quba_score(ROW)
    assert score.value == pytest.approx(by_hand(ROW), abs=1e-12)
    assert not score.partial and score.missing == ()


def test_mean_model_scores_zero_and_lower_is_better_flips_the_sign():
    mean_row = dict(zip(KEYS, MU, strict=True))
    assert quba_score(mean_row).value == pytest.approx(0.0, abs=1e-12)
    bigger = {**mean_row, "params": MU[-1] + SIGMA[-1]}
    assert quba_score(bigger).value == pytest.approx(-1 / sum(WEIGHT))


def test_missing_dimension_gives_no_score_unless_partial():
    row = {**ROW, "shape_bias": None}
    assert quba_score(row).value is None and quba_score(row).missing == ("shape_bias",)
    partial = quba_score(row, allow_partial=True)
    assert partial.partial
    present = {k: v for k, v in ROW.items() if k != "shape_bias"}
    assert partial.value == pytest.approx(by_hand(present), abs=1e-12)
    # a dimension of weight 0 is not needed
    assert quba_score(row, weights="shape_bias=0").value == pytest.approx(
        by_hand(present, [w if k != "shape_bias" else 0 for k, w in zip(KEYS, WEIGHT, strict=True)])
    )


def test_custom_weights_and_presets():
    weights = parse_weights("shape_bias=2, params=0")
    assert weights["shape_bias"] == 2 and weights["params"] == 0 and weights["accuracy"] == 1
    expected = by_hand(
        ROW,
        [
            2 if k == "shape_bias" else 0 if k == "params" else w
            for k, w in zip(KEYS, WEIGHT, strict=True)
        ],
    )
    assert quba_score(ROW, weights="shape_bias=2,params=0").value == pytest.approx(expected)
    names = [p.name for p in list_presets()]
    assert names[0] == "paper" and {"robustness-first", "efficiency-first"} <= set(names)
    for preset in list_presets():
        assert preset.intent and sum(preset.weights.values()) > 0
        full = [preset.weights.get(k, 0.0) for k in KEYS]
        assert quba_score(ROW, weights=preset.name).value == pytest.approx(by_hand(ROW, full))
    assert get_preset("efficiency-first").weights["params"] > PAPER_WEIGHTS["params"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "accuracy=0,adv_robustness=0,c_robustness=0,ood_robustness=0,calibration_error=0,"
            "class_balance=0,object_focus=0,shape_bias=0,params=0",
            "All weights .* are zero",
        ),
        ("shape_bias=-1", "non-negative weight for 'shape_bias'"),
        ("shapebias=1", "Unknown dimension 'shapebias' in --weights"),
        ("shape_bias=x", "Expected a number for 'shape_bias'"),
        ("shape_bias", "items like 'shape_bias=2'"),
        ("params=1,params=2", "appears twice"),
    ],
)
def test_bad_weights_are_config_errors(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_weights(text)


def test_unknown_preset_and_unknown_keys():
    with pytest.raises(ConfigError, match="Unknown weight preset 'fast'; expected one of paper"):
        quba_score(ROW, weights="fast")
    with pytest.raises(ConfigError, match="Unknown dimension 'speed'"):
        quba_score({**ROW, "speed": 1.0})
    with pytest.raises(ConfigError, match="Unknown dimension 'speed'"):
        quba_score(ROW, weights={"speed": 1.0})


def _frame(rng, n=6) -> pd.DataFrame:
    frame = pd.DataFrame({k: rng.normal(m, s, n) for k, m, s in zip(KEYS, MU, SIGMA, strict=True)})
    frame["params"] = np.abs(frame["params"])
    return frame


def test_table_scores_with_paper_and_self_reference():
    rng = np.random.default_rng(0)
    frame = _frame(rng)
    frame.loc[2, "object_focus"] = np.nan
    got = quba_score(frame)
    for i, row in frame.iterrows():
        if i == 2:
            assert np.isnan(got.loc[i, "quba"]) and got.loc[i, "missing"] == "object_focus"
        else:
            assert got.loc[i, "quba"] == pytest.approx(by_hand(row.to_dict()), abs=1e-12)
    mu = [frame[k].mean() for k in KEYS]  # pandas skips NaN; std with ddof = 1
    sigma = [frame[k].std(ddof=1) for k in KEYS]
    own = quba_score(frame, reference="self", allow_partial=True)
    for i, row in frame.iterrows():
        values = {k: v for k, v in row.to_dict().items() if not np.isnan(v)}
        assert own.loc[i, "quba"] == pytest.approx(by_hand(values, mu=mu, sigma=sigma), abs=1e-12)
    assert own.loc[2, "partial"] and not own.loc[1, "partial"]


def test_self_reference_needs_two_models_and_spread():
    rng = np.random.default_rng(1)
    with pytest.raises(ConfigError, match="at least two models"):
        quba_score(_frame(rng, 1), reference="self")
    with pytest.raises(ConfigError, match="at least two models"):
        quba_score(ROW, reference="self")
    flat = _frame(rng, 3)
    flat["params"] = 10.0
    with pytest.raises(ConfigError, match="same 'params'"):
        quba_score(flat, reference="self")
    assert quba_score(flat, reference="self", weights="params=0")["quba"].notna().all()


def test_custom_reference():
    ref = Reference("mine", dict(zip(KEYS, MU, strict=True)), {k: 1.0 for k in KEYS})
    expected = by_hand(ROW, sigma=[1.0] * 9)
    assert quba_score(ROW, reference=ref).value == pytest.approx(expected)
    with pytest.raises(ConfigError, match="positive standard deviation"):
        Reference("bad", {"accuracy": 0.5}, {"accuracy": 0.0})


def test_rank_correlations_equal_pearson_of_ranks_and_the_t_test():
    rng = np.random.default_rng(2)
    frame = _frame(rng, 12)
    frame.loc[3, "shape_bias"] = np.nan
    got = rank_correlations(frame)
    assert len(got) == 36
    row = got[(got.a == "accuracy") & (got.b == "shape_bias")].iloc[0]
    both = frame[["accuracy", "shape_bias"]].dropna()
    ra, rb = both["accuracy"].rank(), both["shape_bias"].rank()
    rho = np.corrcoef(ra, rb)[0, 1]
    n = len(both)
    t = rho * np.sqrt((n - 2) / (1 - rho**2))
    p = 2 * scipy.stats.t.sf(abs(t), n - 2)
    assert row.n == 11 and row.rho == pytest.approx(rho) and row.p_value == pytest.approx(p)


def test_self_reference_ignoring_zero_spread_gives_those_dimensions_weight_zero():
    rng = np.random.default_rng(4)
    frame = _frame(rng, 5)
    frame["params"] = 10.0  # every model equal: no spread
    frame["object_focus"] = np.nan
    frame.loc[3, "object_focus"] = 0.93  # a single value: no spread either
    got = quba_score(frame, reference="self", zero_spread="ignore")
    mu = [frame[k].mean() if k != "object_focus" else 0.0 for k in KEYS]
    sigma = [frame[k].std(ddof=1) if k not in ("params", "object_focus") else 1.0 for k in KEYS]
    weights = [
        0 if k in ("params", "object_focus") else w for k, w in zip(KEYS, WEIGHT, strict=True)
    ]
    for i, row in frame.iterrows():
        # Neither used nor needed: rows without object focus still get a complete QUBA.
        assert not got.loc[i, "partial"] and got.loc[i, "missing"] == ""
        assert got.loc[i, "quba"] == pytest.approx(
            by_hand(row.to_dict(), weights, mu=mu, sigma=sigma), abs=1e-12
        )
    # The same frame is an error by default, naming the dimension.
    with pytest.raises(ConfigError, match="'object_focus', but got 1"):
        quba_score(frame, reference="self")


def test_self_reference_lists_ignored_dimensions_and_checks_its_option():
    columns = {"accuracy": np.array([0.7, 0.8, np.nan]), "params": np.array([5.0, 5.0, 5.0])}
    ref = self_reference(columns, zero_spread="ignore")
    assert ref.ignored == ("params",) and "params" not in ref.mean
    assert ref.mean["accuracy"] == pytest.approx(0.75)
    assert ref.std["accuracy"] == pytest.approx(np.std([0.7, 0.8], ddof=1))
    with pytest.raises(ConfigError, match="zero_spread 'error' or 'ignore'"):
        self_reference(columns, zero_spread="skip")
    with pytest.raises(ConfigError, match="ignored dimension 'accuracy'"):
        Reference("mine", {"accuracy": 0.5}, {"accuracy": 0.1}, ignored=("accuracy",))


def test_equal_values_have_zero_spread_despite_rounding():
    # mean(0.1, 0.1, 0.1) != 0.1 in floating point, so np.std gives ~1.7e-17, not 0.
    assert np.std([0.1, 0.1, 0.1], ddof=1) > 0
    columns = {"shape_bias": np.array([0.1, 0.1, 0.1]), "accuracy": np.array([0.6, 0.7, 0.8])}
    with pytest.raises(ConfigError, match="same 'shape_bias'"):
        self_reference(columns)
    assert self_reference(columns, zero_spread="ignore").ignored == ("shape_bias",)
