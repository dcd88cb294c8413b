"""``quba evaluate``: table, outputs, error paths, resuming after SIGKILL, concurrent runs."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from quba.cli.app import main

MODELS_FILE = Path(__file__).parents[1] / "evaluation" / "_eval_models.py"
MODEL = f"python:{MODELS_FILE}:colour_model"
SLOW_MODEL = f"python:{MODELS_FILE}:slow_colour_model"
SUITE = "imagenet-cli-e2e"

# PROTOCOL.md, "The QUBA score": (mu, sigma, weight) per dimension
PAPER = {
    "accuracy": (0.7990557251908397, 0.034685710545946026, 1),
    "adv_robustness": (0.18583778826016084, 0.11083062192390095, 1 / 3),
    "c_robustness": (0.5298791080592711, 0.23383978329969085, 1 / 3),
    "ood_robustness": (0.5664841617855405, 0.14548627504237352, 1 / 3),
    "calibration_error": (0.004479927389289115, 0.0026752085291489288, 1),
    "class_balance": (0.783356376851669, 0.024047971612660052, 1),
    "object_focus": (0.9286352601551336, 0.017724144886557092, 1 / 2),
    "shape_bias": (0.30548520497464765, 0.08354531823072534, 1 / 2),
    "params": (55.28778625954198, 42.8890536095964, 1),
}


def _models_module():
    spec = importlib.util.spec_from_file_location("_cli_eval_models", MODELS_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    from quba.data.suites import _SUITES, register_suite
    from quba.data.testing import make_imagenet_tree

    models = _models_module()
    made = make_imagenet_tree(
        tmp_path_factory.mktemp("data"),
        classes=models.CLASSES,
        categories=models.CATEGORIES,
        object_classes=3,
        images_per_class=3,
    )
    register_suite(dataclasses.replace(made.suite, name=SUITE))
    yield made
    _SUITES.pop(SUITE, None)


def args(tree, tmp_path, *extra: str, model: str = MODEL) -> list[str]:
    return [
        "evaluate",
        "-m",
        model,
        "--data",
        str(tree.root),
        "--suite",
        SUITE,
        "--device",
        "cpu",
        "--batch-size",
        "8",
        "--store",
        str(tmp_path / "results.sqlite"),
        "--cache-dir",
        str(tmp_path / "cache"),
        *extra,
    ]


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(argv)
    out, err = capsys.readouterr()
    return done.value.code, out, err


def test_evaluate_prints_the_table_with_quba_and_writes_json(tree, tmp_path, capsys):
    output = tmp_path / "out.json"
    code, out, err = run_cli(
        args(tree, tmp_path, "--replicates", "20", "--output", str(output)), capsys
    )
    assert code == 0, err
    for name in ("Accuracy", "Adversarial Robustness", "Calibration Error", "Parameters", "QUBA"):
        assert name in out
    assert "±" in out and "Stored in" in out
    data = json.loads(output.read_text())
    values = {k: v["value"] for k, v in data[0]["dimensions"].items()}
    assert len(values) == 9
    signs = {k: -1 if k in ("calibration_error", "params") else 1 for k in PAPER}
    total = sum(w * signs[k] * (values[k] - m) / s for k, (m, s, w) in PAPER.items())
    expected = total / sum(w for _, _, w in PAPER.values())
    assert f"{expected:.3f}" in out.split("QUBA")[-1]

    code, out, _ = run_cli(args(tree, tmp_path, "--replicates", "20"), capsys)
    assert code == 0 and "0 images forwarded" in out


def test_csv_output_and_limit_marks_a_subset(tree, tmp_path, capsys):
    output = tmp_path / "out.csv"
    code, out, err = run_cli(
        args(tree, tmp_path, "--dims", "accuracy,params", "--limit", "4", "-o", str(output)),
        capsys,
    )
    assert code == 0, err
    assert "subset of 4 images" in " ".join(out.split())
    lines = output.read_text().splitlines()
    assert lines[0] == "model,accuracy,params" and len(lines) == 2


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--dims", "accuracy,bogus"], "Unknown dimension key(s) in --dims: bogus"),
        (["--protocol", "nope"], "Unknown protocol 'nope'"),
        (["--device", "tpu"], "Expected --device"),
        (["--suite", "nope"], "Unknown suite 'nope'"),
    ],
)
def test_bad_options_exit_2_with_a_message_and_write_nothing(
    tree, tmp_path, capsys, extra, message
):
    code, _, err = run_cli(args(tree, tmp_path, *extra), capsys)
    assert code == 2
    assert message in " ".join(err.split()) and "Traceback" not in err
    assert not (tmp_path / "results.sqlite").exists() and not (tmp_path / "cache").exists()


def test_a_model_spec_that_does_not_resolve_exits_2(tree, tmp_path, capsys):
    code, _, err = run_cli(args(tree, tmp_path, model="python:no_such_module_x:factory"), capsys)
    assert code == 2 and "no_such_module_x" in err
    assert not (tmp_path / "results.sqlite").exists()


def test_an_empty_data_root_exits_2_listing_the_datasets(tmp_path, capsys):
    argv = ["evaluate", "-m", MODEL, "--data", str(tmp_path / "none"), "--device", "cpu"]
    argv += ["--store", str(tmp_path / "r.sqlite"), "--cache-dir", str(tmp_path / "c")]
    code, _, err = run_cli(argv, capsys)
    assert code == 2
    assert "imagenet_val" in err and "mixed_same" in err and "Traceback" not in err
    assert not (tmp_path / "r.sqlite").exists()


def test_skip_unreadable_shows_the_count(tmp_path, capsys):
    from quba.data.suites import _SUITES, register_suite
    from quba.data.testing import make_imagenet_tree

    broken = make_imagenet_tree(
        tmp_path / "data", datasets=["imagenet_val"], classes=4, broken=["imagenet_val"]
    )
    register_suite(dataclasses.replace(broken.suite, name="imagenet-cli-broken"))
    try:
        base = ["evaluate", "-m", MODEL, "--data", str(broken.root), "--device", "cpu"]
        base += ["--suite", "imagenet-cli-broken", "--dims", "accuracy", "--no-store"]
        base += ["--cache-dir", str(tmp_path / "cache")]
        code, _, err = run_cli(base, capsys)
        assert code == 2 and broken.broken[0].name in err
        code, out, err = run_cli([*base, "--skip-unreadable"], capsys)
        assert code == 0, err
        assert "(1 skipped)" in out
    finally:
        _SUITES.pop("imagenet-cli-broken", None)


# -- interruption and concurrency, in real processes --------------------------------------------


def spawn(tree, tmp_path, cache: Path, *extra: str, delay: float = 0.0) -> subprocess.Popen:
    """``quba evaluate`` in a new process (the tiny suite is registered by a small wrapper)."""
    code = (
        "import dataclasses, sys\n"
        "from quba.data.suites import register_suite\n"
        "from quba.cli.app import main\n"
        "# the same tree as the test's, described without writing it again\n"
        "import quba.data.testing as testing\n"
        "suite = dataclasses.replace(testing.IMAGENET_SUITE, name=sys.argv[1], datasets={\n"
        "    k: dataclasses.replace(v, num_images=int(n)) for k, v, n in zip(\n"
        "        testing.IMAGENET_SUITE.datasets, testing.IMAGENET_SUITE.datasets.values(),\n"
        "        sys.argv[2].split(','))},\n"
        "    corruptions=('gaussian_noise', 'fog'))\n"
        "register_suite(suite)\n"
        "main(sys.argv[3:])\n"
    )
    counts = ",".join(str(tree.counts[k]) for k in tree.suite.datasets)
    argv = args(tree, tmp_path, *extra, model=SLOW_MODEL)
    argv[argv.index("--cache-dir") + 1] = str(cache)
    argv[argv.index("--suite") + 1] = "imagenet-sub"
    env = {**os.environ, "QUBA_TEST_DELAY": str(delay)}
    return subprocess.Popen(
        [sys.executable, "-c", code, "imagenet-sub", counts, *argv],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


@pytest.mark.slow
def test_sigkill_then_rerun_gives_the_numbers_of_an_uninterrupted_run(tree, tmp_path, capsys):
    extra = ("--replicates", "10", "--shard-size", "4", "--no-store")
    victim = spawn(tree, tmp_path, tmp_path / "cache", *extra, delay=0.1)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and victim.poll() is None:
        if len(list((tmp_path / "cache").glob("imagenet_c-*/shard-*.npz"))) >= 3:
            break
        time.sleep(0.05)
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait(30)
    assert victim.returncode == -signal.SIGKILL
    assert not list((tmp_path / "cache").glob("imagenet_c-*/finished.json"))

    resumed = tmp_path / "resumed.json"
    argv = args(tree, tmp_path, *extra, "--output", str(resumed), model=SLOW_MODEL)
    code, out, err = run_cli(argv, capsys)
    assert code == 0, err
    forwarded = int(out.split(" images forwarded")[0].split()[-1])
    assert 0 < forwarded < sum(tree.counts.values()) + 2 * tree.counts["imagenet_val"]

    uninterrupted = tmp_path / "uninterrupted.json"
    argv = args(tree, tmp_path, *extra, "--output", str(uninterrupted), model=SLOW_MODEL)
    argv[argv.index("--cache-dir") + 1] = str(tmp_path / "fresh-cache")
    assert run_cli(argv, capsys)[0] == 0
    assert json.loads(resumed.read_text()) == json.loads(uninterrupted.read_text())


@pytest.mark.slow
def test_concurrent_runs_share_the_cache_and_the_store(tree, tmp_path):
    from quba.store import ResultStore

    cache = tmp_path / "cache"
    runs = [
        spawn(tree, tmp_path, cache, "--protocol", protocol, "--replicates", "0", delay=0.02)
        for protocol in ("paper", "pixel")
    ]
    outputs = [process.communicate(timeout=300) for process in runs]
    for process, (_, err) in zip(runs, outputs, strict=True):
        assert process.returncode == 0, err
    forwarded = [int(out.split(" images forwarded")[0].split()[-1]) for out, _ in outputs]
    clean = sum(tree.counts.values())
    attacked = 2 * tree.counts["imagenet_val"]
    assert sum(forwarded) == clean + 2 * attacked  # clean logits computed once, by one of them
    rows = ResultStore(tmp_path / "results.sqlite").query()
    assert len(rows) == 18 and {r.protocol for r in rows} == {"paper", "pixel"}
