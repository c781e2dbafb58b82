"""Writing change events to the push outbox, in the transaction that made the change.

``emit`` stages an event on the session; the rows are inserted just before the session commits
(a ``before_commit`` hook), inside the same transaction, so an event exists if and only if its
change committed. They are written at commit rather than at the change because their ids must
become visible in increasing order, which every consumer relies on (a stream resumes after the
last id it saw; the webhook fan-out keeps one cursor): on PostgreSQL the insert first takes a
transaction-scoped advisory lock, held until the commit, so two transactions cannot commit
their outbox rows out of id order. Taken at the change, that lock would be held for the whole
of a long re-scoring job; taken at commit, for one insert and the commit itself. SQLite allows
one writer at a time, which orders the ids the same way.

On PostgreSQL the same statement sends a NOTIFY, delivered at commit to every replica's
listener (service/push/broadcaster.py); within a process, the committing code wakes the
broadcaster and the webhook dispatcher itself (``PUSHED``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast
from weakref import WeakKeyDictionary

from sqlalchemy import Table, event, insert, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from service.database.types import utcnow
from service.push.models import OutboxEvent

CLAIM_SCORED = "claim.scored"
OUTLET_RELIABILITY_CHANGED = "outlet.reliability_changed"
EVENT_CONSENSUS_CHANGED = "event.consensus_changed"
VERDICT_RECORDED = "verdict.recorded"
EVENT_TYPES = (CLAIM_SCORED, OUTLET_RELIABILITY_CHANGED, EVENT_CONSENSUS_CHANGED, VERDICT_RECORDED)

# PostgreSQL: the channel every replica LISTENs on, and the advisory lock that orders commits.
CHANNEL = "credscore_push"
OUTBOX_LOCK_KEY = 0x63726564_70757368  # "credpush"

# Session flags: events staged for the outbox, and "this transaction wrote some" (read by the
# code that commits, to wake this process's push consumers once the commit is done).
STAGED = "credscore.push_staged"
PUSHED = "credscore.pushed"

_OUTBOX = cast(Table, OutboxEvent.__table__)


def timestamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def emit(
    session: AsyncSession | Session,
    type: str,
    data: Mapping[str, Any],
    *,
    outlet_id: int | None = None,
    event_id: int | None = None,
) -> None:
    """Stage one change event; it is written when (and only if) ``session`` commits."""
    now = utcnow()
    session.info.setdefault(STAGED, []).append(
        _staged(type, data, outlet_id, event_id, now, timestamp(now))
    )


def _staged(
    type: str,
    data: Mapping[str, Any],
    outlet_id: int | None,
    event_id: int | None,
    now: datetime,
    stamp: str,
) -> dict[str, Any]:
    return {
        "type": type,
        "outlet_id": outlet_id,
        "event_id": event_id,
        "payload": {"type": type, "timestamp": stamp, "data": dict(data)},
        "created_at": now,
    }


@event.listens_for(Session, "before_commit")
def _write_staged(session: Session) -> None:
    rows = session.info.pop(STAGED, None)
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:key), pg_notify(:channel, '')"),
            {"key": OUTBOX_LOCK_KEY, "channel": CHANNEL},
        )
    session.execute(insert(_OUTBOX), rows)
    session.info[PUSHED] = True


# How many events were staged when each savepoint began (weakly: ended savepoints are dropped).
_STAGED_AT_SAVEPOINT: WeakKeyDictionary[SessionTransaction, int] = WeakKeyDictionary()


@event.listens_for(Session, "after_transaction_create")
def _mark_savepoint(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        _STAGED_AT_SAVEPOINT[transaction] = len(session.info.get(STAGED, ()))


@event.listens_for(Session, "after_soft_rollback")
def _forget_staged(session: Session, previous_transaction: SessionTransaction) -> None:
    # A rollback undoes the changes the events staged within it describe: all of them for the
    # outermost transaction, those staged since the savepoint began for a savepoint (a dry run).
    if previous_transaction.parent is None:
        session.info.pop(STAGED, None)
        session.info.pop(PUSHED, None)
    elif previous_transaction.nested:
        staged = session.info.get(STAGED)
        mark = _STAGED_AT_SAVEPOINT.pop(previous_transaction, 0)
        if staged is not None:
            del staged[mark:]


def claim_scored(
    *,
    claim_id: int,
    outlet_id: int,
    outlet_slug: str,
    event_id: int | None,
    score: Any,
) -> dict[str, Any]:
    """The data of a ``claim.scored`` event (``score``: a ``ScoreFields``)."""
    return {
        "claim_id": claim_id,
        "outlet": outlet_slug,
        "outlet_id": outlet_id,
        "event_id": event_id,
        "score_id": score.id,
        "probability": score.probability,
        "interval": {"low": score.low, "high": score.high, "level": score.level},
        "grade": score.grade,
        "method": score.method,
        "model_version": score.method_version,
        "trigger": score.trigger,
    }


def emit_verdict_recorded(
    session: AsyncSession,
    *,
    verdict_id: int,
    claim_id: int,
    outlet_id: int,
    outlet_slug: str,
    event_id: int | None,
    rating: str,
    source: str,
    decided_at: datetime,
) -> None:
    """``verdict.recorded`` for one stored verdict (recorded alone or imported)."""
    emit(
        session,
        VERDICT_RECORDED,
        {
            "verdict_id": verdict_id,
            "claim_id": claim_id,
            "outlet": outlet_slug,
            "outlet_id": outlet_id,
            "event_id": event_id,
            "rating": rating,
            "source": source,
            "decided_at": timestamp(decided_at),
        },
        outlet_id=outlet_id,
        event_id=event_id,
    )


def emit_claim_scores(session: AsyncSession, scored: list[tuple[Any, Any, Any]]) -> None:
    """``claim.scored`` for each (claim, outlet, score) stored, all at one moment."""
    now = utcnow()
    stamp = timestamp(now)
    session.info.setdefault(STAGED, []).extend(
        _staged(
            CLAIM_SCORED,
            claim_scored(
                claim_id=claim.id,
                outlet_id=outlet.id,
                outlet_slug=outlet.slug,
                event_id=claim.event_id,
                score=score,
            ),
            outlet.id,
            claim.event_id,
            now,
            stamp,
        )
        for claim, outlet, score in scored
    )
