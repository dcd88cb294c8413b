"""Exports of stored results: pandas DataFrames, CSV, Parquet, JSON and Excel.

Two shapes:

- *long*: one row per result (model, suite, protocol, subset, dimension, value, ci_low, ci_high,
  num_samples, num_skipped, missing_reason, breakdown, provenance, protocol_fingerprint,
  created_at); ``breakdown``/``provenance`` are JSON strings in CSV, Parquet and Excel.
- *wide*: one row per (model, suite, protocol, subset), one column per dimension key holding the
  value — the table ``quba score`` reads.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from quba.errors import ConfigError, MissingExtraError
from quba.store._sqlite import ResultRecord, _dumps, finite_json

if TYPE_CHECKING:
    import pandas as pd

ExportFormat = Literal["csv", "parquet", "json", "xlsx"]
EXPORT_FORMATS: tuple[str, ...] = ("csv", "parquet", "json", "xlsx")
_SUFFIXES = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".xlsx": "xlsx",
}
_RUN_COLUMNS = ["model", "suite", "protocol", "subset"]


def records_to_frame(
    records: Sequence[ResultRecord],
    *,
    wide: bool = False,
    dimension_order: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The records as a DataFrame, long (one row per result) or wide (one row per run).

    In the wide shape dimension columns follow ``dimension_order`` when given (the protocol's
    order), then any other dimension alphabetically.
    """
    import pandas as pd

    long = pd.DataFrame([r.as_dict() for r in records], columns=list(ResultRecord.__annotations__))
    if not wide:
        return long
    if long.empty:
        return pd.DataFrame(columns=_RUN_COLUMNS)
    table = long.pivot_table(
        index=_RUN_COLUMNS, columns="dimension", values="value", aggfunc="first", dropna=False
    )
    order = [d for d in (dimension_order or ()) if d in table.columns]
    order += sorted(c for c in table.columns if c not in order)
    table = table.reindex(columns=order).reset_index()
    table.columns.name = None
    return table


def detect_format(path: Path, fmt: str | None = None) -> ExportFormat:
    """The export format from ``fmt`` or the file suffix; ConfigError when neither is known."""
    if fmt is not None:
        if fmt not in EXPORT_FORMATS:
            raise ConfigError(
                f"Expected --format to be one of {', '.join(EXPORT_FORMATS)}, but got {fmt!r}"
            )
        return fmt  # type: ignore[return-value]
    try:
        return _SUFFIXES[path.suffix.lower()]  # type: ignore[return-value]
    except KeyError:
        raise ConfigError(
            f"Cannot tell the export format of {path} from its suffix {path.suffix!r}; expected "
            f"one of {', '.join(_SUFFIXES)} or pass --format"
        ) from None


def export_records(
    records: Sequence[ResultRecord],
    path: str | Path,
    *,
    fmt: ExportFormat | None = None,
    wide: bool = False,
    dimension_order: Sequence[str] | None = None,
) -> Path:
    """Write ``records`` to ``path`` as CSV, Parquet, JSON or Excel (``.xlsx``, needs openpyxl).

    JSON is a list of objects with ``breakdown`` and ``provenance`` as nested objects (long) or
    one object per run (wide). Raises :class:`~quba.errors.MissingExtraError` when the Excel
    writer is not installed.
    """
    path = Path(path)
    kind = detect_format(path, fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "json":
        if wide:
            rows = records_to_frame(records, wide=True, dimension_order=dimension_order)
            payload = json.loads(rows.to_json(orient="records"))
        else:
            payload = [r.as_dict() for r in records]
        path.write_text(json.dumps(finite_json(payload), indent=2, allow_nan=False) + "\n")
        return path

    frame = records_to_frame(records, wide=wide, dimension_order=dimension_order)
    for column in ("breakdown", "provenance"):
        if column in frame.columns:
            frame[column] = [_dumps(v) for v in frame[column]]  # as the store keeps them
    if kind == "csv":
        frame.to_csv(path, index=False)
    elif kind == "parquet":
        frame.to_parquet(path, index=False)
    else:
        try:
            import openpyxl  # noqa: F401
        except ImportError:
            raise MissingExtraError("openpyxl", "excel", "Exporting results to Excel") from None
        frame.to_excel(path, index=False, sheet_name="results")
    return path
