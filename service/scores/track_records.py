"""The evidence behind every outlet's track record, loaded from the database, held in memory and
rebuilt when it changes (the maths of a track record is ``scoring.track_records``).

Scoring a claim needs the outlet's verdicts and records and the decayed totals of every other
outlet (its kind's prior). Reading all of that per request would be the slowest part of the
service, so each process keeps one snapshot and rebuilds it only when the ``evidence``
generation in the database (bumped in the same transaction as any verdict, record or outlet
kind change) differs from the one it was built from: one primary-key read per score.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scoring.reliability import evidence_from_history, evidence_from_rating
from scoring.track_records import EvidenceSnapshot, TrackRecord
from service import generations
from service.claims.models import Claim
from service.generations import GenerationCache
from service.outlets.models import Outlet, OutletRecord
from service.verdicts.models import Verdict

# The maths lives in scoring; these names are imported from here by the rest of the service.
__all__ = ["EvidenceSnapshot", "TrackRecord", "TrackRecordStore", "touch_evidence"]


class TrackRecordStore:
    """One per process; see the module docstring for when it rebuilds."""

    def __init__(self) -> None:
        self._snapshots: GenerationCache[EvidenceSnapshot] = GenerationCache()

    async def snapshot(
        self, session: AsyncSession, generation: int, reset_generation: int = 0
    ) -> EvidenceSnapshot:
        async def rebuild(previous: EvidenceSnapshot | None) -> EvidenceSnapshot:
            if previous is not None and previous.reset_generation == reset_generation:
                return await _catch_up(session, previous, generation)
            return await _load(session, generation, reset_generation, None)

        return await self._snapshots.get(
            generation, rebuild, keep=generations.reads_committed_state(session)
        )


async def _catch_up(
    session: AsyncSession, previous: EvidenceSnapshot, generation: int
) -> EvidenceSnapshot:
    """Only rows were added since ``previous``: read those, unless the counts say otherwise.

    Ids are not committed in order (two writers may commit 11 before 10), so after reading the
    rows past the last ids it checks the row counts; any mismatch means a full reload.
    """
    updated = await _load(session, generation, previous.reset_generation, previous)
    verdicts = await session.scalar(select(func.count()).select_from(Verdict))
    records = await session.scalar(select(func.count()).select_from(OutletRecord))
    if (verdicts, records) != (updated.verdict_rows, updated.record_rows):
        return await _load(session, generation, previous.reset_generation, None)
    return updated


async def _load(
    session: AsyncSession,
    generation: int,
    reset_generation: int,
    previous: EvidenceSnapshot | None,
) -> EvidenceSnapshot:
    """All evidence, or (with ``previous``) ``previous`` plus the rows added after it."""
    last_verdict = previous.last_verdict_id if previous else 0
    last_record = previous.last_record_id if previous else 0
    evidence = list(previous.items) if previous else []
    topics = list(previous.item_topics) if previous else []
    verdict_count = previous.verdict_rows if previous else 0
    record_count = previous.record_rows if previous else 0
    outlet_kinds = dict((await session.execute(select(Outlet.id, Outlet.kind))).all())
    verdict_rows = await session.execute(
        select(Verdict.id, Claim.outlet_id, Claim.topic, Verdict.rating, Verdict.decided_at)
        .join(Claim, Claim.id == Verdict.claim_id)
        .where(Verdict.id > last_verdict)
        .order_by(Verdict.id)
    )
    for verdict_id, outlet_id, topic, rating, decided_at in verdict_rows.all():
        last_verdict = max(last_verdict, verdict_id)
        verdict_count += 1
        item = evidence_from_rating(rating, decided_at)
        if item is not None:
            evidence.append((outlet_id, item))
            topics.append(topic)
    record_rows = await session.execute(
        select(OutletRecord).where(OutletRecord.id > last_record).order_by(OutletRecord.id)
    )
    for record in record_rows.scalars():
        last_record = max(last_record, record.id)
        record_count += 1
        evidence.append(
            (
                record.outlet_id,
                evidence_from_history(
                    known_at=record.as_of,
                    verified=record.verified,
                    refuted=record.refuted,
                    corrections=record.corrections,
                    retractions=record.retractions,
                    external_rating=record.external_rating,
                    label=f"record from {record.source}",
                ),
            )
        )
        topics.append(None)
    snapshot = EvidenceSnapshot.build(generation, outlet_kinds, evidence, topics)
    snapshot.reset_generation = reset_generation
    snapshot.last_verdict_id = last_verdict
    snapshot.last_record_id = last_record
    snapshot.verdict_rows = verdict_count
    snapshot.record_rows = record_count
    return snapshot


async def touch_evidence(session: AsyncSession, *, appended_only: bool = True) -> None:
    """Mark every track record stale (call in the transaction that changed the evidence).

    ``appended_only``: the change only added verdicts or records, so snapshots can catch up by
    reading the new rows; otherwise (a deletion, an outlet changing kind) they are rebuilt.
    """
    await generations.bump(session, generations.EVIDENCE)
    if not appended_only:
        await generations.bump(session, generations.EVIDENCE_RESET)
