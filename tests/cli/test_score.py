"""``quba score``: reproduces QUBA computed by hand from PROTOCOL.md's constants, ranks, errors."""

from __future__ import annotations

import csv
import math

import pytest

from quba.cli.app import main

# PROTOCOL.md, "The QUBA score": key, mu, sigma, weight, sign
PAPER = [
    ("accuracy", 0.7990557251908397, 0.034685710545946026, 1, 1),
    ("adv_robustness", 0.18583778826016084, 0.11083062192390095, 1 / 3, 1),
    ("c_robustness", 0.5298791080592711, 0.23383978329969085, 1 / 3, 1),
    ("ood_robustness", 0.5664841617855405, 0.14548627504237352, 1 / 3, 1),
    ("calibration_error", 0.004479927389289115, 0.0026752085291489288, 1, -1),
    ("class_balance", 0.783356376851669, 0.024047971612660052, 1, 1),
    ("object_focus", 0.9286352601551336, 0.017724144886557092, 1 / 2, 1),
    ("shape_bias", 0.30548520497464765, 0.08354531823072534, 1 / 2, 1),
    ("params", 55.28778625954198, 42.8890536095964, 1, -1),
]
NAMES = [
    "Accuracy",
    "Adversarial Robustness",
    "Corruption Robustness",
    "OOD Robustness",
    "Calibration Error",
    "Class Balance",
    "Object Focus",
    "Shape Bias",
    "Parameters",
]
MODELS = {
    "resnet50": [0.8013, 0.021, 0.391, 0.443, 0.0071, 0.771, 0.921, 0.213, 25.557032],
    "vit_b_16": [0.8107, 0.245, 0.655, 0.671, 0.0029, 0.801, 0.944, 0.462, 86.567656],
    "tiny": [0.7012, 0.110, 0.402, 0.512, 0.0048, 0.745, 0.905, 0.271, 5.3],
    "convnext": [0.8210, 0.301, 0.702, 0.655, 0.0035, 0.792, 0.938, 0.389, 28.589128],
}


def _by_hand(values, weights=None):
    num = den = 0.0
    for (key, mu, sigma, w, sign), v in zip(PAPER, values, strict=True):
        w = w if weights is None else weights.get(key, w)
        if v is None or w == 0:
            continue
        num += w * sign * (v - mu) / sigma
        den += w
    return num / den


def _write(path, header, rows):
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["model", *header])
        for name, values in rows.items():
            writer.writerow([name, *("" if v is None else repr(v) for v in values)])
    return path


def _run(args, capsys):
    with pytest.raises(SystemExit) as done:
        main(args)
    out = capsys.readouterr()
    return done.value.code, out.out, out.err


def _read(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("header", [[p[0] for p in PAPER], NAMES], ids=["keys", "display names"])
def test_score_reproduces_hand_computed_quba_and_ranks(tmp_path, capsys, header):
    table = _write(tmp_path / "t.csv", header, MODELS)
    out_path = tmp_path / "scores.csv"
    code, out, _ = _run(["score", str(table), "--output", str(out_path)], capsys)
    assert code == 0
    rows = _read(out_path)
    assert [r["model"] for r in rows] == list(MODELS)  # the input order
    assert list(rows[0]) == ["model", "quba", "partial", "missing"]
    expected = {name: _by_hand(values) for name, values in MODELS.items()}
    for row in rows:
        assert abs(float(row["quba"]) - expected[row["model"]]) < 1e-9
        assert row["partial"] == "False" and row["missing"] == ""
    ranking = sorted(expected, key=expected.get, reverse=True)
    positions = [out.index(f" {name} ") for name in ranking]
    assert positions == sorted(positions)


def test_missing_values_partial_scores_and_weights(tmp_path, capsys):
    rows = dict(MODELS)
    rows["no_shape"] = [0.79, 0.2, 0.5, 0.6, 0.004, 0.78, 0.93, None, 11.7]
    table = _write(tmp_path / "t.csv", [p[0] for p in PAPER], rows)
    out_path = tmp_path / "s.csv"

    assert _run(["score", str(table), "-o", str(out_path)], capsys)[0] == 0
    got = {r["model"]: r for r in _read(out_path)}
    assert got["no_shape"]["quba"] == "" and got["no_shape"]["missing"] == "shape_bias"

    assert _run(["score", str(table), "-o", str(out_path), "--allow-partial"], capsys)[0] == 0
    got = {r["model"]: r for r in _read(out_path)}
    assert got["no_shape"]["partial"] == "True"
    assert abs(float(got["no_shape"]["quba"]) - _by_hand(rows["no_shape"])) < 1e-9

    weights = {"shape_bias": 2.0, "params": 0.0}
    code, _, _ = _run(
        ["score", str(table), "-o", str(out_path), "--weights", "shape_bias=2,params=0"], capsys
    )
    assert code == 0
    got = {r["model"]: r for r in _read(out_path)}
    for name, values in MODELS.items():
        assert abs(float(got[name]["quba"]) - _by_hand(values, weights)) < 1e-9


def test_self_reference_and_preset(tmp_path, capsys):
    table = _write(tmp_path / "t.csv", [p[0] for p in PAPER], MODELS)
    out_path = tmp_path / "s.csv"
    code, out, _ = _run(
        [
            "score",
            str(table),
            "-o",
            str(out_path),
            "--reference",
            "self",
            "--preset",
            "efficiency-first",
        ],
        capsys,
    )
    assert code == 0 and "efficiency-first" in out
    columns = list(zip(*MODELS.values(), strict=True))
    means = [sum(c) / len(c) for c in columns]
    sds = [
        math.sqrt(sum((x - m) ** 2 for x in c) / (len(c) - 1))
        for c, m in zip(columns, means, strict=True)
    ]
    weights = [w for *_, w, _ in PAPER]
    weights[-1] = 3.0  # efficiency-first: params weighs three
    for row in _read(out_path):
        values = MODELS[row["model"]]
        num = sum(
            w * s * (v - m) / sd
            for (_, _, _, _, s), v, m, sd, w in zip(PAPER, values, means, sds, weights, strict=True)
        )
        assert abs(float(row["quba"]) - num / sum(weights)) < 1e-9


@pytest.mark.parametrize(
    ("args", "content", "message"),
    [
        ([], "model,accuracy,speed\nm,0.5,1\n", "unknown column 'speed'"),
        ([], "", "is empty"),
        ([], "model,accuracy\nm,1.5\n", "row 2, column 'accuracy'"),
        (["--weights", "speed=1"], None, "Unknown dimension 'speed' in --weights"),
        (
            [
                "--weights",
                "accuracy=0,adv_robustness=0,c_robustness=0,ood_robustness=0,"
                "calibration_error=0,class_balance=0,object_focus=0,shape_bias=0,params=0",
            ],
            None,
            "All weights",
        ),
        (["--preset", "fast"], None, "Unknown weight preset 'fast'"),
        (["--weights", "equal"], None, "Expected --weights items like 'shape_bias=2'"),
        (["--preset", "paper", "--weights", "params=0"], None, "either --weights or --preset"),
        (["--reference", "mine"], None, "--reference paper or self"),
    ],
)
def test_errors_exit_2_with_a_message(tmp_path, capsys, args, content, message):
    path = tmp_path / "t.csv"
    if content is None:
        _write(path, [p[0] for p in PAPER], MODELS)
    else:
        path.write_text(content)
    code, _, err = _run(["score", str(path), *args], capsys)
    assert code == 2
    assert message in " ".join(err.split())
    assert "Traceback" not in err
