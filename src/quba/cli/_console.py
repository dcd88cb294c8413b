"""Shared terminal helpers for the CLI (the library itself never prints)."""

from __future__ import annotations

from rich.console import Console

console = Console()
err_console = Console(stderr=True)
