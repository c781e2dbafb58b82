from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from service.claims.router import claim_read
from service.claims.service import ClaimService
from service.dependencies import (
    PageDep,
    Reader,
    RequestIdDep,
    ScoringDep,
    SessionDep,
    SettingsDep,
    Submitter,
)
from service.errors import problem_responses
from service.events.schemas import EventCreate, EventDetail, EventPage, EventRead
from service.events.service import EventService
from service.schemas import Topic, encode_cursor

router = APIRouter(prefix="/v1/events", tags=["events"])

EventId = Annotated[int, Path(ge=1, le=2**31 - 1)]
EVENT_CLAIMS_SHOWN = 500


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
    session: SessionDep,
    submitter: Submitter,
    request_id: RequestIdDep,
) -> EventRead:
    event = await EventService(session).create(body, actor=submitter, request_id=request_id)
    response.headers["Location"] = f"/v1/events/{event.id}"
    return EventRead.model_validate(event)


@router.get("", response_model=EventPage, responses=problem_responses(), summary="List events")
async def list_events(
    session: SessionDep,
    _reader: Reader,
    page: PageDep,
    topic: Topic | None = None,
    conflict: Annotated[str | None, Query(max_length=80)] = None,
) -> EventPage:
    events = await EventService(session).page(
        after=page.after, limit=page.limit, topic=topic, conflict=conflict
    )
    next_cursor = encode_cursor(events[-1].id) if len(events) == page.limit else None
    return EventPage(
        items=[EventRead.model_validate(event) for event in events], next_cursor=next_cursor
    )


@router.get(
    "/{event_id}",
    response_model=EventDetail,
    responses=problem_responses(404),
    summary="Get an event with its claims and their scores",
)
async def get_event(
    event_id: EventId,
    session: SessionDep,
    scoring: ScoringDep,
    settings: SettingsDep,
    _reader: Reader,
) -> EventDetail:
    event = await EventService(session).get(event_id)
    stored = await ClaimService(session, scoring, settings).page(
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
