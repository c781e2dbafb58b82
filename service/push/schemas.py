from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field, HttpUrl

from service.schemas import DatabaseId, PageMeta, Schema, StrictInput


class EventType(StrEnum):
    CLAIM_SCORED = "claim.scored"
    OUTLET_RELIABILITY_CHANGED = "outlet.reliability_changed"
    EVENT_CONSENSUS_CHANGED = "event.consensus_changed"
    VERDICT_RECORDED = "verdict.recorded"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


WHSEC_PATTERN = r"^whsec_[A-Za-z0-9+/]{24,}={0,2}$"
WHSEC_DESCRIPTION = (
    "Signing secret: `whsec_` and base64 of at least 18 random bytes (Standard Webhooks)."
)
OUTLETS_DESCRIPTION = "Only events about these outlets (slugs); empty: every outlet."
EVENTS_DESCRIPTION = "Only events about these events (ids); empty: every event."


class WebhookCreate(StrictInput):
    url: HttpUrl = Field(description="Where deliveries are POSTed (http or https).")
    description: str | None = Field(default=None, max_length=300)
    secret: str | None = Field(
        default=None,
        pattern=WHSEC_PATTERN,
        description=WHSEC_DESCRIPTION + " Left out, one is generated; shown once, here.",
    )
    event_types: list[EventType] = Field(min_length=1, description="Event types to deliver.")
    outlets: list[str] = Field(
        default_factory=list, max_length=1_000, description=OUTLETS_DESCRIPTION
    )
    events: list[DatabaseId] = Field(
        default_factory=list, max_length=1_000, description=EVENTS_DESCRIPTION
    )


class WebhookUpdate(StrictInput):
    """Fields to change; those left out stay as they are."""

    url: HttpUrl | None = None
    description: str | None = Field(default=None, max_length=300)
    secret: str | None = Field(default=None, pattern=WHSEC_PATTERN, description=WHSEC_DESCRIPTION)
    event_types: list[EventType] | None = Field(default=None, min_length=1)
    outlets: list[str] | None = Field(
        default=None, max_length=1_000, description=OUTLETS_DESCRIPTION
    )
    events: list[DatabaseId] | None = Field(
        default=None, max_length=1_000, description=EVENTS_DESCRIPTION
    )
    enabled: bool | None = Field(
        default=None,
        description="true re-enables a disabled subscription (its failure count starts again).",
    )


class WebhookRead(Schema):
    id: int
    url: str
    description: str | None
    event_types: list[EventType]
    outlets: list[str] = Field(description=OUTLETS_DESCRIPTION)
    events: list[int] = Field(description=EVENTS_DESCRIPTION)
    enabled: bool
    disabled_reason: str | None = Field(description="Why it was disabled (null while enabled).")
    consecutive_failures: int
    created_at: datetime
    updated_at: datetime
    created_by: str


class WebhookCreated(WebhookRead):
    secret: str = Field(description="The signing secret; not shown again.")


class WebhookPage(PageMeta):
    items: list[WebhookRead]


class DeliveryRead(Schema):
    id: int
    subscription_id: int
    outbox_id: int = Field(
        description="The event's id (also its SSE id; `msg_<id>` is its webhook-id)."
    )
    event_type: EventType
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None = Field(
        description="When it is (re)tried next; null once succeeded or failed."
    )
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_response_body: str | None = Field(description="The start of the receiver's last answer.")
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class DeliveryPage(PageMeta):
    items: list[DeliveryRead]
