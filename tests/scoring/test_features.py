import math
from typing import Any

import pytest

from scoring.features import (
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
    assert value(context, "outlet_interval_width") == pytest.approx(record.high - record.low)
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
    assert value(context, "topic_minus_outlet") == pytest.approx(thick_topic.mean - outlet.mean)
    assert value(context, "topic_record_missing") == 0.0


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
    )
    assert value(known, "party_to_conflict") == 1.0
    assert value(known, "party_to_conflict_unknown") == 0.0
    assert value(known, "on_the_ground") == 0.0
    assert value(known, "on_the_ground_unknown") == 0.0
    assert value(known, "transparency_methodology") == 1.0
    assert value(known, "transparency_names_sources") == 0.0
    assert value(known, "transparency_names_sources_unknown") == 0.0
    assert value(known, "transparency_corrections_policy_unknown") == 1.0
    assert value(known, "corroborations_log") == pytest.approx(math.log1p(3))
    assert value(known, "consensus_distance_log") == pytest.approx(math.log1p(0.5))
    unknown = ClaimContext(text="t", outlet="x")
    assert value(unknown, "party_to_conflict_unknown") == 1.0
    assert value(unknown, "corroborations_unknown") == 1.0
    assert value(unknown, "consensus_unknown") == 1.0


def test_invalid_context_is_refused() -> None:
    with pytest.raises(ValueError, match="transparency"):
        ClaimContext(text="t", outlet="x", transparency={"vibes": True})
    with pytest.raises(ValueError, match="non-negative"):
        ClaimContext(text="t", outlet="x", independent_corroborations=-1)


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
