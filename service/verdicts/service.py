"""Verdicts: what a claim turned out to be. Each one updates its outlet's track record."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.service import record_audit
from service.auth.service import Principal
from service.claims.models import Claim
from service.claims.repository import ClaimRepository
from service.database.types import utcnow
from service.errors import FieldError, InvalidInput, NotFound
from service.jobs.service import RESCORE_OUTLET, enqueue, mark_events_stale
from service.outlets.repository import OutletRepository
from service.push.outbox import emit_verdict_recorded
from service.scores.history import ReliabilityHistory
from service.scores.models import InsertedScore
from service.scores.schemas import ReliabilityCause
from service.scores.service import ScoringService
from service.scores.track_records import touch_evidence
from service.settings import Settings
from service.verdicts.models import Verdict
from service.verdicts.repository import VerdictRepository
from service.verdicts.schemas import VerdictCreate


class VerdictService:
    def __init__(self, session: AsyncSession, scoring: ScoringService, settings: Settings) -> None:
        self.session = session
        self.scoring = scoring
        self.settings = settings
        self.repository = VerdictRepository(session)

    async def _claim(self, claim_id: int) -> Claim:
        claim = await ClaimRepository(self.session).by_id(claim_id)
        if claim is None:
            raise NotFound(f"No claim with id {claim_id}.")
        return claim

    async def page(
        self, claim_id: int, *, after: int | None, limit: int, descending: bool = False
    ) -> Sequence[Verdict]:
        await self._claim(claim_id)
        return await self.repository.for_claim(
            claim_id, after=after, limit=limit, descending=descending
        )

    async def record(
        self, claim_id: int, data: VerdictCreate, *, actor: Principal, request_id: str | None
    ) -> tuple[Verdict, InsertedScore]:
        """Store the verdict and append the outlet's new reliability to its history.

        Claims scored later see the verdict once their claim time is past ``decided_at``;
        scores already stored stay as they were (they are history).
        """
        claim = await self._claim(claim_id)
        received_at = utcnow()
        decided_at = data.decided_at or received_at
        latest_allowed = received_at + timedelta(seconds=self.settings.max_future_skew_seconds)
        if decided_at > latest_allowed:
            raise InvalidInput(
                "decided_at lies in the future.",
                errors=[
                    FieldError(
                        loc=["body", "decided_at"], message="in the future", type="future_timestamp"
                    )
                ],
            )
        if decided_at <= claim.published_at:
            raise InvalidInput(
                "A verdict must be decided after the claim was published.",
                errors=[
                    FieldError(
                        loc=["body", "decided_at"],
                        message=f"before the claim's published_at {claim.published_at.isoformat()}",
                        type="before_claim",
                    )
                ],
            )
        outlet = await OutletRepository(self.session).by_id(claim.outlet_id)
        assert outlet is not None, "claims reference outlets by foreign key"
        # First what changed without it, so that the verdict's own entry shows only its effect.
        await ReliabilityHistory(self.session, self.scoring).record_drift(
            outlet, trigger="verdict.recorded"
        )
        verdict = await self.repository.add(
            Verdict(
                claim_id=claim.id,
                rating=data.rating.value,
                source=data.source,
                decided_at=decided_at,
                note=data.note,
                created_by=actor.name,
            )
        )
        await touch_evidence(self.session)
        await record_audit(
            self.session,
            actor=actor,
            action="verdict.create",
            subject_type="claim",
            subject_id=claim.id,
            before=None,
            after=data.model_dump(mode="json")
            | {"verdict_id": verdict.id, "decided_at": decided_at.isoformat()},
            request_id=request_id,
        )
        score = await ReliabilityHistory(self.session, self.scoring).record(
            outlet,
            trigger="verdict.recorded",
            cause=ReliabilityCause.VERDICT,
            evidence_at=decided_at,
        )
        # Everything else the verdict affects is recomputed in the background; until then the
        # open claims of the outlet show as stale.
        claims = ClaimRepository(self.session)
        await claims.mark_stale(outlet_id=outlet.id)
        # A claim with a verdict is no longer re-scored (its scores are history): a flag an
        # earlier verdict set on it would never be cleared.
        await claims.clear_stale([claim.id], queued_before=utcnow())
        # The outlet's events are re-reconciled once its claims are re-scored (by that job).
        await mark_events_stale(self.session, await claims.event_ids_of_outlet(outlet.id))
        await enqueue(self.session, RESCORE_OUTLET, [outlet.id], "verdict.recorded")
        emit_verdict_recorded(
            self.session,
            verdict_id=verdict.id,
            claim_id=claim.id,
            outlet_id=outlet.id,
            outlet_slug=outlet.slug,
            event_id=claim.event_id,
            rating=verdict.rating,
            source=verdict.source,
            decided_at=verdict.decided_at,
        )
        return verdict, score
