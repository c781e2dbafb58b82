from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

from scoring.linear import SignedLogisticRegression


def data(seed: int = 0) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    dense = rng.normal(size=(1500, 4))
    sparse = sp.random(1500, 200, density=0.03, random_state=seed, format="csr")
    matrix = sp.hstack([dense, sparse], format="csr")
    truth = np.concatenate([[1.5, -1.0, 0.8, 0.0], rng.normal(0, 0.5, 200)])
    y = (rng.random(1500) < 1.0 / (1.0 + np.exp(-(matrix @ truth)))).astype(int)
    weight = rng.uniform(0.2, 1.0, 1500)
    return matrix, y, weight, truth


def test_without_signs_it_is_scikit_learns_logistic_regression() -> None:
    matrix, y, weight, _ = data()
    ours = SignedLogisticRegression(C=0.5).fit(matrix, y, sample_weight=weight)
    theirs = LogisticRegression(C=0.5, max_iter=2000).fit(matrix, y, sample_weight=weight)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-4)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=1e-4)
    np.testing.assert_allclose(ours.predict_proba(matrix), theirs.predict_proba(matrix), atol=1e-5)
    assert list(ours.predict(matrix[:50])) == list(theirs.predict(matrix[:50]))


def test_signs_bound_the_coefficients_that_would_go_the_other_way() -> None:
    matrix, y, weight, _ = data(1)
    signs = np.zeros(matrix.shape[1], dtype=int)
    # The data say +1.5 and -1.0 for the first two: hold them to the opposite signs.
    signs[:3] = [-1, +1, +1]
    model = SignedLogisticRegression(C=0.5, signs=signs).fit(matrix, y, sample_weight=weight)
    coef = model.coef_[0]
    assert coef[0] == 0.0
    assert coef[1] == 0.0
    assert coef[2] > 0.3  # a bound that agrees with the data does not bind
    assert np.all(coef[signs > 0] >= 0.0)
    assert np.all(coef[signs < 0] <= 0.0)
    assert list(clone(model).get_params()["signs"]) == list(signs)


def test_bad_input_is_refused() -> None:
    matrix, y, _, _ = data()
    with pytest.raises(ValueError, match="signs has 3 entries"):
        SignedLogisticRegression(signs=[1, 0, -1]).fit(matrix, y)
    with pytest.raises(ValueError, match="two classes"):
        SignedLogisticRegression().fit(matrix, np.zeros(matrix.shape[0]))
