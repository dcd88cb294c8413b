"""``quba synthetic``: arguments, errors printed without a traceback (exit 2), output."""

from __future__ import annotations

import json

import pytest

from quba.cli.app import main


def _run(args: list[str]) -> int:
    with pytest.raises(SystemExit) as done:
        main(args)
    return done.value.code


def test_help_lists_the_commands(capsys):
    assert _run(["synthetic", "--help"]) == 0
    out = capsys.readouterr().out
    assert "generate" in out and "train" in out


def test_generate_rejects_an_unknown_size(tmp_path, capsys):
    assert _run(["synthetic", "generate", "--root", str(tmp_path), "--size", "huge"]) == 2
    err = capsys.readouterr().err
    assert "Expected --size to be one of small, medium, but got 'huge'" in err
    assert "Traceback" not in err


def test_generate_refuses_a_different_suite(tmp_path, capsys):
    manifest = {
        "schema_version": 1,
        "suite": "synthetic",
        "size": "medium",
        "seed": 1,
        "counts": {"train": 1},
        "seconds": 2.0,
    }
    (tmp_path / "synthetic.json").write_text(json.dumps(manifest))
    assert _run(["synthetic", "generate", "--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "size 'medium' and seed 1, not size 'small' and seed 0" in err
    assert "--force" in err


def test_generate_reuses_an_identical_suite(tmp_path, capsys):
    manifest = {
        "schema_version": 1,
        "suite": "synthetic",
        "size": "small",
        "seed": 4,
        "counts": {"train": 7, "imagenet_val": 3},
        "seconds": 2.0,
    }
    (tmp_path / "synthetic.json").write_text(json.dumps(manifest))
    assert _run(["synthetic", "generate", "--root", str(tmp_path), "--seed", "4"]) == 0
    assert "10 images" in capsys.readouterr().out


def test_train_rejects_an_unknown_model(tmp_path, capsys):
    manifest = {
        "schema_version": 1,
        "suite": "synthetic",
        "size": "small",
        "seed": 0,
        "counts": {},
        "seconds": 2.0,
    }
    (tmp_path / "synthetic.json").write_text(json.dumps(manifest))
    assert _run(["synthetic", "train", "--root", str(tmp_path), "--model", "resnet"]) == 2
    assert "Unknown tiny-zoo models ['resnet']" in capsys.readouterr().err


def test_train_checks_the_model_names_before_generating(tmp_path, capsys):
    root = tmp_path / "suite"
    assert _run(["synthetic", "train", "--root", str(root), "--model", "resnet"]) == 2
    assert "Unknown tiny-zoo models ['resnet']" in capsys.readouterr().err
    assert not root.exists()
