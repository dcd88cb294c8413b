"""Errors a user can act on.

Every problem caused by input the user controls (a path, a model name, a table, a flag) raises a
subclass of :class:`QubaError`. Its message says what was expected, what came, and where. The CLI
prints these without a traceback and exits with status 2; anything else is a bug in quba.
"""

from __future__ import annotations


class QubaError(Exception):
    """A problem the user can fix. ``hint`` is an optional sentence on how to fix it."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if self.hint is None else f"{self.message}\n{self.hint}"


class DataError(QubaError):
    """A dataset is missing, incomplete, in the wrong layout, or holds an unreadable file."""


class ModelError(QubaError):
    """A model spec does not resolve, or a checkpoint does not fit its architecture."""


class TableError(QubaError):
    """A table of dimension values (for example the input of ``quba score``) is malformed."""


class ConfigError(QubaError):
    """An option has an impossible value: unknown dimension key, weights, protocol, device."""


class StoreError(QubaError):
    """The results store cannot be opened, or holds data of an unknown schema version."""


class MissingExtraError(QubaError):
    """An optional dependency is not installed; the message names the install command."""

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        super().__init__(
            f"{purpose} needs the optional package `{package}`, which is not installed.",
            hint=f"Install it with: pip install 'quba[{extra}]'",
        )
        self.package = package
        self.extra = extra
