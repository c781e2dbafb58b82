"""The one exception the client raises for a refused request: the RFC 9457 problem, typed."""

from __future__ import annotations

import email.utils
import math
import time
from typing import Any

import httpx

PROBLEM_MEMBERS = ("type", "title", "status", "detail")


class CredscoreError(Exception):
    """The service answered with an error (a problem+json document, or something else).

    ``extra`` holds the problem's other members: ``instance``, ``request_id``, ``errors`` (per
    field, for 422), ``quality_gate``... A response that is not problem+json (a proxy's 502
    page) still becomes one: type ``about:blank``, the reason phrase as title, the text as detail.
    """

    def __init__(
        self,
        status: int,
        type: str,
        title: str,
        detail: str,
        extra: dict[str, Any] | None = None,
        *,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{status} {title}: {detail}")
        self.status = status
        self.type = type
        self.title = title
        self.detail = detail
        self.extra = extra or {}
        self.retry_after = retry_after

    @property
    def request_id(self) -> str | None:
        value = self.extra.get("request_id")
        return value if isinstance(value, str) else None

    @property
    def errors(self) -> list[dict[str, Any]]:
        """Per-field errors ({loc, message, type}) of a validation problem; empty otherwise."""
        value = self.extra.get("errors")
        return value if isinstance(value, list) else []

    @classmethod
    def from_response(cls, response: httpx.Response) -> CredscoreError:
        retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        document: Any = None
        if "json" in response.headers.get("Content-Type", ""):
            try:
                document = response.json()
            except ValueError:
                document = None
        if not isinstance(document, dict) or not {"title", "detail"} <= document.keys():
            return cls(
                response.status_code,
                "about:blank",
                response.reason_phrase,
                response.text[:500],
                {"body": document} if document is not None else None,
                retry_after=retry_after,
            )
        return cls(
            int(document.get("status", response.status_code)),
            str(document.get("type", "about:blank")),
            str(document["title"]),
            str(document["detail"]),
            {key: value for key, value in document.items() if key not in PROBLEM_MEMBERS},
            retry_after=retry_after,
        )


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    return max(0.0, seconds) if math.isfinite(seconds) else None
