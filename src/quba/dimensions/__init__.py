"""The nine quality dimensions, their registry, and the protocols.

>>> from quba.dimensions import list_dimensions
>>> [d.key for d in list_dimensions()][:3]
['accuracy', 'adv_robustness', 'c_robustness']
"""

from quba.dimensions import builtin as _builtin  # noqa: F401  (registers the nine dimensions)
from quba.dimensions.protocol import PAPER, PIXEL, Protocol, get_protocol, list_protocols
from quba.dimensions.registry import (
    CleanSummary,
    Dimension,
    DimensionInputs,
    dimension_keys,
    get_dimension,
    list_dimensions,
    register_dimension,
)
from quba.dimensions.result import DimensionResult


def compute_dimensions(
    inputs: DimensionInputs, keys: list[str] | None = None
) -> dict[str, DimensionResult]:
    """Compute the given dimensions (default: all nine, in order) from one set of inputs."""
    keys = list(dimension_keys()) if keys is None else keys
    return {key: get_dimension(key).compute(inputs) for key in keys}


__all__ = [
    "PAPER",
    "PIXEL",
    "CleanSummary",
    "Dimension",
    "DimensionInputs",
    "DimensionResult",
    "Protocol",
    "compute_dimensions",
    "dimension_keys",
    "get_dimension",
    "get_protocol",
    "list_dimensions",
    "list_protocols",
    "register_dimension",
]
