"""Fact-checkers' ratings onto the service's verdict scale, and back.

Fact-checkers publish a textual rating (ClaimReview ``alternateName``: "Pants on Fire",
"Mostly true", "Misleading") and sometimes a number on their own scale (``ratingValue`` between
``worstRating`` and ``bestRating``). A rating is read through ``RatingMapping``: the words first
(case, hyphens and spaces do not matter), then, when the words are unknown or absent, the number
if the review states both ends of its scale. Anything else is reported, never guessed: a rating
the mapping does not know is an error for that item, which an operator fixes by adding it to a
mapping file (``CREDSCORE_RATING_MAPPING_FILE`` or ``--rating-mapping``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from scoring.reliability import RATING_CREDIT, Rating

# Words fact-checkers use, normalised (see ``normalise_label``), and the verdict each means.
DEFAULT_RATING_MAPPING: dict[str, Rating] = {
    # true
    "true": Rating.TRUE,
    "correct": Rating.TRUE,
    "accurate": Rating.TRUE,
    "verified": Rating.TRUE,
    "geppetto checkmark": Rating.TRUE,
    # mostly true
    "mostly true": Rating.MOSTLY_TRUE,
    "mostly correct": Rating.MOSTLY_TRUE,
    "mostly accurate": Rating.MOSTLY_TRUE,
    "largely accurate": Rating.MOSTLY_TRUE,
    "one pinocchio": Rating.MOSTLY_TRUE,
    # mixed
    "mixed": Rating.MIXED,
    "mixture": Rating.MIXED,
    "half true": Rating.MIXED,
    "partly true": Rating.MIXED,
    "partly false": Rating.MIXED,
    "partially true": Rating.MIXED,
    "partially false": Rating.MIXED,
    "half flip": Rating.MIXED,
    "two pinocchios": Rating.MIXED,
    # mostly false
    "mostly false": Rating.MOSTLY_FALSE,
    "barely true": Rating.MOSTLY_FALSE,
    "misleading": Rating.MOSTLY_FALSE,
    "missing context": Rating.MOSTLY_FALSE,
    "exaggerated": Rating.MOSTLY_FALSE,
    "three pinocchios": Rating.MOSTLY_FALSE,
    # false
    "false": Rating.FALSE,
    "incorrect": Rating.FALSE,
    "inaccurate": Rating.FALSE,
    "fake": Rating.FALSE,
    "pants on fire": Rating.FALSE,
    "four pinocchios": Rating.FALSE,
    "fabricated": Rating.FALSE,
    "full flop": Rating.FALSE,
    # says nothing about the outlet either way
    "unverifiable": Rating.UNVERIFIABLE,
    "unproven": Rating.UNVERIFIABLE,
    "unsupported": Rating.UNVERIFIABLE,
    "no evidence": Rating.UNVERIFIABLE,
    "not enough evidence": Rating.UNVERIFIABLE,
    "unclear": Rating.UNVERIFIABLE,
    "research in progress": Rating.UNVERIFIABLE,
}

# The service's own words for its verdicts (exported as ``alternateName``), and its numeric scale.
RATING_LABELS: dict[Rating, str] = {
    Rating.TRUE: "True",
    Rating.MOSTLY_TRUE: "Mostly true",
    Rating.MIXED: "Mixed",
    Rating.MOSTLY_FALSE: "Mostly false",
    Rating.FALSE: "False",
    Rating.UNVERIFIABLE: "Unverifiable",
}
WORST_RATING = 1
BEST_RATING = 5

_SEPARATORS = re.compile(r"[\s_\-]+")


def normalise_label(label: str) -> str:
    """Lower case, with runs of spaces, hyphens and underscores made one space."""
    return _SEPARATORS.sub(" ", label.strip().lower()).strip(" .!")


class UnknownRating(ValueError):
    """A rating the mapping cannot place on the scale; the message says what was given."""


def rating_value(rating: Rating) -> int | None:
    """The verdict on the exported 1-5 scale (None for unverifiable: it is off the scale)."""
    if rating is Rating.UNVERIFIABLE:
        return None
    return WORST_RATING + round(RATING_CREDIT[rating] * (BEST_RATING - WORST_RATING))


@dataclass(frozen=True)
class RatingMapping:
    labels: Mapping[str, Rating]

    @classmethod
    def load(cls, path: str | Path | None) -> RatingMapping:
        """The default mapping, extended and overridden by a JSON file ``{"label": "rating"}``."""
        labels = dict(DEFAULT_RATING_MAPPING)
        if path is None:
            return cls(labels)
        try:
            document = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read the rating mapping {path}: {exc}") from exc
        if not isinstance(document, dict):
            raise ValueError(f"the rating mapping {path} must be a JSON object label -> rating")
        for label, rating in document.items():
            try:
                labels[normalise_label(str(label))] = Rating(str(rating))
            except ValueError as exc:
                raise ValueError(
                    f"rating mapping {path}: {label!r} maps to {rating!r}, which is not one of "
                    f"{', '.join(Rating)}"
                ) from exc
        return cls(labels)

    def resolve(
        self,
        label: str | None,
        value: float | None = None,
        best: float | None = None,
        worst: float | None = None,
    ) -> Rating:
        """The verdict a review's rating means; ``UnknownRating`` when it cannot be told."""
        if label is not None and label.strip():
            found = self.labels.get(normalise_label(label))
            if found is not None:
                return found
        if value is not None and best is not None and worst is not None and best != worst:
            position = (value - worst) / (best - worst)
            if 0.0 <= position <= 1.0:
                return min(RATING_CREDIT, key=lambda rating: abs(RATING_CREDIT[rating] - position))
            raise UnknownRating(f"ratingValue {value:g} lies outside {worst:g}..{best:g}")
        if label is not None and label.strip():
            raise UnknownRating(
                f"unknown rating {label!r}: add it to a rating mapping file "
                "(CREDSCORE_RATING_MAPPING_FILE) to import it"
            )
        if value is not None:
            raise UnknownRating(
                f"ratingValue {value:g} without both bestRating and worstRating: "
                "the scale is unknown"
            )
        raise UnknownRating("no rating: give alternateName or ratingValue")
