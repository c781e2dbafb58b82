"""The service's documents as typed models, written for the client alone (httpx + pydantic).

They mirror the schemas in the service's OpenAPI document (tests/client/test_models.py checks
that every field is there); reads keep fields a newer server adds (extra="allow"), inputs refuse
unknown ones as the server does.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr


class Model(BaseModel):
    """A document the service returned; `etag` is its ETag header, where it sent one."""

    model_config = ConfigDict(extra="allow")
    _etag: str | None = PrivateAttr(default=None)

    @property
    def etag(self) -> str | None:
        return self._etag


class Input(BaseModel):
    """A request body; fields left unset are not sent (the server applies its defaults)."""

    model_config = ConfigDict(extra="forbid")


ItemT = TypeVar("ItemT", bound=Model)


class Page(Model, Generic[ItemT]):
    """One page of a list: follow `next_cursor` (the client's iterators do it for you)."""

    items: list[ItemT]
    next_cursor: str | None


class ConsensusStatus(StrEnum):
    CONSENSUS = "consensus"
    CONTESTED = "contested"
    UNCERTAIN = "uncertain"
    INSUFFICIENT = "insufficient"
    NO_REPORTS = "no_reports"
    PENDING = "pending"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class EventType(StrEnum):
    CLAIM_SCORED = "claim.scored"
    OUTLET_RELIABILITY_CHANGED = "outlet.reliability_changed"
    EVENT_CONSENSUS_CHANGED = "event.consensus_changed"
    VERDICT_RECORDED = "verdict.recorded"


class ExportKind(StrEnum):
    OUTLETS = "outlets"
    CLAIMS = "claims"
    SCORES = "scores"


class ExternalRating(StrEnum):
    VERY_HIGH = "very-high"
    HIGH = "high"
    MOSTLY_FACTUAL = "mostly-factual"
    MIXED = "mixed"
    LOW = "low"
    VERY_LOW = "very-low"


class ModelStatus(StrEnum):
    QUEUED = "queued"
    TRAINING = "training"
    READY = "ready"
    FAILED = "failed"
    CANCELLED = "cancelled"
    STALLED = "stalled"


class Grade(StrEnum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"
    UNRATED = "unrated"


class OutletImportReport(Model):
    """What an outlet import did (or, for a dry run, would do)."""

    dry_run: bool
    rows: int
    created: int
    updated: int
    unchanged: int
    ratings_recorded: int
    ignored_columns: list[str]


class OutletKind(StrEnum):
    WIRE = "wire"
    NEWSPAPER = "newspaper"
    BROADCASTER = "broadcaster"
    ONLINE = "online"
    STATE_MEDIA = "state_media"
    GOVERNMENT = "government"
    MILITARY_PAO = "military_pao"
    NGO_MONITOR = "ngo_monitor"
    ACTIVIST_NETWORK = "activist_network"
    INDIVIDUAL = "individual"
    OTHER = "other"


class Rating(StrEnum):
    TRUE = "true"
    MOSTLY_TRUE = "mostly-true"
    MIXED = "mixed"
    MOSTLY_FALSE = "mostly-false"
    FALSE = "false"
    UNVERIFIABLE = "unverifiable"


class ReliabilityCause(StrEnum):
    VERDICT = "verdict"
    KIND_PRIOR = "kind_prior"
    RECORD = "record"
    TIME_DECAY = "time_decay"


class Scope(StrEnum):
    READ = "read"
    SUBMIT = "submit"
    ADMIN = "admin"


class Status(StrEnum):
    CONSENSUS = "consensus"
    CONTESTED = "contested"
    UNCERTAIN = "uncertain"
    INSUFFICIENT = "insufficient"
    NO_REPORTS = "no_reports"


class ActiveModelRead(Model):
    model: ModelRead | None
    method: str
    loaded_in_this_process: bool
    load_error: str | None


class AdmiraltyRead(Model):
    """NATO's two-axis grading of a report (AJP-2.1), as desks use it: e.g. "B2"."""

    code: str
    reliability: Literal["A", "B", "C", "D", "E", "F"]
    credibility: int
    meaning: str


class ApiKeyCreate(Input):
    name: str
    scopes: list[Scope]


class ApiKeyRead(Model):
    id: int
    name: str
    prefix: str
    scopes: list[Scope]
    created_at: datetime
    created_by: str | None
    revoked_at: datetime | None


class ClaimBatchCreate(Input):
    claims: list[ClaimCreate]


class ClaimBatchRead(Model):
    items: list[ClaimRead]


class ClaimCreate(Input):
    """A claim to score and store. Name the outlet by outlet_id or outlet_slug (one of them)."""

    outlet_id: int | None = None
    outlet_slug: str | None = None
    text: str
    published_at: datetime | None = None
    event_id: int | None = None
    topic: str | None = None
    figure: FigureIn | None = None
    copy_of_claim_id: int | None = None


class ClaimRead(Model):
    id: int
    outlet_id: int
    outlet_slug: str
    event_id: int | None
    text: str
    published_at: datetime
    topic: str | None
    figure: FigureRead | None
    copy_of_claim_id: int | None
    created_at: datetime
    score: ScoreRead | None
    score_stale: bool


class CompetingFigureRead(Model):
    estimate: float
    low: float | None
    high: float | None
    support: float
    outlet_slugs: list[str]


class ConsensusClaim(Model):
    claim_id: int
    outlet_id: int
    outlet_slug: str
    value: float | None
    low: float | None
    high: float | None
    agreement: float
    relative_distance: float
    weight: float
    party: bool
    copy_of_claim_id: int | None = None
    copy_group: str | None = None
    superseded: bool = False
    own_share: float = 1.0
    depends_on: str | None = None
    dependence: float = 0.0
    in_leading_cluster: bool | None = None
    corroboration: CorroborationRead | None = None
    admiralty: AdmiraltyRead | None = None
    discounts: list[str] = Field(default_factory=list)


class ConsensusExplanation(Model):
    summary: str
    discounted: list[DiscountedSource]


class ConsensusInterval(Model):
    low: float
    high: float


class ConsensusRead(Model):
    id: int | None
    event_id: int
    status: ConsensusStatus
    status_meaning: str
    estimate: float | None
    interval: ConsensusInterval | None
    confidence: float
    independent_reports: int
    stale: bool
    method_version: str | None
    computed_at: datetime | None
    trigger: str | None
    tolerance: float | None
    supporting_outlets: list[str]
    competing_figures: list[CompetingFigureRead]
    dependent_groups: list[DependentGroupRead]
    explanation: ConsensusExplanation | None
    claims: list[ConsensusClaim]
    sources: list[ConsensusSource]


class ConsensusSource(Model):
    outlet_id: int
    outlet_slug: str
    outlet_name: str
    weight: float
    party: bool


class CorroborationRead(Model):
    confirmations: int
    copies_ignored: int
    independent_others: int


class DependentGroupRead(Model):
    outlet_slugs: list[str]
    probability: float
    copier: str | None


class DiscountedSource(Model):
    outlet_slug: str
    reasons: list[str]


class DeliveryRead(Model):
    """One attempt series to send one event to one subscription."""

    id: int
    subscription_id: int
    outbox_id: int
    event_type: EventType
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_response_body: str | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class EventCreate(Input):
    title: str
    description: str | None = None
    quantity_kind: str | None = None
    unit: str | None = None
    place: str | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None
    topic: str | None = None
    conflict: str | None = None


class EventRead(Model):
    id: int
    title: str
    description: str | None
    quantity_kind: str | None
    unit: str | None
    place: str | None
    window_start: datetime | None
    window_end: datetime | None
    topic: str | None
    conflict: str | None
    consensus_status: ConsensusStatus | None
    consensus_stale: bool
    created_at: datetime
    updated_at: datetime


class FieldError(Model):
    """One invalid input: where it is, and what is wrong with it."""

    loc: list[str | int]
    message: str
    type: str


class FigureIn(Input):
    """A structured figure: one value, or a range from low to high."""

    value: float | None = None
    low: float | None = None
    high: float | None = None
    unit: str | None = None


class FigureRead(Model):
    value: float | None
    low: float | None
    high: float | None
    unit: str | None


class GateFigures(Model):
    log_loss: float | None
    brier: float | None


class GateRuleRead(Model):
    min_holdout: int
    log_loss_margin: float
    brier_margin: float
    text: str


class Health(Model):
    status: Literal["ok"]


class Interval(Model):
    low: float
    high: float
    level: float


class ModelParamsRead(Model):
    model: dict[str, int | float] = Field(default_factory=dict)
    activate: bool = False


class ModelRead(Model):
    id: int
    version: str
    status: ModelStatus
    active: bool
    activated_at: datetime | None
    progress: float
    progress_message: str | None
    params: ModelParamsRead
    metrics: dict[str, Any] | None
    quality_gate: QualityGateRead
    n_train: int | None
    data_from: datetime | None
    data_to: datetime | None
    python_version: str | None
    sklearn_version: str | None
    numpy_version: str | None
    checksum: str | None
    error: str | None
    created_by: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None


class ModelTrainRequest(Input):
    params: dict[str, int | float] | None = None
    activate: bool | None = None


class _OutletOptional(Input):
    """The outlet fields that may be left out when it is created, as when it is updated."""

    country: str | None = None
    affiliations: list[str] | None = None
    owner: str | None = None
    conflict_parties: list[str] | None = None
    on_the_ground: bool | None = None
    transparency: Transparency | None = None
    notes: str | None = None
    url: str | None = None


class OutletCreate(_OutletOptional):
    name: str
    kind: OutletKind
    slug: str


class OutletDependencyRead(Model):
    """A likely copy partner of the outlet, learned from the figures both reported."""

    outlet_id: int
    outlet_slug: str
    outlet_name: str
    probability: float
    direction: Literal["copies", "copied_by"] | None
    direction_probability: float
    common_events: int
    updated_at: datetime


class OutletRead(Model):
    id: int
    slug: str
    name: str
    kind: OutletKind
    country: str | None
    affiliations: list[str]
    owner: str | None
    conflict_parties: list[str]
    on_the_ground: bool | None
    transparency: TransparencyRead
    notes: str | None
    url: str | None
    archived: bool
    archived_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


class OutletRecordCreate(Input):
    """Historical accuracy from outside the service (a fact-checker's rating, counted reports)."""

    source: str
    as_of: datetime
    external_rating: str | None = None
    verified: int | None = None
    refuted: int | None = None
    corrections: int | None = None
    retractions: int | None = None
    note: str | None = None


class OutletRecordRead(Model):
    id: int
    outlet_id: int
    source: str
    as_of: datetime
    external_rating: ExternalRating | None
    verified: int
    refuted: int
    corrections: int
    retractions: int
    note: str | None
    created_at: datetime
    created_by: str | None


class OutletUpdate(_OutletOptional):
    """Fields to change; absent fields stay as they are. Needs If-Match with the current ETag."""

    name: str | None = None
    kind: OutletKind | None = None


class Problem(Model):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldError] | None = None


class QualityGateRead(Model):
    """The activation gate: the model against the track record on the same held-out verdicts."""

    passed: bool
    failures: list[str]
    n_holdout: int | None
    model: GateFigures
    track_record: GateFigures
    rule: GateRuleRead


class Readiness(Model):
    status: Literal["ok", "unavailable", "migrations pending"]
    database: str
    migration: str | None
    expected_migration: str | None


class Reason(Model):
    """One additive part of the score, in words a desk editor can read."""

    feature: str
    effect: float
    text: str


class ReliabilityRead(Model):
    outlet_id: int
    outlet_slug: str
    kind: OutletKind
    probability: float
    interval: Interval
    grade: Grade
    grade_meaning: str
    rated: bool
    evidence: float
    prior_mean: float
    half_life_days: float
    as_of: datetime
    reasons: list[Reason]


class ScoreRead(Model):
    id: int | None
    subject: Literal["claim", "outlet"]
    probability: float
    interval: Interval
    grade: Grade
    grade_meaning: str
    rated: bool
    method: str
    model_version: str
    as_of: datetime
    computed_at: datetime
    trigger: str
    reasons: list[Reason]
    admiralty: AdmiraltyRead | None = None
    cause: ReliabilityCause | None = None
    evidence_at: datetime | None = None


class Transparency(Input):
    """Practices that make an outlet's reporting checkable (unknown when absent)."""

    methodology: bool | None = None
    corrections_policy: bool | None = None
    ownership_disclosed: bool | None = None
    names_sources: bool | None = None


class TransparencyRead(Model):
    methodology: bool | None
    corrections_policy: bool | None
    ownership_disclosed: bool | None
    names_sources: bool | None


class VerdictCreate(Input):
    rating: Rating
    source: str
    decided_at: datetime | None = None
    note: str | None = None


class VerdictImportReport(Model):
    """What a verdict import did (or, for a dry run, would do)."""

    dry_run: bool
    items: int
    verdicts_created: int
    duplicates_skipped: int
    claims_matched: int
    claims_created: int
    outlets_created: int
    outlets_rescored: int


class VerdictRead(Model):
    id: int
    claim_id: int
    rating: Rating
    source: str
    decided_at: datetime
    note: str | None
    created_at: datetime
    created_by: str | None


# The stream's message to a client resuming from before events the service deleted (its
# retention): ``data`` holds ``last_event_id`` and ``pruned_through``; events between them may
# be missing, so re-read the state you follow. Not an `EventType`: it cannot be filtered on.
STREAM_GAP = "stream.gap"


class StreamEvent(Model):
    """One message of GET /v1/stream: its id (send it back as Last-Event-ID to resume), its
    type (an `EventType` value, or `STREAM_GAP`), when it happened and what it is about."""

    id: int
    type: str
    timestamp: datetime
    data: dict[str, Any]


class WebhookCreate(Input):
    """A subscription: ``secret`` (whsec_...) is generated when left out."""

    url: str
    description: str | None = None
    secret: str | None = None
    event_types: list[EventType]
    outlets: list[str] | None = None
    events: list[int] | None = None


class WebhookRead(Model):
    id: int
    url: str
    description: str | None
    event_types: list[EventType]
    outlets: list[str]
    events: list[int]
    enabled: bool
    disabled_reason: str | None
    consecutive_failures: int
    created_at: datetime
    updated_at: datetime
    created_by: str


class WebhookUpdate(Input):
    """Fields to change; ``enabled=True`` re-enables a subscription disabled after failures."""

    url: str | None = None
    description: str | None = None
    secret: str | None = None
    event_types: list[EventType] | None = None
    outlets: list[str] | None = None
    events: list[int] | None = None
    enabled: bool | None = None


class QualityGateProblem(Problem):
    """A 409 on activation: for /problems/quality-gate, the figures and the rule."""

    quality_gate: QualityGateRead | None = None


class ApiKeyCreated(ApiKeyRead):
    key: str


class WebhookCreated(WebhookRead):
    """The subscription with its signing secret: shown here only."""

    secret: str


class EventDetail(EventRead):
    claims: list[ClaimRead]
    claims_truncated: bool


class VerdictRecorded(VerdictRead):
    outlet_reliability: ScoreRead


class ApiKeyPage(Page[ApiKeyRead]):
    pass


class ClaimPage(Page[ClaimRead]):
    pass


class ConsensusPage(Page[ConsensusRead]):
    pass


class DeliveryPage(Page[DeliveryRead]):
    pass


class EventPage(Page[EventRead]):
    pass


class ModelPage(Page[ModelRead]):
    pass


class OutletDependencyPage(Page[OutletDependencyRead]):
    pass


class OutletPage(Page[OutletRead]):
    pass


class OutletRecordPage(Page[OutletRecordRead]):
    pass


class ScorePage(Page[ScoreRead]):
    pass


class VerdictPage(Page[VerdictRead]):
    pass


class WebhookPage(Page[WebhookRead]):
    pass
