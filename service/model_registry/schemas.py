from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, Strict, field_validator

from service.errors import Problem
from service.schemas import PageMeta, Schema, StrictCount, StrictFlag, StrictInput

StrictNumber = Annotated[float, Strict()]

# Model parameters an admin may set for a training run (others keep the code's defaults).
TUNABLE_PARAMS: dict[str, type] = {
    "C": float,
    "binary_C": float,
    "min_df": int,
    "cv": int,
    "holdout_fraction": float,
    "text_weight": float,
    "token_weight": float,
    "numeric_weight": float,
    "isotonic_min_samples": int,
    "max_iter": int,
}


class ModelTrainRequest(StrictInput):
    params: dict[str, StrictCount | StrictNumber] = Field(
        default_factory=dict,
        description=f"Optional overrides of: {', '.join(TUNABLE_PARAMS)}.",
    )
    activate: StrictFlag = Field(
        default=False,
        description="Activate the model once it is trained and saved, if it passes the quality "
        "gate (otherwise it stays ready and inactive, and its progress message says why).",
    )

    @field_validator("params")
    @classmethod
    def _known_params(cls, value: dict[str, float | int]) -> dict[str, float | int]:
        unknown = sorted(set(value) - set(TUNABLE_PARAMS))
        if unknown:
            raise ValueError(f"unknown parameter(s) {unknown}; allowed: {sorted(TUNABLE_PARAMS)}")
        for name, number in value.items():
            if isinstance(number, bool) or number <= 0 or number > 1e6:
                raise ValueError(f"{name} must be a positive number")
            if TUNABLE_PARAMS[name] is int and int(number) != number:
                raise ValueError(f"{name} must be an integer")
        return value


class GateFigures(Schema):
    log_loss: float | None
    brier: float | None


class GateRuleRead(Schema):
    min_holdout: int = Field(description="Fewest held-out verdicts the comparison needs.")
    log_loss_margin: float = Field(description="How far below the track record's log loss.")
    brier_margin: float = Field(description="How far below the track record's Brier score.")
    text: str


class QualityGateRead(Schema):
    """The activation gate: the model against the track record on the same held-out verdicts."""

    passed: bool
    failures: list[str] = Field(description="Each way the model fell short of the rule.")
    n_holdout: int | None = Field(description="Held-out verdicts (the latest by date).")
    model: GateFigures
    track_record: GateFigures = Field(
        description="The cold-start score (the outlet's track record at claim time)."
    )
    rule: GateRuleRead


class ModelStatus(StrEnum):
    QUEUED = "queued"
    TRAINING = "training"
    READY = "ready"
    FAILED = "failed"
    CANCELLED = "cancelled"
    STALLED = "stalled"


class ModelParamsRead(Schema):
    model: dict[str, int | float] = Field(
        default_factory=dict, description="The parameters the admin overrode."
    )
    activate: bool = Field(
        default=False, description="Activate once trained, if it passes the quality gate."
    )


class QualityGateProblem(Problem):
    """A 409 on activation: for /problems/quality-gate, the figures and the rule."""

    quality_gate: QualityGateRead | None = Field(
        default=None,
        description="For /problems/quality-gate: the held-out figures of the model and of the "
        "track record, and the rule they were judged by.",
    )


class ModelRead(Schema):
    id: int
    version: str
    status: ModelStatus = Field(
        description="queued, training, ready, failed, cancelled; 'stalled' when a training "
        "process stopped reporting."
    )
    active: bool
    activated_at: datetime | None
    progress: float
    progress_message: str | None
    params: ModelParamsRead
    metrics: dict[str, Any] | None = Field(
        description="Held-out metrics: accuracy, ROC AUC, Brier, log loss, ECE and more, the "
        "track record's (track_record_*) on the same claims, and how parameters were chosen."
    )
    quality_gate: QualityGateRead = Field(
        description="Whether the model may be activated without force, and on what figures."
    )
    n_train: int | None
    data_from: datetime | None = Field(description="Earliest claim the model was trained on.")
    data_to: datetime | None
    python_version: str | None
    sklearn_version: str | None
    numpy_version: str | None
    checksum: str | None
    error: str | None
    created_by: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None


class ModelPage(PageMeta):
    items: list[ModelRead]


class ActiveModelRead(Schema):
    model: ModelRead | None = Field(description="The active model, or null (cold start).")
    method: str = Field(description="What scores claims now: claim-model or track-record.")
    loaded_in_this_process: bool
    load_error: str | None
