"""Reading a table of dimension values: one row per model, as ``quba score`` takes it."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from quba.errors import TableError
from quba.scoring.reference import DIMENSION_KEYS, DISPLAY_NAMES

if TYPE_CHECKING:
    import pandas as pd

# values that are fractions of images (or of decisions); ratios may exceed 1
PROBABILITY_KEYS = ("accuracy", "calibration_error", "class_balance", "shape_bias")
NON_NEGATIVE_KEYS = ("adv_robustness", "c_robustness", "ood_robustness", "params")


def _normalise(name: str) -> str:
    return " ".join(name.strip().lower().replace("_", " ").split())


_COLUMN_NAMES = {
    **{_normalise(k): k for k in DIMENSION_KEYS},
    **{_normalise(v): k for k, v in DISPLAY_NAMES.items()},
    "params (millions)": "params",
    "parameters (millions)": "params",
}


def column_key(name: str) -> str | None:
    """The dimension key a column header names (key or the paper's display name, case and
    ``_``/space insensitive), ``"model"`` for the model column, else ``None``."""
    normal = _normalise(name)
    if normal == "model":
        return "model"
    return _COLUMN_NAMES.get(normal)


def read_dimension_table(path: str | Path) -> pd.DataFrame:
    """Read and check a CSV of dimension values; return a DataFrame indexed like the file with a
    ``model`` column and one float column per dimension key present (NaN = missing value).

    Raises:
        TableError: the file is missing or empty, a column is unknown or duplicated, the model
            column is absent, a model name repeats, or a value is non-numeric or out of range
            (fractions outside [0, 1], negative ratios or parameter counts). The message names the
            file, the row (1-based, as in a spreadsheet, header = row 1) and the column.
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise TableError(f"Expected a CSV file at {path}, but there is none")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise TableError(f"{path} is empty; expected a header row and one row per model") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise TableError(f"{path} is not a valid UTF-8 CSV file: {error}") from None
    if len(raw) == 0:
        raise TableError(f"{path} has a header but no rows; expected one row per model")

    keys: dict[str, str] = {}
    for column in raw.columns:
        key = column_key(str(column))
        if key is None:
            accepted = ", ".join(["model", *DIMENSION_KEYS])
            raise TableError(
                f"{path}: unknown column {column!r}; expected 'model' and dimension columns "
                f"named by key ({accepted}) or by the paper's names "
                f"({', '.join(DISPLAY_NAMES.values())})"
            )
        if key in keys.values():
            other = next(c for c, k in keys.items() if k == key)
            raise TableError(f"{path}: columns {other!r} and {column!r} both name {key!r}")
        keys[str(column)] = key
    if "model" not in keys.values():
        raise TableError(
            f"{path}: expected a 'model' column, found {', '.join(map(str, raw.columns))}"
        )

    frame = raw.rename(columns=keys)
    models = frame["model"].str.strip()
    for i, name in enumerate(models):
        if not name:
            raise TableError(f"{path}, row {i + 2}: the model name is empty")
    duplicated = models[models.duplicated()]
    if len(duplicated):
        raise TableError(f"{path}: model {duplicated.iloc[0]!r} appears in more than one row")

    out = pd.DataFrame({"model": models})
    for key in (k for k in DIMENSION_KEYS if k in frame):
        column = next(c for c, k in keys.items() if k == key)
        values = []
        for i, cell in enumerate(frame[key]):
            values.append(_parse_cell(cell, path=path, row=i + 2, column=column, key=key))
        out[key] = values
    return out


def _parse_cell(cell: str, *, path: Path, row: int, column: str, key: str) -> float:
    text = cell.strip()
    if text == "" or text.lower() in ("nan", "na", "n/a", "none", "missing", "-"):
        return math.nan
    try:
        value = float(text)
    except ValueError:
        raise TableError(
            f"{path}, row {row}, column {column!r}: expected a number, got {text!r}"
        ) from None
    if not math.isfinite(value):
        raise TableError(
            f"{path}, row {row}, column {column!r}: expected a finite number, got {text!r}"
        )
    if key in PROBABILITY_KEYS and not 0 <= value <= 1:
        raise TableError(
            f"{path}, row {row}, column {column!r}: expected a fraction in [0, 1], got {value}"
            + (" (percentages must be divided by 100)" if 1 < value <= 100 else "")
        )
    if key in NON_NEGATIVE_KEYS and value < 0:
        raise TableError(
            f"{path}, row {row}, column {column!r}: expected a value >= 0, got {value}"
        )
    return value
