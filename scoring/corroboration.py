"""Independent corroboration of one figure by the other reports of its event.

One source is one vote, and sources that copy share one: a claim is corroborated by each other
*independent* report that gives the same figure (within the property's tolerance). Not counted:

* the claim's own source (its earlier or other figures),
* reports of its own copy group (a syndicated copy, an outlet of the same owner),
* sources likely to depend on the claim's source or on a source already counted (learned
  dependence above ``DEPENDENT``), since they would repeat rather than confirm.

What is left out for being a copy is counted too, so the reasons can say "confirmed by 2
independent sources; 1 copy ignored".

Pure Python: no FastAPI, no SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from scoring.figures import Figure

# A learned dependence above this makes two sources one voice for corroboration.
DEPENDENT = 0.5


@dataclass(frozen=True, slots=True)
class Report:
    """One claim's figure as corroboration sees it: who said it and which copy group it is in."""

    figure: Figure
    source: str
    group: str


@dataclass(frozen=True, slots=True)
class Corroboration:
    """``confirmations``: other independent sources giving the same figure; ``copies_ignored``:
    reports with the same figure left out as copies; ``independent_others``: other independent
    sources that reported a figure at all (0: nothing to judge the claim against)."""

    confirmations: int
    copies_ignored: int
    independent_others: int


def corroboration(
    claim: Report,
    others: Sequence[Report],
    tolerance: float,
    dependence: Callable[[str, str], float] | None = None,
) -> Corroboration:
    """Count the independent reports among ``others`` that confirm ``claim``."""

    def dependent(a: str, b: str) -> bool:
        return dependence is not None and dependence(a, b) > DEPENDENT

    confirming: list[str] = []
    other_sources: set[str] = set()
    copies = 0
    seen_groups: set[str] = set()
    for other in sorted(others, key=lambda report: (report.group, report.source)):
        if other.source == claim.source:
            continue
        same = other.figure.matches(claim.figure, tolerance)
        if other.group == claim.group:
            copies += same
            continue
        if dependent(claim.source, other.source):
            copies += same
            continue
        other_sources.add(other.group)
        if not same or other.group in seen_groups:
            continue
        seen_groups.add(other.group)
        if any(dependent(other.source, counted) for counted in confirming):
            copies += 1
            continue
        confirming.append(other.source)
    return Corroboration(
        confirmations=len(confirming),
        copies_ignored=copies,
        independent_others=len(other_sources),
    )


def describe(result: Corroboration) -> str:
    """In a desk editor's words: "confirmed by 2 independent sources; 1 copy ignored"."""
    if result.independent_others == 0:
        text = "no other independent source reported a figure"
    elif result.confirmations == 0:
        text = "not confirmed by any other independent source"
    else:
        count = result.confirmations
        text = f"confirmed by {count} independent source{'s' if count != 1 else ''}"
    if result.copies_ignored:
        count = result.copies_ignored
        text += f"; {count} cop{'ies' if count != 1 else 'y'} ignored"
    return text
