"""Read the long table of results from the results store (:mod:`quba.store`), read-only."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from quba.errors import StoreError

logger = logging.getLogger(__name__)


def load_results(
    store: Path,
    *,
    models: list[str] | None = None,
    protocol: str | None = None,
    suite: str | None = None,
) -> pd.DataFrame:
    """The store's results as the report's long table, filtered by models/protocol/suite.

    A store file that does not exist is an error (opening one would create it), as is a filter
    that matches nothing: the message lists what the store holds.
    """
    from quba.store import ResultStore, records_to_frame

    path = Path(store).expanduser()
    if not path.is_file():
        raise StoreError(
            f"Expected a results store at {path}, but there is no such file",
            hint="Run `quba evaluate` first, or pass the store's path with --store.",
        )
    database = ResultStore(path)
    records = database.query(model=models or None, protocol=protocol, suite=suite)
    if not records:
        runs = database.runs()
        held = sorted({f"{r['model']} ({r['suite']}, {r['protocol']})" for r in runs})
        wanted = ", ".join(
            f"{name} {value}"
            for name, value in (("models", models), ("protocol", protocol), ("suite", suite))
            if value
        )
        raise StoreError(
            f"The results store {path} holds no results"
            + (f" for {wanted}" if wanted else "")
            + (f"; it holds: {', '.join(held)}" if held else ""),
        )
    logger.debug("read %d results from %s", len(records), path)
    return records_to_frame(records)
