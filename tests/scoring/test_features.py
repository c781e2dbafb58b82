import math
from typing import Any

import pytest

from scoring.features import (
    CONSENSUS,
    DEPENDENCE,
    NUMERIC_FEATURE_INDEX,
    NUMERIC_FEATURE_NAMES,
    NUMERIC_FEATURES,
    OUTLET_KIND,
    PARTY_TO_CONFLICT,
    TOPICS,
    ClaimContext,
    describe,
    featurize,
    token_group,
    topic_reliability,
)
from scoring.reliability import posterior


def value(context: ClaimContext, name: str) -> float:
    return featurize(context).numeric[NUMERIC_FEATURE_INDEX[name]]


def test_feature_names_are_unique_and_grouped() -> None:
    assert len(set(NUMERIC_FEATURE_NAMES)) == len(NUMERIC_FEATURE_NAMES)
    row = featurize(ClaimContext(text="Something happened.", outlet="x"))
    assert len(row.numeric) == len(NUMERIC_FEATURES)
    assert all(math.isfinite(v) for v in row.numeric)


def test_missing_record_is_flagged_not_treated_as_good() -> None:
    context = ClaimContext(text="t", outlet="x")
    assert value(context, "outlet_record_missing") == 1.0
    assert value(context, "outlet_unrated") == 1.0
    assert value(context, "topic_record_missing") == 1.0


def test_outlet_record_features_come_from_reliability() -> None:
    record = posterior(30.0, 10.0, 0.5)
    context = ClaimContext(text="t", outlet="x", outlet_record=record)
    assert value(context, "outlet_mean") == pytest.approx(record.mean)
    assert value(context, "outlet_log_evidence") == pytest.approx(math.log1p(40.0))
    assert value(context, "outlet_record_missing") == 0.0
    assert value(context, "outlet_unrated") == 0.0


def test_thin_topic_falls_back_to_outlet_and_thick_topic_stands() -> None:
    outlet = posterior(80.0, 20.0, 0.5)  # mean ~0.79
    thin = posterior(0.0, 1.0, 0.5)  # one failed claim on the topic
    thick = posterior(10.0, 90.0, 0.5)  # a long bad record on the topic
    base: dict[str, Any] = {
        "text": "t",
        "outlet": "x",
        "outlet_record": outlet,
        "topics": ("health",),
    }
    thin_topic = topic_reliability(ClaimContext(**base, topic_records={"health": thin}))
    thick_topic = topic_reliability(ClaimContext(**base, topic_records={"health": thick}))
    assert thin_topic is not None
    assert thick_topic is not None
    # Hierarchical shrinkage: posterior of the topic's own counts on the outlet's mean.
    assert thin_topic.mean == pytest.approx(posterior(0.0, 1.0, outlet.mean).mean)
    assert abs(thin_topic.mean - outlet.mean) < 0.2
    assert thick_topic.mean == pytest.approx(posterior(10.0, 90.0, outlet.mean).mean)
    assert thick_topic.mean < 0.2
    assert topic_reliability(ClaimContext(**base)) is None
    context = ClaimContext(**base, topic_records={"health": thick})
    assert value(context, "topic_mean") == pytest.approx(thick_topic.mean)
    assert value(context, "topic_record_missing") == 0.0
    # Without a topic record the outlet's mean stands in for the topic's.
    assert value(ClaimContext(**base), "topic_mean") == pytest.approx(outlet.mean)


def test_topics_without_records_are_ignored_and_others_pooled() -> None:
    outlet = posterior(5.0, 5.0, 0.5)
    records = {"a": posterior(4.0, 0.0, 0.5), "b": posterior(0.0, 4.0, 0.5)}
    context = ClaimContext(
        text="t", outlet="x", outlet_record=outlet, topics=("a", "b", "c"), topic_records=records
    )
    pooled = topic_reliability(context)
    assert pooled is not None
    assert pooled.mean == pytest.approx(posterior(2.0, 2.0, outlet.mean).mean)


def test_context_flags_and_missing_indicators() -> None:
    known = ClaimContext(
        text="t",
        outlet="x",
        party_to_conflict=True,
        on_the_ground=False,
        transparency={"methodology": True, "names_sources": False},
        independent_corroborations=3,
        consensus_distance=-0.5,
        source_dependence=0.8,
    )
    assert value(known, "party_to_conflict") == 1.0
    assert value(known, "not_party_to_conflict") == 0.0
    assert value(known, "on_the_ground") == 0.0
    assert value(known, "on_the_ground_unknown") == 0.0
    assert value(known, "transparency_methodology") == 1.0
    assert value(known, "transparency_names_sources") == 0.0
    assert value(known, "transparency_names_sources_unknown") == 0.0
    assert value(known, "transparency_corrections_policy_unknown") == 1.0
    assert value(known, "corroborations_log") == pytest.approx(math.log1p(3))
    assert value(known, "corroborations_none") == 0.0
    # 50% away: beyond the 10% that counts as agreeing, by log(1.5) - log(1.1).
    assert value(known, "consensus_far") == pytest.approx(math.log1p(0.5) - math.log1p(0.1))
    assert value(known, "consensus_close") == 0.0
    assert value(known, "source_dependence") == pytest.approx(0.8)
    close = ClaimContext(
        text="t",
        outlet="x",
        party_to_conflict=False,
        independent_corroborations=0,
        consensus_distance=0.0,
    )
    assert value(close, "not_party_to_conflict") == 1.0
    assert value(close, "corroborations_none") == 1.0
    assert value(close, "consensus_close") == pytest.approx(math.log1p(0.1))
    assert value(close, "consensus_far") == 0.0
    # Unknown facts with a known direction are all zeros: between the two directions.
    unknown = ClaimContext(text="t", outlet="x")
    for name in (
        "party_to_conflict",
        "not_party_to_conflict",
        "corroborations_log",
        "corroborations_none",
        "consensus_close",
        "consensus_far",
        "source_dependence",
    ):
        assert value(unknown, name) == 0.0, name


def test_invalid_context_is_refused() -> None:
    with pytest.raises(ValueError, match="transparency"):
        ClaimContext(text="t", outlet="x", transparency={"vibes": True})
    with pytest.raises(ValueError, match="non-negative"):
        ClaimContext(text="t", outlet="x", independent_corroborations=-1)
    with pytest.raises(ValueError, match="source_dependence"):
        ClaimContext(text="t", outlet="x", source_dependence=1.5)


def test_indicator_tokens_and_groups() -> None:
    context = ClaimContext(
        text="t",
        outlet="x",
        outlet_kind="State_Media",
        topics=("Conflict",),
        metadata={"party": "Republican", "state": " "},
    )
    tokens = featurize(context).tokens
    assert tokens == ("kind=state_media", "topic=conflict", "metadata:party=republican")
    assert [token_group(t) for t in tokens] == [OUTLET_KIND, TOPICS, "metadata:party"]
    with pytest.raises(ValueError, match="no feature group"):
        token_group("mystery")


def test_descriptions_read_like_a_desk_editor_would() -> None:
    party = ClaimContext(text="t", outlet="x", party_to_conflict=True)
    assert describe(PARTY_TO_CONFLICT, party, featurize(party)) == (
        "outlet is a party to this conflict"
    )
    record = ClaimContext(text="t", outlet="x", outlet_record=posterior(30.0, 10.0, 0.5))
    text = describe("outlet_record", record, featurize(record))
    assert text.startswith("outlet's track record: 73% held up")
    assert "40 verdicts" in text
    none = ClaimContext(text="t", outlet="x")
    assert describe("outlet_record", none, featurize(none)) == "outlet has no track record"


@pytest.mark.parametrize(
    ("kind", "phrase"),
    [
        ("ngo_monitor", "outlet is an NGO monitor"),
        ("activist_network", "outlet is an activist network"),
        ("state_media", "outlet is state media"),
        ("wire", "outlet is a wire service"),
        ("military_pao", "outlet is a military press office"),
        ("online", "outlet is an online outlet"),
        ("republican", "outlet kind: republican"),
        (None, "outlet kind unknown"),
    ],
)
def test_outlet_kinds_in_desk_words(kind: str | None, phrase: str) -> None:
    context = ClaimContext(text="t", outlet="x", outlet_kind=kind)
    assert describe(OUTLET_KIND, context, featurize(context)) == phrase


def test_dependence_and_consensus_descriptions() -> None:
    copied = ClaimContext(text="t", outlet="x", source_dependence=0.7, consensus_distance=0.0)
    row = featurize(copied)
    assert describe(DEPENDENCE, copied, row) == (
        "70% chance that the outlet copied this from another source"
    )
    assert describe(CONSENSUS, copied, row) == "figure matches the consensus"
    unknown = ClaimContext(text="t", outlet="x")
    assert describe(DEPENDENCE, unknown, featurize(unknown)) == (
        "unknown whether the outlet depends on another source"
    )
