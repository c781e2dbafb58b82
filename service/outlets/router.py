from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response, status

from service import generations
from service.database.types import utcnow
from service.dependencies import (
    Admin,
    ContextDep,
    OutletServiceDep,
    PageDep,
    Reader,
    RequestIdDep,
    RowId,
    SessionDep,
)
from service.errors import problem_responses
from service.http_caching import revalidate
from service.outlets.models import Outlet, OutletKind
from service.outlets.schemas import (
    OutletCreate,
    OutletDependencyPage,
    OutletPage,
    OutletRead,
    OutletRecordCreate,
    OutletRecordPage,
    OutletRecordRead,
    OutletUpdate,
)
from service.outlets.service import dependency_read, etag_for
from service.schemas import AwareDatetime
from service.scores.documents import score_read
from service.scores.repository import ScoreRepository
from service.scores.schemas import ReliabilityRead, ScorePage

router = APIRouter(prefix="/v1/outlets", tags=["outlets"])

OutletRef = Annotated[
    str,
    Path(min_length=1, max_length=80, description="The outlet's numeric id or its slug."),
]
IfMatch = Annotated[
    str | None,
    Header(description="ETag from your last read of the outlet (optimistic locking)."),
]


def outlet_read(outlet: Outlet) -> OutletRead:
    return OutletRead.model_validate(outlet)


def _with_etag(response: Response, outlet: Outlet) -> OutletRead:
    response.headers["ETag"] = etag_for(outlet)
    return outlet_read(outlet)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=OutletRead,
    responses=problem_responses(409),
    summary="Register an outlet",
)
async def create_outlet(
    body: OutletCreate,
    response: Response,
    admin: Admin,
    outlets: OutletServiceDep,
    request_id: RequestIdDep,
) -> OutletRead:
    outlet = await outlets.create(body, actor=admin, request_id=request_id)
    response.headers["Location"] = f"/v1/outlets/{outlet.id}"
    return _with_etag(response, outlet)


@router.get("", response_model=OutletPage, responses=problem_responses(), summary="List outlets")
async def list_outlets(
    _reader: Reader,
    outlets: OutletServiceDep,
    page: PageDep,
    kind: OutletKind | None = None,
    country: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$")] = None,
    conflict: Annotated[
        str | None, Query(max_length=80, description="Only parties to this conflict.")
    ] = None,
    q: Annotated[str | None, Query(max_length=100, description="Name or slug contains.")] = None,
    include_archived: bool = False,
) -> OutletPage:
    rows = await outlets.page(
        after=page.after,
        limit=page.fetch,
        descending=page.descending,
        kind=kind.value if kind else None,
        country=country,
        conflict=conflict,
        include_archived=include_archived,
        query=q,
    )
    rows, next_cursor = page.cut(rows)
    return OutletPage(items=[outlet_read(outlet) for outlet in rows], next_cursor=next_cursor)


@router.get(
    "/{outlet_ref}", response_model=OutletRead, responses=problem_responses(404), summary="Get one"
)
async def get_outlet(
    outlet_ref: OutletRef,
    response: Response,
    _reader: Reader,
    outlets: OutletServiceDep,
) -> OutletRead:
    outlet = await outlets.get(outlet_ref)
    return _with_etag(response, outlet)


@router.patch(
    "/{outlet_ref}",
    response_model=OutletRead,
    responses=problem_responses(404, 412, 428),
    summary="Edit an outlet (If-Match required)",
)
async def update_outlet(
    outlet_ref: OutletRef,
    body: OutletUpdate,
    response: Response,
    admin: Admin,
    outlets: OutletServiceDep,
    request_id: RequestIdDep,
    if_match: IfMatch = None,
) -> OutletRead:
    outlet = await outlets.update(
        outlet_ref, body, if_match=if_match, actor=admin, request_id=request_id
    )
    return _with_etag(response, outlet)


def _set_archived(archived: bool) -> Callable[..., Awaitable[OutletRead]]:
    """The endpoint that archives an outlet (``archived``) or brings it back."""

    async def endpoint(
        outlet_ref: OutletRef,
        admin: Admin,
        response: Response,
        outlets: OutletServiceDep,
        request_id: RequestIdDep,
        if_match: IfMatch = None,
    ) -> OutletRead:
        outlet = await outlets.set_archived(
            outlet_ref, archived, if_match=if_match, actor=admin, request_id=request_id
        )
        return _with_etag(response, outlet)

    return endpoint


router.add_api_route(
    "/{outlet_ref}/archive",
    _set_archived(True),
    methods=["POST"],
    name="archive_outlet",
    response_model=OutletRead,
    responses=problem_responses(404, 412),
    summary="Archive an outlet (it keeps its history; new claims are refused)",
)
router.add_api_route(
    "/{outlet_ref}/unarchive",
    _set_archived(False),
    methods=["POST"],
    name="unarchive_outlet",
    response_model=OutletRead,
    responses=problem_responses(404, 412),
    summary="Bring an archived outlet back",
)


@router.get(
    "/{outlet_ref}/reliability",
    response_model=ReliabilityRead,
    responses=problem_responses(404),
    summary="The outlet's track record now (or as of a moment)",
)
async def get_reliability(
    outlet_ref: OutletRef,
    request: Request,
    response: Response,
    context: ContextDep,
    session: SessionDep,
    _reader: Reader,
    outlets: OutletServiceDep,
    as_of: Annotated[
        AwareDatetime | None, Query(description="Count only evidence known by then.")
    ] = None,
) -> Response | ReliabilityRead:
    outlet = await outlets.get(outlet_ref)
    counters = await context.generations.current(session)
    generation = counters[generations.EVIDENCE]
    # Weak: without as_of the value decays by the minute, but within a day by far less than
    # anything a dashboard shows; a new verdict or record changes the generation at once.
    moment = as_of.isoformat() if as_of else utcnow().strftime("%Y%m%d")
    etag = f'W/"reliability-{outlet.id}-v{outlet.version}-g{generation}-{moment}"'
    if (unchanged := revalidate(request, response, etag)) is not None:
        return unchanged
    return await context.scoring.reliability(session, outlet, as_of or utcnow())


@router.get(
    "/{outlet_ref}/reliability/history",
    response_model=ScorePage,
    responses=problem_responses(404),
    summary="Every stored reliability of the outlet, oldest first (order=desc: newest first)",
)
async def reliability_history(
    outlet_ref: OutletRef,
    session: SessionDep,
    _reader: Reader,
    outlets: OutletServiceDep,
    page: PageDep,
) -> ScorePage:
    outlet = await outlets.get(outlet_ref)
    scores = await ScoreRepository(session).outlet_history(
        outlet.id, after=page.after, limit=page.fetch, descending=page.descending
    )
    scores, next_cursor = page.cut(scores)
    return ScorePage(items=[score_read(score) for score in scores], next_cursor=next_cursor)


@router.get(
    "/{outlet_ref}/dependencies",
    response_model=OutletDependencyPage,
    responses=problem_responses(404),
    summary="The outlet's likely copy partners, learned from the figures both reported",
    description="Outlets that keep giving the same figures as this one, above all the same "
    "wrong or rare ones, are probably not independent of it (Dong, Berti-Equille and "
    "Srivastava, VLDB 2009): a consensus counts their shared figures once. Each recomputation "
    "of an event's consensus updates the pairs its fit measured (outlets that co-reported on "
    "at least two events). Listed in the order they were first found, with the probability of "
    "dependence and, where the data tells it, the direction.",
)
async def list_dependencies(
    outlet_ref: OutletRef,
    _reader: Reader,
    outlets: OutletServiceDep,
    page: PageDep,
    min_probability: Annotated[
        float,
        Query(ge=0, le=1, description="Only partners at least this likely to be dependent."),
    ] = 0.5,
) -> OutletDependencyPage:
    outlet, rows = await outlets.dependencies(
        outlet_ref, min_probability=min_probability, after=page.after, limit=page.fetch
    )
    rows, next_cursor = page.cut(rows, key=lambda row: row[0].id)
    return OutletDependencyPage(
        items=[dependency_read(outlet.id, dependency, partner) for dependency, partner in rows],
        next_cursor=next_cursor,
    )


@router.get(
    "/{outlet_ref}/records",
    response_model=OutletRecordPage,
    responses=problem_responses(404),
    summary="Historical accuracy records entered for the outlet",
)
async def list_records(
    outlet_ref: OutletRef,
    _reader: Reader,
    outlets: OutletServiceDep,
    page: PageDep,
) -> OutletRecordPage:
    records = await outlets.records(
        outlet_ref, after=page.after, limit=page.fetch, descending=page.descending
    )
    records, next_cursor = page.cut(records)
    return OutletRecordPage(
        items=[OutletRecordRead.model_validate(record) for record in records],
        next_cursor=next_cursor,
    )


@router.post(
    "/{outlet_ref}/records",
    status_code=status.HTTP_201_CREATED,
    response_model=OutletRecordRead,
    responses=problem_responses(404),
    summary="Add historical accuracy (rating, verified/refuted counts, corrections, retractions)",
)
async def add_record(
    outlet_ref: OutletRef,
    body: OutletRecordCreate,
    admin: Admin,
    outlets: OutletServiceDep,
    request_id: RequestIdDep,
) -> OutletRecordRead:
    record = await outlets.add_record(outlet_ref, body, actor=admin, request_id=request_id)
    return OutletRecordRead.model_validate(record)


@router.delete(
    "/{outlet_ref}/records/{record_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(404),
    summary="Remove a historical record (audited)",
)
async def delete_record(
    outlet_ref: OutletRef,
    record_id: RowId,
    admin: Admin,
    outlets: OutletServiceDep,
    request_id: RequestIdDep,
) -> Response:
    await outlets.delete_record(outlet_ref, record_id, actor=admin, request_id=request_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
