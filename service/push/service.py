"""Webhook subscriptions: created, changed and removed by admins, audited like other records."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.service import record_audit
from service.auth.service import Principal
from service.database.types import utcnow
from service.errors import Conflict, FieldError, InvalidInput, NotFound
from service.outlets.directory import Registry
from service.push.models import WebhookDelivery, WebhookSubscription
from service.push.repository import WEBHOOKS_CURSOR, OutboxRepository, WebhookRepository
from service.push.schemas import WebhookCreate, WebhookRead, WebhookUpdate

# The session flag of a transaction that queued webhook deliveries: send them once it commits.
WAKE_WEBHOOKS = "credscore.wake_webhooks"


def generate_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def webhook_read(subscription: WebhookSubscription, registry: Registry) -> WebhookRead:
    return WebhookRead.model_validate(
        {
            "id": subscription.id,
            "url": subscription.url,
            "description": subscription.description,
            "event_types": subscription.event_types,
            "outlets": [
                registry.by_id[outlet_id].slug if outlet_id in registry.by_id else str(outlet_id)
                for outlet_id in subscription.outlet_ids
            ],
            "events": subscription.event_ids,
            "enabled": subscription.enabled,
            "disabled_reason": subscription.disabled_reason,
            "consecutive_failures": subscription.consecutive_failures,
            "created_at": subscription.created_at,
            "updated_at": subscription.updated_at,
            "created_by": subscription.created_by,
        }
    )


def _audited(subscription: WebhookSubscription) -> dict[str, Any]:
    # Never the secret.
    return {
        "url": subscription.url,
        "event_types": subscription.event_types,
        "outlet_ids": subscription.outlet_ids,
        "event_ids": subscription.event_ids,
        "enabled": subscription.enabled,
    }


class WebhookService:
    def __init__(self, session: AsyncSession, registry: Registry) -> None:
        self.session = session
        self.registry = registry
        self.repository = WebhookRepository(session)

    async def get(self, subscription_id: int) -> WebhookSubscription:
        subscription = await self.repository.by_id(subscription_id)
        if subscription is None:
            raise NotFound(f"No webhook subscription with id {subscription_id}.")
        return subscription

    def _outlet_ids(self, slugs: Sequence[str], field: str) -> list[int]:
        unknown = [slug for slug in slugs if slug not in self.registry.by_slug]
        if unknown:
            raise InvalidInput(
                f"Unknown outlet(s): {', '.join(unknown)}.",
                errors=[
                    FieldError(
                        loc=["body", field, slugs.index(slug)],
                        message="no such outlet",
                        type="not_found",
                    )
                    for slug in unknown
                ],
            )
        return sorted({self.registry.by_slug[slug].id for slug in slugs})

    async def create(
        self, data: WebhookCreate, *, actor: Principal, request_id: str | None
    ) -> WebhookSubscription:
        subscription = await self.repository.add(
            WebhookSubscription(
                url=str(data.url),
                description=data.description,
                secret=data.secret or generate_secret(),
                event_types=[event_type.value for event_type in data.event_types],
                outlet_ids=self._outlet_ids(data.outlets, "outlets"),
                event_ids=sorted(set(data.events)),
                enabled=True,
                consecutive_failures=0,
                starts_after=await self._starts_after(),
                created_by=actor.name,
            )
        )
        await record_audit(
            self.session,
            actor=actor,
            action="webhook.create",
            subject_type="webhook",
            subject_id=subscription.id,
            before=None,
            after=_audited(subscription),
            request_id=request_id,
        )
        return subscription

    async def _starts_after(self) -> int:
        """The newest outbox id, read while holding the fan-out's cursor (on PostgreSQL): a
        fan-out cannot pass an event committed meanwhile before this subscription commits and
        takes it."""
        outbox = OutboxRepository(self.session)
        await outbox.cursor(WEBHOOKS_CURSOR)
        return await outbox.newest_id()

    async def update(
        self, subscription_id: int, data: WebhookUpdate, *, actor: Principal, request_id: str | None
    ) -> WebhookSubscription:
        subscription = await self.get(subscription_id)
        before = _audited(subscription)
        if data.url is not None:
            subscription.url = str(data.url)
        if "description" in data.model_fields_set:
            subscription.description = data.description
        if data.secret is not None:
            subscription.secret = data.secret
        if data.event_types is not None:
            subscription.event_types = [event_type.value for event_type in data.event_types]
        if data.outlets is not None:
            subscription.outlet_ids = self._outlet_ids(data.outlets, "outlets")
        if data.events is not None:
            subscription.event_ids = sorted(set(data.events))
        if data.enabled is not None:
            if data.enabled and not subscription.enabled:
                subscription.consecutive_failures = 0
                subscription.disabled_reason = None
                # Deliveries held while it was disabled are sent now.
                self.session.info[WAKE_WEBHOOKS] = True
            elif not data.enabled and subscription.enabled:
                subscription.disabled_reason = f"disabled by {actor.name}"
            subscription.enabled = data.enabled
        subscription.updated_at = utcnow()
        await self.session.flush()
        await record_audit(
            self.session,
            actor=actor,
            action="webhook.update",
            subject_type="webhook",
            subject_id=subscription.id,
            before=before,
            after=_audited(subscription),
            request_id=request_id,
        )
        return subscription

    async def delete(
        self, subscription_id: int, *, actor: Principal, request_id: str | None
    ) -> None:
        subscription = await self.get(subscription_id)
        before = _audited(subscription)
        await self.repository.delete(subscription)
        await record_audit(
            self.session,
            actor=actor,
            action="webhook.delete",
            subject_type="webhook",
            subject_id=subscription_id,
            before=before,
            after=None,
            request_id=request_id,
        )

    async def replay(self, subscription_id: int, delivery_id: int) -> WebhookDelivery:
        """Send a delivery's event again, as a new delivery (the old one keeps its record)."""
        subscription = await self.get(subscription_id)
        original = await self.repository.delivery(subscription_id, delivery_id)
        if original is None:
            raise NotFound(f"Webhook {subscription_id} has no delivery with id {delivery_id}.")
        if not subscription.enabled:
            raise Conflict(
                "This subscription is disabled; enable it (PATCH enabled=true) to replay.",
                slug="webhook-disabled",
            )
        now = utcnow()
        replayed = await self.repository.add_delivery(
            WebhookDelivery(
                subscription_id=subscription_id,
                outbox_id=original.outbox_id,
                event_type=original.event_type,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
        self.session.info[WAKE_WEBHOOKS] = True
        return replayed
