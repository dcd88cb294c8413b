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
