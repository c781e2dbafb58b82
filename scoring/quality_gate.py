"""The activation gate: a trained claim model replaces the track record only where it does better.

The rule, judged on a model's held-out metrics (``ClaimModel.evaluate`` on the latest verdicted
claims by date, which the model never trained on and no parameter was chosen on):

- at least ``min_holdout`` (50) held-out verdicts; fewer cannot tell a gain from noise (the
  standard error of a Brier score over 50 claims is about 0.02);
- the model's log loss of P(holds up) at least ``log_loss_margin`` (0.01) below the log loss of
  the cold-start score (the outlet's track record at claim time) on the same claims;
- its Brier score at least ``brier_margin`` (0.005) below the track record's.

Both scores are proper scoring rules: a model that ranks claims well but is over-confident fails
on log loss, one that is calibrated but says nothing new fails on both. A model that fails can
still be activated by an admin with ``force``, which the audit log records.

Pure functions on metric dictionaries: no FastAPI, no SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Final

MIN_HOLDOUT_VERDICTS: Final = 50
LOG_LOSS_MARGIN: Final = 0.01
BRIER_MARGIN: Final = 0.005


@dataclass(frozen=True, slots=True)
class GateRule:
    """What a model must show on held-out verdicts to become active."""

    min_holdout: int = MIN_HOLDOUT_VERDICTS
    log_loss_margin: float = LOG_LOSS_MARGIN
    brier_margin: float = BRIER_MARGIN

    def describe(self) -> str:
        return (
            f"on at least {self.min_holdout} held-out verdicts, the model's log loss must be "
            f"at least {self.log_loss_margin:g} and its Brier score at least "
            f"{self.brier_margin:g} below the track record's on the same claims"
        )


DEFAULT_RULE: Final = GateRule()


@dataclass(frozen=True, slots=True)
class GateVerdict:
    """The gate's decision on one model, with the figures it was taken on."""

    passed: bool
    failures: tuple[str, ...]
    n_holdout: int | None
    model: Mapping[str, float | None]
    track_record: Mapping[str, float | None]
    rule: GateRule

    def explain(self) -> str:
        """One sentence: passed, or each way it fell short."""
        if self.passed:
            return f"passed the quality gate ({self.rule.describe()})"
        return "did not pass the quality gate: " + "; ".join(self.failures)

    def as_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "failures": list(self.failures),
            "n_holdout": self.n_holdout,
            "model": dict(self.model),
            "track_record": dict(self.track_record),
            "rule": asdict(self.rule) | {"text": self.rule.describe()},
        }


def _number(metrics: Mapping[str, Any], key: str) -> float | None:
    value = metrics.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def judge(metrics: Mapping[str, Any] | None, rule: GateRule = DEFAULT_RULE) -> GateVerdict:
    """Apply ``rule`` to a model's held-out metrics (as ``ClaimModel.evaluate`` reports them)."""
    metrics = metrics or {}
    n = metrics.get("n_holdout")
    n_holdout = n if isinstance(n, int) and not isinstance(n, bool) else None
    model = {"log_loss": _number(metrics, "log_loss"), "brier": _number(metrics, "brier")}
    record = {
        "log_loss": _number(metrics, "track_record_log_loss"),
        "brier": _number(metrics, "track_record_brier"),
    }
    failures: list[str] = []
    if n_holdout is None or n_holdout < rule.min_holdout:
        failures.append(
            f"{n_holdout or 0} held-out verdicts, fewer than the {rule.min_holdout} needed"
        )
    for key, name, margin in (
        ("log_loss", "log loss", rule.log_loss_margin),
        ("brier", "Brier score", rule.brier_margin),
    ):
        ours, theirs = model[key], record[key]
        if ours is None or theirs is None:
            failures.append(f"no held-out {name} of the model and the track record to compare")
        elif ours > theirs - margin:
            failures.append(
                f"{name} {ours:.4f} against the track record's {theirs:.4f} "
                f"(needs {theirs - margin:.4f} or less)"
            )
    return GateVerdict(
        passed=not failures,
        failures=tuple(failures),
        n_holdout=n_holdout,
        model=model,
        track_record=record,
        rule=rule,
    )
