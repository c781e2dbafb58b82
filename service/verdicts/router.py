from __future__ import annotations

from fastapi import APIRouter, status

from service.dependencies import Admin, PageDep, Reader, RequestIdDep, RowId, VerdictServiceDep
from service.errors import problem_responses
from service.scores.documents import score_read
from service.verdicts.schemas import VerdictCreate, VerdictPage, VerdictRead, VerdictRecorded

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
    admin: Admin,
    verdicts: VerdictServiceDep,
    request_id: RequestIdDep,
) -> VerdictRecorded:
    verdict, outlet_score = await verdicts.record(
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
    _reader: Reader,
    verdicts: VerdictServiceDep,
    page: PageDep,
) -> VerdictPage:
    rows = await verdicts.page(
        claim_id, after=page.after, limit=page.fetch, descending=page.descending
    )
    rows, next_cursor = page.cut(rows)
    return VerdictPage(
        items=[VerdictRead.model_validate(verdict) for verdict in rows],
        next_cursor=next_cursor,
    )
