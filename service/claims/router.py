from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from service import generations
from service.auth.service import Principal
from service.claims.repository import ClaimRepository
from service.claims.schemas import (
    ClaimBatchCreate,
    ClaimBatchRead,
    ClaimCreate,
    ClaimPage,
    ClaimRead,
)
from service.claims.service import ClaimService, claim_read
from service.context import AppContext
from service.database.transaction import commit_request
from service.dependencies import (
    ClaimServiceDep,
    ContextDep,
    PageDep,
    Reader,
    RowId,
    SessionDep,
    Submitter,
)
from service.errors import NotFound, problem_responses
from service.http_caching import revalidate
from service.schemas import AwareDatetime, Slug, Topic
from service.scores.documents import preview_read, score_read
from service.scores.repository import ScoreRepository
from service.scores.schemas import ScorePage, ScoreRead

router = APIRouter(tags=["claims"])

ClaimId = RowId
IdempotencyKey = Annotated[
    str | None,
    Header(
        min_length=1,
        max_length=200,
        description="Makes retries safe: a retry with the same key and body returns the "
        "original claim(s) instead of storing them again. Keys of single and batch posts are "
        "separate; an empty key is refused.",
    ),
]


async def submit_claim(
    context: AppContext,
    session: AsyncSession,
    item: ClaimCreate,
    submitter: Principal,
    idempotency_key: str | None,
) -> tuple[ClaimRead, bool]:
    """POST /v1/claims once the claim is parsed and its caller admitted: the stored claim, and
    whether this was a replay. The route and service/claims/fast_path.py both call this."""
    service = ClaimService(session, context.scoring, context.settings)
    if idempotency_key is not None:
        created, replayed = await service.create(
            [item], submitter=submitter, idempotency_key=idempotency_key, batch=False
        )
        return claim_read(created[0]), replayed
    pending = await service.check_one(item, submitter=submitter)
    # The check only read: end its transaction now, so that no connection is held while the
    # claim waits for its group commit (service/claims/writer.py) on a connection of its own.
    await commit_request(session, context.sessions)
    return claim_read(await context.claim_writer.submit(pending)), False


async def preview_claim(context: AppContext, session: AsyncSession, item: ClaimCreate) -> ScoreRead:
    """POST /v1/score once the claim is parsed and its caller admitted (route and fast path)."""
    computed = await ClaimService(session, context.scoring, context.settings).preview(item)
    return preview_read(computed)


@router.post(
    "/v1/claims",
    status_code=status.HTTP_201_CREATED,
    response_model=ClaimRead,
    responses=problem_responses()
    | {200: {"model": ClaimRead, "description": "A replay of an earlier request."}},
    summary="Submit a claim; it is scored and stored",
)
async def create_claim(
    body: ClaimCreate,
    response: Response,
    context: ContextDep,
    session: SessionDep,
    submitter: Submitter,
    idempotency_key: IdempotencyKey = None,
) -> ClaimRead:
    created, replayed = await submit_claim(context, session, body, submitter, idempotency_key)
    if replayed:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"/v1/claims/{created.id}"
    return created


@router.post(
    "/v1/claims/batch",
    status_code=status.HTTP_201_CREATED,
    response_model=ClaimBatchRead,
    responses=problem_responses(413)
    | {200: {"model": ClaimBatchRead, "description": "A replay of an earlier request."}},
    summary="Submit up to 1,000 claims: all valid and stored, or none (per-item errors)",
)
async def create_claim_batch(
    body: ClaimBatchCreate,
    response: Response,
    submitter: Submitter,
    claims: ClaimServiceDep,
    idempotency_key: IdempotencyKey = None,
) -> ClaimBatchRead:
    stored, replayed = await claims.create(
        body.claims, submitter=submitter, idempotency_key=idempotency_key, batch=True
    )
    if replayed:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    return ClaimBatchRead(items=[claim_read(item) for item in stored])


@router.post(
    "/v1/score",
    response_model=ScoreRead,
    responses=problem_responses(),
    summary="Score a claim without storing it (previews)",
)
async def preview_score(
    body: ClaimCreate, context: ContextDep, session: SessionDep, _submitter: Submitter
) -> ScoreRead:
    return await preview_claim(context, session, body)


@router.get(
    "/v1/claims",
    response_model=ClaimPage,
    responses=problem_responses(),
    summary="List claims, oldest first (order=desc: newest first)",
)
async def list_claims(
    _reader: Reader,
    claims: ClaimServiceDep,
    page: PageDep,
    outlet_id: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Only this outlet's claims.")
    ] = None,
    outlet_slug: Annotated[
        Slug | None, Query(description="Only this outlet's claims (as when creating one).")
    ] = None,
    outlet: Annotated[
        str | None,
        Query(
            max_length=80,
            deprecated=True,
            description="Outlet id or slug: use outlet_id or outlet_slug.",
        ),
    ] = None,
    event_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    topic: Topic | None = None,
    since: Annotated[
        AwareDatetime | None, Query(description="Only claims published at or after this.")
    ] = None,
) -> ClaimPage:
    stored = await claims.page(
        after=page.after,
        limit=page.fetch,
        descending=page.descending,
        outlet_ref=outlet,
        outlet_id=outlet_id,
        outlet_slug=outlet_slug,
        event_id=event_id,
        topic=topic,
        since=since,
    )
    stored, next_cursor = page.cut(stored, key=lambda item: item.claim.id)
    return ClaimPage(items=[claim_read(item) for item in stored], next_cursor=next_cursor)


@router.get(
    "/v1/claims/{claim_id}",
    response_model=ClaimRead,
    responses=problem_responses(404) | {304: {"description": "Unchanged since the ETag sent."}},
    summary="Get a claim with its current score (ETag; If-None-Match gives 304)",
)
async def get_claim(
    claim_id: ClaimId,
    request: Request,
    response: Response,
    context: ContextDep,
    session: SessionDep,
    _reader: Reader,
    claims: ClaimServiceDep,
) -> Response | ClaimRead:
    # Pollers revalidate with If-None-Match: mostly answered from memory, else one query.
    cache = context.claim_etags
    generation = (await context.generations.current(session))[generations.CLAIM_VERSIONS]
    etag = await cache.get(claim_id, generation)
    if etag is None:
        version = await ClaimRepository(session).version(claim_id)
        if version is None:
            raise NotFound(f"No claim with id {claim_id}.")
        etag = f'"claim-{claim_id}-s{version[0]}-{int(version[1])}"'
        cache.put(claim_id, generation, etag)
    if (unchanged := revalidate(request, response, etag)) is not None:
        return unchanged
    return claim_read(await claims.get(claim_id))


@router.get(
    "/v1/claims/{claim_id}/scores",
    response_model=ScorePage,
    responses=problem_responses(404),
    summary="Every score the claim has had, oldest first (order=desc: newest first)",
)
async def list_claim_scores(
    claim_id: ClaimId,
    _reader: Reader,
    claims: ClaimServiceDep,
    page: PageDep,
) -> ScorePage:
    await claims.get(claim_id)
    scores = await ScoreRepository(claims.session).claim_history(
        claim_id, after=page.after, limit=page.fetch, descending=page.descending
    )
    scores, next_cursor = page.cut(scores)
    return ScorePage(items=[score_read(score) for score in scores], next_cursor=next_cursor)
