"""The Admiralty code (NATO AJP-2.1 "source reliability / information credibility"), e.g. "B2".

Desks and intelligence analysts grade a report on two separate axes, and credscore gives both
beside its probability:

Source reliability, a letter from the outlet's track record (the Beta posterior mean of its
decayed verdict history, the same bands as the score grades):

    A  completely reliable      mean >= 0.80
    B  usually reliable         mean >= 0.65
    C  fairly reliable          mean >= 0.50
    D  not usually reliable     mean >= 0.35
    E  unreliable               below 0.35
    F  reliability cannot be judged: the outlet is unrated (too little track record)

Information credibility, a digit from independent corroboration of the figure within its event
(``scoring.corroboration``; copies and dependent sources do not count):

    1  confirmed: another independent source gives the same figure
    2  probably true: not confirmed, but within the event's leading cluster of figures while the
       evidence supports one figure (status consensus or uncertain)
    3  possibly true: not confirmed, not contradicted (the event is contested, or the figure
       lies within the leading cluster of a contested event)
    4  doubtful: outside the leading cluster while the evidence is uncertain
    5  improbable: outside the leading cluster of a consensus, i.e. contradicted by the
       independent evidence
    6  truth cannot be judged: no figure, no event, or no other independent source to compare

Pure Python: no FastAPI, no SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass

from scoring.corroboration import Corroboration

RELIABILITY_BANDS: tuple[tuple[str, float], ...] = (
    ("A", 0.80),
    ("B", 0.65),
    ("C", 0.50),
    ("D", 0.35),
    ("E", 0.0),
)
RELIABILITY_MEANING: dict[str, str] = {
    "A": "completely reliable",
    "B": "usually reliable",
    "C": "fairly reliable",
    "D": "not usually reliable",
    "E": "unreliable",
    "F": "reliability cannot be judged",
}
CREDIBILITY_MEANING: dict[int, str] = {
    1: "confirmed by other independent sources",
    2: "probably true",
    3: "possibly true",
    4: "doubtful",
    5: "improbable",
    6: "truth cannot be judged",
}


@dataclass(frozen=True, slots=True)
class AdmiraltyCode:
    reliability: str
    credibility: int

    @property
    def code(self) -> str:
        return f"{self.reliability}{self.credibility}"

    @property
    def meaning(self) -> str:
        return (
            f"source {RELIABILITY_MEANING[self.reliability]}; "
            f"information {CREDIBILITY_MEANING[self.credibility]}"
        )


def source_reliability(mean: float, rated: bool) -> str:
    """A-E from the track record's mean, F when the outlet is unrated."""
    if not rated:
        return "F"
    for letter, floor in RELIABILITY_BANDS:
        if mean >= floor:
            return letter
    return "E"


def information_credibility(
    corroboration: Corroboration | None, status: str | None, in_leading_cluster: bool | None
) -> int:
    """1-6 from corroboration and the figure's place in its event's consensus (module docs).

    ``corroboration`` None: the claim has no figure or no event. ``status`` is the event's
    consensus status, ``in_leading_cluster`` whether the figure agrees with its leading cluster
    (None when there is no consensus to compare with).
    """
    if corroboration is None or corroboration.independent_others == 0:
        return 6
    if corroboration.confirmations > 0:
        return 1
    if status == "contested" or in_leading_cluster is None:
        return 3
    if in_leading_cluster:
        return 2
    if status == "consensus":
        return 5
    return 4


def admiralty_code(
    mean: float,
    rated: bool,
    corroboration: Corroboration | None,
    status: str | None,
    in_leading_cluster: bool | None,
) -> AdmiraltyCode:
    return AdmiraltyCode(
        reliability=source_reliability(mean, rated),
        credibility=information_credibility(corroboration, status, in_leading_cluster),
    )
