"""Binary logistic regression whose coefficients can be held to a sign.

scikit-learn's ``LogisticRegression`` has no bounds on its coefficients, so a feature whose
direction is known (a better track record, being party to a conflict) can still get the other
sign from a quirk of the training data. ``SignedLogisticRegression`` minimises the same objective
as ``LogisticRegression(penalty="l2", solver="lbfgs")``, the weighted mean log loss plus
``||coef||^2 / (2 C sum(w))`` with an unpenalised intercept, with scipy's L-BFGS-B and the box
constraint ``coef_j >= 0`` where ``signs[j] > 0`` and ``coef_j <= 0`` where ``signs[j] < 0``.
With ``signs=None`` it is the unconstrained model (tests check it matches scikit-learn's).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize
from scipy.special import expit, log_expit
from sklearn.base import BaseEstimator, ClassifierMixin


class SignedLogisticRegression(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """L2 logistic regression for two classes with optional sign bounds per coefficient.

    ``signs`` has one entry per feature: +1 (coefficient >= 0), -1 (<= 0) or 0 (free).
    """

    def __init__(
        self,
        *,
        C: float = 1.0,
        signs: Sequence[int] | np.ndarray | None = None,
        max_iter: int = 2000,
        tol: float = 1e-4,
    ) -> None:
        self.C = C
        self.signs = signs
        self.max_iter = max_iter
        self.tol = tol

    def _bounds(self, n_features: int) -> list[tuple[float | None, float | None]] | None:
        if self.signs is None:
            return None
        signs = np.asarray(self.signs)
        if signs.shape != (n_features,):
            raise ValueError(f"signs has {signs.size} entries for {n_features} features")
        lower: list[float | None] = [0.0 if s > 0 else None for s in signs.tolist()]
        upper: list[float | None] = [0.0 if s < 0 else None for s in signs.tolist()]
        return [*zip(lower, upper, strict=True), (None, None)]

    def fit(
        self, X: Any, y: Any, sample_weight: np.ndarray | None = None
    ) -> SignedLogisticRegression:
        matrix = sp.csr_matrix(X, dtype=np.float64) if sp.issparse(X) else np.asarray(X, float)
        target = np.asarray(y)
        self.classes_ = np.unique(target)
        if self.classes_.size != 2:
            raise ValueError(f"needs exactly two classes, got {self.classes_.size}")
        positive = (target == self.classes_[1]).astype(np.float64)
        n, n_features = matrix.shape
        weight = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
        total = float(weight.sum())
        penalty = 1.0 / (self.C * total)
        normalised = weight / total

        def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
            coef, intercept = theta[:-1], theta[-1]
            raw = matrix @ coef + intercept
            # log loss of a logistic model: -y log p - (1 - y) log(1 - p), written stably.
            loss = -(positive * log_expit(raw) + (1.0 - positive) * log_expit(-raw))
            residual = normalised * (expit(raw) - positive)
            gradient = np.empty_like(theta)
            gradient[:-1] = matrix.T @ residual + penalty * coef
            gradient[-1] = residual.sum()
            value = float(normalised @ loss) + 0.5 * penalty * float(coef @ coef)
            return value, gradient

        start = np.zeros(n_features + 1)
        result = minimize(
            objective,
            start,
            method="L-BFGS-B",
            jac=True,
            bounds=self._bounds(n_features),
            options={
                "maxiter": self.max_iter,
                "maxls": 50,
                "gtol": self.tol,
                "ftol": 64 * np.finfo(float).eps,
            },
        )
        theta = result.x
        if self.signs is not None:
            # L-BFGS-B keeps iterates inside the box; clip the last rounding all the same.
            signs = np.asarray(self.signs)
            theta[:-1] = np.where(signs > 0, np.maximum(theta[:-1], 0.0), theta[:-1])
            theta[:-1] = np.where(signs < 0, np.minimum(theta[:-1], 0.0), theta[:-1])
        self.coef_ = theta[:-1].reshape(1, -1)
        self.intercept_ = theta[-1:].copy()
        self.n_iter_ = np.array([result.nit])
        self.n_features_in_ = n_features
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        raw: np.ndarray = np.asarray(X @ self.coef_[0]).ravel() + self.intercept_[0]
        return raw

    def predict_proba(self, X: Any) -> np.ndarray:
        p = expit(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        chosen: np.ndarray = self.classes_[(self.decision_function(X) > 0).astype(np.intp)]
        return chosen
