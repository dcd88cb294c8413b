"""Turn a dimension's breakdown (nested dicts from :mod:`quba.dimensions`) into plot panels.

The report does not hard-code each dimension's breakdown keys: it walks the dict and draws
every group of numbers it finds. A dict of numbers becomes a bar chart (accuracy per OOD dataset,
ECE and ACE, shape vs texture decisions); a dict of at least two dicts of numbers becomes grouped
bars when it has at most four columns (clean vs attacked accuracy for PGD and FGSM) and a heatmap
otherwise (accuracy per corruption x severity). Bookkeeping entries (keys starting with ``num_``,
ending with ``_interval``, and ``bins``) and other values (text, lists) are not drawn.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class Panel:
    """One plot: ``bar`` (labels, values), or ``grouped``/``heatmap`` (rows x columns ``z``)."""

    title: str
    kind: Literal["bar", "grouped", "heatmap"]
    labels: list[str] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    rows: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    z: list[list[float | None]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        if self.kind == "bar":
            return {
                "title": self.title,
                "kind": "bar",
                "labels": self.labels,
                "values": self.values,
            }
        return {
            "title": self.title,
            "kind": self.kind,
            "rows": self.rows,
            "columns": self.columns,
            "z": self.z,
        }


MAX_GROUPED_COLUMNS = 4


def _drawn(key: Any) -> bool:
    text = str(key)
    return not (text.startswith("num_") or text.endswith("_interval") or text == "bins")


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_matrix(value: Any) -> bool:
    return (
        isinstance(value, Mapping)
        and len(value) > 1
        and all(
            isinstance(row, Mapping) and row and all(_is_number(x) for x in row.values())
            for row in value.values()
        )
    )


def breakdown_panels(breakdown: Mapping[str, Any] | None, title: str = "") -> list[Panel]:
    """Every bar chart and heatmap found in ``breakdown``, titled by its path of keys.

    >>> [p.kind for p in breakdown_panels({"clean": 0.8, "pgd": 0.1})]
    ['bar']
    >>> breakdown_panels({"fog": {"1": 0.5, "2": 0.4}, "snow": {"1": 0.3}})[0].z
    [[0.5, 0.4], [0.3, None]]
    """
    breakdown = {k: v for k, v in (breakdown or {}).items() if _drawn(k)}
    if not breakdown:
        return []
    if _is_matrix(breakdown):
        return [_matrix(title or "breakdown", breakdown)]
    panels = []
    flat = {str(k): float(v) for k, v in breakdown.items() if _is_number(v)}
    if flat:
        panels.append(
            Panel(
                title=title or "values", kind="bar", labels=list(flat), values=list(flat.values())
            )
        )
    for key, value in breakdown.items():
        if isinstance(value, Mapping):
            path = f"{title} / {key}" if title else str(key)
            panels.extend(breakdown_panels(value, path))
    return panels


def _matrix(title: str, matrix: Mapping[str, Mapping[str, Any]]) -> Panel:
    matrix = {r: {c: v for c, v in row.items() if _drawn(c)} for r, row in matrix.items()}
    rows = [str(r) for r in matrix]
    columns: list[str] = []
    for row in matrix.values():
        for column in row:
            if str(column) not in columns:
                columns.append(str(column))
    kind: Literal["grouped", "heatmap"] = (
        "grouped" if len(columns) <= MAX_GROUPED_COLUMNS else "heatmap"
    )
    z = [
        [float(row[c]) if c in row else _lookup(row, c) for c in columns] for row in matrix.values()
    ]
    return Panel(title=title, kind=kind, rows=rows, columns=columns, z=z)


def _lookup(row: Mapping[Any, Any], column: str) -> float | None:
    for key, value in row.items():
        if str(key) == column:
            return float(value)
    return None
