from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, Response, status

from service.dependencies import Admin, ContextDep, ModelServiceDep, PageDep, RequestIdDep, RowId
from service.errors import declared_problem, problem_responses
from service.model_registry.models import ModelVersion
from service.model_registry.schemas import (
    ActiveModelRead,
    ModelPage,
    ModelRead,
    ModelTrainRequest,
    QualityGateProblem,
)
from service.model_registry.service import displayed_status, quality_gate

router = APIRouter(prefix="/v1/models", tags=["models"])

ModelId = RowId


_DERIVED = ("status", "quality_gate")


def model_read(model: ModelVersion) -> ModelRead:
    columns = {
        name: getattr(model, name) for name in ModelRead.model_fields if name not in _DERIVED
    }
    return ModelRead.model_validate(
        columns | {"status": displayed_status(model), "quality_gate": quality_gate(model).as_dict()}
    )


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ModelRead,
    responses=problem_responses(),
    summary="Train a new claim model in the background (poll GET /v1/models/{id})",
)
async def train(
    body: ModelTrainRequest,
    response: Response,
    background: BackgroundTasks,
    context: ContextDep,
    admin: Admin,
    models: ModelServiceDep,
) -> ModelRead:
    model = await models.queue(body.params, activate=body.activate, actor=admin)
    # Runs after the response's transaction committed, so the child process finds its row.
    background.add_task(context.training.launch, model.id)
    response.headers["Location"] = f"/v1/models/{model.id}"
    return model_read(model)


@router.get("", response_model=ModelPage, responses=problem_responses(), summary="List models")
async def list_models(_admin: Admin, models: ModelServiceDep, page: PageDep) -> ModelPage:
    rows = await models.page(after=page.after, limit=page.fetch, descending=page.descending)
    rows, next_cursor = page.cut(rows)
    return ModelPage(items=[model_read(model) for model in rows], next_cursor=next_cursor)


@router.get(
    "/active",
    response_model=ActiveModelRead,
    responses=problem_responses(),
    summary="What scores claims now, and whether this process has it loaded",
)
async def get_active_model(
    context: ContextDep, _admin: Admin, models: ModelServiceDep
) -> ActiveModelRead:
    active = await models.active()
    store = context.scoring.models
    loaded = store.loaded
    return ActiveModelRead(
        model=model_read(active) if active else None,
        method="claim-model" if active else "track-record",
        loaded_in_this_process=bool(active and loaded and loaded.id == active.id),
        load_error=store.load_error,
    )


@router.post(
    "/rollback",
    response_model=ModelRead,
    responses=problem_responses(409),
    summary="Re-activate the previously active model (or return to track-record scoring)",
)
async def rollback(admin: Admin, models: ModelServiceDep, request_id: RequestIdDep) -> ModelRead:
    return model_read(await models.rollback(actor=admin, request_id=request_id))


@router.get(
    "/{model_id}",
    response_model=ModelRead,
    responses=problem_responses(404),
    summary="A model's status, progress, metrics and versions",
)
async def get_model(model_id: ModelId, _admin: Admin, models: ModelServiceDep) -> ModelRead:
    return model_read(await models.get(model_id))


@router.post(
    "/{model_id}/activate",
    response_model=ModelRead,
    responses=problem_responses(404)
    | {
        409: declared_problem(
            "Not ready, or below the quality gate (then `quality_gate` says why).",
            QualityGateProblem,
        )
    },
    summary="Make this ready model the one that scores claims (if it passes the quality gate)",
    description="A model becomes active only if, on held-out verdicts it never trained on, it "
    "beats the track record (see `quality_gate` on the model). Otherwise the answer is 409 "
    "(`/problems/quality-gate`) with the figures and the rule; `force=true` activates it "
    "anyway, and the audit log records that it was forced.",
)
async def activate(
    model_id: ModelId,
    admin: Admin,
    models: ModelServiceDep,
    request_id: RequestIdDep,
    force: Annotated[bool, Query(description="Activate even if the gate says no.")] = False,
) -> ModelRead:
    model = await models.activate(model_id, actor=admin, request_id=request_id, force=force)
    return model_read(model)


@router.post(
    "/{model_id}/cancel",
    response_model=ModelRead,
    responses=problem_responses(404, 409),
    summary="Stop a queued or running training run (the active model is untouched)",
)
async def cancel(
    model_id: ModelId, context: ContextDep, _admin: Admin, models: ModelServiceDep
) -> ModelRead:
    return model_read(await models.cancel(model_id, stop=context.training.kill))
