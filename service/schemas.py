"""The schema base and the pieces every domain's schemas share (pagination, timestamps)."""

from __future__ import annotations

import base64
import binascii
import math
import re
from datetime import UTC, datetime
from typing import Annotated

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    field_validator,
)

from service.errors import FieldError, InvalidInput


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)


class StrictInput(BaseModel):
    """Input bodies: unknown fields are refused rather than silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_characters(cls, value: object) -> object:
        # PostgreSQL text cannot hold NUL; refusing it here keeps both backends alike.
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(text, str) and "\x00" in text for text in texts):
            raise ValueError("text must not contain NUL characters")
        return value


_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")
MAX_DATABASE_ID = 2**31 - 1
# A row id in a request body: ids are 32-bit, and SQLite cannot even bind one past 2**63.
DatabaseId = Annotated[int, Strict(), Field(ge=1, le=MAX_DATABASE_ID)]


def _iso_text(value: object) -> object:
    # Pydantic would read a number as Unix seconds; the API documents ISO 8601 text only.
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or _NUMBER.fullmatch(value):
        raise ValueError("timestamp must be ISO 8601 text, e.g. 2017-08-21T22:00:00Z")
    return value


def _aware_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp needs a time zone, e.g. 2017-08-21T22:00:00Z")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("timestamp is outside the supported range") from None


AwareDatetime = Annotated[datetime, BeforeValidator(_iso_text), AfterValidator(_aware_utc)]
# Body fields take JSON numbers and booleans only: no "5" for 5, no "yes" for true.
StrictCount = Annotated[int, Strict()]
StrictFlag = Annotated[bool, Strict()]


def database_id(reference: str) -> int | None:
    """A path or query reference as a row id, or None when it is not a plain in-range number."""
    if not (reference.isascii() and reference.isdigit()):
        return None
    number = int(reference)
    return number if 1 <= number <= MAX_DATABASE_ID else -1


# Figures beyond this are not counts of anything a newsroom reports, and beyond 2**53 a float
# would silently lose integer precision.
MAX_FIGURE = 1e15


def _finite_figure(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("figure must be a finite number")
    return value


Figure = Annotated[
    float, Strict(), Field(ge=-MAX_FIGURE, le=MAX_FIGURE), AfterValidator(_finite_figure)
]
Slug = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[a-z0-9][a-z0-9-]*$")]
Topic = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[a-z0-9][a-z0-9_-]*$")]


def encode_cursor(last_id: int, *, descending: bool = False) -> str:
    payload: dict[str, object] = {"after": last_id}
    if descending:
        payload["order"] = "desc"
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


def decode_cursor(cursor: str | None, *, descending: bool = False) -> int | None:
    """The id a page continues after; a cursor this service did not issue, or one issued for
    the other order, is a 422."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
        after, order = payload["after"], payload.get("order", "asc")
    except (binascii.Error, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise _invalid_cursor() from exc
    # Ids are 32-bit: a larger number is no row's, and SQLite cannot even bind one past 2**63.
    if not isinstance(after, int) or isinstance(after, bool) or not 0 <= after <= MAX_DATABASE_ID:
        raise _invalid_cursor()
    if order != ("desc" if descending else "asc"):
        raise _invalid_cursor("The cursor belongs to the other order; pass the same order.")
    return after


_FOREIGN_CURSOR = (
    "The cursor is not one this service issued; pass next_cursor from a previous page."
)


def _invalid_cursor(detail: str = _FOREIGN_CURSOR) -> InvalidInput:
    return InvalidInput(
        detail,
        errors=[FieldError(loc=["query", "cursor"], message="invalid cursor", type="cursor")],
    )


class PageMeta(Schema):
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )
