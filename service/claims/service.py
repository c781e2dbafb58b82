"""Claims: validated as a whole, stored with their score, idempotent under retries."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import orjson
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.service import Principal
from service.claims.models import Claim
from service.claims.repository import ClaimRepository
from service.claims.schemas import ClaimCreate
from service.db import utcnow
from service.errors import FieldError, InvalidInput, NotFound
from service.events.models import Event
from service.events.repository import EventRepository
from service.jobs.service import RECONCILE_EVENT, enqueue, mark_events_stale
from service.outlets.directory import OutletLike
from service.schemas import database_id
from service.scores.models import Score
from service.scores.repository import ScoreRepository
from service.scores.service import ComputedScore, ScoringService, score_row
from service.settings import Settings


@dataclass(frozen=True)
class StoredClaim:
    claim: Claim
    outlet: OutletLike
    score: Score | None


def fingerprint(item: ClaimCreate) -> str:
    canonical = orjson.dumps(item.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


def _item_keys(idempotency_key: str, count: int, *, batch: bool) -> list[str]:
    return [f"{idempotency_key}#{index}" for index in range(count)] if batch else [idempotency_key]


class ClaimService:
    def __init__(self, session: AsyncSession, scoring: ScoringService, settings: Settings) -> None:
        self.session = session
        self.scoring = scoring
        self.settings = settings
        self.claims = ClaimRepository(session)
        self.scores = ScoreRepository(session)

    async def get(self, claim_id: int) -> StoredClaim:
        claim = await self.claims.by_id(claim_id)
        if claim is None:
            raise NotFound(f"No claim with id {claim_id}.")
        return (await self._with_outlets_and_scores([claim]))[0]

    async def page(
        self,
        *,
        after: int | None,
        limit: int,
        outlet_ref: str | None,
        event_id: int | None,
        topic: str | None,
        since: object | None,
    ) -> list[StoredClaim]:
        outlet_id = None
        if outlet_ref is not None:
            registry = await self.scoring.outlets(self.session)
            number = database_id(outlet_ref)
            outlet = (
                registry.by_slug.get(outlet_ref) if number is None else registry.by_id.get(number)
            )
            if outlet is None:
                return []
            outlet_id = outlet.id
        claims = await self.claims.page(
            after=after,
            limit=limit,
            outlet_id=outlet_id,
            event_id=event_id,
            topic=topic,
            since=since,  # type: ignore[arg-type]
        )
        return await self._with_outlets_and_scores(claims)

    async def _with_outlets_and_scores(self, claims: Sequence[Claim]) -> list[StoredClaim]:
        outlets = (await self.scoring.outlets(self.session)).by_id
        scores = await self.scores.latest_for_claims([claim.id for claim in claims])
        return [
            StoredClaim(claim, outlets[claim.outlet_id], scores.get(claim.id)) for claim in claims
        ]

    async def preview(self, item: ClaimCreate) -> ComputedScore:
        outlets, events = await self._resolve([item], loc_prefix=["body"], batch=False)
        # Scored exactly as a stored claim would be, but never added to the session.
        transient = self._claim_row(item, outlets[0], events, key=None, print_=None, submitter=None)
        computed = await self.scoring.score_claims(
            self.session, [transient], {outlets[0].id: outlets[0]}
        )
        return computed[0]

    @staticmethod
    def _claim_row(
        item: ClaimCreate,
        outlet: OutletLike,
        events: dict[int, Event],
        *,
        key: str | None,
        print_: str | None,
        submitter: Principal | None,
    ) -> Claim:
        return Claim(
            outlet_id=outlet.id,
            event_id=item.event_id,
            text=item.text,
            published_at=item.published_at,
            topic=item.topic or (events[item.event_id].topic if item.event_id else None),
            figure_value=item.figure.value if item.figure else None,
            figure_low=item.figure.low if item.figure else None,
            figure_high=item.figure.high if item.figure else None,
            figure_unit=item.figure.unit if item.figure else None,
            copy_of_claim_id=item.copy_of_claim_id,
            idempotency_key=key,
            request_fingerprint=print_,
            submitted_by_key_id=submitter.key_id if submitter else None,
        )

    async def create(
        self,
        items: Sequence[ClaimCreate],
        *,
        submitter: Principal,
        idempotency_key: str | None,
        batch: bool,
    ) -> tuple[list[StoredClaim], bool]:
        """Store and score ``items`` all together; returns them and whether this was a replay."""
        if len(items) > self.settings.max_batch_claims:
            raise InvalidInput(
                f"A batch holds at most {self.settings.max_batch_claims} claims; "
                f"this one has {len(items)}.",
                errors=[
                    FieldError(loc=["body", "claims"], message="too many claims", type="too_long")
                ],
            )
        prints = [fingerprint(item) for item in items]
        keys = _item_keys(idempotency_key, len(items), batch=batch) if idempotency_key else None
        if keys is not None:
            replay = await self._replay(submitter, keys, prints)
            if replay is not None:
                return replay, True
        loc_prefix: list[str | int] = ["body", "claims"] if batch else ["body"]
        outlets, events = await self._resolve(items, loc_prefix=loc_prefix, batch=batch)
        claims = [
            self._claim_row(
                item,
                outlet,
                events,
                key=keys[index] if keys else None,
                print_=prints[index],
                submitter=submitter,
            )
            for index, (item, outlet) in enumerate(zip(items, outlets, strict=True))
        ]
        if keys is None:
            await self.claims.add_all(claims)
        else:
            # Only a keyed request can lose a race to its own retry: a savepoint lets it
            # recover and answer as the winner did (no savepoint round trips otherwise).
            try:
                async with self.session.begin_nested():
                    await self.claims.add_all(claims)
            except IntegrityError:
                replay = await self._replay(submitter, keys, prints)
                if replay is not None:
                    return replay, True
                raise
        computed = await self.scoring.score_claims(
            self.session, claims, {outlet.id: outlet for outlet in outlets}
        )
        scores = [
            score_row(
                result,
                subject="claim",
                outlet_id=claim.outlet_id,
                claim_id=claim.id,
                trigger="claim.created",
            )
            for claim, result in zip(claims, computed, strict=True)
        ]
        await self.scores.add_all(scores)
        event_ids = {item.event_id for item in items if item.event_id is not None}
        if event_ids:
            await mark_events_stale(self.session, event_ids)
            await enqueue(self.session, RECONCILE_EVENT, event_ids, "claim.created")
        return [
            StoredClaim(claim, outlet, score)
            for claim, outlet, score in zip(claims, outlets, scores, strict=True)
        ], False

    async def _replay(
        self, submitter: Principal, keys: list[str], prints: list[str]
    ) -> list[StoredClaim] | None:
        existing = await self.claims.by_idempotency_keys(submitter.key_id, keys)
        if not existing:
            return None
        if len(existing) != len(keys) or any(
            existing[key].request_fingerprint != expected
            for key, expected in zip(keys, prints, strict=True)
        ):
            raise InvalidInput(
                "This Idempotency-Key was already used with a different request body; "
                "use a new key for a new request.",
                slug="idempotency-key-reused",
            )
        return await self._with_outlets_and_scores([existing[key] for key in keys])

    async def _resolve(
        self, items: Sequence[ClaimCreate], *, loc_prefix: list[str | int], batch: bool
    ) -> tuple[list[OutletLike], dict[int, Event]]:
        """Check every reference of every item; raise one error listing all problems."""
        registry = await self.scoring.outlets(self.session)
        by_id, by_slug = registry.by_id, registry.by_slug
        events = await EventRepository(self.session).by_ids(
            [i.event_id for i in items if i.event_id]
        )
        copied = await self.claims.existing_ids(
            [i.copy_of_claim_id for i in items if i.copy_of_claim_id]
        )
        latest_allowed = utcnow() + timedelta(seconds=self.settings.max_future_skew_seconds)
        errors: list[FieldError] = []
        outlets: list[OutletLike] = []
        for index, item in enumerate(items):
            loc = [*loc_prefix, index] if batch else list(loc_prefix)
            outlet = (
                by_id.get(item.outlet_id) if item.outlet_id else by_slug.get(item.outlet_slug or "")
            )
            if outlet is None:
                field = "outlet_id" if item.outlet_id else "outlet_slug"
                reference = item.outlet_id or item.outlet_slug
                errors.append(
                    FieldError(
                        loc=[*loc, field], message=f"no outlet '{reference}'", type="unknown_outlet"
                    )
                )
            elif outlet.archived_at is not None:
                errors.append(
                    FieldError(
                        loc=[*loc, "outlet_id" if item.outlet_id else "outlet_slug"],
                        message=f"outlet '{outlet.slug}' is archived",
                        type="archived_outlet",
                    )
                )
            else:
                outlets.append(outlet)
            if item.event_id is not None and item.event_id not in events:
                errors.append(
                    FieldError(
                        loc=[*loc, "event_id"],
                        message=f"no event {item.event_id}",
                        type="unknown_event",
                    )
                )
            if item.copy_of_claim_id is not None and item.copy_of_claim_id not in copied:
                errors.append(
                    FieldError(
                        loc=[*loc, "copy_of_claim_id"],
                        message=f"no claim {item.copy_of_claim_id}",
                        type="unknown_claim",
                    )
                )
            if item.published_at > latest_allowed:
                errors.append(
                    FieldError(
                        loc=[*loc, "published_at"],
                        message="published_at lies in the future",
                        type="future_timestamp",
                    )
                )
            if len(item.text) > self.settings.max_claim_text_chars:
                errors.append(
                    FieldError(
                        loc=[*loc, "text"],
                        message=f"text exceeds {self.settings.max_claim_text_chars} characters",
                        type="too_long",
                    )
                )
        if errors:
            count = len({tuple(error.loc[: len(loc_prefix) + 1]) for error in errors})
            what = f"{count} of {len(items)} claims are" if batch else "The claim is"
            raise InvalidInput(f"{what} invalid; nothing was stored.", errors=errors)
        return outlets, events
