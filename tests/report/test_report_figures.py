"""--figures: PNG and PDF files of every view, valid images sized for a paper."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest
from _report_fakes import MODELS, fake_results
from PIL import Image

from quba.errors import MissingExtraError
from quba.report import build_report, build_sections, write_figures

VIEWS = ["leaderboard", "scatter", "radar", "correlation"]
# Dimensions whose fake breakdown has something to draw (accuracy and params hold only counts).
DETAILS = [
    "adv_robustness",
    "c_robustness",
    "ood_robustness",
    "calibration_error",
    "class_balance",
    "object_focus",
    "shape_bias",
]


def _check_png(path: Path, width_in: float) -> None:
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        width, height = image.size
        dpi = image.info.get("dpi", (0, 0))[0]
    assert round(dpi) == 300
    assert width == round(width_in * 300)
    assert 100 < height < 10 * 300


def _check_pdf(path: Path) -> None:
    data = path.read_bytes()
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")


@pytest.mark.slow
def test_every_view_is_written_as_png_and_pdf(results, tmp_path):
    build_report(results, output=tmp_path / "r.html", figures=tmp_path / "fig")
    names = {p.name for p in (tmp_path / "fig").iterdir()}
    expected = {
        f"paper-v1_{view}.{ext}"
        for view in VIEWS + [f"detail_{d}" for d in DETAILS]
        for ext in ("png", "pdf")
    }
    assert names == expected
    for view in VIEWS:
        _check_png(tmp_path / "fig" / f"paper-v1_{view}.png", width_in=3.5)
        _check_pdf(tmp_path / "fig" / f"paper-v1_{view}.pdf")
    for key in DETAILS:
        _check_png(tmp_path / "fig" / f"paper-v1_detail_{key}.png", width_in=7.0)
        _check_pdf(tmp_path / "fig" / f"paper-v1_detail_{key}.pdf")


@pytest.mark.slow
def test_few_models_and_two_protocols_skip_what_cannot_be_drawn(tmp_path):
    frame = pd.concat(
        [fake_results(MODELS[:1], protocol="paper"), fake_results(MODELS[:2], protocol="pixel")]
    )
    frame = frame[frame["dimension"] != "c_robustness"].copy()
    keep = frame["dimension"] == "shape_bias"  # one breakdown is enough here, and fast
    frame["breakdown"] = frame["breakdown"].where(keep, None)
    written = write_figures(build_sections(frame), tmp_path, formats=("png",))
    names = sorted(p.name for p in written)
    assert "paper-v1_correlation.png" not in names and "pixel-v1_correlation.png" not in names
    assert "paper-v1_leaderboard.png" in names and "pixel-v1_radar.png" in names
    assert not any("c_robustness" in n for n in names)
    assert "pixel-v1_detail_shape_bias.png" in names
    for path in written:
        _check_png(path, width_in=7.0 if "detail" in path.name else 3.5)


def test_missing_matplotlib_raises_missing_extra(results, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(MissingExtraError, match="matplotlib") as info:
        write_figures(build_sections(results), tmp_path)
    assert "quba[report]" in str(info.value)


@pytest.mark.slow
def test_figures_use_the_sections_default_reference():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from _report_fakes import KEYS, SIGN, expected_self_quba

    from quba.report import _figures

    frame = fake_results(MODELS[:4], seed=9).assign(suite="synthetic")
    frame.loc[frame["dimension"] == "params", "value"] = 3.2  # no spread: weight 0
    values = {
        spec: dict(zip(rows["dimension"], rows["value"], strict=True))
        for spec, rows in frame.groupby("model")
    }
    own = expected_self_quba(values)
    (section,) = build_sections(frame)

    fig = _figures._leaderboard(plt, section)
    (ax,) = fig.axes
    bars = [patch.get_width() for patch in ax.patches]
    assert bars == pytest.approx(sorted(own.values(), reverse=True), abs=1e-12)
    assert "these models" in ax.get_xlabel()
    plt.close(fig)

    fig = _figures._radar(plt, section)
    best = sorted(own, key=own.get, reverse=True)
    lines = fig.axes[0].get_lines()
    assert len(lines) == len(best)
    for spec, line in zip(best, lines, strict=True):
        column = {k: [v[k] for v in values.values()] for k in KEYS}
        want = [
            np.nan
            if k == "params"
            else SIGN[k] * (values[spec][k] - np.mean(column[k])) / np.std(column[k], ddof=1)
            for k in [*KEYS, KEYS[0]]
        ]
        np.testing.assert_allclose(line.get_ydata(), want, atol=1e-12)
    plt.close(fig)
