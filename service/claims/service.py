"""Claims: validated as a whole, stored with their score, idempotent under retries."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from scoring.figures import Figure
from service.auth.service import Principal
from service.claims.models import (
    DRAFT_FIELDS,
    Claim,
    ClaimDraft,
    ClaimFields,
    InsertedClaim,
    StoredClaimFields,
    claim_figure,
)
from service.claims.repository import ClaimRepository
from service.claims.schemas import ClaimCreate, ClaimRead
from service.database.types import utcnow
from service.errors import FieldError, InvalidInput, NotFound
from service.events.models import Event
from service.events.repository import EventRepository
from service.jobs.service import RECONCILE_EVENT, enqueue, mark_events_stale
from service.outlets.directory import OutletLike
from service.push.outbox import emit_claim_scores
from service.schemas import database_id
from service.scores.documents import score_document, score_values
from service.scores.models import ComputedScore, ScoreFields
from service.scores.repository import ScoreRepository
from service.scores.service import ScoringService
from service.settings import Settings


@dataclass(frozen=True)
class PendingClaim:
    """A checked claim, ready to insert: its column values and its outlet."""

    row: dict[str, Any]
    outlet: OutletLike


@dataclass(frozen=True)
class StoredClaim:
    claim: StoredClaimFields
    outlet: OutletLike
    score: ScoreFields | None


def claim_read(stored: StoredClaim) -> ClaimRead:
    claim = stored.claim
    figure = claim_figure(claim)
    # One validation of plain data, nested score included (see score_document).
    return ClaimRead.model_validate(
        {
            "id": claim.id,
            "outlet_id": claim.outlet_id,
            "outlet_slug": stored.outlet.slug,
            "event_id": claim.event_id,
            "text": claim.text,
            "published_at": claim.published_at,
            "topic": claim.topic,
            "figure": {
                "value": figure.value,
                "low": figure.low,
                "high": figure.high,
                "unit": figure.unit,
            }
            if figure is not None
            else None,
            "copy_of_claim_id": claim.copy_of_claim_id,
            "created_at": claim.created_at,
            "score": score_document(stored.score) if stored.score is not None else None,
            "score_stale": claim.score_stale_since is not None,
        }
    )


def fingerprint(item: ClaimCreate) -> str:
    canonical = orjson.dumps(item.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


def stored_idempotency_keys(idempotency_key: str, count: int, *, batch: bool) -> list[str]:
    """The stored key of each claim of a request with this Idempotency-Key.

    Single and batch posts have separate namespaces, so that a single post with key ``K#1``
    never replays item 1 of a batch sent with ``K``; the client's key is hashed, so that any
    header value up to its maximum fits the column with the item's index.
    """
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()
    if not batch:
        return [f"one:{digest}"]
    return [f"batch:{digest}#{index}" for index in range(count)]


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
        descending: bool = False,
        outlet_ref: str | None,
        event_id: int | None,
        topic: str | None,
        since: object | None,
        outlet_id: int | None = None,
        outlet_slug: str | None = None,
    ) -> list[StoredClaim]:
        """A page of claims; the outlet named by id, by slug (as claims are created), or by
        ``outlet_ref`` (either), at most one of the three."""
        given = [
            name
            for name, value in (
                ("outlet_id", outlet_id),
                ("outlet_slug", outlet_slug),
                ("outlet", outlet_ref),
            )
            if value is not None
        ]
        if len(given) > 1:
            raise InvalidInput(
                "Name the outlet once: outlet_id or outlet_slug.",
                errors=[
                    FieldError(loc=["query", name], message="one outlet filter", type="conflict")
                    for name in given
                ],
            )
        if given:
            registry = await self.scoring.outlets(self.session)
            number = outlet_id if outlet_ref is None else database_id(outlet_ref)
            slug = outlet_slug if outlet_ref is None else outlet_ref
            outlet = (
                registry.by_slug.get(slug or "") if number is None else registry.by_id.get(number)
            )
            if outlet is None:
                return []
            outlet_id = outlet.id
        claims = await self.claims.page(
            after=after,
            limit=limit,
            descending=descending,
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
        # Scored exactly as a stored claim would be, from the same fields.
        draft = ClaimDraft(**self._claim_fields(item, outlets[0], events, utcnow()))
        computed = await self.scoring.score_claims(
            self.session, [draft], {outlets[0].id: outlets[0]}
        )
        return computed[0]

    @staticmethod
    def _claim_fields(
        item: ClaimCreate, outlet: OutletLike, events: dict[int, Event], received_at: datetime
    ) -> dict[str, Any]:
        """The claim's columns; a claim without ``published_at`` was published on receipt."""
        figure = item.figure
        return {
            "outlet_id": outlet.id,
            "event_id": item.event_id,
            "text": item.text,
            "published_at": item.published_at or received_at,
            "topic": item.topic or (events[item.event_id].topic if item.event_id else None),
            "figure_value": figure.value if figure else None,
            "figure_low": figure.low if figure else None,
            "figure_high": figure.high if figure else None,
            "figure_unit": figure.unit if figure else None,
            "copy_of_claim_id": item.copy_of_claim_id,
        }

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
        keys = (
            stored_idempotency_keys(idempotency_key, len(items), batch=batch)
            if idempotency_key
            else None
        )
        if keys is not None:
            replay = await self._replay(submitter, keys, prints)
            if replay is not None:
                return replay, True
        pending = await self._check(
            items, submitter=submitter, keys=keys, prints=prints, batch=batch
        )
        if keys is None:
            return await self.write(pending), False
        # Only a keyed request can lose a race to its own retry: a savepoint lets it recover and
        # answer as the winner did (no savepoint round trips otherwise).
        try:
            async with self.session.begin_nested():
                claims = await self.claims.insert([item.row for item in pending])
        except IntegrityError:
            replay = await self._replay(submitter, keys, prints)
            if replay is not None:
                return replay, True
            raise
        return await self._score_and_flag(claims, pending), False

    async def check_one(self, item: ClaimCreate, *, submitter: Principal) -> PendingClaim:
        """Check one claim submitted without an Idempotency-Key, for ``ClaimWriter``."""
        pending = await self._check(
            [item], submitter=submitter, keys=None, prints=[fingerprint(item)], batch=False
        )
        return pending[0]

    async def write(self, pending: Sequence[PendingClaim]) -> list[StoredClaim]:
        """Insert checked claims with their scores, and queue their events' reconciliation."""
        # Scored before they are stored (a score needs the claim's fields, not its id), so that
        # both go to the database together.
        drafts = [ClaimDraft(**{name: item.row[name] for name in DRAFT_FIELDS}) for item in pending]
        score_rows = await self._score_rows(drafts, pending)
        stored = await self.claims.insert_with_scores([item.row for item in pending], score_rows)
        await self._flag_events([claim for claim, _ in stored])
        emit_claim_scores(
            self.session,
            [
                (claim, item.outlet, score)
                for (claim, score), item in zip(stored, pending, strict=True)
            ],
        )
        return [
            StoredClaim(claim, item.outlet, score)
            for (claim, score), item in zip(stored, pending, strict=True)
        ]

    async def _check(
        self,
        items: Sequence[ClaimCreate],
        *,
        submitter: Principal,
        keys: list[str] | None,
        prints: list[str],
        batch: bool,
    ) -> list[PendingClaim]:
        loc_prefix: list[str | int] = ["body", "claims"] if batch else ["body"]
        outlets, events = await self._resolve(items, loc_prefix=loc_prefix, batch=batch)
        now = utcnow()
        return [
            PendingClaim(
                row={
                    **self._claim_fields(item, outlet, events, now),
                    "idempotency_key": keys[index] if keys else None,
                    "request_fingerprint": prints[index],
                    "submitted_by_key_id": submitter.key_id,
                    "created_at": now,
                },
                outlet=outlet,
            )
            for index, (item, outlet) in enumerate(zip(items, outlets, strict=True))
        ]

    async def _score_and_flag(
        self, claims: list[InsertedClaim], pending: Sequence[PendingClaim]
    ) -> list[StoredClaim]:
        """Score claims already inserted, store the scores, queue their events."""
        score_rows = await self._score_rows(claims, pending)
        scores = await self.scores.insert(
            [{**row, "claim_id": claim.id} for row, claim in zip(score_rows, claims, strict=True)]
        )
        await self._flag_events(claims)
        emit_claim_scores(
            self.session,
            [
                (claim, item.outlet, score)
                for claim, item, score in zip(claims, pending, scores, strict=True)
            ],
        )
        return [
            StoredClaim(claim, item.outlet, score)
            for claim, item, score in zip(claims, pending, scores, strict=True)
        ]

    async def _score_rows(
        self, claims: Sequence[ClaimFields], pending: Sequence[PendingClaim]
    ) -> list[dict[str, Any]]:
        """The ``scores`` rows of new claims, without ``claim_id``."""
        outlets = {item.outlet.id: item.outlet for item in pending}
        computed = await self.scoring.score_claims(self.session, claims, outlets)
        rows = []
        for claim, result in zip(claims, computed, strict=True):
            row = score_values(
                result,
                subject="claim",
                outlet_id=claim.outlet_id,
                claim_id=None,
                trigger="claim.created",
            )
            del row["claim_id"]
            rows.append(row)
        return rows

    async def _flag_events(self, claims: Sequence[ClaimFields]) -> None:
        event_ids = {claim.event_id for claim in claims if claim.event_id is not None}
        if event_ids:
            await mark_events_stale(self.session, event_ids)
            await enqueue(self.session, RECONCILE_EVENT, event_ids, "claim.created")

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
            event = events.get(item.event_id) if item.event_id is not None else None
            if event is not None and item.figure is not None:
                figure = Figure.from_fields(
                    item.figure.value, item.figure.low, item.figure.high, item.figure.unit
                )
                if figure is not None and not figure.same_unit(event.unit):
                    errors.append(
                        FieldError(
                            loc=[*loc, "figure", "unit"],
                            message=f"the figure's unit '{item.figure.unit}' does not match "
                            f"the unit of event {event.id}, '{event.unit}'",
                            type="unit_mismatch",
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
            if item.published_at is not None and item.published_at > latest_allowed:
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
            why = f" ({errors[0].message})" if len(errors) == 1 else ""
            raise InvalidInput(f"{what} invalid{why}; nothing was stored.", errors=errors)
        return outlets, events
