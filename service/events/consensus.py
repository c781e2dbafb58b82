"""An event's consensus: its claims' figures reconciled, stored with history.

Only independent evidence counts (``scoring/reconcile/``). One outlet is one vote: its claims
on the event are one report whose latest figure (by ``published_at``, then id) counts, the
earlier ones kept and shown as superseded. Declared copies and outlets with one owner share one
vote (``service.claims.report_groups``). Outlets learned to copy one another (the same figures,
above all the same wrong ones, across events) have their shared votes discounted.

Each outlet enters with its track record as the prior of its accuracy; the estimator also sees
the same outlets' figures on their other recent events, so source weights, source dependence and
the tolerance of each kind of quantity (``quantity_kind``, else the unit) are learned across
events (bounded, so the cost of one recomputation stays flat as the registry grows). The outlet
dependencies the fit measured are stored too (``outlet_dependencies``).

A figure whose unit does not match its event's is refused at intake; one stored before that
check existed is left out here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from scoring.admiralty import AdmiraltyCode, source_reliability
from scoring.figures import Figure, normalise_unit
from scoring.reconcile import (
    STATUS_MEANING,
    ClaimTable,
    Dependency,
    NumericClaim,
    Reconciliation,
    SourcePrior,
    Status,
    TruthDiscovery,
)
from service.claims.models import Claim, claim_figure
from service.claims.report_groups import GroupMember, report_groups
from service.claims.repository import ClaimRepository
from service.database.types import utcnow
from service.errors import NotFound
from service.events.models import Event, EventConsensus
from service.events.repository import EventRepository
from service.outlets.models import Outlet
from service.outlets.repository import OutletRepository
from service.push.outbox import EVENT_CONSENSUS_CHANGED, emit
from service.scores.documents import admiralty_document
from service.scores.service import ScoringService
from service.scores.track_records import TrackRecord

CONSENSUS_METHOD_VERSION = "truth-discovery/2"
# How many recent figures of the event's outlets (on any event) inform their learned accuracy.
NEIGHBOURHOOD_CLAIMS = 5_000


def _figures(row: EventConsensus) -> dict[str, Any]:
    """What a consensus says, as ``event.consensus_changed`` compares and reports it."""
    return {"status": row.status, "estimate": row.estimate, "low": row.low, "high": row.high}


def _no_reports(event: Event, trigger: str) -> EventConsensus:
    return EventConsensus(
        event_id=event.id,
        trigger=trigger,
        method_version=CONSENSUS_METHOD_VERSION,
        kind="numeric",
        status=Status.NO_REPORTS.value,
        confidence=0.0,
        independent_reports=0,
        claims=[],
        sources=[],
        competing=[],
        dependent_groups=[],
        supporting=[],
        explanation={
            "summary": "No reports: no outlet has reported a figure for this event yet.",
            "discounted": [],
        },
    )


def counted_figure(claim: Claim, event: Event | None) -> Figure | None:
    """The claim's figure if it counts for its event: it has one, in the event's unit."""
    figure = claim_figure(claim)
    if figure is None or (event is not None and not figure.same_unit(event.unit)):
        return None
    return figure


def quantity(event: Event | None) -> str:
    """The kind of quantity an event counts, whose tolerance is learned across its events."""
    if event is None:
        return ""
    if event.quantity_kind:
        return f"kind:{event.quantity_kind}"
    if event.unit:
        return f"unit:{normalise_unit(event.unit)}"
    return ""


def numeric_claim(
    figure: Figure,
    outlet: Outlet,
    event: Event | None,
    *,
    group: str | None,
    time: float,
) -> NumericClaim:
    party = bool(event and event.conflict and event.conflict in outlet.conflict_parties)
    if figure.low is None or figure.high is None or figure.low == figure.high:
        return NumericClaim(
            outlet.slug, value=figure.point, copy_group=group, party=party, time=time
        )
    return NumericClaim(
        outlet.slug,
        value=figure.value,
        low=figure.low,
        high=figure.high,
        copy_group=group,
        party=party,
        time=time,
    )


@dataclass(frozen=True)
class _Fitted:
    result: Reconciliation
    dependencies: list[Dependency]
    groups: dict[int, str | None]


class ConsensusService:
    def __init__(self, session: AsyncSession, scoring: ScoringService) -> None:
        self.session = session
        self.scoring = scoring
        self.claims = ClaimRepository(session)
        self.events = EventRepository(session)
        self.outlets = OutletRepository(session)

    async def recompute(
        self, event_id: int, *, trigger: str, queued_before: datetime | None = None
    ) -> EventConsensus:
        [row] = await self.recompute_many([event_id], trigger=trigger, queued_before=queued_before)
        return row

    async def recompute_many(
        self, event_ids: Sequence[int], *, trigger: str, queued_before: datetime | None = None
    ) -> list[EventConsensus]:
        """Reconcile each event afresh and store its consensus; clears the events' stale flags
        set no later than ``queued_before``. What the events share (their claims, outlets,
        track records and newest consensus) is read once for all of them."""
        events = await self.events.by_ids(event_ids)
        for event_id in event_ids:
            if event_id not in events:
                raise NotFound(f"No event with id {event_id}.")
        claims_of = await self.claims.of_events(event_ids)
        counted = {
            event_id: [
                claim
                for claim in claims_of.get(event_id, [])
                if counted_figure(claim, events[event_id]) is not None
            ]
            for event_id in event_ids
        }
        outlets = await self.outlets.by_ids(
            [claim.outlet_id for claims in counted.values() for claim in claims]
        )
        previous = await self.events.latest_consensus_of(event_ids)
        now = utcnow()
        records = await self.scoring.track_records(self.session, list(outlets.values()), now)
        # Events the neighbourhoods name, read once for the whole batch.
        known_events = dict(events)
        rows: list[EventConsensus] = []
        dependencies: list[Dependency] = []
        for event_id in event_ids:
            event, claims = events[event_id], counted[event_id]
            if not claims:
                rows.append(_no_reports(event, trigger))
                continue
            own = {claim.outlet_id: outlets[claim.outlet_id] for claim in claims}
            fitted = await self._reconcile(event, claims, own, records, known_events)
            rows.append(self._row(event, claims, own, records, fitted, trigger))
            dependencies.extend(fitted.dependencies)
        self.session.add_all(rows)
        for row in rows:
            events[row.event_id].consensus_status = row.status
        await self.session.flush()
        await self._store_dependencies(dependencies, outlets, now)
        for row in rows:
            self._announce(row, previous.get(row.event_id), trigger)
        await self.events.clear_consensus_stale(event_ids, queued_before=queued_before or now)
        return rows

    def _announce(self, row: EventConsensus, previous: EventConsensus | None, trigger: str) -> None:
        """``event.consensus_changed`` when the figures moved (or on the first consensus)."""
        if previous is not None and _figures(previous) == _figures(row):
            return
        emit(
            self.session,
            EVENT_CONSENSUS_CHANGED,
            {
                "event_id": row.event_id,
                "consensus_id": row.id,
                "status": row.status,
                "kind": row.kind,
                "estimate": row.estimate,
                "estimate_label": row.estimate_label,
                "interval": {"low": row.low, "high": row.high},
                "confidence": row.confidence,
                "independent_reports": row.independent_reports,
                "previous": None if previous is None else _figures(previous),
                "trigger": trigger,
            },
            event_id=row.event_id,
        )

    async def _reconcile(
        self,
        event: Event,
        claims: Sequence[Claim],
        outlets: dict[int, Outlet],
        records: Mapping[int, TrackRecord],
        known_events: dict[int, Event],
    ) -> _Fitted:
        """Fit the event's claims with its outlets' neighbourhood (``known_events``: events
        already read, added to as more are)."""
        neighbourhood = [
            claim
            for claim in await self.claims.figures_of_outlets(
                list(outlets), limit=NEIGHBOURHOOD_CLAIMS
            )
            if claim.event_id != event.id
        ]
        unread = {
            claim.event_id
            for claim in neighbourhood
            if claim.event_id is not None and claim.event_id not in known_events
        }
        known_events.update(await self.events.by_ids(list(unread)))
        events = known_events
        by_event: dict[int, list[Claim]] = {}
        figures: dict[int, Figure] = {}
        for claim in [*claims, *neighbourhood]:
            assert claim.event_id is not None
            figure = counted_figure(claim, events.get(claim.event_id))
            if figure is not None:
                figures[claim.id] = figure
                by_event.setdefault(claim.event_id, []).append(claim)
        everything = [claim for members in by_event.values() for claim in members]
        parents = await self.claims.copy_parents(everything)
        # One outlet's claims on one event: the latest counts (published_at, then id).
        order = sorted(everything, key=lambda claim: (claim.published_at, claim.id))
        time = {claim.id: float(rank) for rank, claim in enumerate(order)}
        groups: dict[int, str | None] = {}
        grouped: dict[Hashable, list[NumericClaim]] = {}
        for event_id, members in by_event.items():
            members.sort(key=lambda claim: claim.id)
            groups.update(
                report_groups(
                    (
                        GroupMember(
                            claim.id, claim.copy_of_claim_id, outlets[claim.outlet_id].owner
                        )
                        for claim in members
                    ),
                    parents,
                )
            )
            grouped[event_id] = []
            for claim in members:
                grouped[event_id].append(
                    numeric_claim(
                        figures[claim.id],
                        outlets[claim.outlet_id],
                        events.get(event_id),
                        group=groups[claim.id],
                        time=time[claim.id],
                    )
                )
        properties = {event_id: quantity(events.get(event_id)) for event_id in by_event}
        priors = {}
        for outlet in outlets.values():
            reliability = records[outlet.id].reliability
            priors[outlet.slug] = SourcePrior(
                reliability=min(max(reliability.mean, 1e-3), 1 - 1e-3),
                evidence=reliability.alpha + reliability.beta,
            )

        def fit() -> tuple[Reconciliation, list[Dependency]]:
            table = ClaimTable.from_events(grouped, properties)
            estimator = TruthDiscovery().fit(table, priors)
            # Every pair the fit measured (probability > -1: all of them), to store.
            return estimator.result(event.id), estimator.dependencies(-1.0)

        # Fitting is CPU work: keep it off the event loop.
        result, dependencies = await asyncio.to_thread(fit)
        return _Fitted(result, dependencies, groups)

    def _row(
        self,
        event: Event,
        claims: Sequence[Claim],
        outlets: dict[int, Outlet],
        records: Mapping[int, TrackRecord],
        fitted: _Fitted,
        trigger: str,
    ) -> EventConsensus:
        result = fitted.result
        claim_rows: list[dict[str, Any]] = []
        for claim, assessment in zip(claims, result.claims, strict=True):
            outlet = outlets[claim.outlet_id]
            reliability = records[outlet.id].reliability
            code = AdmiraltyCode(
                source_reliability(reliability.mean, reliability.rated), assessment.credibility
            )
            claim_rows.append(
                {
                    "claim_id": claim.id,
                    "outlet_id": outlet.id,
                    "outlet_slug": outlet.slug,
                    "value": claim.figure_value,
                    "low": claim.figure_low,
                    "high": claim.figure_high,
                    "unit": claim.figure_unit,
                    "published_at": claim.published_at.isoformat(),
                    "copy_of_claim_id": claim.copy_of_claim_id,
                    "copy_group": fitted.groups.get(claim.id),
                    "agreement": round(assessment.agreement, 6),
                    "relative_distance": round(assessment.relative_distance, 6),
                    "weight": round(assessment.weight, 6),
                    "party": assessment.party,
                    "superseded": assessment.superseded,
                    "own_share": round(assessment.own_share, 6),
                    "depends_on": assessment.depends_on,
                    "dependence": round(assessment.dependence, 6),
                    "in_leading_cluster": assessment.in_leading_cluster,
                    "corroboration": {
                        "confirmations": assessment.corroboration.confirmations,
                        "copies_ignored": assessment.corroboration.copies_ignored,
                        "independent_others": assessment.corroboration.independent_others,
                    },
                    "admiralty": admiralty_document(code),
                    "discounts": list(assessment.discounts),
                }
            )
        source_rows = [
            {
                "outlet_id": outlet.id,
                "outlet_slug": outlet.slug,
                "outlet_name": outlet.name,
                "weight": round(float(result.source_weights.get(outlet.slug, 0.0)), 6),
                "party": outlet.slug in result.parties,
            }
            for outlet in sorted(outlets.values(), key=lambda o: o.id)
        ]
        competing = [
            {
                "estimate": figure.estimate,
                "low": figure.low,
                "high": figure.high,
                "support": round(figure.support, 6),
                "outlet_slugs": list(figure.sources),
            }
            for figure in result.competing
        ]
        dependent = [
            {
                "outlet_slugs": list(group.sources),
                "probability": round(group.probability, 6),
                "copier": group.copier,
            }
            for group in result.dependent_groups
        ]
        low, high = result.interval if result.interval is not None else (None, None)
        return EventConsensus(
            event_id=event.id,
            trigger=trigger,
            method_version=CONSENSUS_METHOD_VERSION,
            kind=result.kind,
            status=result.status.value,
            estimate=result.estimate if isinstance(result.estimate, float | int) else None,
            estimate_label=result.estimate if isinstance(result.estimate, str) else None,
            low=low,
            high=high,
            confidence=float(result.confidence),
            independent_reports=int(result.independent_reports),
            claims=claim_rows,
            sources=source_rows,
            competing=competing,
            dependent_groups=dependent,
            supporting=list(result.supporting_sources),
            tolerance=round(float(result.tolerance), 6),
            explanation=explain(result, claim_rows, competing),
        )

    async def _store_dependencies(
        self, dependencies: Sequence[Dependency], outlets: dict[int, Outlet], now: datetime
    ) -> None:
        by_slug = {outlet.slug: outlet.id for outlet in outlets.values()}
        # One row per pair: events fitted later in a batch overwrite earlier ones, as they
        # would one recomputation after another.
        rows: dict[tuple[int, int], dict[str, Any]] = {}
        for dependency in dependencies:
            first, second = by_slug.get(dependency.first), by_slug.get(dependency.second)
            if first is None or second is None or first == second:
                continue
            first_copies = dependency.first_copies
            if first > second:
                first, second, first_copies = second, first, 1.0 - first_copies
            rows[first, second] = {
                "first_outlet_id": first,
                "second_outlet_id": second,
                "probability": round(dependency.probability, 6),
                "first_copies": round(first_copies, 6),
                "common_events": dependency.common_items,
                "updated_at": now,
            }
        await self.outlets.upsert_dependencies(list(rows.values()))


def _number(value: float | str | None) -> str:
    if isinstance(value, float | int):
        return f"{value:,.6g}"
    return str(value)


def _outlets(slugs: Sequence[str]) -> str:
    return ", ".join(slugs) if slugs else "none"


def explain(
    result: Reconciliation,
    claim_rows: Sequence[Mapping[str, Any]],
    competing: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """What a desk reads: what the independent evidence supports, and whose word counted less.

    ``discounted`` lists, per outlet, why its vote counted less than a full independent one:
    party to the conflict, a declared copy, likely copying another source, a weak record, and
    how many of its earlier figures its latest one superseded.
    """
    reasons: dict[str, list[str]] = {}
    superseded: dict[str, int] = {}
    for row in claim_rows:
        slug = str(row["outlet_slug"])
        reasons.setdefault(slug, [])
        if row["superseded"]:
            superseded[slug] = superseded.get(slug, 0) + 1
            continue
        for reason in row["discounts"]:
            if reason not in reasons[slug]:
                reasons[slug].append(reason)
    discounted = []
    for slug, said in reasons.items():
        count = superseded.get(slug, 0)
        if count:
            said = [
                *said,
                f"{count} earlier figure{'s' if count != 1 else ''} superseded by its latest",
            ]
        if said:
            discounted.append({"outlet_slug": slug, "reasons": said})

    status = result.status
    supporting = list(result.supporting_sources)
    if status is Status.CONTESTED:
        rivals = "; ".join(
            f"{_number(figure['estimate'])} ({_outlets(figure['outlet_slugs'])}, "
            f"support {figure['support']:.0%})"
            for figure in competing
        )
        summary = f"Contested: the independent evidence supports no single figure: {rivals}."
    elif status is Status.INSUFFICIENT:
        summary = (
            f"Insufficient: only one independent source ({_outlets(supporting)}) reported a "
            f"figure, {_number(result.leading_figure)}; nothing to reconcile it against."
        )
    else:
        low, high = result.interval if result.interval is not None else (None, None)
        span = f" (interval {_number(low)}-{_number(high)})" if low is not None else ""
        count = len(supporting)
        summary = (
            f"{status.value.capitalize()}: estimate {_number(result.estimate)}{span}, confidence "
            f"{result.confidence:.0%}, supported by {count} independent "
            f"source{'s' if count != 1 else ''}: {_outlets(supporting)}."
        )
        if status is Status.UNCERTAIN:
            summary += f" Not a consensus: {STATUS_MEANING[status]}."
    if discounted:
        summary += " Discounted: " + ". ".join(
            f"{item['outlet_slug']}: {'; '.join(item['reasons'])}" for item in discounted
        )
        summary += "."
    return {"summary": summary, "discounted": discounted}
