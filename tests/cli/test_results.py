"""``quba results list|show|export``: reading the store back."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from quba.cli.app import main
from quba.store import ResultRecord, ResultStore


@pytest.fixture()
def store(tmp_path):
    path = tmp_path / "results.sqlite"
    rows = [
        ResultRecord("timm:a", "accuracy", "paper", 0.81, ci_low=0.80, ci_high=0.82),
        ResultRecord("timm:a", "params", "paper", 25.6, num_samples=0),
        ResultRecord(
            "timm:a",
            "shape_bias",
            "paper",
            None,
            missing_reason="no shape or texture decision",
            num_skipped=2,
        ),
        ResultRecord("timm:a", "accuracy", "paper", 0.5, subset=100),
        ResultRecord("timm:b", "accuracy", "pixel", 0.7, breakdown={"num_correct": 7}),
    ]
    ResultStore(path).put(rows)
    return path


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    from quba.cli._console import console

    monkeypatch.setattr(console, "width", 160)


def run(argv, capsys):
    with pytest.raises(SystemExit) as done:
        main(argv)
    out, err = capsys.readouterr()
    return done.value.code, out, err


def test_list_shows_one_line_per_run(store, capsys):
    code, out, _ = run(["results", "list", "--store", str(store)], capsys)
    assert code == 0
    assert "3 evaluation(s)" in out
    assert "limit 100" in out and "timm:b" in out and "pixel" in out


def test_show_prints_values_intervals_and_reasons(store, capsys):
    code, out, _ = run(
        ["results", "show", "timm:a", "--store", str(store), "--subset", "0"], capsys
    )
    assert code == 0
    assert "0.81" in out and "[0.8, 0.82]" in out and "25.6" in out
    assert "no shape or texture decision" in " ".join(out.split())
    assert "2 unreadable" in " ".join(out.split())
    assert "limit 100" not in out
    code, out, _ = run(["results", "show", "timm:b", "--store", str(store), "--breakdown"], capsys)
    assert code == 0 and '"num_correct": 7' in out


def test_show_unknown_model_and_missing_store_exit_2(store, tmp_path, capsys):
    code, _, err = run(["results", "show", "timm:zzz", "--store", str(store)], capsys)
    assert code == 2 and "timm:zzz" in err
    code, _, err = run(["results", "list", "--store", str(tmp_path / "none.sqlite")], capsys)
    assert code == 2 and "none.sqlite" in err
    assert not (tmp_path / "none.sqlite").exists()


@pytest.mark.parametrize("suffix", ["csv", "parquet", "json", "xlsx"])
def test_export_every_format(store, tmp_path, capsys, suffix):
    output = tmp_path / f"out.{suffix}"
    code, out, _ = run(["results", "export", str(output), "--store", str(store)], capsys)
    assert code == 0 and "Exported 5 result(s)" in " ".join(out.split())
    if suffix == "json":
        frame = pd.DataFrame(json.loads(output.read_text()))
    else:
        frame = {"csv": pd.read_csv, "parquet": pd.read_parquet, "xlsx": pd.read_excel}[suffix](
            output
        )
    assert len(frame) == 5
    assert sorted(frame["value"].dropna().tolist()) == [0.5, 0.7, 0.81, 25.6]


def test_export_wide_with_filters(store, tmp_path, capsys):
    output = tmp_path / "wide.csv"
    argv = ["results", "export", str(output), "--store", str(store), "--wide", "--subset", "0"]
    code, _, _ = run([*argv, "--protocol", "paper"], capsys)
    assert code == 0
    frame = pd.read_csv(output)
    assert list(frame.columns) == [
        "model",
        "suite",
        "protocol",
        "subset",
        "accuracy",
        "shape_bias",
        "params",
    ]
    assert frame["accuracy"].tolist() == [0.81]
    code, _, err = run([*argv, "--protocol", "none"], capsys)
    assert code == 2 and "No stored results" in err
    code, _, err = run(
        ["results", "export", str(tmp_path / "x.doc"), "--store", str(store)], capsys
    )
    assert code == 2 and ".doc" in err


def test_show_prints_reasons_and_specs_literally_not_as_markup(tmp_path, capsys):
    path = tmp_path / "results.sqlite"
    reason = "folder [bold]imagenet-r[/bold] missing"
    ResultStore(path).put(
        [ResultRecord("python:[red]m:f", "accuracy", "paper", None, missing_reason=reason)]
    )
    code, out, _ = run(["results", "show", "python:[red]m:f", "--store", str(path)], capsys)
    assert code == 0
    assert "[bold]imagenet-r[/bold]" in out
    code, out, _ = run(["results", "list", "--store", str(path)], capsys)
    assert code == 0 and "python:[red]m:f" in out
