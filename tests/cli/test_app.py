"""The CLI entry point: user errors print without a traceback and exit 2."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer

from quba.cli import app as app_module
from quba.errors import DataError


def test_help_lists_commands_and_exits_zero(capsys):
    with pytest.raises(SystemExit) as done:
        app_module.main(["--help"])
    assert done.value.code == 0
    assert "Usage" in capsys.readouterr().out


def test_unknown_command_is_a_usage_error_with_status_2(capsys):
    with pytest.raises(SystemExit) as done:
        app_module.main(["no-such-command"])
    assert done.value.code == 2


def test_quba_error_is_printed_without_traceback_and_exits_2(monkeypatch, capsys):
    def broken() -> None:
        raise DataError("expected imagenet/val/ under /nowhere", hint="Run quba data verify.")

    monkeypatch.setattr(app_module, "app", typer.Typer())
    app_module.app.command("broken")(broken)
    app_module.app.command("other")(lambda: None)
    with pytest.raises(SystemExit) as done:
        app_module.main(["broken"])
    err = capsys.readouterr().err
    assert done.value.code == 2
    assert "expected imagenet/val/ under /nowhere" in err and "Run quba data verify." in err
    assert "Traceback" not in err


def test_python_dash_m_quba_runs():
    result = subprocess.run(
        [sys.executable, "-m", "quba", "--help"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and "quba" in result.stdout


def test_brackets_in_an_error_are_printed_verbatim(monkeypatch, capsys):
    from quba.errors import MissingExtraError

    def broken() -> None:
        raise MissingExtraError("open_clip", "open_clip", "An [/x] open_clip model")

    monkeypatch.setattr(app_module, "app", typer.Typer())
    app_module.app.command("broken")(broken)
    app_module.app.command("other")(lambda: None)
    with pytest.raises(SystemExit) as done:
        app_module.main(["broken"])
    err = capsys.readouterr().err
    assert done.value.code == 2
    assert "An [/x] open_clip model" in err and "pip install 'quba[open_clip]'" in err
