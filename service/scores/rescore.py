"""Re-scoring stored claims after their evidence changed (the background jobs' work)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from service.claims.models import StoredClaimFields
from service.claims.repository import ClaimRepository
from service.database.types import utcnow
from service.outlets.directory import OutletLike
from service.outlets.repository import OutletRepository
from service.push.outbox import emit_claim_scores
from service.scores.documents import score_values
from service.scores.models import ComputedScore
from service.scores.repository import CurrentScore, ScoreRepository
from service.scores.service import ScoringService


async def rescore_claims(
    session: AsyncSession,
    scoring: ScoringService,
    claims: Sequence[StoredClaimFields],
    outlets: Mapping[int, OutletLike],
    *,
    trigger: str,
    queued_before: datetime,
) -> int:
    """Re-score claims with everything known now; returns how many new score rows were written.

    A claim whose score would not change gets no new row (history stays meaningful), but its
    stale flag is cleared either way.
    """
    if not claims:
        return 0
    scores = ScoreRepository(session)
    computed = await scoring.score_claims(session, claims, outlets, as_of=utcnow())
    current = await scores.current_values([claim.id for claim in claims])
    rows = [
        score_values(
            result, subject="claim", outlet_id=claim.outlet_id, claim_id=claim.id, trigger=trigger
        )
        for claim, result in zip(claims, computed, strict=True)
        if _changed(current.get(claim.id), result)
    ]
    # Ids come back (one multi-row RETURNING) because each claim.scored event names its score.
    stored = await scores.insert(rows)
    by_id = {claim.id: claim for claim in claims}
    emit_claim_scores(
        session,
        [(by_id[row.claim_id], outlets[row.outlet_id], row) for row in stored if row.claim_id],
    )
    # Clearing the flags also tells pollers' ETag caches that these claims changed.
    await ClaimRepository(session).clear_stale(
        [claim.id for claim in claims], queued_before=queued_before
    )
    return len(rows)


async def rescore_open_claims_of_outlets(
    session: AsyncSession,
    scoring: ScoringService,
    outlet_ids: Sequence[int],
    *,
    trigger: str,
    queued_before: datetime,
    without_event: bool = False,
    chunk: int = 1_000,
) -> int:
    """Re-score the open claims of many outlets, ``chunk`` claims at a time across outlets
    (``without_event``: only those about no event)."""

    outlets = await OutletRepository(session).by_ids(outlet_ids)
    repository = ClaimRepository(session)
    written = 0
    after = 0
    while claims := await repository.open_claims_of_outlets(
        list(outlets), after=after, limit=chunk, without_event=without_event
    ):
        written += await rescore_claims(
            session, scoring, claims, outlets, trigger=trigger, queued_before=queued_before
        )
        after = claims[-1].id
    return written


def _changed(current: CurrentScore | None, computed: ComputedScore) -> bool:
    if current is None:
        return True
    return (
        abs(current.probability - computed.probability) > 1e-9
        or abs(current.low - computed.low) > 1e-9
        or abs(current.high - computed.high) > 1e-9
        or current.method_version != computed.method_version
        or current.admiralty != computed.admiralty
    )
