"""The Admiralty code: reliability from the record, credibility from corroboration."""

from __future__ import annotations

import pytest

from scoring.admiralty import (
    CREDIBILITY_MEANING,
    admiralty_code,
    information_credibility,
    source_reliability,
)
from scoring.corroboration import Corroboration

CONFIRMED = Corroboration(confirmations=2, copies_ignored=1, independent_others=3)
ALONE_AMONG_OTHERS = Corroboration(confirmations=0, copies_ignored=0, independent_others=2)
NOBODY_ELSE = Corroboration(confirmations=0, copies_ignored=0, independent_others=0)


@pytest.mark.parametrize(
    ("mean", "rated", "letter"),
    [(0.9, True, "A"), (0.7, True, "B"), (0.55, True, "C"), (0.4, True, "D"), (0.1, True, "E")],
)
def test_reliability_letters_follow_the_grade_bands(mean: float, rated: bool, letter: str) -> None:
    assert source_reliability(mean, rated) == letter


def test_an_unrated_outlet_cannot_be_judged() -> None:
    assert source_reliability(0.95, rated=False) == "F"


def test_credibility_digits() -> None:
    assert information_credibility(CONFIRMED, "consensus", True) == 1
    assert information_credibility(ALONE_AMONG_OTHERS, "consensus", True) == 2
    assert information_credibility(ALONE_AMONG_OTHERS, "contested", True) == 3
    assert information_credibility(ALONE_AMONG_OTHERS, "uncertain", False) == 4
    assert information_credibility(ALONE_AMONG_OTHERS, "consensus", False) == 5
    assert information_credibility(NOBODY_ELSE, "insufficient", True) == 6
    assert information_credibility(None, None, None) == 6


def test_code_and_meaning() -> None:
    code = admiralty_code(0.7, True, CONFIRMED, "consensus", True)
    assert code.code == "B1"
    assert code.meaning == "source usually reliable; information " + CREDIBILITY_MEANING[1]
    assert admiralty_code(0.7, False, None, None, None).code == "F6"
