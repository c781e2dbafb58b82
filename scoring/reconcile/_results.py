"""What reconciliation returns: one event's reconciliation with every claim assessed, and the
source dependence it learned."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from scoring.corroboration import Corroboration
from scoring.reconcile._claims import Status


@dataclass(frozen=True, slots=True)
class ClaimAssessment:
    """One claim measured against its event's consensus.

    ``weight`` is the vote it cast (0 when superseded); ``own_share`` the part of its vote that
    was its own after learned dependence (1: independent); ``depends_on`` the source with the
    same figure it most likely depends on (copies or is copied by), with that ``dependence``
    probability.
    ``discounts`` say in words why its vote counted less than a full one.
    """

    source: str
    value: float | str
    low: float | None
    high: float | None
    agreement: float
    relative_distance: float
    weight: float
    party: bool
    copy_group: str | None
    superseded: bool
    own_share: float
    depends_on: str | None
    dependence: float
    in_leading_cluster: bool
    corroboration: Corroboration
    credibility: int
    discounts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CompetingFigure:
    """One cluster of figures of a contested event, with its posterior support."""

    estimate: float | str
    low: float | None
    high: float | None
    support: float
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DependentGroup:
    """Sources judged to copy one another here (learned), counted as one voice.

    ``probability`` is the weakest link's posterior probability of dependence, ``copier`` the
    source most likely copying where the data tells the direction (else None).
    """

    sources: tuple[str, ...]
    probability: float
    copier: str | None


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """The reconciled view of one event.

    ``estimate`` is the best-supported claimed figure, None when contested (see ``competing``);
    ``confidence`` the posterior probability that the truth lies in its cluster, ``interval`` the
    span of the credible reports around it (every competing cluster when contested). ``claims``
    follow the input order; ``source_weights`` are the votes the sources actually cast here
    (after party discount, supersession and copies); ``independent_reports`` counts independent
    sources (copy groups), never claims.
    """

    kind: Literal["numeric", "categorical"]
    estimate: float | str | None
    interval: tuple[float, float] | None
    status: Status
    confidence: float
    claims: tuple[ClaimAssessment, ...]
    source_weights: Mapping[str, float]
    parties: tuple[str, ...]
    independent_reports: int
    competing: tuple[CompetingFigure, ...]
    dependent_groups: tuple[DependentGroup, ...]
    tolerance: float
    leading_figure: float | str

    @property
    def agreements(self) -> tuple[float, ...]:
        return tuple(claim.agreement for claim in self.claims)

    @property
    def relative_distances(self) -> tuple[float, ...]:
        return tuple(claim.relative_distance for claim in self.claims)

    @property
    def supporting_sources(self) -> tuple[str, ...]:
        """Independent sources whose current figure lies in the leading cluster."""
        seen: list[str] = []
        for claim in self.claims:
            if claim.in_leading_cluster and not claim.superseded and claim.source not in seen:
                seen.append(claim.source)
        return tuple(seen)


@dataclass(frozen=True, slots=True)
class Dependency:
    """A learned dependence between two sources that co-report on ``common_items`` events.

    ``probability``: posterior probability that they are dependent; ``first_copies``: given that
    they are, the probability that ``first`` copies ``second`` (near 0.5: the data does not tell
    the direction).
    """

    first: str
    second: str
    probability: float
    first_copies: float
    common_items: int
