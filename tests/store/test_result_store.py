"""The SQLite results store: schema, upserts, filters, concurrency, exports."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3

import pandas as pd
import pytest

from quba.errors import ConfigError, MissingExtraError, StoreError
from quba.store import (
    SCHEMA_VERSION,
    ResultRecord,
    ResultStore,
    default_store_path,
    export_records,
    records_to_frame,
)


def record(model="m", dimension="accuracy", value=0.5, **changes) -> ResultRecord:
    fields = dict(
        model=model,
        dimension=dimension,
        protocol="paper",
        value=value,
        ci_low=None if value is None else value - 0.1,
        ci_high=None if value is None else value + 0.1,
        num_samples=100,
        breakdown={"per_class": [0.1, 0.2]},
        provenance={"torch": "2.x", "seed": 0},
        missing_reason=None if value is not None else "clean accuracy is zero",
    )
    fields.update(changes)
    return ResultRecord(**fields)


def test_schema_wal_and_round_trip(tmp_path):
    store = ResultStore(tmp_path / "sub" / "results.sqlite")
    assert store.schema_version == SCHEMA_VERSION
    connection = sqlite3.connect(store.path)
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    connection.close()
    written = record(num_skipped=3, protocol_version="1", protocol_fingerprint="f")
    store.put([written, record(dimension="params", value=None)])
    back = {r.dimension: r for r in store.query()}
    assert back["accuracy"].breakdown == {"per_class": [0.1, 0.2]}
    assert back["accuracy"].num_skipped == 3 and back["accuracy"].protocol_version == "1"
    assert back["accuracy"].created_at  # filled in
    assert back["params"].value is None and back["params"].missing_reason
    assert len(store) == 2


def test_upsert_replaces_one_row_per_model_dimension_protocol_and_subset(tmp_path):
    store = ResultStore(tmp_path / "r.sqlite")
    store.put([record(value=0.5)])
    store.put([record(value=0.7)])
    store.put([record(value=0.2, subset=100)])  # a --limit run is its own row
    store.put([record(value=0.3, protocol="pixel")])
    rows = store.query(protocol="paper", subset=0)
    assert [r.value for r in rows] == [0.7]
    assert [r.value for r in store.query(subset=100)] == [0.2]
    assert len(store) == 3
    assert store.runs()[0]["dimensions"] == 1
    assert store.delete(protocol="pixel") == 1 and len(store) == 2


def test_query_filters(tmp_path):
    store = ResultStore(tmp_path / "r.sqlite")
    store.put(
        [record("a"), record("b"), record("a", "params", 3.0), record("c", suite="synthetic")]
    )
    assert {r.model for r in store.query(model=["a", "b"])} == {"a", "b"}
    assert [r.dimension for r in store.query(model="a")] == ["accuracy", "params"]
    assert [r.model for r in store.query(suite="synthetic")] == ["c"]
    assert store.query(dimension="params")[0].value == 3.0


def test_non_finite_values_are_stored_as_null(tmp_path):
    store = ResultStore(tmp_path / "r.sqlite")
    store.put([record(value=float("nan"), missing_reason="undefined")])
    assert store.query()[0].value is None


def test_not_a_store_and_newer_schema_raise_store_errors(tmp_path):
    junk = tmp_path / "junk.sqlite"
    junk.write_text("this is not a database, just some text of sufficient length" * 20)
    with pytest.raises(StoreError, match="not one"):
        ResultStore(junk)
    newer = tmp_path / "newer.sqlite"
    ResultStore(newer)
    connection = sqlite3.connect(newer)
    connection.execute("UPDATE schema_version SET version = 99")
    connection.commit()
    connection.close()
    with pytest.raises(StoreError, match="schema version 99"):
        ResultStore(newer)
    with pytest.raises(StoreError, match="found a folder"):
        ResultStore(tmp_path)


def test_default_location_is_under_the_user_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("QUBA_STORE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_store_path() == tmp_path / "quba" / "results.sqlite"
    monkeypatch.setenv("QUBA_STORE", str(tmp_path / "x.sqlite"))
    assert default_store_path() == tmp_path / "x.sqlite"


def _writer(path: str, worker: int, rows: int) -> None:
    store = ResultStore(path, timeout=120)
    for i in range(rows):
        store.put([record(f"model-{worker}", f"dim-{i}", value=i / rows)])


def test_concurrent_writers_from_several_processes_lose_nothing(tmp_path):
    path = str(tmp_path / "shared.sqlite")
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_writer, args=(path, w, 25)) for w in range(4)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(120)
        assert process.exitcode == 0
    store = ResultStore(path)
    assert len(store) == 100
    assert {r.model for r in store.query()} == {f"model-{w}" for w in range(4)}


def test_long_and_wide_frames():
    records = [record("a", "accuracy", 0.8), record("a", "params", 5.0), record("b", "params", 7.0)]
    long = records_to_frame(records)
    assert len(long) == 3 and {"model", "value", "ci_low", "breakdown"} <= set(long.columns)
    wide = records_to_frame(records, wide=True, dimension_order=["params", "accuracy"])
    assert list(wide.columns) == ["model", "suite", "protocol", "subset", "params", "accuracy"]
    assert wide.set_index("model").loc["a", "accuracy"] == 0.8
    assert pd.isna(wide.set_index("model").loc["b", "accuracy"])


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".json", ".xlsx"])
def test_exports_read_back(tmp_path, suffix):
    records = [record("a", "accuracy", 0.8), record("b", "accuracy", 0.6)]
    path = export_records(records, tmp_path / f"out{suffix}")
    if suffix == ".csv":
        frame = pd.read_csv(path)
    elif suffix == ".parquet":
        frame = pd.read_parquet(path)
    elif suffix == ".xlsx":
        frame = pd.read_excel(path)
    else:
        data = json.loads(path.read_text())
        assert data[0]["breakdown"] == {"per_class": [0.1, 0.2]}
        frame = pd.DataFrame(data)
    assert frame["value"].tolist() == [0.8, 0.6]
    if suffix != ".json":
        assert json.loads(frame["provenance"][0]) == {"seed": 0, "torch": "2.x"}


def test_export_errors(tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match=r"suffix '\.txt'"):
        export_records([record()], tmp_path / "out.txt")
    with pytest.raises(ConfigError, match="--format"):
        export_records([record()], tmp_path / "out.csv", fmt="docx")  # type: ignore[arg-type]
    import builtins

    real_import = builtins.__import__

    def no_openpyxl(name, *args, **kwargs):
        if name == "openpyxl":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_openpyxl)
    with pytest.raises(MissingExtraError, match="openpyxl"):
        export_records([record()], tmp_path / "out.xlsx")


def test_breakdowns_are_stored_as_valid_json(tmp_path):
    import numpy as np

    store = ResultStore(tmp_path / "r.sqlite")
    breakdown = {"ratio": float("nan"), "per": np.array([1.0, np.inf]), "n": np.int64(3)}
    store.put([record(breakdown=breakdown)])
    assert store.query()[0].breakdown == {"ratio": None, "per": [1.0, None], "n": 3}
    connection = sqlite3.connect(store.path)
    text = connection.execute("SELECT breakdown FROM results").fetchone()[0]
    connection.close()
    assert "NaN" not in text and "Infinity" not in text


def test_a_store_that_cannot_be_created_is_a_store_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="Cannot open or create"):
        ResultStore(blocker / "results.sqlite")
