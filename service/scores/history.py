"""An outlet's reliability history: an entry for every change, with its cause and the date of
the evidence behind it.

Entries are written where evidence changes: a verdict on the outlet (``verdict``), its record
edited (``record``), the prior moved by evidence about other outlets (``kind_prior``, in the
verdict's background job, or caught up before the outlet's own next change), and time alone
(``time_decay``, caught up the same way). The history then always stays within
``RELIABILITY_CHANGE_TOLERANCE`` of the current figure, and no change is blamed on the wrong cause.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from scoring.reliability import Reliability
from service.database.types import utcnow
from service.outlets.directory import OutletLike
from service.push.outbox import OUTLET_RELIABILITY_CHANGED, emit
from service.scores.computed import track_record_score
from service.scores.documents import score_values
from service.scores.models import InsertedScore, StoredFigures
from service.scores.repository import ScoreRepository
from service.scores.schemas import ReliabilityCause
from service.scores.service import ScoringService
from service.scores.track_records import TrackRecord

# An outlet's reliability history gets an entry when its mean or interval moved by at least this
# since its last entry (0.1 point: a tenth of what the dashboard rounds to).
RELIABILITY_CHANGE_TOLERANCE = 0.001


def reliability_moved(previous: StoredFigures, current: Reliability) -> bool:
    """True when ``current`` differs from ``previous`` by enough for a history entry."""
    return (
        max(
            abs(previous.probability - current.mean),
            abs(previous.low - current.low),
            abs(previous.high - current.high),
        )
        >= RELIABILITY_CHANGE_TOLERANCE
        or previous.rated != current.rated
    )


class ReliabilityHistory:
    """Writes the history entries of outlets, in the caller's transaction (flushes only)."""

    def __init__(self, session: AsyncSession, scoring: ScoringService) -> None:
        self.session = session
        self.scoring = scoring

    async def record(
        self,
        outlet: OutletLike,
        *,
        trigger: str,
        cause: ReliabilityCause,
        evidence_at: datetime | None,
    ) -> InsertedScore:
        """Append the outlet's reliability as of now to its score history.

        ``evidence_at``: the date of the evidence that changed it (a verdict's decided_at, a
        record's as_of); None for a change that has none (then the moment it is computed).
        """
        snapshot = await self.scoring.evidence(self.session)
        now = utcnow()
        record = snapshot.track_record(outlet.id, outlet.kind, now, self.scoring.settings)
        scores = ScoreRepository(self.session)
        previous = (await scores.latest_for_outlets([outlet.id])).get(outlet.id)
        values = self._row(
            record, outlet, trigger=trigger, cause=cause, evidence_at=evidence_at or now
        )
        [row] = await scores.insert([values])
        self._announce(row, outlet, previous)
        return row

    async def record_many(
        self,
        outlets: list[OutletLike],
        *,
        trigger: str,
        cause: ReliabilityCause,
        evidence_at: dict[int, datetime],
    ) -> int:
        """``record`` for many outlets at once (imports): one read of their latest entries, one
        insert; ``evidence_at`` by outlet id (else the moment it is computed)."""
        if not outlets:
            return 0
        scores = ScoreRepository(self.session)
        latest = await scores.latest_for_outlets([outlet.id for outlet in outlets])
        snapshot = await self.scoring.evidence(self.session)
        now = utcnow()
        rows = await scores.insert(
            [
                self._row(
                    snapshot.track_record(outlet.id, outlet.kind, now, self.scoring.settings),
                    outlet,
                    trigger=trigger,
                    cause=cause,
                    evidence_at=evidence_at.get(outlet.id) or now,
                )
                for outlet in outlets
            ]
        )
        for row, outlet in zip(rows, outlets, strict=True):
            self._announce(row, outlet, latest.get(outlet.id))
        return len(rows)

    async def record_drift(self, outlet: OutletLike, *, trigger: str) -> InsertedScore | None:
        """Before new evidence about ``outlet`` counts: an entry for what changed without it.

        Call it before the new evidence is stored, so that the entry the evidence then causes
        shows only its own effect. What moved it since its last entry is the prior (verdicts on
        other outlets, not yet recorded as a ``kind_prior`` entry by the background job) or else
        time alone (``time_decay``). Nothing is written when the outlet has no history yet or
        its reliability moved by less than ``RELIABILITY_CHANGE_TOLERANCE``.
        """
        latest = (await ScoreRepository(self.session).latest_for_outlets([outlet.id])).get(
            outlet.id
        )
        if latest is None:
            return None
        snapshot = await self.scoring.evidence(self.session)
        now = utcnow()
        record = snapshot.track_record(outlet.id, outlet.kind, now, self.scoring.settings)
        if not reliability_moved(latest, record.reliability):
            return None
        previous_prior = latest.inputs.get("kind_mean", record.prior.kind_mean)
        if abs(record.prior.kind_mean - previous_prior) >= RELIABILITY_CHANGE_TOLERANCE / 2:
            # The prior moved: dated by the newest evidence of the others that moved it.
            cause = ReliabilityCause.KIND_PRIOR
            evidence_at = snapshot.newest_evidence(outlet.kind, now, exclude_outlet_id=outlet.id)
        else:
            cause, evidence_at = ReliabilityCause.TIME_DECAY, now
        values = self._row(
            record, outlet, trigger=trigger, cause=cause, evidence_at=evidence_at or now
        )
        [row] = await ScoreRepository(self.session).insert([values])
        self._announce(row, outlet, latest)
        return row

    async def record_prior_shift(
        self,
        *,
        changed_outlet_ids: Sequence[int],
        trigger: str,
        evidence_at: datetime | None = None,
    ) -> int:
        """Entries for the outlets whose reliability moved with the prior after new evidence
        about ``changed_outlet_ids``; returns how many were written.

        An outlet's prior is the mean of its kind shrunk towards the mean of all outlets, so
        evidence about one outlet moves its kind's most, every other outlet's a little. Only
        outlets with a history get an entry (there is no earlier figure to differ from), and
        only when their figure moved by at least ``RELIABILITY_CHANGE_TOLERANCE`` since their
        last entry, so that the history always stays within that of the current figure.
        The changed outlets' own entries, written with their evidence, are current and so are
        left alone; one that other changes moved as well gets an entry too. ``evidence_at``
        dates the entries (default: the newest evidence about the changed outlets).
        """
        scores = ScoreRepository(self.session)
        latest = await scores.latest_of_outlets()
        if not latest:
            return 0
        snapshot = await self.scoring.evidence(self.session)
        now = utcnow()
        newest = (snapshot.newest_of_outlet(outlet_id, now) for outlet_id in changed_outlet_ids)
        dated = evidence_at or max((moment for moment in newest if moment), default=now)
        rows = []
        moved = []
        for other, previous in latest:
            record = snapshot.track_record(other.id, other.kind, now, self.scoring.settings)
            if reliability_moved(previous, record.reliability):
                rows.append(
                    self._row(
                        record,
                        other,
                        trigger=trigger,
                        cause=ReliabilityCause.KIND_PRIOR,
                        evidence_at=dated,
                    )
                )
                moved.append((other, previous))
        stored = await scores.insert(rows)
        for row, (other, previous) in zip(stored, moved, strict=True):
            self._announce(row, other, previous)
        return len(rows)

    def _announce(
        self, row: InsertedScore, outlet: OutletLike, previous: StoredFigures | None
    ) -> None:
        """Push ``outlet.reliability_changed`` for a new entry whose figure moved."""
        if previous is not None and abs(previous.probability - row.probability) <= 1e-9:
            return
        emit(
            self.session,
            OUTLET_RELIABILITY_CHANGED,
            {
                "outlet": outlet.slug,
                "outlet_id": outlet.id,
                "name": outlet.name,
                "reliability": row.probability,
                "interval": {"low": row.low, "high": row.high, "level": row.level},
                "grade": row.grade,
                "previous_reliability": None if previous is None else previous.probability,
                "score_id": row.id,
                "trigger": row.trigger,
                "cause": row.cause,
                "evidence_at": row.evidence_at.isoformat() if row.evidence_at else None,
            },
            outlet_id=outlet.id,
        )

    def _row(
        self,
        record: TrackRecord,
        outlet: OutletLike,
        *,
        trigger: str,
        cause: ReliabilityCause,
        evidence_at: datetime,
    ) -> dict[str, Any]:
        """The columns of the outlet's history entry (its track record score, without the
        "no model is active" reason, which speaks of claims)."""
        computed = track_record_score(record, outlet, self.scoring.settings)
        computed.reasons.pop(0)
        values = score_values(
            computed, subject="outlet", outlet_id=outlet.id, claim_id=None, trigger=trigger
        )
        return values | {"cause": cause.value, "evidence_at": evidence_at}
