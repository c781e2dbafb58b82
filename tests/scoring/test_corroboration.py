"""Corroboration counts independent sources only."""

from __future__ import annotations

from scoring.corroboration import Corroboration, Report, corroboration, describe
from scoring.figures import Figure


def report(source: str, value: float, group: str | None = None) -> Report:
    return Report(Figure(value=value), source, group or f"source:{source}")


def test_each_independent_source_confirms_once() -> None:
    claim = report("activists", 37)
    others = [report("monitor", 37), report("monitor", 37), report("wire", 38), report("state", 78)]
    result = corroboration(claim, others, tolerance=0.05)
    assert result == Corroboration(confirmations=2, copies_ignored=0, independent_others=3)


def test_copies_and_the_own_source_do_not_confirm() -> None:
    claim = report("wire", 37, group="story-1")
    others = [
        report("wire", 37),  # the same outlet again
        report("paper", 37, group="story-1"),  # its syndicated copy
        report("monitor", 37),
    ]
    result = corroboration(claim, others, tolerance=0.0)
    assert result.confirmations == 1
    assert result.copies_ignored == 1
    assert describe(result) == "confirmed by 1 independent source; 1 copy ignored"


def test_learned_dependents_share_one_voice() -> None:
    claim = report("activists", 37)
    others = [report("blog", 37), report("mirror", 37), report("monitor", 37)]

    def dependence(a: str, b: str) -> float:
        return 0.9 if {a, b} == {"blog", "mirror"} else 0.0

    result = corroboration(claim, others, tolerance=0.0, dependence=dependence)
    assert result.confirmations == 2
    assert result.copies_ignored == 1
    # A source that copies the claim's own source repeats rather than confirms.
    copier = corroboration(
        claim, [report("copycat", 37)], 0.0, lambda a, b: 0.95 if "copycat" in (a, b) else 0.0
    )
    assert copier.confirmations == 0
    assert copier.copies_ignored == 1


def test_words_for_nothing_to_compare() -> None:
    alone = corroboration(report("a", 1), [], tolerance=0.0)
    assert describe(alone) == "no other independent source reported a figure"
    contradicted = corroboration(report("a", 1), [report("b", 5)], tolerance=0.0)
    assert describe(contradicted) == "not confirmed by any other independent source"
