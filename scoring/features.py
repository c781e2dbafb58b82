"""Features of one claim in its context: the outlet's record, the topic, corroboration, wording.

``ClaimContext`` is what a caller knows about a claim at the moment it is scored; the service
builds it from database rows and the LIAR evaluation from the data set's columns. Track records
arrive already computed by ``scoring.reliability`` at claim time (no future verdicts); this module
only reads them and, for topics, shrinks the topic's record toward the outlet's overall record
with ``reliability.posterior`` so a topic with a handful of verdicts falls back to the outlet.

``featurize`` turns a context into a ``FeatureRow``: a fixed vector of named numeric features
(each belonging to a named group used in explanations), categorical indicator tokens, and the
text for the n-gram vectorizers. Missing information is encoded explicitly ("unknown" indicators)
rather than imputed as a good or bad value: no record is not a good record.

Pure functions: no FastAPI, no SQLAlchemy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from scoring.reliability import (
    DEFAULT_CREDIBLE_LEVEL,
    DEFAULT_PRIOR_STRENGTH,
    Reliability,
    posterior,
)
from scoring.text_features import TextFeatures, log_count, text_features, tokenize
from scoring.wording import count_noun, outlet_kind_phrase

TRANSPARENCY_PRACTICES: Final = (
    "methodology",
    "corrections_policy",
    "ownership_disclosed",
    "names_sources",
)

# Explanation groups: every feature column belongs to exactly one.
OUTLET_RECORD: Final = "outlet_record"
TOPIC_RECORD: Final = "topic_record"
OUTLET_KIND: Final = "outlet_kind"
PARTY_TO_CONFLICT: Final = "party_to_conflict"
TRANSPARENCY: Final = "transparency"
ON_THE_GROUND: Final = "on_the_ground"
CORROBORATION: Final = "corroboration"
CONSENSUS: Final = "consensus"
DEPENDENCE: Final = "dependence"
SPECIFICITY: Final = "specificity"
HEDGING: Final = "hedging"
ABSOLUTES: Final = "absolutes"
LENGTH: Final = "length"
TOPICS: Final = "topics"
METADATA_PREFIX: Final = "metadata:"
WORDING: Final = "wording"
CHARACTERS: Final = "characters"

# (feature name, group), in the order of FeatureRow.numeric.
NUMERIC_FEATURES: Final[tuple[tuple[str, str], ...]] = (
    ("outlet_mean", OUTLET_RECORD),
    ("outlet_log_evidence", OUTLET_RECORD),
    ("outlet_unrated", OUTLET_RECORD),
    ("outlet_record_missing", OUTLET_RECORD),
    ("topic_mean", TOPIC_RECORD),
    ("topic_log_evidence", TOPIC_RECORD),
    ("topic_record_missing", TOPIC_RECORD),
    ("party_to_conflict", PARTY_TO_CONFLICT),
    ("not_party_to_conflict", PARTY_TO_CONFLICT),
    *(
        (f"{prefix}{practice}{suffix}", TRANSPARENCY)
        for practice in TRANSPARENCY_PRACTICES
        for prefix, suffix in (("transparency_", ""), ("transparency_", "_unknown"))
    ),
    ("on_the_ground", ON_THE_GROUND),
    ("on_the_ground_unknown", ON_THE_GROUND),
    ("corroborations_log", CORROBORATION),
    ("corroborations_none", CORROBORATION),
    ("consensus_close", CONSENSUS),
    ("consensus_far", CONSENSUS),
    ("source_dependence", DEPENDENCE),
    ("figures_log", SPECIFICITY),
    ("places_log", SPECIFICITY),
    ("dates_log", SPECIFICITY),
    ("people_log", SPECIFICITY),
    ("attributions_log", SPECIFICITY),
    ("specificity_kinds", SPECIFICITY),
    ("hedges_log", HEDGING),
    ("absolutes_log", ABSOLUTES),
    ("words_log", LENGTH),
    ("question", LENGTH),
)
NUMERIC_FEATURE_NAMES: Final = tuple(name for name, _ in NUMERIC_FEATURES)
NUMERIC_FEATURE_INDEX: Final = {name: i for i, name in enumerate(NUMERIC_FEATURE_NAMES)}

# Relative distances from consensus beyond this are all "very far"; keeps the log bounded.
MAX_CONSENSUS_DISTANCE: Final = 10.0
# A figure within this relative distance of the consensus agrees with it; beyond, it is "far".
CONSENSUS_AGREEMENT: Final = 0.10
_LOG_AGREEMENT: Final = math.log1p(CONSENSUS_AGREEMENT)

# Directions a desk expects, which the claim model holds its coefficients to (+1: the feature
# never lowers P(holds up), -1: never raises it). Features not listed are free.
FEATURE_SIGNS: Final[Mapping[str, int]] = {
    "outlet_mean": +1,
    "topic_mean": +1,
    "party_to_conflict": -1,
    "not_party_to_conflict": +1,
    "corroborations_log": +1,
    "corroborations_none": -1,
    "consensus_close": +1,
    "consensus_far": -1,
    "source_dependence": -1,
}
# Groups whose columns are all 0 when the fact is unknown: a reason from one of them is the
# effect of knowing the fact, so its sign is the sign its features are held to.
EXPLAINED_FROM_UNKNOWN: Final = frozenset({PARTY_TO_CONFLICT, CORROBORATION, CONSENSUS, DEPENDENCE})


@dataclass(frozen=True, slots=True, eq=False)
class ClaimContext:
    """One claim and what is known about its source when it is scored.

    ``outlet_record`` and ``topic_records`` are track records computed by the caller with
    ``scoring.reliability`` from verdicts known before the claim; ``None`` or a missing topic
    means no record (never a good one). ``consensus_distance`` is the relative distance of the
    claim's figure from its event's consensus (``|value - consensus| / consensus``).
    ``source_dependence`` is the probability (0-1) that the claim depends on another source (its
    outlet copies another's reports); ``None`` means unknown, which the model treats as no sign
    of dependence.
    ``metadata`` holds free categorical facts (for LIAR: party, state, speaker job, context).
    """

    text: str
    outlet: str
    outlet_kind: str | None = None
    topics: tuple[str, ...] = ()
    published_at: datetime | None = None
    party_to_conflict: bool | None = None
    transparency: Mapping[str, bool] = field(default_factory=dict)
    on_the_ground: bool | None = None
    outlet_record: Reliability | None = None
    topic_records: Mapping[str, Reliability] = field(default_factory=dict)
    independent_corroborations: int | None = None
    consensus_distance: float | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    source_dependence: float | None = None

    def __post_init__(self) -> None:
        unknown = set(self.transparency) - set(TRANSPARENCY_PRACTICES)
        if unknown:
            raise ValueError(
                f"unknown transparency practice(s) {sorted(unknown)}; "
                f"expected {', '.join(TRANSPARENCY_PRACTICES)}"
            )
        if self.independent_corroborations is not None and self.independent_corroborations < 0:
            raise ValueError("independent_corroborations must be non-negative")
        if self.consensus_distance is not None and not math.isfinite(self.consensus_distance):
            raise ValueError("consensus_distance must be finite")
        if self.source_dependence is not None and not 0.0 <= self.source_dependence <= 1.0:
            raise ValueError("source_dependence must lie in [0, 1]")


@dataclass(frozen=True, slots=True)
class FeatureRow:
    """A claim's features: named numeric values, indicator tokens and the text for n-grams.

    ``words`` is ``tokenize(text)``, kept so n-grams need not tokenise the text again.
    """

    numeric: tuple[float, ...]
    tokens: tuple[str, ...]
    text: str
    words: list[str]
    wording: TextFeatures
    topic_record: Reliability | None


def _raw_counts(record: Reliability) -> tuple[float, float]:
    """The (decayed) successes and failures behind a posterior, whatever prior it used."""
    successes = record.alpha - record.prior_mean * record.prior_strength
    failures = record.beta - (1.0 - record.prior_mean) * record.prior_strength
    return max(0.0, successes), max(0.0, failures)


def topic_reliability(
    context: ClaimContext,
    prior_strength: float = DEFAULT_PRIOR_STRENGTH,
    *,
    level: float = DEFAULT_CREDIBLE_LEVEL,
) -> Reliability | None:
    """The outlet's record on this claim's topics, shrunk toward its overall record.

    The topics' evidence is pooled (averaged over the claim's topics that have a record, since
    one verdict is usually filed under all of a claim's topics) and put on a Beta prior whose mean
    is the outlet's posterior mean, with ``prior_strength`` pseudo-observations: a topic with
    little evidence sits at the outlet's mean. ``None`` when no topic of the claim has a record.
    """
    records = [context.topic_records[t] for t in context.topics if t in context.topic_records]
    if not records:
        return None
    counts = [_raw_counts(record) for record in records]
    successes = sum(s for s, _ in counts) / len(counts)
    failures = sum(f for _, f in counts) / len(counts)
    if context.outlet_record is not None:
        prior_mean = context.outlet_record.mean
    else:
        prior_mean = sum(record.prior_mean for record in records) / len(records)
    return posterior(successes, failures, prior_mean, prior_strength, level=level)


def _flag(value: bool | None) -> tuple[float, float]:
    """(is true, is unknown) for a yes / no / unknown fact."""
    if value is None:
        return 0.0, 1.0
    return (1.0 if value else 0.0), 0.0


def _yes_no(value: bool | None) -> tuple[float, float]:
    """(is true, is false) for a fact with a known direction: unknown is (0, 0), between them."""
    if value is None:
        return 0.0, 0.0
    return (1.0, 0.0) if value else (0.0, 1.0)


def featurize(
    context: ClaimContext, *, topic_prior_strength: float = DEFAULT_PRIOR_STRENGTH
) -> FeatureRow:
    """The features of one claim (see ``NUMERIC_FEATURES`` for the numeric columns)."""
    record = context.outlet_record
    if record is None:
        outlet = (0.5, 0.0, 1.0, 1.0)
    else:
        outlet = (record.mean, log_count(record.evidence), 0.0 if record.rated else 1.0, 0.0)
    # Without a topic record the outlet's own mean stands in, so a better outlet record raises
    # both columns: with both coefficients >= 0 the score never falls as the record improves.
    topic = topic_reliability(context, topic_prior_strength)
    if topic is None:
        topic_values = (outlet[0], 0.0, 1.0)
    else:
        topic_values = (topic.mean, log_count(topic.evidence), 0.0)
    transparency: list[float] = []
    for practice in TRANSPARENCY_PRACTICES:
        transparency.extend(_flag(context.transparency.get(practice)))
    # Unknown corroboration, consensus or dependence is all zeros, between the two directions.
    count = context.independent_corroborations
    corroboration = (0.0, 0.0) if count is None else (log_count(count), 1.0 if count == 0 else 0.0)
    if context.consensus_distance is None:
        consensus = (0.0, 0.0)
    else:
        distance = math.log1p(min(abs(context.consensus_distance), MAX_CONSENSUS_DISTANCE))
        consensus = (max(0.0, _LOG_AGREEMENT - distance), max(0.0, distance - _LOG_AGREEMENT))
    words = tokenize(context.text)
    wording = text_features(context.text, words)
    log1p = math.log1p
    numeric = (
        *outlet,
        *topic_values,
        *_yes_no(context.party_to_conflict),
        *transparency,
        *_flag(context.on_the_ground),
        *corroboration,
        *consensus,
        context.source_dependence or 0.0,
        log1p(wording.figures),
        log1p(wording.places),
        log1p(wording.dates),
        log1p(wording.people),
        log1p(wording.attributions),
        float(wording.specificity),
        log1p(wording.hedges),
        log1p(wording.absolutes),
        log1p(wording.words),
        1.0 if wording.question else 0.0,
    )
    return FeatureRow(
        numeric=numeric,
        tokens=indicator_tokens(context),
        text=context.text,
        words=words,
        wording=wording,
        topic_record=topic,
    )


def indicator_tokens(context: ClaimContext) -> tuple[str, ...]:
    """Categorical facts as indicator tokens: outlet kind, topics, metadata values."""
    kind = context.outlet_kind.strip().lower() if context.outlet_kind else "unknown"
    tokens = [f"kind={kind}"]
    tokens.extend(f"topic={topic.strip().lower()}" for topic in context.topics if topic.strip())
    for key, value in context.metadata.items():
        cleaned = value.strip().lower()
        if cleaned:
            tokens.append(f"{METADATA_PREFIX}{key}={cleaned}")
    return tuple(tokens)


def token_group(token: str) -> str:
    """The explanation group of an indicator token."""
    if token.startswith("kind="):
        return OUTLET_KIND
    if token.startswith("topic="):
        return TOPICS
    if token.startswith(METADATA_PREFIX):
        key = token[len(METADATA_PREFIX) :].split("=", 1)[0]
        return f"{METADATA_PREFIX}{key}"
    raise ValueError(f"token {token!r} belongs to no feature group")


def _percent(value: float) -> str:
    return f"{100.0 * value:.0f}%"


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def outlet_record_phrase(record: Reliability | None) -> str:
    """What the outlet's track record says, in a desk editor's words."""
    if record is None:
        return "outlet has no track record"
    if not record.rated:
        return f"outlet has almost no track record ({record.evidence:.1f} verdicts)"
    return (
        f"outlet's track record: {_percent(record.mean)} held up "
        f"(range {_percent(record.low)}-{_percent(record.high)}, "
        f"{count_noun(round(record.evidence), 'verdict')})"
    )


def topic_record_phrase(topics: Sequence[str], topic: Reliability | None) -> str:
    """What the outlet's record on the claim's ``topics`` (``topic_reliability``) says."""
    if topic is None:
        return "no record on this topic; outlet's overall record used"
    return (
        f"outlet's record on {', '.join(topics)}: {_percent(topic.mean)} held up "
        f"({count_noun(round(topic.evidence), 'verdict')}, shrunk toward its overall record)"
    )


def describe(group: str, context: ClaimContext, row: FeatureRow) -> str:
    """A desk editor's phrase for what ``group`` says about this claim."""
    record = context.outlet_record
    wording = row.wording
    if group == OUTLET_RECORD:
        return outlet_record_phrase(record)
    if group == TOPIC_RECORD:
        return topic_record_phrase(context.topics, row.topic_record)
    if group == OUTLET_KIND:
        return outlet_kind_phrase(context.outlet_kind)
    if group == PARTY_TO_CONFLICT:
        return {
            True: "outlet is a party to this conflict",
            False: "outlet is not a party to this conflict",
            None: "unknown whether the outlet is a party to this conflict",
        }[context.party_to_conflict]
    if group == TRANSPARENCY:
        known = {p: v for p, v in context.transparency.items() if p in TRANSPARENCY_PRACTICES}
        if not known:
            return "outlet's transparency practices unknown"
        lacking = [p.replace("_", " ") for p, v in known.items() if not v]
        held = sum(1 for v in known.values() if v)
        text = f"outlet follows {held} of {count_noun(len(known), 'known transparency practice')}"
        return f"{text} (lacks: {', '.join(lacking)})" if lacking else text
    if group == ON_THE_GROUND:
        return {
            True: "outlet has people on the ground",
            False: "outlet is not on the ground",
            None: "unknown whether the outlet is on the ground",
        }[context.on_the_ground]
    if group == CORROBORATION:
        count = context.independent_corroborations
        if count is None:
            return "corroboration unknown"
        if count == 0:
            return "no independent corroboration"
        return f"corroborated by {count_noun(count, 'independent source')}"
    if group == CONSENSUS:
        if context.consensus_distance is None:
            return "no consensus figure to compare with"
        if context.consensus_distance == 0:
            return "figure matches the consensus"
        return f"figure is {_percent(abs(context.consensus_distance))} away from the consensus"
    if group == DEPENDENCE:
        dependence = context.source_dependence
        if dependence is None:
            return "unknown whether the outlet depends on another source"
        if dependence == 0:
            return "no sign that the outlet copies another source"
        return f"{_percent(dependence)} chance that the outlet copied this from another source"
    if group == SPECIFICITY:
        details = [
            name
            for name, count in (
                ("figures", wording.figures),
                ("places", wording.places),
                ("dates", wording.dates),
                ("named people", wording.people),
                ("attribution", wording.attributions),
            )
            if count
        ]
        if not details:
            return "claim is vague: no figures, places, dates, names or attribution"
        return f"claim is specific: {_join(details)}"
    if group == HEDGING:
        if wording.hedges:
            return f"claim hedges ({count_noun(wording.hedges, 'hedging word')})"
        return "claim does not hedge"
    if group == ABSOLUTES:
        if wording.absolutes:
            return f"claim uses {count_noun(wording.absolutes, 'absolute')}"
        return "claim uses no absolutes"
    if group == LENGTH:
        question = ", phrased as a question" if wording.question else ""
        return f"claim length: {count_noun(wording.words, 'word')}{question}"
    if group == TOPICS:
        return f"topic: {', '.join(context.topics)}" if context.topics else "no topic"
    if group.startswith(METADATA_PREFIX):
        key = group[len(METADATA_PREFIX) :]
        value = context.metadata.get(key, "")
        return f"{key.replace('_', ' ')}: {value}" if value else f"{key.replace('_', ' ')} unknown"
    if group == WORDING:
        return "claim wording"
    if group == CHARACTERS:
        return "spelling and character patterns"
    raise ValueError(f"unknown feature group {group!r}")
