"""Every operation of the service, once: each function is named after its OpenAPI operation id
and returns the `Call` that performs it. `Client` and `AsyncClient` expose each one as a method
(credscore_client/client.py); a new endpoint is a function here and a line there.

Operations that return a page (`XPage`) take ``cursor``, ``limit`` and ``order``; the clients
turn them into iterators over every item.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, TypedDict, Unpack

from credscore_client._core import Call, body, path, returns, returns_nothing
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
    EventCreate,
    EventDetail,
    EventPage,
    EventRead,
    Health,
    ModelPage,
    ModelRead,
    ModelTrainRequest,
    OutletCreate,
    OutletDependencyPage,
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
    VerdictCreate,
    VerdictPage,
    VerdictRecorded,
)

Order = Literal["asc", "desc"]
Ref = str | int


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
