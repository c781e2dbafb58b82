"""Every operation of the service, once: each function is named after its OpenAPI operation id
and returns the `Call` that performs it. `Client` and `AsyncClient` expose each one as a method
(credscore_client/client.py); a new endpoint is a function here and a line there.

Operations that return a page (`XPage`) take ``cursor``, ``limit`` and ``order``; the clients
turn them into iterators over every item. Those that return a `StreamCall` (the live stream,
JSON lines, CSV exports) become iterators over the answer's items as they arrive.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TypedDict, Unpack

from credscore_client._core import (
    Call,
    EventStream,
    JsonLines,
    Lines,
    StreamCall,
    body,
    path,
    returns,
    returns_json,
    returns_nothing,
    returns_text,
    streamed,
)
from credscore_client.models import (
    ActiveModelRead,
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyPage,
    ApiKeyRead,
    ClaimBatchRead,
    ClaimCreate,
    ClaimPage,
    ClaimRead,
    ConsensusPage,
    ConsensusRead,
    DeliveryPage,
    DeliveryRead,
    DeliveryStatus,
    EventCreate,
    EventDetail,
    EventPage,
    EventRead,
    EventType,
    ExportKind,
    Health,
    ModelPage,
    ModelRead,
    ModelTrainRequest,
    OutletCreate,
    OutletDependencyPage,
    OutletImportReport,
    OutletKind,
    OutletPage,
    OutletRead,
    OutletRecordCreate,
    OutletRecordPage,
    OutletRecordRead,
    OutletUpdate,
    Readiness,
    ReliabilityRead,
    ScorePage,
    ScoreRead,
    Status,
    StreamEvent,
    VerdictCreate,
    VerdictImportReport,
    VerdictPage,
    VerdictRecorded,
    WebhookCreate,
    WebhookCreated,
    WebhookPage,
    WebhookRead,
    WebhookUpdate,
)

Order = Literal["asc", "desc"]
Ref = str | int
# A file to upload: its path (the media type follows its extension), or its bytes or text.
Upload = str | os.PathLike[str] | bytes

MEDIA_TYPES = {
    ".csv": "text/csv",
    ".tsv": "text/tab-separated-values",
    ".tab": "text/tab-separated-values",
    ".json": "application/ld+json",
    ".jsonld": "application/ld+json",
}


def idempotency_headers(key: str | None) -> dict[str, str]:
    """A fresh key unless the caller brings one: a retried post then stores nothing twice."""
    return {"Idempotency-Key": key or uuid.uuid4().hex}


class Paging(TypedDict, total=False):
    """The list operations' paging: ``limit`` items a page (at most 500), ``order`` asc (the
    default, oldest first) or desc, from ``cursor`` (a page's next_cursor)."""

    cursor: str
    limit: int
    order: Order


# -- health --------------------------------------------------------------------------------


def health_liveness() -> Call[Health]:
    return Call("GET", "/healthz", returns(Health))


def health_readiness() -> Call[Readiness]:
    return Call("GET", "/readyz", returns(Readiness))


# -- outlets -------------------------------------------------------------------------------


def outlets_create(outlet: OutletCreate | Mapping[str, Any]) -> Call[OutletRead]:
    return Call("POST", "/v1/outlets", returns(OutletRead), body=body(OutletCreate, outlet))


def outlets_list(
    *,
    kind: OutletKind | str | None = None,
    country: str | None = None,
    conflict: str | None = None,
    q: str | None = None,
    include_archived: bool | None = None,
    **paging: Unpack[Paging],
) -> Call[OutletPage]:
    return Call(
        "GET",
        "/v1/outlets",
        returns(OutletPage),
        query={
            "kind": kind,
            "country": country,
            "conflict": conflict,
            "q": q,
            "include_archived": include_archived,
        }
        | paging,
    )


def outlets_get(outlet_ref: Ref) -> Call[OutletRead]:
    return Call("GET", path("/v1/outlets/{}", outlet_ref), returns(OutletRead))


def outlets_update(
    outlet_ref: Ref, changes: OutletUpdate | Mapping[str, Any], *, if_match: str
) -> Call[OutletRead]:
    """``if_match``: the ETag of your last read (``outlet.etag``), or "*" to overwrite."""
    return Call(
        "PATCH",
        path("/v1/outlets/{}", outlet_ref),
        returns(OutletRead),
        body=body(OutletUpdate, changes),
        headers={"If-Match": if_match},
    )


def _if_match(value: str | None) -> dict[str, str]:
    return {"If-Match": value} if value is not None else {}


def outlets_archive(outlet_ref: Ref, *, if_match: str | None = None) -> Call[OutletRead]:
    return Call(
        "POST",
        path("/v1/outlets/{}/archive", outlet_ref),
        returns(OutletRead),
        headers=_if_match(if_match),
    )


def outlets_unarchive(outlet_ref: Ref, *, if_match: str | None = None) -> Call[OutletRead]:
    return Call(
        "POST",
        path("/v1/outlets/{}/unarchive", outlet_ref),
        returns(OutletRead),
        headers=_if_match(if_match),
    )


def outlets_get_reliability(
    outlet_ref: Ref, *, as_of: datetime | None = None
) -> Call[ReliabilityRead]:
    return Call(
        "GET",
        path("/v1/outlets/{}/reliability", outlet_ref),
        returns(ReliabilityRead),
        query={"as_of": as_of},
    )


def outlets_reliability_history(
    outlet_ref: Ref,
    **paging: Unpack[Paging],
) -> Call[ScorePage]:
    return Call(
        "GET",
        path("/v1/outlets/{}/reliability/history", outlet_ref),
        returns(ScorePage),
        query=dict(paging),
    )


def outlets_list_dependencies(
    outlet_ref: Ref,
    *,
    min_probability: float | None = None,
    **paging: Unpack[Paging],
) -> Call[OutletDependencyPage]:
    return Call(
        "GET",
        path("/v1/outlets/{}/dependencies", outlet_ref),
        returns(OutletDependencyPage),
        query={"min_probability": min_probability} | paging,
    )


def outlets_list_records(
    outlet_ref: Ref,
    **paging: Unpack[Paging],
) -> Call[OutletRecordPage]:
    return Call(
        "GET",
        path("/v1/outlets/{}/records", outlet_ref),
        returns(OutletRecordPage),
        query=dict(paging),
    )


def outlets_add_record(
    outlet_ref: Ref, record: OutletRecordCreate | Mapping[str, Any]
) -> Call[OutletRecordRead]:
    return Call(
        "POST",
        path("/v1/outlets/{}/records", outlet_ref),
        returns(OutletRecordRead),
        body=body(OutletRecordCreate, record),
    )


def outlets_delete_record(outlet_ref: Ref, record_id: int) -> Call[None]:
    return Call("DELETE", path("/v1/outlets/{}/records/{}", outlet_ref, record_id), returns_nothing)


def _upload(file: Upload, content_type: str | None) -> tuple[bytes, dict[str, str]]:
    """The bytes to send and their Content-Type: as given, else from the file's extension,
    else JSON-LD for bytes that start as JSON and CSV otherwise (as the service guesses)."""
    if isinstance(file, bytes):
        data = file
        guessed = "application/ld+json" if data.lstrip()[:1] in (b"{", b"[") else "text/csv"
    else:
        data = Path(file).read_bytes()
        guessed = MEDIA_TYPES.get(Path(file).suffix.lower(), "text/csv")
    return data, {"Content-Type": content_type or guessed}


def outlets_import(
    file: Upload, *, dry_run: bool = False, content_type: str | None = None
) -> Call[OutletImportReport]:
    """Create or update outlets from a CSV/TSV file (all or nothing; a 422 lists every row's
    problems). ``dry_run``: report what would change, store nothing."""
    data, headers = _upload(file, content_type)
    return Call(
        "POST",
        "/v1/outlets/import",
        returns(OutletImportReport),
        query={"dry_run": dry_run or None},
        headers=headers,
        content=data,
    )


# -- claims --------------------------------------------------------------------------------


def claims_create(
    claim: ClaimCreate | Mapping[str, Any], *, idempotency_key: str | None = None
) -> Call[ClaimRead]:
    """Every post carries an Idempotency-Key (a new one unless given): retries are safe."""
    return Call(
        "POST",
        "/v1/claims",
        returns(ClaimRead),
        body=body(ClaimCreate, claim),
        headers=idempotency_headers(idempotency_key),
    )


def claims_create_batch(
    claims: Sequence[ClaimCreate | Mapping[str, Any]], *, idempotency_key: str | None = None
) -> Call[ClaimBatchRead]:
    return Call(
        "POST",
        "/v1/claims/batch",
        returns(ClaimBatchRead),
        body={"claims": [body(ClaimCreate, claim) for claim in claims]},
        headers=idempotency_headers(idempotency_key),
    )


def claims_preview_score(claim: ClaimCreate | Mapping[str, Any]) -> Call[ScoreRead]:
    return Call("POST", "/v1/score", returns(ScoreRead), body=body(ClaimCreate, claim))


def claims_list(
    *,
    outlet_id: int | None = None,
    outlet_slug: str | None = None,
    outlet: Ref | None = None,
    event_id: int | None = None,
    topic: str | None = None,
    since: datetime | None = None,
    **paging: Unpack[Paging],
) -> Call[ClaimPage]:
    return Call(
        "GET",
        "/v1/claims",
        returns(ClaimPage),
        query={
            "outlet_id": outlet_id,
            "outlet_slug": outlet_slug,
            "outlet": outlet,
            "event_id": event_id,
            "topic": topic,
            "since": since,
        }
        | paging,
    )


def claims_get(claim_id: int) -> Call[ClaimRead]:
    return Call("GET", path("/v1/claims/{}", claim_id), returns(ClaimRead))


def claims_list_scores(
    claim_id: int,
    **paging: Unpack[Paging],
) -> Call[ScorePage]:
    return Call(
        "GET",
        path("/v1/claims/{}/scores", claim_id),
        returns(ScorePage),
        query=dict(paging),
    )


# -- verdicts ------------------------------------------------------------------------------


def verdicts_record(
    claim_id: int, verdict: VerdictCreate | Mapping[str, Any]
) -> Call[VerdictRecorded]:
    return Call(
        "POST",
        path("/v1/claims/{}/verdicts", claim_id),
        returns(VerdictRecorded),
        body=body(VerdictCreate, verdict),
    )


def verdicts_list(
    claim_id: int,
    **paging: Unpack[Paging],
) -> Call[VerdictPage]:
    return Call(
        "GET",
        path("/v1/claims/{}/verdicts", claim_id),
        returns(VerdictPage),
        query=dict(paging),
    )


def verdicts_import(
    file: Upload, *, dry_run: bool = False, content_type: str | None = None
) -> Call[VerdictImportReport]:
    """Record verdicts from a CSV file or ClaimReview JSON-LD (all or nothing)."""
    data, headers = _upload(file, content_type)
    return Call(
        "POST",
        "/v1/verdicts/import",
        returns(VerdictImportReport),
        query={"dry_run": dry_run or None},
        headers=headers,
        content=data,
    )


# -- import and export ---------------------------------------------------------------------


def claimreviews_get(claim_id: int) -> Call[dict[str, Any]]:
    """The claim and its newest verdict as a schema.org ClaimReview (JSON-LD)."""
    return Call("GET", path("/v1/claims/{}/claimreview", claim_id), returns_json)


def claimreviews_list(
    *, outlet: Ref | None = None, since: datetime | None = None
) -> StreamCall[dict[str, Any]]:
    """Every verdict as a ClaimReview document, in the order they were recorded."""
    return streamed("GET", "/v1/claimreviews", JsonLines, query={"outlet": outlet, "since": since})


def export_csv(
    kind: ExportKind | str, *, outlet: Ref | None = None, since: datetime | None = None
) -> StreamCall[str]:
    """Outlets, claims or scores as CSV lines (header first), each with its line ending:
    ``file.writelines(client.export_csv("claims"))`` writes the export as served."""
    return streamed(
        "GET",
        path("/v1/export/{}.csv", ExportKind(kind).value),
        Lines,
        query={"outlet": outlet, "since": since},
    )


# -- events --------------------------------------------------------------------------------


def events_create(event: EventCreate | Mapping[str, Any]) -> Call[EventRead]:
    return Call("POST", "/v1/events", returns(EventRead), body=body(EventCreate, event))


def events_list(
    *,
    topic: str | None = None,
    conflict: str | None = None,
    status: Status | str | None = None,
    **paging: Unpack[Paging],
) -> Call[EventPage]:
    return Call(
        "GET",
        "/v1/events",
        returns(EventPage),
        query={"topic": topic, "conflict": conflict, "status": status} | paging,
    )


def events_get(event_id: int) -> Call[EventDetail]:
    return Call("GET", path("/v1/events/{}", event_id), returns(EventDetail))


def events_get_consensus(event_id: int) -> Call[ConsensusRead]:
    return Call("GET", path("/v1/events/{}/consensus", event_id), returns(ConsensusRead))


def events_consensus_history(
    event_id: int,
    **paging: Unpack[Paging],
) -> Call[ConsensusPage]:
    return Call(
        "GET",
        path("/v1/events/{}/consensus/history", event_id),
        returns(ConsensusPage),
        query=dict(paging),
    )


# -- models --------------------------------------------------------------------------------


def models_train(
    request: ModelTrainRequest | Mapping[str, Any] | None = None,
) -> Call[ModelRead]:
    return Call(
        "POST", "/v1/models", returns(ModelRead), body=body(ModelTrainRequest, request or {})
    )


def models_list(
    **paging: Unpack[Paging],
) -> Call[ModelPage]:
    return Call("GET", "/v1/models", returns(ModelPage), query=dict(paging))


def models_get_active() -> Call[ActiveModelRead]:
    return Call("GET", "/v1/models/active", returns(ActiveModelRead))


def models_rollback() -> Call[ModelRead]:
    return Call("POST", "/v1/models/rollback", returns(ModelRead))


def models_get(model_id: int) -> Call[ModelRead]:
    return Call("GET", path("/v1/models/{}", model_id), returns(ModelRead))


def models_activate(model_id: int, *, force: bool = False) -> Call[ModelRead]:
    return Call(
        "POST",
        path("/v1/models/{}/activate", model_id),
        returns(ModelRead),
        query={"force": force or None},
    )


def models_cancel(model_id: int) -> Call[ModelRead]:
    return Call("POST", path("/v1/models/{}/cancel", model_id), returns(ModelRead))


# -- API keys ------------------------------------------------------------------------------


def api_keys_create(key: ApiKeyCreate | Mapping[str, Any]) -> Call[ApiKeyCreated]:
    return Call("POST", "/v1/api-keys", returns(ApiKeyCreated), body=body(ApiKeyCreate, key))


def api_keys_list(
    **paging: Unpack[Paging],
) -> Call[ApiKeyPage]:
    return Call("GET", "/v1/api-keys", returns(ApiKeyPage), query=dict(paging))


def api_keys_revoke(key_id: int) -> Call[ApiKeyRead]:
    return Call("DELETE", path("/v1/api-keys/{}", key_id), returns(ApiKeyRead))


# -- push: webhooks and the live stream ----------------------------------------------------


def webhooks_create(subscription: WebhookCreate | Mapping[str, Any]) -> Call[WebhookCreated]:
    """Subscribe a URL; the answer's ``secret`` is shown this once."""
    return Call(
        "POST",
        "/v1/webhooks",
        returns(WebhookCreated),
        body=body(WebhookCreate, subscription),
    )


def webhooks_list(
    **paging: Unpack[Paging],
) -> Call[WebhookPage]:
    return Call("GET", "/v1/webhooks", returns(WebhookPage), query=dict(paging))


def webhooks_get(subscription_id: int) -> Call[WebhookRead]:
    return Call("GET", path("/v1/webhooks/{}", subscription_id), returns(WebhookRead))


def webhooks_update(
    subscription_id: int, changes: WebhookUpdate | Mapping[str, Any]
) -> Call[WebhookRead]:
    return Call(
        "PATCH",
        path("/v1/webhooks/{}", subscription_id),
        returns(WebhookRead),
        body=body(WebhookUpdate, changes),
    )


def webhooks_delete(subscription_id: int) -> Call[None]:
    return Call("DELETE", path("/v1/webhooks/{}", subscription_id), returns_nothing)


def webhooks_list_deliveries(
    subscription_id: int,
    *,
    status: DeliveryStatus | str | None = None,
    **paging: Unpack[Paging],
) -> Call[DeliveryPage]:
    return Call(
        "GET",
        path("/v1/webhooks/{}/deliveries", subscription_id),
        returns(DeliveryPage),
        query={"status": status} | paging,
    )


def webhooks_replay_delivery(subscription_id: int, delivery_id: int) -> Call[DeliveryRead]:
    """Send a delivery's event again, as a new delivery (sent in the background)."""
    return Call(
        "POST",
        path("/v1/webhooks/{}/deliveries/{}/replay", subscription_id, delivery_id),
        returns(DeliveryRead),
    )


def stream_subscribe(
    *,
    outlet: Sequence[Ref] | None = None,
    event: Sequence[int] | None = None,
    types: Sequence[EventType | str] | None = None,
    last_event_id: int | None = None,
    reconnect: bool | int = True,
) -> StreamCall[StreamEvent]:
    """Live change events, endless: iterate, and stop when you have what you need.

    ``last_event_id`` starts after that event: every matching event after it comes first,
    without gaps or repeats (``0`` replays everything still in the outbox). When the connection
    drops (the server restarts or sheds a slow reader, the network fails), the stream opens it
    again by itself with Last-Event-ID = the last event's id, so the iteration goes on without
    a gap or a repeat: after the server's ``retry:`` wait if it sent one, else after the
    client's `RetryPolicy` backoff with jitter (a 503 or 429 answer's Retry-After first).
    A refusal (401, 403, 422...) raises `CredscoreError` as on the first connection.

    ``reconnect``: True (the default) reconnects for as long as you read; a number ``n``
    reconnects at most ``n`` times in a row without receiving anything (then the last error is
    raised, or the iteration ends if the server had closed the stream); False ends the
    iteration when the connection drops (a network error is raised).

    Resuming from before events the service has deleted (its retention) first yields one event
    of type `STREAM_GAP`: re-read the state you follow."""
    return streamed(
        "GET",
        "/v1/stream",
        EventStream,
        query={
            "outlet": outlet,
            "event": event,
            "types": ",".join(str(t) for t in types) if types else None,
        },
        headers={"Last-Event-ID": str(last_event_id)} if last_event_id is not None else {},
        reconnects=None if reconnect is True else int(reconnect),
    )


# -- metrics -------------------------------------------------------------------------------


def metrics_scrape() -> Call[str]:
    """The Prometheus text the service exposes (no API key needed)."""
    return Call("GET", "/metrics", returns_text)
