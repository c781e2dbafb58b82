from __future__ import annotations

import numpy as np

from scoring.claim_model import ClaimModel
from scoring.evaluation.holdout import holdout_metrics
from scoring.model_selection import (
    fit_with_holdout,
    select_params,
    shuffled_folds,
    time_ordered_folds,
)
from tests.scoring.test_claim_model import make_claims

CANDIDATES = ({"C": 0.1, "binary_C": 0.1}, {"C": 1.0, "binary_C": 1.0})


def test_time_ordered_folds_only_ever_look_back() -> None:
    folds = time_ordered_folds(10, 3)
    assert [(list(train), list(test)) for train, test in folds] == [
        ([0, 1, 2], [3, 4, 5]),
        ([0, 1, 2, 3, 4, 5], [6, 7]),
        ([0, 1, 2, 3, 4, 5, 6, 7], [8, 9]),
    ]
    for train, test in time_ordered_folds(500, 4):
        assert train.max() < test.min()
    covered = np.sort(np.concatenate([test for _, test in shuffled_folds(30, 3)]))
    assert list(covered) == list(range(30))


def test_held_out_claims_are_the_latest_and_influence_nothing_but_the_figures() -> None:
    contexts, labels, _ = make_claims(300, seed=21, dated=True)
    shuffled = np.random.default_rng(1).permutation(len(contexts))
    contexts = [contexts[i] for i in shuffled]
    labels = [labels[i] for i in shuffled]
    base = ClaimModel(cv=2)
    fitted = fit_with_holdout(
        base, contexts, labels, holdout_fraction=0.2, candidates=CANDIDATES, n_folds=2
    )
    assert len(fitted.holdout_index) == 60
    assert fitted.model.n_train_ == len(fitted.train_index) == 240
    latest_trained = max(contexts[i].published_at for i in fitted.train_index)  # type: ignore[type-var]
    earliest_held = min(contexts[i].published_at for i in fitted.holdout_index)  # type: ignore[type-var]
    assert latest_trained < earliest_held
    metrics = fitted.metrics
    assert metrics["holdout"] == "latest by date"
    assert metrics["n_holdout"] == 60
    assert metrics["n_train"] == 240
    assert {"track_record_log_loss", "track_record_brier", "log_loss", "brier"} <= set(metrics)
    selection = metrics["selection"]
    assert selection["method"] == "time-ordered (expanding window)"
    assert selection["folds"] == 2
    assert [c["params"] for c in selection["candidates"]] == [dict(c) for c in CANDIDATES]
    # The chosen one is the candidate with the lowest cross-validated log loss.
    best = min(selection["candidates"], key=lambda c: c["log_loss"])
    assert selection["chosen"] == best["params"]
    # The saved model is the one measured: scoring the held-out claims again gives the figures.
    again = holdout_metrics(
        fitted.model,
        [contexts[i] for i in fitted.holdout_index],
        [labels[i] for i in fitted.holdout_index],
    )
    assert again["log_loss"] == metrics["log_loss"]

    # Other verdicts on the held-out claims change the figures and nothing else.
    flipped = list(labels)
    for i in fitted.holdout_index:
        flipped[i] = "false" if labels[i] in ("true", "mostly-true") else "true"
    other = fit_with_holdout(
        base, contexts, flipped, holdout_fraction=0.2, candidates=CANDIDATES, n_folds=2
    )
    assert other.metrics["selection"] == selection
    probe = contexts[:50]
    np.testing.assert_array_equal(
        other.model.predict_holds_up(probe), fitted.model.predict_holds_up(probe)
    )
    assert other.metrics["log_loss"] != metrics["log_loss"]


def test_selection_without_a_usable_fold_keeps_the_first_candidate_and_says_so() -> None:
    contexts, labels, _ = make_claims(40, seed=22, dated=True)
    selection = select_params(
        ClaimModel(cv=2), contexts, labels, CANDIDATES, time_ordered_folds(40, 3)
    )
    assert selection.params == CANDIDATES[0]
    assert selection.folds == 0
    assert "no time-ordered fold with at least 40 training claims" in selection.note
