"""A claim's figure against its event's newest consensus (``Standing``).

Worked out once per claim: its distance from the estimate (``Figure.distance_to``), its
independent corroboration (``scoring.corroboration``: the claim's own outlet, its report group and
outlets the consensus found dependent on one another do not count) and its place in the leading
cluster. The claim model's features and the Admiralty code both read it.

Pure Python: the consensus is anything with a stored consensus's fields (``ConsensusLike``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from scoring.closeness import DEFAULT_TOLERANCE
from scoring.corroboration import Corroboration, Report, corroboration
from scoring.figures import Figure


class ConsensusLike(Protocol):
    """What a stored reconciliation of one event says (the service's ``EventConsensus``)."""

    @property
    def status(self) -> str: ...

    @property
    def estimate(self) -> float | None: ...

    @property
    def low(self) -> float | None: ...

    @property
    def high(self) -> float | None: ...

    @property
    def tolerance(self) -> float | None: ...

    @property
    def claims(self) -> Sequence[Mapping[str, Any]]: ...

    @property
    def dependent_groups(self) -> Sequence[Mapping[str, Any]] | None: ...


@dataclass(frozen=True)
class Standing:
    """A claim's figure against its event's newest consensus."""

    corroboration: Corroboration
    status: str
    in_leading_cluster: bool | None
    distance: float | None
    # Probability that the claim's outlet copies (or is copied by) another outlet that gave the
    # same figure here, as the consensus learned it.
    dependence: float


def consensus_distance(figure: Figure | None, consensus: ConsensusLike | None) -> float | None:
    """Relative gap from the estimate to the claim's figure (``Figure.distance_to``); None
    without a figure or without an estimate (no consensus yet, or a contested one)."""
    if consensus is None or consensus.estimate is None or figure is None:
        return None
    return figure.distance_to(consensus.estimate)


def _report(row: Mapping[str, Any]) -> Report:
    figure = Figure.from_fields(row["value"], row["low"], row["high"])
    assert figure is not None  # consensus rows are claims with a figure
    slug = str(row["outlet_slug"])
    return Report(figure, slug, row.get("copy_group") or f"source:{slug}")


def _own_group(
    claim_id: int | None,
    copy_of_claim_id: int | None,
    outlet_slug: str,
    outlet_owner: str | None,
    rows: Mapping[int | None, Mapping[str, Any]],
) -> str:
    """The claim's report group, as the consensus grouped it (``report_groups``' labels)."""
    if claim_id in rows:
        return _report(rows[claim_id]).group
    if copy_of_claim_id in rows:
        return _report(rows[copy_of_claim_id]).group
    if outlet_owner:
        return f"owner:{outlet_owner}"
    return f"source:{outlet_slug}"


def _dependence(consensus: ConsensusLike) -> Callable[[str, str], float]:
    """Learned dependence between two outlets, from the groups this consensus discounted."""
    pairs: dict[frozenset[str], float] = {}
    for group in consensus.dependent_groups or []:
        slugs = list(group["outlet_slugs"])
        for position, first in enumerate(slugs):
            for second in slugs[position + 1 :]:
                key = frozenset((first, second))
                pairs[key] = max(pairs.get(key, 0.0), float(group["probability"]))
    return lambda first, second: pairs.get(frozenset((first, second)), 0.0)


class ConsensusStandings:
    """One consensus prepared once for the standing of any number of its event's claims.

    An event's claims are scored together; reading the consensus's reports afresh for each
    claim would cost a number of report builds growing with the square of the event's claims.
    """

    def __init__(self, consensus: ConsensusLike) -> None:
        self.consensus = consensus
        self._rows: dict[int | None, Mapping[str, Any]] = {
            row["claim_id"]: row for row in consensus.claims
        }
        self._reports = [
            (row["claim_id"], _report(row))
            for row in consensus.claims
            if not row.get("superseded", False)
        ]
        self._tolerance = (
            consensus.tolerance if consensus.tolerance is not None else DEFAULT_TOLERANCE
        )
        self._learned = _dependence(consensus)

    def standing(
        self,
        figure: Figure | None,
        *,
        claim_id: int | None,
        copy_of_claim_id: int | None,
        outlet_slug: str,
        outlet_owner: str | None,
    ) -> Standing | None:
        """The claim's figure against the consensus; None without a figure."""
        if figure is None:
            return None
        consensus, rows, tolerance, learned = (
            self.consensus,
            self._rows,
            self._tolerance,
            self._learned,
        )
        group = _own_group(claim_id, copy_of_claim_id, outlet_slug, outlet_owner, rows)
        own = Report(figure, outlet_slug, group)
        others = [report for other_id, report in self._reports if other_id != claim_id]
        mine = rows.get(claim_id)
        in_lead: bool | None
        if mine is not None and "in_leading_cluster" in mine:
            in_lead = bool(mine["in_leading_cluster"])
        elif consensus.estimate is None or consensus.low is None or consensus.high is None:
            in_lead = None
        else:
            in_lead = figure.matches(Figure(low=consensus.low, high=consensus.high), tolerance)
        if mine is not None and mine.get("dependence") is not None:
            depends = float(mine["dependence"])
        else:
            depends = max(
                (
                    learned(outlet_slug, other.source)
                    for other in others
                    if other.source != outlet_slug and other.figure.matches(figure, 0.0)
                ),
                default=0.0,
            )
        return Standing(
            corroboration=corroboration(own, others, tolerance, learned),
            status=consensus.status,
            in_leading_cluster=in_lead,
            distance=consensus_distance(figure, consensus),
            dependence=depends,
        )
