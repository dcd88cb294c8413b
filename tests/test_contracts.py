"""The shared value types: Preprocessing, Predictions, DimensionResult."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from quba.dimensions.result import DimensionResult
from quba.errors import ModelError
from quba.inference.predictions import Predictions
from quba.models.preprocessing import Preprocessing


def test_preprocessing_transform_resizes_crops_and_scales_to_unit_range():
    image = Image.fromarray(np.full((300, 400, 3), 255, dtype=np.uint8))
    tensor = Preprocessing(resize=64, crop=56).transform()(image)
    assert tuple(tensor.shape) == (3, 56, 56)
    assert float(tensor.min()) == pytest.approx(1.0) and float(tensor.max()) == pytest.approx(1.0)


def test_preprocessing_native_keeps_size_and_converts_grayscale():
    image = Image.fromarray(np.zeros((24, 24), dtype=np.uint8))
    tensor = Preprocessing().transform(native=True)(image)
    assert tuple(tensor.shape) == (3, 24, 24)


def test_preprocessing_from_dict_and_bad_values():
    spec = Preprocessing.from_dict({"crop": 32, "mean": [0.5, 0.5, 0.5], "std": [0.2] * 3})
    assert spec.crop == 32 and spec.resize == 256 and spec.mean == (0.5, 0.5, 0.5)
    with pytest.raises(ModelError, match="Unknown preprocessing keys"):
        Preprocessing.from_dict({"size": 3})
    with pytest.raises(ModelError, match="both mean and std"):
        Preprocessing(mean=(0.5, 0.5, 0.5))
    with pytest.raises(ModelError, match="interpolation"):
        Preprocessing(interpolation="cubic")  # type: ignore[arg-type]


def test_predictions_select_and_align_by_sample_id():
    logits = np.arange(12, dtype=np.float32).reshape(4, 3)
    predictions = Predictions(
        logits=logits,
        targets=np.array([0, 1, 2, 0]),
        sample_ids=np.array([10, 11, 12, 13]),
        meta={"severity": np.array([1, 2, 3, 4])},
    )
    aligned = predictions.aligned_to(np.array([13, 10]))
    assert aligned.sample_ids.tolist() == [13, 10]
    assert aligned.meta["severity"].tolist() == [4, 1]
    np.testing.assert_array_equal(aligned.logits, logits[[3, 0]])
    with pytest.raises(KeyError, match="1 sample ids are missing"):
        predictions.aligned_to(np.array([99]))
    with pytest.raises(ValueError, match="Expected logits"):
        Predictions(logits=logits, targets=np.zeros(3), sample_ids=np.zeros(4))


def test_dimension_result_refuses_nan_and_unexplained_missing_values():
    with pytest.raises(ValueError, match="finite"):
        DimensionResult(key="accuracy", value=float("nan"))
    with pytest.raises(ValueError, match="missing_reason"):
        DimensionResult(key="accuracy", value=None)
    assert DimensionResult(key="accuracy", value=None, missing_reason="no data").is_missing
