import numpy as np
import pytest
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

from scoring.evaluation.metrics import (
    binary_metrics,
    expected_calibration_error,
    multiclass_metrics,
)


def test_ece_by_hand() -> None:
    # Bin [0.2, 0.3): p=0.25 twice, outcomes 1 and 0 -> gap 0.25; bin [0.9, 1.0]: p=1.0, y=1.
    y = np.array([1.0, 0.0, 1.0])
    p = np.array([0.25, 0.25, 1.0])
    assert expected_calibration_error(y, p) == pytest.approx(2 / 3 * 0.25)


def test_ece_of_a_constant_forecast_is_its_bias() -> None:
    y = np.array([1, 0, 0, 0], dtype=float)
    assert expected_calibration_error(y, np.full(4, 0.6)) == pytest.approx(0.35)
    assert expected_calibration_error(y, np.full(4, 0.25)) == pytest.approx(0.0)


def test_binary_metrics_match_scikit_learn() -> None:
    rng = np.random.default_rng(0)
    p = rng.random(500)
    y = (rng.random(500) < p).astype(float)
    metrics = binary_metrics(y, p)
    assert metrics["roc_auc"] == pytest.approx(roc_auc_score(y, p))
    assert metrics["brier"] == pytest.approx(brier_score_loss(y, p))
    assert metrics["log_loss"] == pytest.approx(log_loss(y, p))
    assert metrics["binary_accuracy"] == pytest.approx(np.mean((p >= 0.5) == (y == 1)))
    assert metrics["ece"] < 0.1


def test_fractional_targets_equal_weighted_duplicates() -> None:
    y = np.array([1.0, 0.5, 0.0])
    p = np.array([0.9, 0.4, 0.2])
    expanded = binary_metrics(
        np.array([1.0, 1.0, 0.0, 0.0]),
        np.array([0.9, 0.4, 0.2, 0.4]),
        sample_weight=np.array([1.0, 0.5, 1.0, 0.5]),
    )
    assert binary_metrics(y, p) == pytest.approx(expanded)


def test_multiclass_metrics() -> None:
    y = np.array([0, 1, 2, 2])
    proba = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.2, 0.7], [0.6, 0.3, 0.1]])
    metrics = multiclass_metrics(y, proba, n_classes=3)
    assert metrics["accuracy"] == pytest.approx(0.75)
    # F1: class 0: p=1/2, r=1 -> 2/3; class 1: 1; class 2: p=1, r=1/2 -> 2/3.
    assert metrics["macro_f1"] == pytest.approx((2 / 3 + 1 + 2 / 3) / 3)


def test_invalid_input_is_refused() -> None:
    with pytest.raises(ValueError, match="lengths"):
        binary_metrics(np.array([1.0]), np.array([0.5, 0.5]))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        binary_metrics(np.array([2.0]), np.array([0.5]))
