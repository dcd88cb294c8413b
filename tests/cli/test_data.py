"""`quba data verify | download | list`."""

from __future__ import annotations

import pytest

from quba.cli.app import main
from quba.data.testing import FileServer, make_imagenet_tree, make_tar


def run(argv, capsys):
    with pytest.raises(SystemExit) as done:
        main(argv)
    out = capsys.readouterr()
    return done.value.code, out.out, out.err


@pytest.fixture(scope="module")
def full_edge(tmp_path_factory):
    """A complete edge set: 16 categories x 10 images = the full 160."""
    root = tmp_path_factory.mktemp("edge-root")
    make_imagenet_tree(root, datasets=["edge"], categories=16, images_per_class=10)
    return root


def test_verify_complete_dataset_exits_0(full_edge, capsys):
    code, out, _ = run(["data", "verify", "edge", "--root", str(full_edge), "--deep"], capsys)
    assert code == 0
    assert "present" in out and "160 / 160" in out and "All datasets asked for" in out


def test_verify_partial_and_missing_exit_1_with_counts(tmp_path, capsys):
    make_imagenet_tree(tmp_path, datasets=["sketch"])
    code, out, _ = run(["data", "verify", "sketch", "stylized", "--root", str(tmp_path)], capsys)
    assert code == 1
    assert "partial" in out and "6 / 800" in out and "missing" in out
    assert f"{tmp_path / 'modelvshuman/stylized'}: dataset folder does not exist" in out


def test_verify_lists_problems_with_paths_and_respects_the_limit(tmp_path, capsys):
    make_imagenet_tree(tmp_path, datasets=["mixed_same"])
    folder = tmp_path / "bg_challenge/mixed_same/val/00_dog"
    for i in range(3):
        (folder / f"note{i}.txt").write_text("x")
    code, out, _ = run(
        ["data", "verify", "mixed_same", "--root", str(tmp_path), "--max-problems", "2"], capsys
    )
    assert code == 1 and "broken" in out
    assert f"{folder / 'note0.txt'}: not an image file" in out
    assert "note2.txt" not in out and "… and 2 more" in out


def test_verify_path_override_and_env_root(full_edge, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("QUBA_DATA", str(tmp_path))
    code, out, _ = run(
        ["data", "verify", "edge", "--path", f"edge={full_edge / 'modelvshuman/edge'}"], capsys
    )
    assert code == 0 and str(tmp_path) in out


def test_verify_unknown_dataset_or_suite_exits_2(capsys):
    code, _, err = run(["data", "verify", "imagenet_train"], capsys)
    assert code == 2 and "Unknown dataset 'imagenet_train'" in err
    code, _, err = run(["data", "verify", "--suite", "cifar"], capsys)
    assert code == 2 and "Unknown suite 'cifar'" in err


def test_download_through_a_mirror_then_rerun(full_edge, tmp_path, capsys):
    archive = make_tar(full_edge / "modelvshuman/edge", tmp_path / "edge.tar.gz")
    root = tmp_path / "root"
    with FileServer({"edge.tar.gz": archive}) as server:
        argv = ["data", "download", "edge", "--root", str(root), "--mirror", server.base_url]
        code, out, _ = run(argv, capsys)
        assert code == 0 and f"{len(archive):,} bytes" in out and "installed in" in out
        code, out, _ = run(argv, capsys)
        assert code == 0 and "already installed" in out
        assert len(server.requests) == 1
    code, _, _ = run(["data", "verify", "edge", "--root", str(root)], capsys)
    assert code == 0


def test_download_failure_exits_2_and_imagenet_prints_instructions(tmp_path, capsys):
    with FileServer({}) as server:
        argv = [
            "data",
            "download",
            "silhouette",
            "--root",
            str(tmp_path),
            "--mirror",
            server.base_url,
        ]
        code, _, err = run(argv, capsys)
    assert code == 2 and "404" in err
    code, out, _ = run(["data", "download", "imagenet", "--root", str(tmp_path)], capsys)
    assert code == 0 and "needs a licence" in out and "LOC_val_solution.csv" in out
    code, _, err = run(["data", "download", "imagenet-p"], capsys)
    assert code == 2 and "Unknown download 'imagenet-p'" in err


def test_list_shows_locations(tmp_path, capsys):
    code, out, _ = run(["data", "list", "--root", str(tmp_path)], capsys)
    assert code == 0 and "imagenet_c" in out and "3,750,000" in out
