from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest
from sklearn.base import clone

from scoring.claim_model import (
    SERVICE_LABELS,
    ClaimModel,
    cold_start_score,
)
from scoring.evaluation.metrics import binary_metrics, expected_calibration_error
from scoring.features import ClaimContext, topic_reliability
from scoring.model_selection import fit_with_holdout
from scoring.reliability import EvidenceSummary, Grade, population_prior, posterior

Fresh = tuple[list[ClaimContext], list[str], np.ndarray]

WORDS = ("troops", "advanced", "civilians", "killed", "village", "strike", "convoy", "night")


def make_claims(
    n: int, seed: int, *, dated: bool = False
) -> tuple[list[ClaimContext], list[str], np.ndarray]:
    """Claims whose P(holds up) follows a known logistic model.

    Signal: a good track record raises it, being a party to the conflict and the word
    "reportedly" lower it. Labels: held-up claims are "true" or "mostly-true", others "mixed",
    "mostly-false" or "false" (so the service's half credit for "mixed" is exercised).
    """
    rng = np.random.default_rng(seed)
    contexts: list[ClaimContext] = []
    labels: list[str] = []
    truth = np.empty(n)
    start = datetime(2020, 1, 1)
    for i in range(n):
        party = bool(rng.random() < 0.35)
        hedged = bool(rng.random() < 0.3)
        successes = float(rng.integers(0, 40))
        failures = float(rng.integers(0, 40))
        record = posterior(successes, failures, 0.5)
        logit = 6.0 * (record.mean - 0.5) - 1.6 * party - 1.2 * hedged + 0.4
        p = 1.0 / (1.0 + np.exp(-logit))
        truth[i] = p
        words = list(rng.choice(WORDS, size=4))
        if hedged:
            words.insert(1, "reportedly")
        held = rng.random() < p
        labels.append(
            str(rng.choice(["true", "mostly-true"]))
            if held
            else str(rng.choice(["mixed", "mostly-false", "false"], p=[0.2, 0.4, 0.4]))
        )
        contexts.append(
            ClaimContext(
                text=" ".join(words) + f" near the river, {rng.integers(2, 90)} people",
                outlet=f"outlet-{i % 25}",
                outlet_kind=str(rng.choice(["wire", "state_media", "ngo_monitor"])),
                topics=("conflict",),
                published_at=start + timedelta(hours=i) if dated else None,
                party_to_conflict=party,
                outlet_record=record,
            )
        )
    return contexts, labels, truth


def credit(labels: list[str]) -> np.ndarray:
    table = {"true": 1.0, "mostly-true": 1.0, "mixed": 0.5}
    return np.array([table.get(label, 0.0) for label in labels])


@pytest.fixture(scope="module")
def fitted() -> ClaimModel:
    contexts, labels, _ = make_claims(1500, seed=1)
    return ClaimModel(cv=3, random_state=0).fit(contexts, labels)


@pytest.fixture(scope="module")
def fresh() -> tuple[list[ClaimContext], list[str], np.ndarray]:
    return make_claims(1500, seed=2)


def with_changes(context: ClaimContext, **changes: Any) -> ClaimContext:
    fields: dict[str, Any] = {name: getattr(context, name) for name in context.__slots__}
    fields.update(changes)
    return ClaimContext(**fields)


def test_learns_the_synthetic_signal(fitted: ClaimModel, fresh: Fresh) -> None:
    contexts, labels, truth = fresh
    held = (credit(labels) >= 1.0).astype(float)
    p = fitted.predict_holds_up(contexts)
    assert binary_metrics(held, p)["roc_auc"] > 0.8
    # Tracks the true probabilities, not just their order.
    assert np.corrcoef(p, truth)[0, 1] > 0.85
    base = with_changes(contexts[0], party_to_conflict=False, text="troops killed 5 people")
    party = with_changes(base, party_to_conflict=True)
    hedged = with_changes(base, text="troops reportedly killed 5 people")
    good = with_changes(base, outlet_record=posterior(38.0, 2.0, 0.5))
    bad = with_changes(base, outlet_record=posterior(2.0, 38.0, 0.5))
    p_base, p_party, p_hedged, p_good, p_bad = fitted.predict_holds_up(
        [base, party, hedged, good, bad]
    )
    assert p_party < p_base - 0.1
    assert p_hedged < p_base - 0.05
    assert p_good > p_bad + 0.4


def test_calibration_is_sane(fitted: ClaimModel, fresh: Fresh) -> None:
    contexts, labels, truth = fresh
    p = fitted.predict_holds_up(contexts)
    # The target is the expected credit: held up, or "mixed" (a fifth of the rest) for half.
    expected = truth + 0.5 * 0.2 * (1.0 - truth)
    # Against the known true probabilities: a calibrated model's errors are small and unbiased.
    assert abs(p.mean() - expected.mean()) < 0.03
    assert np.mean(np.abs(p - expected)) < 0.08
    assert expected_calibration_error(credit(labels), p) < 0.06
    assert fitted.calibration_method_ == "sigmoid"  # 1,200 claims / 3 folds < 1,000 per fold


def test_holdout_metrics_recorded() -> None:
    contexts, labels, _ = make_claims(1500, seed=1)
    held = fit_with_holdout(ClaimModel(cv=3), contexts, labels, holdout_fraction=0.2)
    metrics = held.metrics
    assert metrics["n_holdout"] == 300
    assert metrics["holdout"] == "stratified random"
    for key in ("accuracy", "macro_f1", "roc_auc", "brier", "log_loss", "ece"):
        assert 0.0 <= float(metrics[key]) <= 1.0 or key == "log_loss"
    assert float(metrics["roc_auc"]) > 0.75
    assert held.model.n_train_ == 1200  # fit only fits: on the claims not held out


def test_class_probabilities_are_ordered_and_normalised(fitted: ClaimModel, fresh: Fresh) -> None:
    contexts = fresh[0]
    proba = fitted.predict_proba(contexts[:200])
    assert proba.shape == (200, len(SERVICE_LABELS))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert list(fitted.classes_) == list(SERVICE_LABELS)
    strong = with_changes(contexts[0], party_to_conflict=False, outlet_record=posterior(40, 0, 0.5))
    weak = with_changes(contexts[0], party_to_conflict=True, outlet_record=posterior(0, 40, 0.5))
    p_strong, p_weak = fitted.predict_proba([strong, weak])
    held = [0, 1]  # true, mostly-true
    assert p_strong[held].sum() > 0.7
    assert p_weak[held].sum() < 0.3
    assert set(fitted.predict(contexts[:50])) <= set(SERVICE_LABELS)


def test_fast_path_agrees_with_scikit_learn_path(fitted: ClaimModel, fresh: Fresh) -> None:
    contexts = fresh[0][:400]
    slow = fitted.predict_holds_up(contexts)
    slow_classes = fitted.predict_proba(contexts)
    single = np.array([fitted.compiled_.holds_up_one(c) for c in contexts])
    np.testing.assert_allclose(single, slow, rtol=0, atol=1e-9)
    scored = [fitted.score_claim(c, explain=0) for c in contexts[:100]]
    np.testing.assert_allclose([s.probability for s in scored], slow[:100], rtol=0, atol=1e-9)
    np.testing.assert_allclose(
        [[s.class_probabilities[label] for label in SERVICE_LABELS] for s in scored],
        slow_classes[:100],
        rtol=0,
        atol=1e-9,
    )


def test_fast_path_agrees_with_isotonic_calibration_and_character_ngrams() -> None:
    contexts, labels, _ = make_claims(2200, seed=4)
    model = ClaimModel(
        cv=2,
        calibration="auto",
        char_ngram_range=(2, 4),
        isotonic_min_samples=1000,
    ).fit(contexts, labels)
    assert model.calibration_method_ == "isotonic"
    test_contexts = make_claims(300, seed=5)[0]
    slow = model.predict_holds_up(test_contexts)
    scored = [model.score_claim(c, explain=0) for c in test_contexts]
    np.testing.assert_allclose([s.probability for s in scored], slow, atol=1e-9)
    single = [model.compiled_.holds_up_one(c) for c in test_contexts]
    np.testing.assert_allclose(single, slow, rtol=0, atol=1e-9)
    np.testing.assert_allclose(
        [[s.class_probabilities[label] for label in SERVICE_LABELS] for s in scored],
        model.predict_proba(test_contexts),
        atol=1e-9,
    )


def test_explanations_name_the_right_features_with_the_right_signs(
    fitted: ClaimModel, fresh: Fresh
) -> None:
    context = with_changes(
        fresh[0][0],
        party_to_conflict=True,
        outlet_record=posterior(36.0, 4.0, 0.5),
        text="troops reportedly killed civilians near the river, 20 people",
    )
    contributions = {c.group: c for c in fitted.explain(context, top=6)}
    assert contributions["party_to_conflict"].effect < -0.05
    assert contributions["party_to_conflict"].description == "outlet is a party to this conflict"
    assert contributions["outlet_record"].effect > 0.05
    assert contributions["outlet_record"].description.startswith("outlet's track record: 86%")
    hedging = contributions.get("hedging")
    assert hedging is not None
    assert hedging.effect < 0
    assert hedging.description == "claim hedges (1 hedging word)"
    unhedged = with_changes(context, text="troops killed civilians near the river, 20 people")
    assert {c.group: c for c in fitted.explain(unhedged, top=20)}["hedging"].effect > 0
    effects = [abs(c.effect) for c in fitted.explain(context, top=5)]
    assert effects == sorted(effects, reverse=True)
    not_party = with_changes(context, party_to_conflict=False)
    assert {c.group: c for c in fitted.explain(not_party, top=8)}["party_to_conflict"].effect > 0


def test_interval_contains_score_and_widens_with_a_thin_record(
    fitted: ClaimModel, fresh: Fresh
) -> None:
    base = with_changes(fresh[0][0], party_to_conflict=False)
    thick = fitted.score_claim(with_changes(base, outlet_record=posterior(300.0, 100.0, 0.5)))
    thin = fitted.score_claim(with_changes(base, outlet_record=posterior(3.0, 1.0, 0.5)))
    for score in (thick, thin):
        assert score.low <= score.probability <= score.high
        assert score.model_sd > 0
    assert thin.track_record_sd > 3 * thick.track_record_sd
    assert (thin.high - thin.low) > (thick.high - thick.low) + 0.05
    for score in (fitted.score_claim(c, explain=0) for c in fresh[0][:300]):
        assert score.low <= score.probability <= score.high


def test_grade_bands_and_unrated_outlets(fitted: ClaimModel, fresh: Fresh) -> None:
    context = with_changes(fresh[0][0], outlet_record=posterior(39.0, 1.0, 0.5))
    score = fitted.score_claim(context)
    assert score.grade is not Grade.UNRATED
    no_record = fitted.score_claim(with_changes(context, outlet_record=None))
    assert no_record.grade is Grade.UNRATED


def test_time_ordered_split_holds_out_the_latest_claims() -> None:
    contexts, labels, _ = make_claims(900, seed=6, dated=True)
    shuffled = np.random.default_rng(0).permutation(len(contexts))
    held = fit_with_holdout(
        ClaimModel(cv=3),
        [contexts[i] for i in shuffled],
        [labels[i] for i in shuffled],
        holdout_fraction=0.25,
    )
    assert held.model.time_ordered_
    assert held.metrics["holdout"] == "latest by date"
    assert held.metrics["n_holdout"] == 225
    assert held.model.n_train_ == 675  # the model that was measured


def test_estimator_conventions(fitted: ClaimModel) -> None:
    params = fitted.get_params()
    assert params["cv"] == 3
    copy = clone(fitted)
    assert copy.get_params() == params
    assert not hasattr(copy, "compiled_")
    model = ClaimModel(labels=("yes", "no"), holds_up={"yes": 1.0}, cv=2)
    contexts, _, _ = make_claims(60, seed=7)
    assert model.fit(contexts, ["yes", "no"] * 30) is model
    with pytest.raises(TypeError):
        ClaimModel(("yes", "no"))  # type: ignore[misc]  # parameters are keyword-only


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"cv": 1}, "'cv'"),
        ({"calibration": "platt"}, "'calibration'"),
        ({"interval_level": 1.0}, "'interval_level'"),
        ({"history_strength": 0.0}, "'history_strength'"),
        ({"history_folds": 1}, "'history_folds'"),
    ],
)
def test_parameters_are_validated_on_fit(params: dict[str, Any], named: str) -> None:
    contexts, labels, _ = make_claims(40, seed=8)
    with pytest.raises(ValueError, match=named):
        ClaimModel(**params).fit(contexts, labels)


def test_bad_input_is_refused() -> None:
    contexts, labels, _ = make_claims(40, seed=8)
    with pytest.raises(ValueError, match="not one of"):
        ClaimModel(cv=2).fit(contexts, ["bogus"] * 40)
    with pytest.raises(ValueError, match="not in labels"):
        ClaimModel(holds_up={"nope": 1.0}).fit(contexts, labels)
    with pytest.raises(ValueError, match="different lengths"):
        ClaimModel().fit(contexts, labels[:-1])


def test_cold_start_score_uses_the_track_record() -> None:
    record = posterior(30.0, 10.0, 0.5)
    score = cold_start_score(ClaimContext(text="t", outlet="x", outlet_record=record))
    assert score.probability == pytest.approx(record.mean)
    assert (score.low, score.high) == pytest.approx((record.low, record.high))
    unknown = cold_start_score(ClaimContext(text="t", outlet="x"))
    assert unknown.grade is Grade.UNRATED
    assert unknown.probability == pytest.approx(0.5)


def test_cold_start_score_reads_the_topic_record_and_its_reasons_add_up() -> None:
    prior = population_prior(kind_successes=20, kind_failures=10, all_successes=50, all_failures=50)
    verdicts = (EvidenceSummary("verdict", 30.0, 10.0, 40),)
    outlet = posterior(30.0, 10.0, prior.kind_mean, breakdown=verdicts)
    topic = posterior(1.0, 9.0, outlet.mean)  # this outlet keeps failing on this topic
    context = ClaimContext(
        text="t",
        outlet="x",
        outlet_kind="wire",
        topics=("conflict",),
        outlet_record=outlet,
        topic_records={"conflict": topic},
    )
    score = cold_start_score(context, prior=prior)
    expected = topic_reliability(context)
    assert expected is not None
    assert score.probability == pytest.approx(expected.mean)
    assert score.probability < outlet.mean - 0.1
    groups = [part.group for part in score.contributions]
    assert groups[:2] == ["global_baseline", "outlet_kind_prior"]
    assert groups[-1] == "topic_record"
    assert sum(part.effect for part in score.contributions) == pytest.approx(score.probability)
    # The topic record's interval is at the level asked for, as the outlet's record is.
    narrow = cold_start_score(context, prior=prior, level=0.5)
    assert narrow.probability == pytest.approx(score.probability)
    assert score.low < narrow.low < narrow.high < score.high
    # Without a record on the claim's topic it is the outlet's own record, as before.
    elsewhere = cold_start_score(with_changes(context, topics=("economy",)), prior=prior)
    assert elsewhere.probability == pytest.approx(outlet.mean)
    assert "topic_record" not in [part.group for part in elsewhere.contributions]


def test_history_learns_each_outlets_verdicts() -> None:
    # No track record is given: only the model's own label history of the outlet can tell.
    rng = np.random.default_rng(3)
    contexts: list[ClaimContext] = []
    labels: list[str] = []
    for i in range(600):
        outlet = f"outlet-{i % 6}"
        good = i % 6 < 3
        held = rng.random() < (0.85 if good else 0.15)
        labels.append("true" if held else "false")
        words = " ".join(rng.choice(WORDS, size=4))
        contexts.append(ClaimContext(text=words, outlet=outlet, topics=("conflict",)))
    model = ClaimModel(cv=3).fit(contexts, labels)
    good_p, bad_p = model.predict_holds_up(
        [ClaimContext(text="troops advanced", outlet=name) for name in ("outlet-0", "outlet-5")]
    )
    assert good_p > bad_p + 0.4
    names, columns = model.training_history(contexts, labels)
    assert columns.shape == (600, len(names))
    # Out of fold: an outlet seen once has no history of its own label.
    lone = [*contexts[:599], ClaimContext(text="x", outlet="lone")]
    names, columns = model.training_history(lone, labels)
    evidence = names.index("history outlet_record log evidence")
    assert columns[-1, evidence] == 0.0
    assert columns[0, evidence] > 0.0


def test_history_can_be_switched_off(fitted: ClaimModel, fresh: Fresh) -> None:
    contexts, labels, _ = fresh
    plain = clone(fitted).set_params(history=False).fit(contexts[:600], labels[:600])
    assert plain.design_.history is None
    scores = [plain.score_claim(c, explain=0).probability for c in contexts[600:700]]
    np.testing.assert_allclose(scores, plain.predict_holds_up(contexts[600:700]), atol=1e-9)
