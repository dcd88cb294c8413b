"""The ``quba`` command.

Each module of this package other than ``app`` and private ``_*`` modules defines
``register(app: typer.Typer)`` and adds its command (or command group). Command modules import
heavy libraries (torch, timm, pandas) inside their functions, so that ``quba --help`` stays fast.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import sys

import typer

import quba.cli
from quba.errors import QubaError

try:  # recent typer vendors click; older releases use the click package itself
    from typer._click.exceptions import ClickException
except ImportError:  # pragma: no cover
    from click.exceptions import ClickException

app = typer.Typer(
    name="quba",
    help="How well-behaved is your image classifier? The nine QUBA dimensions and the QUBA score.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _options(
    verbose: int = typer.Option(0, "--verbose", "-v", count=True, help="More log output (-vv)."),
) -> None:
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def _register_commands() -> None:
    for module in sorted(pkgutil.iter_modules(quba.cli.__path__), key=lambda m: m.name):
        if module.name == "app" or module.name.startswith("_"):
            continue
        importlib.import_module(f"quba.cli.{module.name}").register(app)


_register_commands()


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI; a :class:`QubaError` is printed without a traceback, exit 2."""
    try:
        code = app(args=argv, standalone_mode=False)
    except QubaError as error:
        from rich.markup import escape

        from quba.cli._console import err_console

        # escaped: a message or hint may hold brackets (``pip install 'quba[open_clip]'``)
        err_console.print(f"[bold red]error:[/] {escape(error.message)}", highlight=False)
        if error.hint:
            err_console.print(escape(error.hint), highlight=False)
        sys.exit(2)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except typer.Abort:
        sys.exit(130)
    except ClickException as error:  # usage errors: unknown command, bad option value
        error.show()
        sys.exit(error.exit_code)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
