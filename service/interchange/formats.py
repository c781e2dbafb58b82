"""Reading import files (CSV or TSV tables, ClaimReview JSON-LD) into plain items, and writing
ClaimReview documents. Nothing here touches the database: every problem with an item becomes a
``FieldError`` that names where it is (``["row", 7, "fact"]``, ``["item", 3, "reviewRating"]``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypedDict
from urllib.parse import urlsplit

from pydantic import TypeAdapter, ValidationError

from scoring.reliability import Rating
from service.errors import FieldError
from service.interchange.ratings import (
    BEST_RATING,
    RATING_LABELS,
    WORST_RATING,
    RatingMapping,
    UnknownRating,
    rating_value,
)
from service.schemas import AwareDatetime

SCHEMA_ORG = "https://schema.org"
_AWARE = TypeAdapter(AwareDatetime)


@dataclass
class Table:
    """A CSV or TSV file: its header (lower case) and its rows with their line numbers."""

    columns: list[str]
    rows: list[tuple[int, dict[str, str]]]


def read_table(text: str) -> Table:
    """Parse a table with a header row; tab-separated when the header has a tab, else commas.

    Line numbers count the header as line 1, as a spreadsheet shows them.
    """
    text = text.lstrip("\ufeff")
    header_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in header_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return Table([], [])
    columns = [name.strip().lower() for name in header]
    rows = []
    for values in reader:
        if not any(value.strip() for value in values):
            continue
        row = {name: value.strip() for name, value in zip(columns, values, strict=False) if name}
        rows.append((reader.line_num, row))
    return Table(columns, rows)


def first_of(row: Mapping[str, str], *names: str) -> str | None:
    """The first non-empty value among the columns ``names``."""
    for name in names:
        value = row.get(name)
        if value:
            return value
    return None


def host_of(url: str | None) -> str | None:
    """The host of a web address (or a bare domain), lower case, without ``www.``."""
    if not url:
        return None
    candidate = url.strip()
    if "://" not in candidate:
        candidate = "http://" + candidate
    host = (urlsplit(candidate).hostname or "").lower()
    host = host.removeprefix("www.")
    return host or None


def site_of(url: str | None) -> str | None:
    """What names an outlet on the web: its host (without ``www.``) and path, lower case.

    ``https://www.pri.org/`` is ``pri.org``; ``http://www.pri.org/programs/globalpost`` is a
    different outlet, ``pri.org/programs/globalpost``.
    """
    host = host_of(url)
    if host is None or url is None:
        return None
    candidate = url.strip() if "://" in url else "http://" + url.strip()
    path = urlsplit(candidate).path.rstrip("/").lower()
    return host + path


def parse_moment(value: str, loc: list[str | int], errors: list[FieldError]) -> datetime | None:
    """An ISO 8601 moment with its offset (a bare date counts as midnight UTC)."""
    text = value.strip()
    if len(text) == 10:
        text += "T00:00:00Z"
    try:
        return _AWARE.validate_python(text)
    except ValidationError:
        errors.append(
            FieldError(
                loc=loc,
                message=f"{value!r} is not an ISO 8601 date or date-time with a UTC offset",
                type="datetime_parsing",
            )
        )
        return None


@dataclass
class VerdictItem:
    """One verdict to import, whatever file it came from; ``loc`` names it in error reports."""

    loc: list[str | int]
    rating: Rating
    source: str
    decided_at: datetime
    claim_id: int | None = None
    claim_url: str | None = None
    claim_text: str | None = None
    published_at: datetime | None = None
    outlet_slug: str | None = None
    outlet_name: str | None = None
    outlet_url: str | None = None
    review_url: str | None = None
    note: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


# The columns a verdict table gives its rating in (a label, or a number on a scale).
RATING_COLUMNS = ("rating", "alternatename", "verdict", "rating_value", "ratingvalue")


class _Required(TypedDict):
    """What every ``VerdictItem`` has, whatever the file names its claim by."""

    loc: list[str | int]
    rating: Rating
    source: str
    decided_at: datetime


def _required(
    loc: list[str | int],
    problems: list[FieldError],
    errors: list[FieldError],
    rating: Rating | None,
    source: str | None,
    decided_at: datetime | None,
) -> _Required | None:
    """What every verdict needs; None where the item lacks some of it or has other problems
    (then its problems, a lacking field among them, go to ``errors``)."""
    if problems or rating is None or source is None or decided_at is None:
        errors.extend(problems)
        return None
    return _Required(loc=loc, rating=rating, source=source, decided_at=decided_at)


def verdicts_from_table(
    table: Table, mapping: RatingMapping
) -> tuple[list[VerdictItem], list[FieldError]]:
    """Verdict rows: ``rating``, ``source``, ``decided_at`` and a claim, named by ``claim_id``,
    by ``claim_url``, or by its outlet (``outlet``: slug or web address; ``outlet_name``) and
    ``text`` with ``published_at``; optional ``review_url`` and ``note``."""
    if not set(RATING_COLUMNS) & set(table.columns):
        # Not a verdict table (or not a table at all): refused, not read as zero rows.
        found = ", ".join(table.columns) or "none"
        return [], [
            FieldError(
                loc=["header"],
                message=f"no rating column: give one of {', '.join(RATING_COLUMNS)} "
                f"(columns found: {found})",
                type="missing",
            )
        ]
    items: list[VerdictItem] = []
    errors: list[FieldError] = []
    for line, row in table.rows:
        loc: list[str | int] = ["row", line]
        problems: list[FieldError] = []
        label = first_of(row, "rating", "alternatename", "verdict")
        rating: Rating | None = None
        try:
            rating = mapping.resolve(label, *_numbers(row, loc, problems))
        except UnknownRating as exc:
            problems.append(FieldError(loc=[*loc, "rating"], message=str(exc), type="rating"))
        source = first_of(row, "source", "reviewer", "author")
        if source is None:
            problems.append(
                FieldError(loc=[*loc, "source"], message="who decided is missing", type="missing")
            )
        decided_text = first_of(row, "decided_at", "date_published", "review_date")
        decided_at = (
            parse_moment(decided_text, [*loc, "decided_at"], problems) if decided_text else None
        )
        if decided_text is None:
            problems.append(FieldError(loc=[*loc, "decided_at"], message="missing", type="missing"))
        published_text = first_of(row, "published_at", "claim_date")
        published_at = (
            parse_moment(published_text, [*loc, "published_at"], problems)
            if published_text
            else None
        )
        claim_id_text = first_of(row, "claim_id")
        claim_id = None
        if claim_id_text is not None:
            if claim_id_text.isdigit() and 0 < int(claim_id_text) < 2**31:
                claim_id = int(claim_id_text)
            else:
                problems.append(
                    FieldError(loc=[*loc, "claim_id"], message="not a claim id", type="int_parsing")
                )
        outlet = first_of(row, "outlet", "outlet_slug", "outlet_url")
        required = _required(loc, problems, errors, rating, source, decided_at)
        if required is None:
            continue
        items.append(
            VerdictItem(
                claim_id=claim_id,
                claim_url=first_of(row, "claim_url", "url"),
                claim_text=first_of(row, "text", "claim", "claim_reviewed"),
                published_at=published_at,
                outlet_slug=outlet if outlet and "." not in outlet else None,
                outlet_url=outlet if outlet and "." in outlet else None,
                outlet_name=first_of(row, "outlet_name", "claimant"),
                review_url=first_of(row, "review_url"),
                note=first_of(row, "note"),
                **required,
            )
        )
    return items, errors


def _numbers(
    row: Mapping[str, str], loc: list[str | int], errors: list[FieldError]
) -> tuple[float | None, float | None, float | None]:
    values: list[float | None] = []
    for name in ("rating_value", "best_rating", "worst_rating"):
        text = first_of(row, name, name.replace("_", ""))
        if text is None:
            values.append(None)
            continue
        try:
            values.append(float(text))
        except ValueError:
            errors.append(FieldError(loc=[*loc, name], message="not a number", type="float"))
            values.append(None)
    return values[0], values[1], values[2]


def claimreview_nodes(document: Any) -> Iterator[tuple[list[str | int], Any]]:
    """The ClaimReview objects of a JSON-LD document: one object, an array, or an ``@graph``."""
    if isinstance(document, list):
        for index, node in enumerate(document):
            yield ["item", index], node
    elif isinstance(document, dict) and isinstance(document.get("@graph"), list):
        for index, node in enumerate(document["@graph"]):
            yield ["@graph", index], node
    else:
        yield ["item", 0], document


def _types(node: Mapping[str, Any]) -> set[str]:
    declared = node.get("@type", ())
    names = [declared] if isinstance(declared, str) else list(declared)
    return {str(name).rsplit("/", 1)[-1] for name in names}


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, list) and value:
        return _text(value[0])
    if isinstance(value, dict):
        return _text(value.get("@value"))
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = _text(value)
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _party(value: Any) -> Mapping[str, Any]:
    """An author or publisher: an object, or the first of a list, or just a name."""
    if isinstance(value, list) and value:
        value = value[0]
    if isinstance(value, str):
        return {"name": value}
    return value if isinstance(value, dict) else {}


def verdicts_from_claimreview(
    document: Any, mapping: RatingMapping
) -> tuple[list[VerdictItem], list[FieldError]]:
    """ClaimReview objects as verdicts: ``claimReviewed`` is the claim's text, ``itemReviewed``
    (a Claim) names its ``author`` (the outlet), ``datePublished`` and where it appeared
    (``appearance``/``url``); ``reviewRating`` is the verdict, ``author`` who decided,
    ``datePublished`` when, ``url`` the review. Nodes of other types in a ``@graph`` are skipped."""
    items: list[VerdictItem] = []
    errors: list[FieldError] = []
    for loc, node in claimreview_nodes(document):
        if not isinstance(node, dict):
            errors.append(FieldError(loc=loc, message="not a JSON object", type="object_type"))
            continue
        if "ClaimReview" not in _types(node):
            if loc[0] == "@graph":
                continue
            errors.append(FieldError(loc=[*loc, "@type"], message="not a ClaimReview", type="type"))
            continue
        problems: list[FieldError] = []
        review_rating = node.get("reviewRating")
        review_rating = review_rating[0] if isinstance(review_rating, list) else review_rating
        rating: Rating | None = None
        if not isinstance(review_rating, dict):
            problems.append(
                FieldError(loc=[*loc, "reviewRating"], message="missing", type="missing")
            )
        else:
            try:
                rating = mapping.resolve(
                    _text(review_rating.get("alternateName")),
                    _number(review_rating.get("ratingValue")),
                    _number(review_rating.get("bestRating")),
                    _number(review_rating.get("worstRating")),
                )
            except UnknownRating as exc:
                problems.append(
                    FieldError(loc=[*loc, "reviewRating"], message=str(exc), type="rating")
                )
        source = _text(_party(node.get("author")).get("name"))
        if source is None:
            problems.append(
                FieldError(
                    loc=[*loc, "author", "name"],
                    message="who reviewed the claim is missing",
                    type="missing",
                )
            )
        decided_text = _text(node.get("datePublished"))
        decided_at = None
        if decided_text is None:
            problems.append(
                FieldError(loc=[*loc, "datePublished"], message="missing", type="missing")
            )
        else:
            decided_at = parse_moment(decided_text, [*loc, "datePublished"], problems)
        reviewed = node.get("itemReviewed")
        reviewed = reviewed if isinstance(reviewed, dict) else {}
        claimant = _party(reviewed.get("author"))
        published_text = _text(reviewed.get("datePublished"))
        published_at = (
            parse_moment(published_text, [*loc, "itemReviewed", "datePublished"], problems)
            if published_text
            else None
        )
        appearance = reviewed.get("appearance") or reviewed.get("firstAppearance")
        appearance = _party(appearance) if appearance is not None else {}
        claim_url = _text(appearance.get("url")) or _text(reviewed.get("url"))
        required = _required(loc, problems, errors, rating, source, decided_at)
        if required is None:
            continue
        items.append(
            VerdictItem(
                claim_url=claim_url,
                claim_text=_text(node.get("claimReviewed")) or _text(reviewed.get("text")),
                published_at=published_at,
                outlet_name=_text(claimant.get("name")),
                outlet_url=_text(claimant.get("url")),
                review_url=_text(node.get("url")),
                **required,
            )
        )
    return items, errors


def parse_verdicts(
    text: str, content_type: str | None, mapping: RatingMapping
) -> tuple[list[VerdictItem], list[FieldError]]:
    """Verdicts from a CSV/TSV table or ClaimReview JSON-LD (told by the media type, else by
    the first character: ``{`` or ``[`` is JSON)."""
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    looks_json = text.lstrip()[:1] in ("{", "[")
    if kind.endswith("json") or (not kind.startswith("text/") and looks_json):
        try:
            document = json.loads(text)
        except ValueError as exc:
            return [], [FieldError(loc=["body"], message=f"invalid JSON: {exc}", type="json")]
        return verdicts_from_claimreview(document, mapping)
    return verdicts_from_table(read_table(text), mapping)


@dataclass(frozen=True)
class ReviewedClaim:
    """What a ClaimReview says about one claim and its newest verdict."""

    claim_id: int
    text: str
    published_at: datetime
    claim_url: str | None
    outlet_name: str
    outlet_url: str | None
    rating: Rating
    decided_at: datetime
    review_url: str | None
    reviewer: str
    reviewer_url: str | None


def claimreview_document(item: ReviewedClaim, *, fallback_url: str) -> dict[str, Any]:
    """A schema.org ClaimReview of the claim, with the verdict as its ``reviewRating``."""
    claimant: dict[str, Any] = {"@type": "Organization", "name": item.outlet_name}
    if item.outlet_url:
        claimant["url"] = item.outlet_url
    claim: dict[str, Any] = {
        "@type": "Claim",
        "author": claimant,
        "datePublished": item.published_at.isoformat(),
    }
    if item.claim_url:
        claim["appearance"] = {"@type": "CreativeWork", "url": item.claim_url}
    rating: dict[str, Any] = {
        "@type": "Rating",
        "bestRating": BEST_RATING,
        "worstRating": WORST_RATING,
        "alternateName": RATING_LABELS[item.rating],
    }
    value = rating_value(item.rating)
    if value is not None:
        rating["ratingValue"] = value
    reviewer: dict[str, Any] = {"@type": "Organization", "name": item.reviewer}
    if item.reviewer_url:
        reviewer["url"] = item.reviewer_url
    return {
        "@context": SCHEMA_ORG,
        "@type": "ClaimReview",
        "url": item.review_url or fallback_url,
        "claimReviewed": item.text,
        "itemReviewed": claim,
        "reviewRating": rating,
        "author": reviewer,
        "datePublished": item.decided_at.isoformat(),
    }
