"""The results store: a SQLite database of dimension results, and its exports."""

from quba.store._export import (
    EXPORT_FORMATS,
    ExportFormat,
    detect_format,
    export_records,
    records_to_frame,
)
from quba.store._sqlite import (
    SCHEMA_VERSION,
    ResultRecord,
    ResultStore,
    default_cache_home,
    default_store_path,
)

__all__ = [
    "EXPORT_FORMATS",
    "SCHEMA_VERSION",
    "ExportFormat",
    "ResultRecord",
    "ResultStore",
    "default_cache_home",
    "default_store_path",
    "detect_format",
    "export_records",
    "records_to_frame",
]
