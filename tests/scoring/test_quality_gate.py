from __future__ import annotations

from typing import Any

from scoring.quality_gate import DEFAULT_RULE, GateRule, judge


def metrics(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "n_holdout": 120,
        "log_loss": 0.60,
        "brier": 0.20,
        "track_record_log_loss": 0.66,
        "track_record_brier": 0.23,
    }
    return base | changes


def test_a_model_clearly_better_than_the_track_record_passes() -> None:
    verdict = judge(metrics())
    assert verdict.passed
    assert verdict.failures == ()
    assert verdict.explain().startswith("passed the quality gate")
    assert verdict.as_dict()["track_record"] == {"log_loss": 0.66, "brier": 0.23}


def test_each_shortfall_is_named_with_its_figures() -> None:
    verdict = judge(metrics(n_holdout=16, log_loss=0.70, brier=0.226))
    assert not verdict.passed
    assert verdict.failures == (
        "16 held-out verdicts, fewer than the 50 needed",
        "log loss 0.7000 against the track record's 0.6600 (needs 0.6500 or less)",
        "Brier score 0.2260 against the track record's 0.2300 (needs 0.2250 or less)",
    )
    assert verdict.explain().startswith("did not pass the quality gate: 16 held-out")


def test_the_margins_and_the_minimum_are_inclusive_bounds() -> None:
    rule = DEFAULT_RULE
    exactly = metrics(
        n_holdout=rule.min_holdout,
        log_loss=0.66 - rule.log_loss_margin,
        brier=0.23 - rule.brier_margin,
    )
    assert judge(exactly).passed
    assert not judge(exactly | {"n_holdout": rule.min_holdout - 1}).passed
    assert not judge(exactly | {"brier": 0.23 - rule.brier_margin / 2}).passed


def test_missing_figures_fail_rather_than_pass() -> None:
    for missing in (None, {}, metrics(track_record_brier=None), {"n_holdout": True}):
        verdict = judge(missing)
        assert not verdict.passed
    assert "no held-out Brier score" in judge(metrics(track_record_brier=None)).failures[0]


def test_the_rule_describes_itself() -> None:
    text = GateRule(min_holdout=10, log_loss_margin=0.02, brier_margin=0.01).describe()
    assert text == (
        "on at least 10 held-out verdicts, the model's log loss must be at least 0.02 and its "
        "Brier score at least 0.01 below the track record's on the same claims"
    )
