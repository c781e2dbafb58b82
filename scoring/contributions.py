"""What moved a score, in words: the one type every explanation is made of."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Contribution:
    """One feature group's effect on a probability, with a desk editor's phrase for it.

    The claim model's effects are measured from a typical claim; a track record's parts add up
    to its mean from the global baseline (``reliability.reliability_contributions``).
    """

    group: str
    description: str
    effect: float

    def reason(self, *, digits: int | None = 6) -> dict[str, Any]:
        """The contribution as a score lists it among its reasons (``Reason`` in the API);
        ``digits`` rounds the effect, ``None`` keeps it whole."""
        effect = self.effect if digits is None else round(self.effect, digits)
        return {"feature": self.group, "effect": effect, "text": self.description}
