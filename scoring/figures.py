"""Figures: the one rule for which number a claim's figure stands for and how far two lie apart.

A claim may give a single value ("37 killed"), a range ("between 30 and 45") or a range with a
best value inside it. Everything that compares figures (the reconciler, corroboration, the
distance from a consensus, the API) goes through ``Figure`` so that they cannot disagree.

Pure Python: no FastAPI, no SQLAlchemy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def relative_gap(a: float, b: float) -> float:
    """|a - b| relative to the larger magnitude: 0 for equal figures, 1 for 0 against anything.

    Symmetric, so "how far is 78 from 42" and "how far is 42 from 78" agree, and bounded for
    figures of one sign (a count can be off by at most 100% of the larger one).
    """
    scale = max(abs(a), abs(b))
    return abs(a - b) / scale if scale > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Figure:
    """A structured figure: ``value``, or ``low``..``high`` (optionally with ``value`` inside)."""

    value: float | None = None
    low: float | None = None
    high: float | None = None
    unit: str | None = None

    def __post_init__(self) -> None:
        for name in ("value", "low", "high"):
            number = getattr(self, name)
            if number is not None and not math.isfinite(number):
                raise ValueError(f"{name} must be finite")
        if (self.low is None) != (self.high is None):
            raise ValueError("a range needs both low and high")
        if self.value is None and self.low is None:
            raise ValueError("a figure needs a value or a range")
        if self.low is not None and self.high is not None:
            if self.low > self.high:
                raise ValueError("low must not exceed high")
            if self.value is not None and not self.low <= self.value <= self.high:
                raise ValueError("value must lie within low..high")

    @classmethod
    def from_fields(
        cls,
        value: float | None,
        low: float | None,
        high: float | None,
        unit: str | None = None,
    ) -> Figure | None:
        """The figure stored in a claim's columns; None when the claim gives none."""
        if value is None and low is None and high is None:
            return None
        return cls(value=value, low=low, high=high, unit=unit)

    @property
    def is_range(self) -> bool:
        return self.low is not None and self.high is not None and self.low < self.high

    @property
    def bounds(self) -> tuple[float, float]:
        """The span the figure claims: its range, or its value twice."""
        if self.low is not None and self.high is not None:
            return self.low, self.high
        assert self.value is not None
        return self.value, self.value

    @property
    def point(self) -> float:
        """The one number it stands for: its value, else the middle of its range."""
        if self.value is not None:
            return self.value
        low, high = self.bounds
        return (low + high) / 2.0

    def distance_to(self, target: float) -> float:
        """Relative gap from ``target`` to the nearest figure this one allows (0 inside it)."""
        low, high = self.bounds
        nearest = min(max(target, low), high)
        return relative_gap(nearest, target)

    def matches(self, other: Figure, tolerance: float) -> bool:
        """The two claim the same figure, up to ``tolerance`` (rounding, a slip of a digit).

        Ranges match what lies within them; points match within the relative tolerance.
        """
        low, high = self.bounds
        other_low, other_high = other.bounds
        if low <= other_high and other_low <= high:
            return True
        if high < other_low:
            return relative_gap(high, other_low) <= tolerance
        return relative_gap(other_high, low) <= tolerance

    def same_unit(self, unit: str | None) -> bool:
        """Units agree when either is unstated or both name the same unit (case aside)."""
        return (
            self.unit is None or unit is None or normalise_unit(self.unit) == normalise_unit(unit)
        )


def normalise_unit(unit: str) -> str:
    """ "People", " people " and "PEOPLE" are one unit."""
    return " ".join(unit.split()).casefold()
