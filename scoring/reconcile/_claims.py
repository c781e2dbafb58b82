"""What reconciliation reads and returns: claims, source priors, the claim table grouped by event,
source and copy group, statuses and the reconciliation of one event."""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

from scoring.arrays import sort_order
from scoring.figures import Figure

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# A source without a track record is no better or worse than a coin: the neutral prior.
NEUTRAL_RELIABILITY = 0.5
# Accuracies are kept off 0 and 1 so log-odds stay finite however lopsided the evidence.
_ACCURACY_FLOOR = 1e-4
# The confidence an event's leading figure needs before it is called a consensus: the posterior
# probability, among the claimed figures and "none of them", that the truth lies in its cluster.
CONSENSUS_CONFIDENCE = 0.8
# ... and the independent reports (own vote share at least one half each) that must support it.
CONSENSUS_MIN_REPORTS = 2


class Status(StrEnum):
    CONSENSUS = "consensus"
    CONTESTED = "contested"
    UNCERTAIN = "uncertain"
    INSUFFICIENT = "insufficient"
    NO_REPORTS = "no_reports"


STATUS_MEANING: dict[Status, str] = {
    Status.CONSENSUS: (
        f"at least {CONSENSUS_MIN_REPORTS} independent sources support one figure (or figures "
        f"within its interval) with confidence of at least {CONSENSUS_CONFIDENCE:.0%}"
    ),
    Status.CONTESTED: (
        "far-apart figures have comparable independent support: see the competing figures"
    ),
    Status.UNCERTAIN: (
        f"the leading figure has less than {CONSENSUS_CONFIDENCE:.0%} confidence or fewer than "
        f"{CONSENSUS_MIN_REPORTS} independent sources behind it"
    ),
    Status.INSUFFICIENT: "only one independent source: nothing to reconcile it against",
    Status.NO_REPORTS: "no source has reported a figure for this event yet",
}

_STATUS_CODES: tuple[Status, ...] = (
    Status.CONSENSUS,
    Status.CONTESTED,
    Status.UNCERTAIN,
    Status.INSUFFICIENT,
    Status.NO_REPORTS,
)
_CONSENSUS, _CONTESTED, _UNCERTAIN, _INSUFFICIENT, _NO_REPORTS = range(5)


@dataclass(frozen=True, slots=True)
class NumericClaim:
    """A figure one source reported for one event: ``value``, or ``low``-``high`` (with an
    optional best ``value`` inside).

    ``copy_group`` marks claims that are not independent (a wire story and its syndicated copies,
    outlets with one owner): claims of one event sharing it count as one vote. ``party`` marks a
    source that is party to the conflict the figure is about. ``time`` (any increasing number,
    e.g. a timestamp) orders one source's claims on one event: only the latest counts.
    """

    source: str
    value: float | None = None
    low: float | None = None
    high: float | None = None
    copy_group: str | None = None
    party: bool = False
    time: float | None = None

    def __post_init__(self) -> None:
        self.figure  # noqa: B018 - validates

    @property
    def figure(self) -> Figure:
        return Figure(value=self.value, low=self.low, high=self.high)

    @property
    def bounds(self) -> tuple[float, float]:
        return self.figure.bounds

    @property
    def point(self) -> float:
        return self.figure.point


@dataclass(frozen=True, slots=True)
class CategoricalClaim:
    """A categorical answer (a name, a list of authors normalised to one string, yes/no)."""

    source: str
    value: str
    copy_group: str | None = None
    party: bool = False
    time: float | None = None


Claim = NumericClaim | CategoricalClaim


@dataclass(frozen=True, slots=True)
class SourcePrior:
    """What is known about a source before these claims: its track record.

    ``reliability`` is the record's mean in (0, 1), ``evidence`` how many observations it stands
    for (``None``: the estimator's ``prior_strength``). A strong record moves little on the claims
    of a few events; a weak one is soon overruled by what the source is seen to get right.
    """

    reliability: float
    evidence: float | None = None

    def __post_init__(self) -> None:
        if not 0.0 < self.reliability < 1.0:
            raise ValueError("reliability must lie strictly between 0 and 1")
        if self.evidence is not None and not (math.isfinite(self.evidence) and self.evidence > 0):
            raise ValueError("evidence must be positive and finite")


@dataclass(frozen=True)
class ClaimTable:
    """Claims of many events as flat arrays: what the estimator works on.

    Codes index ``events``, ``sources`` and ``copy_groups`` (-1: no copy group). Categorical events
    carry their answers as codes into ``categories`` in both ``low`` and ``high``. Optional:
    ``point`` (the figure a range stands for, default its middle), ``time`` (orders one source's
    claims on one event; only the latest counts) and ``event_property`` (per event, a code into
    ``properties``: the kind of quantity, whose tolerance is learned separately). Loaders of large
    data sets build this directly; ``from_events`` builds it from claim dataclasses.
    """

    event: IntArray
    source: IntArray
    low: FloatArray
    high: FloatArray
    copy_group: IntArray
    party: BoolArray
    events: tuple[Hashable, ...]
    sources: tuple[str, ...]
    copy_groups: tuple[str, ...]
    categorical_events: BoolArray
    categories: tuple[str, ...] = ()
    point: FloatArray | None = None
    time: FloatArray | None = None
    event_property: IntArray | None = None
    properties: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        n = self.event.shape[0]
        for name in ("source", "low", "high", "copy_group", "party"):
            if getattr(self, name).shape != (n,):
                raise ValueError(f"{name} must have one entry per claim")
        for name in ("point", "time"):
            array = getattr(self, name)
            if array is not None and (array.shape != (n,) or not np.isfinite(array).all()):
                raise ValueError(f"{name} must have one finite entry per claim")
        if self.categorical_events.shape != (len(self.events),):
            raise ValueError("categorical_events must have one entry per event")
        if self.event_property is not None:
            if self.event_property.shape != (len(self.events),):
                raise ValueError("event_property must have one entry per event")
            if len(self.events) and (
                self.event_property.min() < 0 or self.event_property.max() >= len(self.properties)
            ):
                raise ValueError("event_property codes out of range")
        if n and (self.event.min() < 0 or self.event.max() >= len(self.events)):
            raise ValueError("event codes out of range")
        if n and (self.source.min() < 0 or self.source.max() >= len(self.sources)):
            raise ValueError("source codes out of range")
        if not (np.isfinite(self.low).all() and np.isfinite(self.high).all()):
            raise ValueError("claim values must be finite")
        if (self.low > self.high).any():
            raise ValueError("low must not exceed high")
        if self.point is not None and ((self.point < self.low) | (self.point > self.high)).any():
            raise ValueError("point must lie within low..high")

    @property
    def n_claims(self) -> int:
        return int(self.event.shape[0])

    def points(self) -> FloatArray:
        """The figure each claim stands for: its point, else the middle of its range."""
        if self.point is not None:
            return self.point
        middle: FloatArray = (self.low + self.high) / 2.0
        return middle

    def superseded(self) -> BoolArray:
        """Claims followed by a later claim of the same source on the same event."""
        n = self.n_claims
        if self.time is None or n == 0:
            return np.zeros(n, dtype=bool)
        # Latest last within each (event, source); equal times: the later row is the later claim.
        order = sort_order(self.event, self.source, self.time)
        event = self.event[order]
        source = self.source[order]
        last = np.ones(n, dtype=bool)
        last[:-1] = (event[1:] != event[:-1]) | (source[1:] != source[:-1])
        superseded = np.zeros(n, dtype=bool)
        superseded[order] = ~last
        return superseded

    def subset(self, keep: BoolArray) -> ClaimTable:
        """The same events, sources and groups with only the ``keep`` claims."""
        return ClaimTable(
            event=self.event[keep],
            source=self.source[keep],
            low=self.low[keep],
            high=self.high[keep],
            copy_group=self.copy_group[keep],
            party=self.party[keep],
            events=self.events,
            sources=self.sources,
            copy_groups=self.copy_groups,
            categorical_events=self.categorical_events,
            categories=self.categories,
            point=None if self.point is None else self.point[keep],
            time=None if self.time is None else self.time[keep],
            event_property=self.event_property,
            properties=self.properties,
        )

    @classmethod
    def from_events(
        cls,
        events: Mapping[Any, Sequence[Claim]],
        properties: Mapping[Any, str] | None = None,
    ) -> ClaimTable:
        """Flatten ``{event: [claims]}``; one event's claims are all numeric or all categorical.

        ``properties`` names each event's kind of quantity (events it does not name share one
        unnamed property).
        """
        event_keys = tuple(events)
        source_index: dict[str, int] = {}
        group_index: dict[str, int] = {}
        category_index: dict[str, int] = {}
        property_index: dict[str, int] = {}
        event_codes: list[int] = []
        source_codes: list[int] = []
        lows: list[float] = []
        highs: list[float] = []
        points: list[float] = []
        times: list[float] = []
        groups: list[int] = []
        parties: list[bool] = []
        has_time = False
        categorical = np.zeros(len(event_keys), dtype=bool)
        event_property = np.zeros(len(event_keys), dtype=np.int64)
        for code, key in enumerate(event_keys):
            claims = events[key]
            kinds = {isinstance(claim, CategoricalClaim) for claim in claims}
            if len(kinds) > 1:
                raise ValueError(f"event {key!r} mixes numeric and categorical claims")
            categorical[code] = kinds == {True}
            name = (properties or {}).get(key, "")
            event_property[code] = property_index.setdefault(name, len(property_index))
            for claim in claims:
                event_codes.append(code)
                source_codes.append(source_index.setdefault(claim.source, len(source_index)))
                if isinstance(claim, CategoricalClaim):
                    low = high = point = float(
                        category_index.setdefault(claim.value, len(category_index))
                    )
                else:
                    low, high = claim.bounds
                    point = claim.point
                lows.append(low)
                highs.append(high)
                points.append(point)
                has_time = has_time or claim.time is not None
                times.append(claim.time if claim.time is not None else -math.inf)
                groups.append(
                    -1
                    if claim.copy_group is None
                    else group_index.setdefault(claim.copy_group, len(group_index))
                )
                parties.append(claim.party)
        time = None
        if has_time:
            raw = np.asarray(times, dtype=np.float64)
            # Undated claims count as older than every dated one.
            floor = raw[np.isfinite(raw)].min() - 1.0
            time = np.where(np.isfinite(raw), raw, floor)
        return cls(
            event=np.asarray(event_codes, dtype=np.int64),
            source=np.asarray(source_codes, dtype=np.int64),
            low=np.asarray(lows, dtype=np.float64),
            high=np.asarray(highs, dtype=np.float64),
            copy_group=np.asarray(groups, dtype=np.int64),
            party=np.asarray(parties, dtype=bool),
            events=event_keys,
            sources=tuple(source_index),
            copy_groups=tuple(group_index),
            categorical_events=categorical,
            categories=tuple(category_index),
            point=np.asarray(points, dtype=np.float64),
            time=time,
            event_property=event_property,
            properties=tuple(property_index) or ("",),
        )


def _relative_gap(a: FloatArray, b: FloatArray) -> FloatArray:
    """``figures.relative_gap`` on arrays: |a - b| relative to the larger magnitude."""
    scale = np.maximum(np.abs(a), np.abs(b))
    diff = np.abs(a - b)
    gap: FloatArray = np.divide(diff, scale, out=np.zeros_like(diff), where=scale > 0)
    return gap
