"""Track records at any moment from one snapshot of all evidence: the maths of an outlet's
reliability (its own decayed evidence on its kind's prior) and of its record per topic.

The service loads the snapshot from its database (``service.scores.track_records``) and keeps
it until the evidence changes; everything here is pure numpy on what was loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

import numpy as np

from scoring.reliability import (
    SECONDS_PER_DAY,
    DecayedGroupTotals,
    Evidence,
    PopulationPrior,
    Reliability,
    decayed_counts,
    population_prior,
    posterior,
)


class TrackRecordSettings(Protocol):
    """The settings a track record is computed with (the service's ``Settings`` has them)."""

    @property
    def half_life_days(self) -> float: ...

    @property
    def prior_strength(self) -> float: ...

    @property
    def credible_level(self) -> float: ...

    @property
    def min_rated_evidence(self) -> float: ...


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_days(moment: datetime) -> float:
    return (moment - _EPOCH).total_seconds() / SECONDS_PER_DAY


@dataclass(frozen=True)
class TrackRecord:
    reliability: Reliability
    prior: PopulationPrior
    kind: str
    as_of: datetime


@dataclass
class EvidenceSnapshot:
    generation: int
    outlet_kinds: dict[int, str]
    by_outlet: dict[int, list[Evidence]]
    # What it was built from, so that a later snapshot can add only newer rows to it.
    reset_generation: int = 0
    items: list[tuple[int, Evidence]] = field(default_factory=list)
    item_topics: list[str | None] = field(default_factory=list)
    last_verdict_id: int = 0
    last_record_id: int = 0
    verdict_rows: int = 0
    record_rows: int = 0
    by_outlet_topic: dict[tuple[int, str], list[Evidence]] = field(default_factory=dict)
    kinds: list[str] = field(default_factory=list)
    kind_index: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    successes: np.ndarray = field(default_factory=lambda: np.zeros(0))
    failures: np.ndarray = field(default_factory=lambda: np.zeros(0))
    known_at_days: np.ndarray = field(default_factory=lambda: np.zeros(0))
    kind_positions: dict[str, int] = field(init=False, repr=False, compare=False)
    # Built on first use, per half-life (a setting, so in practice one).
    _kind_totals: dict[float, DecayedGroupTotals] = field(
        default_factory=dict, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        self.kind_positions = {kind: i for i, kind in enumerate(self.kinds)}

    def kind_totals(self, half_life_days: float) -> DecayedGroupTotals:
        totals = self._kind_totals.get(half_life_days)
        if totals is None:
            totals = DecayedGroupTotals(
                self.kind_index,
                self.successes,
                self.failures,
                self.known_at_days,
                half_life_days,
                len(self.kinds),
            )
            self._kind_totals[half_life_days] = totals
        return totals

    @classmethod
    def build(
        cls,
        generation: int,
        outlet_kinds: dict[int, str],
        evidence: list[tuple[int, Evidence]],
        topics: list[str | None] | None = None,
    ) -> EvidenceSnapshot:
        kinds = sorted(set(outlet_kinds.values()))
        position = {kind: i for i, kind in enumerate(kinds)}
        by_outlet: dict[int, list[Evidence]] = {}
        by_outlet_topic: dict[tuple[int, str], list[Evidence]] = {}
        for index, (outlet_id, item) in enumerate(evidence):
            by_outlet.setdefault(outlet_id, []).append(item)
            topic = topics[index] if topics is not None else None
            if topic:
                by_outlet_topic.setdefault((outlet_id, topic), []).append(item)
        return cls(
            generation=generation,
            outlet_kinds=outlet_kinds,
            by_outlet=by_outlet,
            items=evidence,
            item_topics=list(topics) if topics is not None else [None] * len(evidence),
            by_outlet_topic=by_outlet_topic,
            kinds=kinds,
            kind_index=np.array(
                [position[outlet_kinds[outlet_id]] for outlet_id, _ in evidence], dtype=np.int64
            ),
            successes=np.array([item.successes for _, item in evidence], dtype=float),
            failures=np.array([item.failures for _, item in evidence], dtype=float),
            known_at_days=np.array([epoch_days(item.known_at) for _, item in evidence]),
        )

    def track_record(
        self, outlet_id: int | None, kind: str, as_of: datetime, settings: TrackRecordSettings
    ) -> TrackRecord:
        """Reliability of an outlet at ``as_of``: only evidence known by then counts."""
        totals = self.kind_totals(settings.half_life_days).group_at(
            epoch_days(as_of), self.kind_positions.get(kind)
        )
        own = self.by_outlet.get(outlet_id, []) if outlet_id is not None else []
        own_s, own_f, breakdown = decayed_counts(own, as_of, settings.half_life_days)
        # The outlet's evidence sits in the totals of the kind it had when the snapshot was built.
        own_in_kind = outlet_id is not None and self.outlet_kinds.get(outlet_id) == kind
        prior = population_prior(
            kind_successes=totals.successes,
            kind_failures=totals.failures,
            all_successes=totals.all_successes,
            all_failures=totals.all_failures,
            own_successes=own_s if own_in_kind else 0.0,
            own_failures=own_f if own_in_kind else 0.0,
            strength=settings.prior_strength,
        )
        reliability = posterior(
            own_s,
            own_f,
            prior.kind_mean,
            settings.prior_strength,
            level=settings.credible_level,
            min_rated_evidence=settings.min_rated_evidence,
            breakdown=breakdown,
        )
        return TrackRecord(reliability=reliability, prior=prior, kind=kind, as_of=as_of)

    def newest_of_outlet(self, outlet_id: int, as_of: datetime) -> datetime | None:
        """When the newest evidence about the outlet known at ``as_of`` became known."""
        return max(
            (item.known_at for item in self.by_outlet.get(outlet_id, []) if item.known_at <= as_of),
            default=None,
        )

    def newest_evidence(
        self, kind: str, as_of: datetime, *, exclude_outlet_id: int
    ) -> datetime | None:
        """When the newest evidence of the other outlets of ``kind`` known at ``as_of`` became
        known (what moves an outlet's prior most), else that of any other outlet."""
        newest: dict[bool, datetime] = {}
        for outlet_id, outlet_kind in self.outlet_kinds.items():
            moment = (
                self.newest_of_outlet(outlet_id, as_of) if outlet_id != exclude_outlet_id else None
            )
            if moment is not None:
                same_kind = outlet_kind == kind
                newest[same_kind] = max(moment, newest.get(same_kind, moment))
        # Alone in its kind, only the other kinds move its prior (through the shared baseline).
        return newest.get(True) or newest.get(False)

    def topic_records(
        self,
        outlet_id: int,
        topics: tuple[str, ...],
        as_of: datetime,
        outlet_mean: float,
        settings: TrackRecordSettings,
    ) -> dict[str, Reliability]:
        """The outlet's verdicts on each topic, on a prior at the outlet's own mean."""
        records = {}
        for topic in topics:
            items = self.by_outlet_topic.get((outlet_id, topic))
            if not items:
                continue
            successes, failures, breakdown = decayed_counts(items, as_of, settings.half_life_days)
            if successes + failures <= 0:
                continue
            records[topic] = posterior(
                successes,
                failures,
                min(max(outlet_mean, 1e-6), 1 - 1e-6),
                settings.prior_strength,
                level=settings.credible_level,
                min_rated_evidence=settings.min_rated_evidence,
                breakdown=breakdown,
            )
        return records
