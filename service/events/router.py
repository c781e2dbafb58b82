from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from scoring.reconcile import STATUS_MEANING, Status
from service.claims.service import claim_read
from service.dependencies import (
    ClaimServiceDep,
    EventServiceDep,
    PageDep,
    Reader,
    RequestIdDep,
    RowId,
    Submitter,
)
from service.errors import problem_responses
from service.events.models import Event, EventConsensus
from service.events.schemas import (
    ConsensusPage,
    ConsensusRead,
    EventCreate,
    EventDetail,
    EventPage,
    EventRead,
)
from service.http_caching import revalidate
from service.schemas import Topic

router = APIRouter(prefix="/v1/events", tags=["events"])

EventId = RowId
EVENT_CLAIMS_SHOWN = 500
ConsensusStatus = Status


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=EventRead,
    responses=problem_responses(),
    summary="Define an event that claims can be about",
)
async def create_event(
    body: EventCreate,
    response: Response,
    submitter: Submitter,
    events: EventServiceDep,
    request_id: RequestIdDep,
) -> EventRead:
    event = await events.create(body, actor=submitter, request_id=request_id)
    response.headers["Location"] = f"/v1/events/{event.id}"
    return EventRead.model_validate(event)


@router.get("", response_model=EventPage, responses=problem_responses(), summary="List events")
async def list_events(
    _reader: Reader,
    events: EventServiceDep,
    page: PageDep,
    topic: Topic | None = None,
    conflict: Annotated[str | None, Query(max_length=80)] = None,
    status: Annotated[
        ConsensusStatus | None,
        Query(description="Only events whose newest consensus has this status."),
    ] = None,
) -> EventPage:
    rows = await events.page(
        after=page.after,
        limit=page.fetch,
        descending=page.descending,
        topic=topic,
        conflict=conflict,
        status=status.value if status else None,
    )
    rows, next_cursor = page.cut(rows)
    return EventPage(
        items=[EventRead.model_validate(event) for event in rows], next_cursor=next_cursor
    )


@router.get(
    "/{event_id}",
    response_model=EventDetail,
    responses=problem_responses(404),
    summary="Get an event with its claims and their scores",
)
async def get_event(
    event_id: EventId,
    _reader: Reader,
    events: EventServiceDep,
    claims: ClaimServiceDep,
) -> EventDetail:
    event = await events.get(event_id)
    stored = await claims.page(
        after=None,
        limit=EVENT_CLAIMS_SHOWN + 1,
        outlet_ref=None,
        event_id=event.id,
        topic=None,
        since=None,
    )
    return EventDetail.model_validate(
        EventRead.model_validate(event).model_dump()
        | {
            "claims": [claim_read(item) for item in stored[:EVENT_CLAIMS_SHOWN]],
            "claims_truncated": len(stored) > EVENT_CLAIMS_SHOWN,
        }
    )


def consensus_read(event: Event, row: EventConsensus | None) -> ConsensusRead:
    if row is None:
        pending = event.consensus_stale
        return ConsensusRead.model_validate(
            {
                "id": None,
                "event_id": event.id,
                "status": "pending" if pending else Status.NO_REPORTS.value,
                "status_meaning": "queued for computation"
                if pending
                else STATUS_MEANING[Status.NO_REPORTS],
                "estimate": None,
                "interval": None,
                "confidence": 0.0,
                "independent_reports": 0,
                "stale": pending,
                "method_version": None,
                "computed_at": None,
                "trigger": None,
                "tolerance": None,
                "supporting_outlets": [],
                "competing_figures": [],
                "dependent_groups": [],
                "explanation": None,
                "claims": [],
                "sources": [],
            }
        )
    return ConsensusRead.model_validate(
        {
            "id": row.id,
            "event_id": event.id,
            "status": row.status,
            "status_meaning": STATUS_MEANING[Status(row.status)],
            "estimate": row.estimate,
            "interval": {"low": row.low, "high": row.high}
            if row.low is not None and row.high is not None
            else None,
            "confidence": row.confidence,
            "independent_reports": row.independent_reports,
            "stale": event.consensus_stale,
            "method_version": row.method_version,
            "computed_at": row.computed_at,
            "trigger": row.trigger,
            "tolerance": row.tolerance,
            "supporting_outlets": row.supporting or [],
            "competing_figures": row.competing or [],
            "dependent_groups": row.dependent_groups or [],
            "explanation": row.explanation,
            "claims": row.claims,
            "sources": row.sources,
        }
    )


@router.get(
    "/{event_id}/consensus",
    response_model=ConsensusRead,
    responses=problem_responses(404),
    summary="What the event's claims support: estimate, range, status, per-claim/per-source detail",
)
async def get_consensus(
    event_id: EventId,
    request: Request,
    response: Response,
    _reader: Reader,
    events: EventServiceDep,
) -> Response | ConsensusRead:
    event = await events.get(event_id)
    row = await events.latest_consensus(event.id)
    etag = f'W/"consensus-{event.id}-{row.id if row else 0}-{int(event.consensus_stale)}"'
    if (unchanged := revalidate(request, response, etag)) is not None:
        return unchanged
    return consensus_read(event, row)


@router.get(
    "/{event_id}/consensus/history",
    response_model=ConsensusPage,
    responses=problem_responses(404),
    summary="Every consensus computed for the event, oldest first (order=desc: newest first)",
)
async def consensus_history(
    event_id: EventId, _reader: Reader, events: EventServiceDep, page: PageDep
) -> ConsensusPage:
    event = await events.get(event_id)
    rows = await events.consensus_history(
        event.id, after=page.after, limit=page.fetch, descending=page.descending
    )
    rows, next_cursor = page.cut(rows)
    return ConsensusPage(
        items=[consensus_read(event, row) for row in rows], next_cursor=next_cursor
    )
