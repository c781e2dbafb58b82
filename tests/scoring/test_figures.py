"""Figures: one rule for the number a figure stands for and how far two lie apart."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring.figures import Figure, normalise_unit, relative_gap


def test_a_value_stands_for_itself_and_a_range_for_its_middle() -> None:
    assert Figure(value=37).point == 37
    assert Figure(low=30, high=50).point == 40
    # A best value inside a range wins over the middle.
    assert Figure(value=45, low=30, high=50).point == 45
    assert Figure(value=45, low=30, high=50).bounds == (30, 50)
    assert Figure(value=37).bounds == (37, 37)


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"low": 1.0},
        {"low": 3.0, "high": 2.0},
        {"value": 5.0, "low": 0.0, "high": 2.0},
        {"value": math.inf},
    ],
)
def test_invalid_figures_are_refused(fields: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=r"value|range|low|finite"):
        Figure(**fields)


def test_from_fields_is_none_without_a_figure() -> None:
    assert Figure.from_fields(None, None, None) is None
    figure = Figure.from_fields(None, 10.0, 20.0, "people")
    assert figure is not None
    assert figure.unit == "people"


def test_distance_is_zero_inside_a_range_and_relative_to_the_larger_figure() -> None:
    assert Figure(low=30, high=50).distance_to(42) == 0.0
    assert Figure(value=78).distance_to(42) == pytest.approx(36 / 78)
    assert Figure(value=42).distance_to(78) == pytest.approx(36 / 78)
    assert relative_gap(0.0, 0.0) == 0.0
    assert relative_gap(0.0, 5.0) == 1.0


def test_matching_within_tolerance() -> None:
    assert Figure(value=1200).matches(Figure(value=1201), tolerance=0.01)
    assert not Figure(value=1200).matches(Figure(value=1300), tolerance=0.01)
    assert Figure(low=30, high=50).matches(Figure(value=44), tolerance=0.0)
    assert Figure(low=30, high=50).matches(Figure(value=51), tolerance=0.05)
    assert not Figure(low=30, high=50).matches(Figure(value=60), tolerance=0.05)


def test_units_compare_without_case_or_spacing() -> None:
    assert Figure(value=1, unit="People").same_unit(" people ")
    assert Figure(value=1).same_unit("buildings")  # an unstated unit does not conflict
    assert not Figure(value=1, unit="buildings").same_unit("people")
    assert normalise_unit("  Killed   Civilians ") == "killed civilians"


@given(
    st.floats(-1e9, 1e9, allow_nan=False),
    st.floats(-1e9, 1e9, allow_nan=False),
    st.floats(0, 1),
)
def test_matching_is_symmetric(a: float, b: float, tolerance: float) -> None:
    assert Figure(value=a).matches(Figure(value=b), tolerance) == Figure(value=b).matches(
        Figure(value=a), tolerance
    )
    assert relative_gap(a, b) == relative_gap(b, a)
