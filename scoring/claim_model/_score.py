"""What the claim model produces and the label scale it is trained on by default."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from scoring.contributions import Contribution
from scoring.reliability import Grade, Reliability

# Bump when the fitted model's structure changes; artifacts record it and refuse a mismatch.
# 4: the estimator became a package (pickles name the new modules) and the design matrix one
# fitted ``ClaimDesign``.
MODEL_FORMAT_VERSION = 4

SERVICE_LABELS: tuple[str, ...] = ("true", "mostly-true", "mixed", "mostly-false", "false")
SERVICE_HOLDS_UP: Mapping[str, float] = {"true": 1.0, "mostly-true": 1.0, "mixed": 0.5}

# Standard deviation of a Beta(1, 1): the track-record uncertainty of an outlet with no record.
UNIFORM_SD = math.sqrt(1.0 / 12.0)


def beta_sd(record: Reliability) -> float:
    """Posterior standard deviation of a Beta track record."""
    total = record.alpha + record.beta
    return math.sqrt(record.alpha * record.beta / (total * total * (total + 1.0)))


@dataclass(frozen=True, slots=True)
class ClaimScore:
    """A scored claim: P(holds up), its interval, grade band, class probabilities and reasons."""

    probability: float
    low: float
    high: float
    grade: Grade
    class_probabilities: Mapping[str, float]
    contributions: tuple[Contribution, ...]
    model_sd: float
    track_record_sd: float
