"""A fitted reconciliation read back: each event's result with every claim assessed and explained,
learned source dependence and priors (``TruthDiscovery``'s results, as a mixin)."""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from typing import Any

import numpy as np

import scoring.reconcile._results as reconciled
from scoring.admiralty import information_credibility
from scoring.corroboration import Report, corroboration
from scoring.figures import Figure
from scoring.reconcile._claims import (
    _STATUS_CODES,
    NEUTRAL_RELIABILITY,
    ClaimTable,
    FloatArray,
    IntArray,
    SourcePrior,
    Status,
)
from scoring.reconcile._summaries import EventSummaries


class Explanations(EventSummaries):
    """Reads the fitted attributes of ``TruthDiscovery`` back as results."""

    # Set by ``TruthDiscovery.fit`` (the rest by ``EventSummaries``).
    table_: ClaimTable
    sources_: tuple[str, ...]
    source_accuracy_: FloatArray
    source_evidence_: FloatArray
    source_prior_strength_: FloatArray
    event_tolerance_: FloatArray
    pair_sources_: IntArray
    pair_common_: IntArray
    pair_dependence_: FloatArray
    pair_direction_: FloatArray

    # -- results ---------------------------------------------------------------------------------

    def result(self, event: Hashable) -> reconciled.Reconciliation:
        """The reconciliation of one fitted event, with every claim assessed and explained."""
        code = self._event_code(event)
        table: ClaimTable = self.table_
        if not self.has_claims_[code]:
            raise ValueError(f"event {event!r} has no claims")
        claim_index = np.flatnonzero(table.event == code).tolist()
        categorical = bool(table.categorical_events[code])
        status = _STATUS_CODES[int(self.status_[code])]
        tolerance = float(self.event_tolerance_[code])
        points = table.points()
        names = table.sources

        def label(i: int) -> float | str:
            if categorical:
                return table.categories[int(table.low[i])]
            return float(points[i])

        def figure(i: int) -> Figure:
            low, high = float(table.low[i]), float(table.high[i])
            if low == high:
                return Figure(value=low)
            return Figure(value=float(points[i]), low=low, high=high)

        def group(i: int) -> str:
            copy = int(table.copy_group[i])
            return (
                f"group:{table.copy_groups[copy]}"
                if copy >= 0
                else f"source:{names[int(table.source[i])]}"
            )

        current = [i for i in claim_index if not self.claim_superseded_[i]]
        reports = {i: Report(figure(i), names[int(table.source[i])], group(i)) for i in claim_index}
        group_sizes: dict[str, int] = {}
        for i in current:
            group_sizes[reports[i].group] = group_sizes.get(reports[i].group, 0) + 1
        assessments = []
        weights: dict[str, float] = {}
        parties: list[str] = []
        for i in claim_index:
            name = names[int(table.source[i])]
            vote = float(self.claim_votes_[i])
            superseded = bool(self.claim_superseded_[i])
            if not superseded:
                weights[name] = weights.get(name, 0.0) + vote
            party = bool(table.party[i])
            if party and name not in parties:
                parties.append(name)
            others = [reports[j] for j in current if j != i]
            corroborated = corroboration(reports[i], others, tolerance, self.dependence_between)
            in_lead = bool(self.claim_in_leading_cluster_[i])
            depends_on, depends, dependence_reason = self._dependent_partner(i, current)
            accuracy = float(self.claim_vote_accuracy_[i])
            discounts: list[str] = []
            if superseded:
                discounts.append("superseded by a later figure from the same source")
            if party:
                discounts.append("party to the conflict")
            if not superseded and group_sizes.get(reports[i].group, 0) > 1:
                count = group_sizes[reports[i].group] - 1
                discounts.append(
                    f"declared copy: shares one vote with {count} other report"
                    + ("s" if count != 1 else "")
                )
            if depends_on is not None:
                discounts.append(dependence_reason)
            if not superseded and accuracy < NEUTRAL_RELIABILITY:
                discounts.append(f"weak record (right {accuracy:.0%} of the time)")
            group_code = int(table.copy_group[i])
            assessments.append(
                reconciled.ClaimAssessment(
                    source=name,
                    value=label(i),
                    low=None if categorical else float(table.low[i]),
                    high=None if categorical else float(table.high[i]),
                    agreement=float(self.claim_agreement_[i]),
                    relative_distance=float(self.claim_distance_[i]),
                    weight=vote,
                    party=party,
                    copy_group=None if group_code < 0 else table.copy_groups[group_code],
                    superseded=superseded,
                    own_share=float(self.claim_copy_weight_[i]),
                    depends_on=depends_on,
                    dependence=depends,
                    in_leading_cluster=in_lead,
                    corroboration=corroborated,
                    credibility=information_credibility(corroborated, status.value, in_lead),
                    discounts=tuple(discounts),
                )
            )
        leading: float | str = (
            table.categories[int(self.estimates_[code])]
            if categorical
            else float(self.estimates_[code])
        )
        interval: tuple[float, float] | None = None
        if not categorical:
            interval = (float(self.intervals_[code, 0]), float(self.intervals_[code, 1]))
        return reconciled.Reconciliation(
            kind="categorical" if categorical else "numeric",
            estimate=None if status is Status.CONTESTED else leading,
            interval=interval,
            status=status,
            confidence=float(self.confidence_[code]),
            claims=tuple(assessments),
            source_weights=weights,
            parties=tuple(parties),
            independent_reports=int(self.independent_reports_[code]),
            competing=self._competing(code, current, label) if status is Status.CONTESTED else (),
            dependent_groups=self._dependent_groups(current),
            tolerance=tolerance,
            leading_figure=leading,
        )

    def _competing(
        self, code: int, current: list[int], label: Any
    ) -> tuple[reconciled.CompetingFigure, ...]:
        """The leading cluster and its rivals, most supported first."""
        table: ClaimTable = self.table_
        clusters = sorted(
            {int(self.claim_cluster_[i]) for i in current},
            key=lambda c: -float(self.cluster_mass_[c]),
        )
        lead = int(self.lead_cluster_[code])
        figures = []
        for cluster in clusters:
            if cluster != lead and not self.cluster_rival_[cluster]:
                continue
            members = [i for i in current if int(self.claim_cluster_[i]) == cluster]
            best = max(members, key=lambda i: (float(self.claim_support_[i]), -i))
            categorical = bool(table.categorical_events[code])
            sources = []
            for i in members:
                name = table.sources[int(table.source[i])]
                if name not in sources:
                    sources.append(name)
            figures.append(
                reconciled.CompetingFigure(
                    estimate=label(best),
                    low=None if categorical else float(min(table.low[i] for i in members)),
                    high=None if categorical else float(max(table.high[i] for i in members)),
                    support=float(self.cluster_mass_[cluster]),
                    sources=tuple(sources),
                )
            )
        return tuple(figures)

    def _dependent_partner(self, i: int, current: list[int]) -> tuple[str | None, float, str]:
        """The source with the same figure that claim ``i`` most likely depends on, if above one
        half: its name, the probability and the reason in words (who copies whom where the data
        tells the direction)."""
        table: ClaimTable = self.table_
        if self.claim_superseded_[i]:
            return None, 0.0, ""
        mine = int(table.source[i])
        best_other = -1
        best = 0.0
        for j in current:
            other = int(table.source[j])
            if other == mine or table.low[j] != table.low[i] or table.high[j] != table.high[i]:
                continue
            probability = self.dependence_between(table.sources[mine], table.sources[other])
            if probability > best:
                best, best_other = probability, other
        if best <= 0.5:
            return None, best, ""
        name = table.sources[best_other]
        index = self._pair_index()[(min(mine, best_other), max(mine, best_other))]
        # pair_direction_ is P(the higher code copies the lower | dependent).
        second_copies = float(self.pair_direction_[index])
        i_copies = second_copies if mine > best_other else 1.0 - second_copies
        if i_copies >= 0.8:
            reason = f"likely copies {name} (probability {best:.2f})"
        elif i_copies <= 0.2:
            reason = f"likely copied by {name} (probability {best:.2f}); they share one vote"
        else:
            reason = f"likely dependent on {name}, one copying the other (probability {best:.2f})"
        return name, best, reason

    def _dependent_groups(self, current: list[int]) -> tuple[reconciled.DependentGroup, ...]:
        """Sources of these claims linked by a learned dependence above one half."""
        table: ClaimTable = self.table_
        members = sorted({int(table.source[i]) for i in current})
        parent = {m: m for m in members}

        def root(m: int) -> int:
            while parent[m] != m:
                parent[m] = parent[parent[m]]
                m = parent[m]
            return m

        links: list[tuple[int, int, float, float]] = []
        for a_pos, a in enumerate(members):
            for b in members[a_pos + 1 :]:
                index = self._pair_index().get((a, b))
                if index is None or self.pair_dependence_[index] <= 0.5:
                    continue
                links.append(
                    (a, b, float(self.pair_dependence_[index]), float(self.pair_direction_[index]))
                )
                parent[root(b)] = root(a)
        groups: dict[int, list[int]] = {}
        for m in members:
            groups.setdefault(root(m), []).append(m)
        result = []
        for group_members in groups.values():
            if len(group_members) < 2:
                continue
            own = [link for link in links if link[0] in group_members]
            copier: str | None = None
            if len(group_members) == 2 and own:
                a, b, _, second_copies = own[0]
                if second_copies >= 0.8:
                    copier = table.sources[b]
                elif second_copies <= 0.2:
                    copier = table.sources[a]
            result.append(
                reconciled.DependentGroup(
                    sources=tuple(table.sources[m] for m in group_members),
                    probability=min(link[2] for link in own),
                    copier=copier,
                )
            )
        return tuple(result)

    def _pair_index(self) -> dict[tuple[int, int], int]:
        index: dict[tuple[int, int], int] | None = getattr(self, "_pairs", None)
        if index is None:
            index = {
                (int(a), int(b)): position
                for position, (a, b) in enumerate(self.pair_sources_.tolist())
            }
            self._pairs = index
        return index

    def dependence_between(self, source: str, other: str) -> float:
        """The learned probability that two sources are dependent (0 if they never co-reported)."""
        codes = self._source_codes()
        a, b = codes.get(source), codes.get(other)
        if a is None or b is None or a == b:
            return 0.0
        index = self._pair_index().get((min(a, b), max(a, b)))
        return 0.0 if index is None else float(self.pair_dependence_[index])

    def _source_codes(self) -> dict[str, int]:
        codes: dict[str, int] | None = getattr(self, "_source_index", None)
        if codes is None:
            codes = {name: code for code, name in enumerate(self.sources_)}
            self._source_index = codes
        return codes

    def results(self) -> Iterator[tuple[Hashable, reconciled.Reconciliation]]:
        for code, event in enumerate(self.events_):
            if self.has_claims_[code]:
                yield event, self.result(event)

    def estimate(self, event: Hashable) -> float | str:
        """The best-supported figure of one fitted event (the category for categorical events)."""
        code = self._event_code(event)
        value = float(self.estimates_[code])
        table: ClaimTable = self.table_
        if table.categorical_events[code]:
            return table.categories[int(value)]
        return value

    def dependencies(self, min_probability: float = 0.0) -> list[reconciled.Dependency]:
        """Source pairs with their probability of being dependent, most likely first."""
        keep = np.flatnonzero(self.pair_dependence_ > min_probability)
        keep = keep[np.argsort(-self.pair_dependence_[keep], kind="stable")]
        names = self.sources_
        return [
            reconciled.Dependency(
                first=names[int(self.pair_sources_[i, 0])],
                second=names[int(self.pair_sources_[i, 1])],
                probability=float(self.pair_dependence_[i]),
                # pair_direction_ is P(second copies first | dependent).
                first_copies=1.0 - float(self.pair_direction_[i]),
                common_items=int(self.pair_common_[i]),
            )
            for i in keep.tolist()
        ]

    def learned_priors(self) -> dict[str, SourcePrior]:
        """The fitted accuracies as priors, to reconcile new events with what was learned here."""
        strength = self.source_prior_strength_ + self.source_evidence_
        return {
            name: SourcePrior(float(a), float(k))
            for name, a, k in zip(self.sources_, self.source_accuracy_, strength, strict=True)
        }

    def _event_code(self, event: Hashable) -> int:
        index: dict[Hashable, int] | None = getattr(self, "_event_index", None)
        if index is None:
            index = {key: code for code, key in enumerate(self.events_)}
            self._event_index = index
        try:
            return index[event]
        except KeyError:
            raise KeyError(f"unknown event {event!r}") from None
