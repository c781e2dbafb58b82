from __future__ import annotations

import json
from pathlib import Path

import pytest

from scoring.reliability import Rating
from service.interchange.ratings import (
    DEFAULT_RATING_MAPPING,
    RATING_LABELS,
    RatingMapping,
    UnknownRating,
    normalise_label,
    rating_value,
)


@pytest.fixture
def mapping() -> RatingMapping:
    return RatingMapping.load(None)


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("False", Rating.FALSE),
        ("Pants on Fire!", Rating.FALSE),
        ("pants-on-fire", Rating.FALSE),
        ("Mostly true", Rating.MOSTLY_TRUE),
        ("MOSTLY_TRUE", Rating.MOSTLY_TRUE),
        ("Half True", Rating.MIXED),
        ("Misleading", Rating.MOSTLY_FALSE),
        ("barely-true", Rating.MOSTLY_FALSE),
        ("Unproven", Rating.UNVERIFIABLE),
    ],
)
def test_words_fact_checkers_use(mapping: RatingMapping, label: str, expected: Rating) -> None:
    assert mapping.resolve(label) is expected


@pytest.mark.parametrize(
    ("value", "best", "worst", "expected"),
    [
        (1, 5, 1, Rating.FALSE),
        (2, 5, 1, Rating.MOSTLY_FALSE),
        (3, 5, 1, Rating.MIXED),
        (4, 5, 1, Rating.MOSTLY_TRUE),
        (5, 5, 1, Rating.TRUE),
        (0, 10, 0, Rating.FALSE),
        (8, 10, 0, Rating.MOSTLY_TRUE),
    ],
)
def test_numbers_on_a_stated_scale(
    mapping: RatingMapping, value: float, best: float, worst: float, expected: Rating
) -> None:
    assert mapping.resolve(None, value, best, worst) is expected


def test_unknown_words_fall_back_to_a_stated_scale_but_are_never_guessed(
    mapping: RatingMapping,
) -> None:
    assert mapping.resolve("Sort of", 1, 5, 1) is Rating.FALSE
    with pytest.raises(UnknownRating, match="Sort of"):
        mapping.resolve("Sort of")
    with pytest.raises(UnknownRating, match="scale is unknown"):
        mapping.resolve(None, 3)
    with pytest.raises(UnknownRating, match="outside"):
        mapping.resolve(None, 7, 5, 1)
    with pytest.raises(UnknownRating, match="no rating"):
        mapping.resolve(None)


def test_the_service_labels_read_back_as_themselves(mapping: RatingMapping) -> None:
    for rating, label in RATING_LABELS.items():
        assert mapping.resolve(label) is rating
        value = rating_value(rating)
        if value is not None:
            assert mapping.resolve(None, value, 5, 1) is rating


def test_a_mapping_file_extends_and_overrides(tmp_path: Path) -> None:
    path = tmp_path / "mapping.json"
    path.write_text(json.dumps({"Sort of": "mixed", "Misleading": "false"}))
    mapping = RatingMapping.load(path)
    assert mapping.resolve("sort of") is Rating.MIXED
    assert mapping.resolve("Misleading") is Rating.FALSE
    assert mapping.resolve("Pants on Fire") is Rating.FALSE
    assert DEFAULT_RATING_MAPPING[normalise_label("Misleading")] is Rating.MOSTLY_FALSE


def test_a_mapping_file_naming_no_rating_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "mapping.json"
    path.write_text(json.dumps({"Sort of": "kinda"}))
    with pytest.raises(ValueError, match="kinda"):
        RatingMapping.load(path)
