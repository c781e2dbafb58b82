from __future__ import annotations

import json

from scoring.reliability import Rating
from service.interchange.formats import (
    parse_verdicts,
    read_table,
    site_of,
    verdicts_from_claimreview,
)
from service.interchange.ratings import RatingMapping

MAPPING = RatingMapping.load(None)


def _review(rating: dict[str, object], **overrides: object) -> dict[str, object]:
    review: dict[str, object] = {
        "@type": "ClaimReview",
        "claimReviewed": "Taxes doubled.",
        "author": {"@type": "Organization", "name": "Checker"},
        "datePublished": "2024-02-01",
        "itemReviewed": {
            "@type": "Claim",
            "author": {"name": "Bugle", "url": "https://bugle.example"},
            "datePublished": "2024-01-01",
            "appearance": [{"url": "https://bugle.example/a/1"}],
        },
        "reviewRating": rating,
    }
    review.update(overrides)
    return review


def test_read_table_tells_tabs_from_commas_and_counts_lines_from_the_header() -> None:
    table = read_table("A\tB\nx\ty\n\n1\t2\n")
    assert table.columns == ["a", "b"]
    assert table.rows == [(2, {"a": "x", "b": "y"}), (4, {"a": "1", "b": "2"})]
    assert read_table('a,b\n"x, y",z\n').rows == [(2, {"a": "x, y", "b": "z"})]


def test_site_is_host_and_path() -> None:
    assert site_of("https://www.pri.org/") == "pri.org"
    assert site_of("http://www.pri.org/programs/globalpost") == "pri.org/programs/globalpost"
    assert site_of("bugle.example") == "bugle.example"
    assert site_of(None) is None


def test_claimreview_object_array_and_graph() -> None:
    one = _review({"alternateName": "False"})
    for document in (one, [one], {"@context": "https://schema.org", "@graph": [one]}):
        items, errors = verdicts_from_claimreview(document, MAPPING)
        assert errors == []
        (item,) = items
        assert item.rating is Rating.FALSE
        assert (item.claim_text, item.outlet_name, item.outlet_url) == (
            "Taxes doubled.",
            "Bugle",
            "https://bugle.example",
        )
        assert item.claim_url == "https://bugle.example/a/1"
        assert item.published_at is not None
        assert item.published_at.isoformat() == "2024-01-01T00:00:00+00:00"


def test_claimreview_errors_name_the_item_and_property() -> None:
    document = [
        _review({"alternateName": "Sort of"}),
        _review({"alternateName": "True"}, author={}),
        _review({"alternateName": "True"}, datePublished="yesterday"),
        {"@type": "WebPage"},
    ]
    items, errors = verdicts_from_claimreview(document, MAPPING)
    assert items == []
    assert [error.loc for error in errors] == [
        ["item", 0, "reviewRating"],
        ["item", 1, "author", "name"],
        ["item", 2, "datePublished"],
        ["item", 3, "@type"],
    ]


def test_graph_nodes_of_other_types_are_skipped() -> None:
    document = {
        "@graph": [
            {"@type": "Organization", "name": "x"},
            _review({"ratingValue": 5, "bestRating": 5, "worstRating": 1}),
        ]
    }
    items, errors = verdicts_from_claimreview(document, MAPPING)
    assert errors == []
    assert [item.rating for item in items] == [Rating.TRUE]


def test_parse_verdicts_tells_json_from_csv() -> None:
    items, errors = parse_verdicts(json.dumps(_review({"alternateName": "True"})), None, MAPPING)
    assert (len(items), errors) == (1, [])
    items, errors = parse_verdicts(
        "claim_id,rating,source,decided_at\n7,Pants on Fire,desk,2024-01-01\n", "text/csv", MAPPING
    )
    assert errors == []
    assert (items[0].claim_id, items[0].rating) == (7, Rating.FALSE)
    _, errors = parse_verdicts("{not json", "application/ld+json", MAPPING)
    assert errors[0].type == "json"
