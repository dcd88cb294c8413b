"""The results store: one SQLite file, one row per model x dimension x protocol x suite x subset.

The database is opened in write-ahead-log mode with a busy timeout, and every write is an upsert
inside one ``BEGIN IMMEDIATE`` transaction, so several processes (a sweep over models, two
terminals) can write to the same file without losing each other's rows. Every connection lives
for one operation only, which also makes a :class:`ResultStore` safe to pass to worker processes.

Schema (version :data:`SCHEMA_VERSION`, recorded in the table ``schema_version``)::

    results(model, suite, protocol, subset, dimension,      -- the primary key
            value, ci_low, ci_high, num_samples, num_skipped,
            missing_reason, breakdown (JSON), provenance (JSON),
            protocol_version, protocol_fingerprint, created_at)

``subset`` is 0 for a result over the full datasets, or ``N`` for a ``--limit N`` run, so a quick
look never overwrites (or is mixed with) a full result.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from quba.errors import StoreError

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1

_COLUMNS = (
    "model",
    "suite",
    "protocol",
    "subset",
    "dimension",
    "value",
    "ci_low",
    "ci_high",
    "num_samples",
    "num_skipped",
    "missing_reason",
    "breakdown",
    "provenance",
    "protocol_version",
    "protocol_fingerprint",
    "created_at",
)
_KEY = ("model", "suite", "protocol", "subset", "dimension")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS results (
    model TEXT NOT NULL,
    suite TEXT NOT NULL,
    protocol TEXT NOT NULL,
    subset INTEGER NOT NULL DEFAULT 0,
    dimension TEXT NOT NULL,
    value REAL,
    ci_low REAL,
    ci_high REAL,
    num_samples INTEGER NOT NULL DEFAULT 0,
    num_skipped INTEGER NOT NULL DEFAULT 0,
    missing_reason TEXT,
    breakdown TEXT NOT NULL DEFAULT '{}',
    provenance TEXT NOT NULL DEFAULT '{}',
    protocol_version TEXT NOT NULL DEFAULT '',
    protocol_fingerprint TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    PRIMARY KEY (model, suite, protocol, subset, dimension)
);
"""


def default_cache_home() -> Path:
    """quba's cache folder: ``$XDG_CACHE_HOME/quba``, else ``~/.cache/quba``."""
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "quba"


def default_store_path() -> Path:
    """The results database: ``$QUBA_STORE``, else ``<cache home>/results.sqlite``."""
    override = os.environ.get("QUBA_STORE")
    return Path(override).expanduser() if override else default_cache_home() / "results.sqlite"


@dataclass(frozen=True)
class ResultRecord:
    """One stored result: a dimension's value for one model, protocol, suite and subset.

    ``subset`` is 0 for the full datasets and ``N`` for a ``--limit N`` run. ``breakdown`` and
    ``provenance`` are JSON-serialisable mappings. ``created_at`` is an ISO-8601 UTC time; it is
    filled in when empty.
    """

    model: str
    dimension: str
    protocol: str
    value: float | None
    suite: str = "imagenet"
    subset: int = 0
    ci_low: float | None = None
    ci_high: float | None = None
    num_samples: int = 0
    num_skipped: int = 0
    missing_reason: str | None = None
    breakdown: Mapping[str, Any] = field(default_factory=dict)
    provenance: Mapping[str, Any] = field(default_factory=dict)
    protocol_version: str = ""
    protocol_fingerprint: str = ""
    created_at: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _finite_or_none(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


class ResultStore:
    """A SQLite results database at ``path`` (created with its folder on first use).

    Raises :class:`~quba.errors.StoreError` when the file is not a quba store or was written by a
    newer schema version.
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 60.0) -> None:
        self.path = Path(path).expanduser()
        self.timeout = timeout
        self._initialise()

    def __repr__(self) -> str:
        return f"ResultStore({str(self.path)!r})"

    # -- connections -------------------------------------------------------------------------

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            connection = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        except sqlite3.Error as error:
            raise StoreError(f"Cannot open the results store {self.path}: {error}") from error
        try:
            connection.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            yield connection
        except sqlite3.DatabaseError as error:
            if "not a database" in str(error) or "malformed" in str(error):
                raise StoreError(
                    f"Expected a quba results store (SQLite) at {self.path}, but the file is not "
                    f"one ({error})",
                    hint="Pass another file with --store, or move this one away.",
                ) from error
            raise
        finally:
            connection.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def _initialise(self) -> None:
        if self.path.is_dir():
            raise StoreError(f"Expected a results store file at {self.path}, found a folder")
        try:
            self._create()
        except (OSError, sqlite3.OperationalError) as error:
            raise StoreError(
                f"Cannot open or create the results store {self.path}: {error}",
                hint="Check the folder's permissions, or pass another file with --store.",
            ) from error

    def _create(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as connection:
            connection.execute("PRAGMA journal_mode = WAL")
        with self._transaction() as connection:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    connection.execute(statement)
            rows = connection.execute("SELECT version FROM schema_version").fetchall()
            if not rows:
                connection.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))
            elif rows[0][0] != SCHEMA_VERSION:
                raise StoreError(
                    f"The results store {self.path} has schema version {rows[0][0]}, but this "
                    f"quba reads version {SCHEMA_VERSION}",
                    hint="Upgrade quba, or use another store with --store.",
                )

    @property
    def schema_version(self) -> int:
        with self._connect() as connection:
            return int(connection.execute("SELECT version FROM schema_version").fetchone()[0])

    # -- writing -----------------------------------------------------------------------------

    def put(self, records: Iterable[ResultRecord]) -> int:
        """Insert or replace ``records`` in one transaction; returns how many were written."""
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        rows = [
            (
                r.model,
                r.suite,
                r.protocol,
                int(r.subset),
                r.dimension,
                _finite_or_none(r.value),
                _finite_or_none(r.ci_low),
                _finite_or_none(r.ci_high),
                int(r.num_samples),
                int(r.num_skipped),
                r.missing_reason,
                _dumps(r.breakdown),
                _dumps(r.provenance),
                str(r.protocol_version),
                r.protocol_fingerprint,
                r.created_at or now,
            )
            for r in records
        ]
        placeholders = ", ".join("?" for _ in _COLUMNS)
        updates = ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS if c not in _KEY)
        sql = (
            f"INSERT INTO results ({', '.join(_COLUMNS)}) VALUES ({placeholders}) "
            f"ON CONFLICT ({', '.join(_KEY)}) DO UPDATE SET {updates}"
        )
        with self._transaction() as connection:
            connection.executemany(sql, rows)
        logger.debug("wrote %d results to %s", len(rows), self.path)
        return len(rows)

    def delete(
        self,
        *,
        model: str | None = None,
        protocol: str | None = None,
        suite: str | None = None,
        subset: int | None = None,
    ) -> int:
        """Delete the rows matching every given filter; returns how many were deleted."""
        where, params = _where(model=model, protocol=protocol, suite=suite, subset=subset)
        with self._transaction() as connection:
            return connection.execute(f"DELETE FROM results{where}", params).rowcount

    # -- reading -----------------------------------------------------------------------------

    def query(
        self,
        *,
        model: str | Sequence[str] | None = None,
        protocol: str | None = None,
        suite: str | None = None,
        subset: int | None = None,
        dimension: str | Sequence[str] | None = None,
    ) -> list[ResultRecord]:
        """The rows matching every given filter (``None`` = any), ordered by model and key."""
        where, params = _where(
            model=model, protocol=protocol, suite=suite, subset=subset, dimension=dimension
        )
        sql = (
            f"SELECT {', '.join(_COLUMNS)} FROM results{where} "
            "ORDER BY model, suite, protocol, subset, dimension"
        )
        with self._connect() as connection:
            rows = connection.execute(sql, params).fetchall()
        return [_record(row) for row in rows]

    def runs(self) -> list[dict[str, Any]]:
        """One summary per (model, suite, protocol, subset): dimension count and last update."""
        sql = (
            "SELECT model, suite, protocol, subset, COUNT(*), "
            "SUM(CASE WHEN value IS NULL THEN 1 ELSE 0 END), MAX(created_at) "
            "FROM results GROUP BY model, suite, protocol, subset "
            "ORDER BY model, suite, protocol, subset"
        )
        with self._connect() as connection:
            rows = connection.execute(sql).fetchall()
        names = ("model", "suite", "protocol", "subset", "dimensions", "missing", "updated")
        return [dict(zip(names, row, strict=True)) for row in rows]

    def __len__(self) -> int:
        with self._connect() as connection:
            return int(connection.execute("SELECT COUNT(*) FROM results").fetchone()[0])


def _where(**filters: Any) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    for column, value in filters.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            clauses.append(f"{column} IN ({', '.join('?' for _ in value)})")
            params.extend(value)
        else:
            clauses.append(f"{column} = ?")
            params.append(value)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def _record(row: Sequence[Any]) -> ResultRecord:
    values = dict(zip(_COLUMNS, row, strict=True))
    values["breakdown"] = json.loads(values["breakdown"] or "{}")
    values["provenance"] = json.loads(values["provenance"] or "{}")
    return ResultRecord(**values)


def finite_json(value: Any) -> Any:
    """``value`` with every non-finite float (NaN, ±inf) replaced by ``None``, recursively, and
    numpy values, paths and sets made plain — valid JSON for every reader (browsers included)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): finite_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_json(v) for v in value]
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    return finite_json(_json_default(value))


def _dumps(value: Mapping[str, Any]) -> str:
    return json.dumps(finite_json(dict(value)), sort_keys=True, allow_nan=False)


def _json_default(value: Any) -> Any:
    """numpy scalars and arrays, paths and tuples in breakdowns become plain JSON values."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, (Path, os.PathLike)):
        return os.fspath(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"Cannot store a value of type {type(value).__name__} as JSON: {value!r}")
