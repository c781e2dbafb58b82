from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, Strict, field_validator

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
        default=False, description="Activate the model as soon as it is trained and saved."
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


class ModelRead(Schema):
    id: int
    version: str
    status: str = Field(
        description="queued, training, ready, failed, cancelled; 'stalled' when a training "
        "process stopped reporting."
    )
    active: bool
    activated_at: datetime | None
    progress: float
    progress_message: str | None
    params: dict[str, Any]
    metrics: dict[str, Any] | None = Field(
        description="Held-out metrics: accuracy, ROC AUC, Brier, log loss, ECE and more."
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
