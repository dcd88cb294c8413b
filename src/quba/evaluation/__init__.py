"""Evaluation: plan, inference through the prediction cache, dimensions, store.

>>> import quba
>>> spec = "timm:resnet18.a1_in1k"
>>> results = quba.evaluate([spec], data="~/data", dims="accuracy")  # doctest: +SKIP
>>> results[spec]["accuracy"].value  # doctest: +SKIP
"""

from quba.evaluation._api import DEFAULT_SHARD_SIZE, evaluate
from quba.evaluation._plan import parse_dims, prediction_keys, prediction_needs
from quba.evaluation._results import Evaluation, ModelEvaluation, format_value

__all__ = [
    "DEFAULT_SHARD_SIZE",
    "Evaluation",
    "ModelEvaluation",
    "evaluate",
    "format_value",
    "parse_dims",
    "prediction_keys",
    "prediction_needs",
]
