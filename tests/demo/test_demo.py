"""The demo through the real evaluate path: each dimension moves the way the zoo's habits say.

The tiny zoo was trained with different habits (see quba.synthetic.zoo). Each check below asks
for a difference larger than both models' 95 % bootstrap intervals, so it fails if the metric,
the data or the model does not behave as claimed.
"""

from __future__ import annotations

import sqlite3

import pytest

from quba.cli.app import main
from quba.demo import demo_model_specs, run_demo
from quba.errors import ConfigError
from quba.evaluation import evaluate

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    base = tmp_path_factory.mktemp("demo")
    run = run_demo(
        base / "out",
        data_root=base / "synthetic",
        cache_dir=base / "cache",
        device="cpu",
        report=False,
    )
    return base, run


def _result(run, name, key):
    return run.evaluation[f"python:quba.synthetic.zoo:{name}"].results[key]


def _clearly_above(high, low):
    """``high``'s interval lies entirely above ``low``'s."""
    assert high.ci_low is not None and low.ci_high is not None
    assert high.ci_low > low.ci_high, (high, low)


def test_demo_evaluates_all_nine_dimensions_of_five_models(demo):
    _, run = demo
    assert len(run.evaluation) == 5
    for model in run.evaluation:
        assert set(model.results) == {
            "accuracy",
            "adv_robustness",
            "c_robustness",
            "ood_robustness",
            "calibration_error",
            "class_balance",
            "object_focus",
            "shape_bias",
            "params",
        }
        assert all(r.value is not None for r in model.results.values())
        assert model.results["accuracy"].value > 0.9  # the zoo learned its world
    with sqlite3.connect(run.store) as db:
        (rows,) = db.execute("select count(*) from results").fetchone()
    assert rows == 45


def test_texture_randomised_model_has_higher_shape_bias(demo):
    _, run = demo
    _clearly_above(
        _result(run, "texture_cnn", "shape_bias"), _result(run, "plain_cnn", "shape_bias")
    )


def test_background_randomised_model_has_higher_object_focus(demo):
    _, run = demo
    _clearly_above(
        _result(run, "background_cnn", "object_focus"), _result(run, "plain_cnn", "object_focus")
    )


def test_adversarially_trained_model_has_higher_adversarial_robustness(demo):
    _, run = demo
    _clearly_above(
        _result(run, "adversarial_cnn", "adv_robustness"),
        _result(run, "plain_cnn", "adv_robustness"),
    )


def test_model_that_saw_only_backgrounds_scores_low_on_object_focus(demo):
    base, run = demo
    spec = "python:quba.synthetic.zoo:background_only_cnn"
    only = evaluate(
        [spec],
        base / "synthetic",
        suite="synthetic",
        dims="object_focus",
        device="cpu",
        store=False,
        cache_dir=base / "cache",
    )[spec].results["object_focus"]
    _clearly_above(_result(run, "plain_cnn", "object_focus"), only)
    assert only.value < 0.2


def test_demo_command_reuses_everything_and_writes_a_report(demo, capsys):
    pytest.importorskip("plotly")
    base, _ = demo
    with pytest.raises(SystemExit) as done:
        main(
            [
                "demo",
                "--output-dir",
                str(base / "out"),
                "--root",
                str(base / "synthetic"),
                "--cache-dir",
                str(base / "cache"),
                "--device",
                "cpu",
            ]
        )
    out = capsys.readouterr().out
    assert done.value.code == 0
    assert "0 images forwarded in this run" in out
    assert "QUBA (vs." in out  # the row label may wrap in a narrow terminal
    report = base / "out" / "report.html"
    assert report.is_file() and "plain_cnn" in report.read_text()


def test_unknown_demo_model_is_a_config_error():
    with pytest.raises(ConfigError, match=r"Unknown synthetic zoo model.*resnet"):
        demo_model_specs(["resnet"])
