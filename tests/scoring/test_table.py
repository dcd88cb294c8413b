"""Reading the table of ``quba score``: column names and every kind of bad table."""

from __future__ import annotations

import math

import pytest

from quba.errors import TableError
from quba.scoring import read_dimension_table

HEADER_KEYS = (
    "model,accuracy,adv_robustness,c_robustness,ood_robustness,calibration_error,"
    "class_balance,object_focus,shape_bias,params"
)
HEADER_NAMES = (
    "model,Accuracy,Adversarial Robustness,Corruption Robustness,OOD Robustness,"
    "Calibration Error,Class Balance,Object Focus,Shape Bias,Parameters"
)
ROW = "resnet50,0.80,0.2,0.5,0.6,0.004,0.79,0.93,0.3,25.6"


def _write(tmp_path, text):
    path = tmp_path / "table.csv"
    path.write_text(text)
    return path


@pytest.mark.parametrize("header", [HEADER_KEYS, HEADER_NAMES])
def test_keys_or_display_names(tmp_path, header):
    frame = read_dimension_table(_write(tmp_path, f"{header}\n{ROW}\nvit,0.82,,,,,,,,86.6\n"))
    assert list(frame.columns) == HEADER_KEYS.split(",")
    assert frame.loc[0, "params"] == 25.6 and frame.loc[1, "model"] == "vit"
    assert math.isnan(frame.loc[1, "shape_bias"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty"),
        (HEADER_KEYS + "\n", "no rows"),
        ("model,accuracy,speed\nm,0.5,3\n", "unknown column 'speed'"),
        ("model,accuracy,Accuracy\nm,0.5,0.5\n", "columns 'accuracy' and 'Accuracy' both name"),
        ("name,accuracy\nm,0.5\n", "unknown column 'name'"),
        ("accuracy,shape_bias\n0.5,0.5\n", "expected a 'model' column"),
        ("model,accuracy\nm,high\n", r"row 2, column 'accuracy': expected a number, got 'high'"),
        ("model,accuracy\nm,0.5\nn,80\n", r"row 3, column 'accuracy': expected a fraction .*100"),
        ("model,Parameters\nm,-3\n", r"row 2, column 'Parameters': expected a value >= 0"),
        ("model,shape_bias\nm,1.2\n", r"fraction in \[0, 1\]"),
        ("model,accuracy\nm,0.5\nm,0.6\n", "model 'm' appears in more than one row"),
        ("model,accuracy\n,0.5\n", "row 2: the model name is empty"),
        ("model,accuracy\nm,inf\n", "finite number"),
    ],
)
def test_bad_tables_name_the_problem(tmp_path, text, message):
    with pytest.raises(TableError, match=message):
        read_dimension_table(_write(tmp_path, text))


def test_missing_file(tmp_path):
    with pytest.raises(TableError, match="Expected a CSV file at"):
        read_dimension_table(tmp_path / "nope.csv")


@pytest.mark.parametrize(
    "content", [b"model,accuracy\nm,0.5\nn,0.5,1,2\n", b"model,accuracy\n\xff\xfe,0.5\n"]
)
def test_malformed_csv_or_encoding_is_a_table_error(tmp_path, content):
    path = tmp_path / "table.csv"
    path.write_bytes(content)
    with pytest.raises(TableError, match="is not a valid UTF-8 CSV file"):
        read_dimension_table(path)
