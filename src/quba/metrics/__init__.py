"""Pure metric functions of arrays (numpy, or torch tensors converted on entry) and bootstrap
intervals. No I/O, no models: every dimension of :mod:`quba.dimensions` is built from these."""

from quba.metrics._arrays import softmax
from quba.metrics.balance import ClassBalance, class_balance, class_balance_terms
from quba.metrics.bootstrap import Interval, draw_counts, percentile_interval
from quba.metrics.calibration import (
    AceReplicates,
    adaptive_calibration_error,
    calibration_error,
    expected_calibration_error,
)
from quba.metrics.classification import (
    accuracy,
    category_decisions,
    category_probabilities,
    object_class_predictions,
    parse_cue_conflict_name,
    rendition_predictions,
    shape_bias,
    shape_bias_counts,
)
from quba.metrics.params import count_parameters, parameters_in_millions
from quba.metrics.robustness import (
    adversarial_robustness,
    corruption_robustness,
    geometric_mean,
    object_focus,
    ood_robustness,
    relative_accuracy,
)

__all__ = [
    "AceReplicates",
    "ClassBalance",
    "Interval",
    "accuracy",
    "adaptive_calibration_error",
    "adversarial_robustness",
    "calibration_error",
    "category_decisions",
    "category_probabilities",
    "class_balance",
    "class_balance_terms",
    "corruption_robustness",
    "count_parameters",
    "draw_counts",
    "expected_calibration_error",
    "geometric_mean",
    "object_class_predictions",
    "object_focus",
    "ood_robustness",
    "parameters_in_millions",
    "parse_cue_conflict_name",
    "percentile_interval",
    "relative_accuracy",
    "rendition_predictions",
    "shape_bias",
    "shape_bias_counts",
    "softmax",
]
