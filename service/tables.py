"""Imports every ORM model so Base.metadata is complete (Alembic and the drift test use it)."""

from service.audit.models import AuditEntry
from service.auth.models import ApiKey
from service.claims.models import Claim
from service.database.base import Base
from service.events.models import Event, EventConsensus
from service.jobs.models import Job
from service.model_registry.models import ModelVersion
from service.outlets.models import Outlet, OutletDependency, OutletRecord
from service.push.models import OutboxEvent, PushCursor, WebhookDelivery, WebhookSubscription
from service.scores.models import Generation, Score
from service.verdicts.models import Verdict

__all__ = [
    "ApiKey",
    "AuditEntry",
    "Base",
    "Claim",
    "Event",
    "EventConsensus",
    "Generation",
    "Job",
    "ModelVersion",
    "OutboxEvent",
    "Outlet",
    "OutletDependency",
    "OutletRecord",
    "PushCursor",
    "Score",
    "Verdict",
    "WebhookDelivery",
    "WebhookSubscription",
]
