from __future__ import annotations

from fastapi import APIRouter, status

from service.dependencies import (
    Admin,
    PageDep,
    Reader,
    RequestIdDep,
    RowId,
    ScoringDep,
    SessionDep,
    SettingsDep,
)
from service.errors import problem_responses
from service.scores.documents import score_read
from service.verdicts.schemas import VerdictCreate, VerdictPage, VerdictRead, VerdictRecorded
from service.verdicts.service import VerdictService

router = APIRouter(prefix="/v1/claims/{claim_id}/verdicts", tags=["verdicts"])

ClaimId = RowId


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=VerdictRecorded,
    responses=problem_responses(404),
    summary="Record what a claim turned out to be (updates the outlet's track record)",
)
async def record_verdict(
    claim_id: ClaimId,
    body: VerdictCreate,
    session: SessionDep,
    scoring: ScoringDep,
    settings: SettingsDep,
    admin: Admin,
    request_id: RequestIdDep,
) -> VerdictRecorded:
    verdict, outlet_score = await VerdictService(session, scoring, settings).record(
        claim_id, body, actor=admin, request_id=request_id
    )
    return VerdictRecorded.model_validate(
        VerdictRead.model_validate(verdict).model_dump()
        | {"outlet_reliability": score_read(outlet_score)}
    )


@router.get(
    "",
    response_model=VerdictPage,
    responses=problem_responses(404),
    summary="Verdicts on a claim, oldest first (order=desc: newest first)",
)
async def list_verdicts(
    claim_id: ClaimId,
    session: SessionDep,
    scoring: ScoringDep,
    settings: SettingsDep,
    _reader: Reader,
    page: PageDep,
) -> VerdictPage:
    verdicts = await VerdictService(session, scoring, settings).page(
        claim_id, after=page.after, limit=page.fetch, descending=page.descending
    )
    verdicts, next_cursor = page.cut(verdicts)
    return VerdictPage(
        items=[VerdictRead.model_validate(verdict) for verdict in verdicts],
        next_cursor=next_cursor,
    )
