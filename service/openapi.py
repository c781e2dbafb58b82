"""What routes declare for the OpenAPI document: operation ids for client generators
(`<tag>_<action>`: claims_create, outlets_list, ...) and the responses of non-JSON bodies."""

from __future__ import annotations

import re
from typing import Any

from fastapi.routing import APIRoute

from service.errors import problem_responses


def operation_id(route: APIRoute) -> str:
    """The route's first tag, then its function name with the tag's noun taken out.

    `create_outlet` under the tag "outlets" is `outlets_create`, `list_api_keys` under
    "api keys" is `api_keys_list`, `get_reliability` stays `outlets_get_reliability`. Set once
    on the app (generate_unique_id_function), so a new route gets a readable id by being named
    like the others; tests/service/test_openapi.py checks that the ids are unique.
    """
    tag = str(route.tags[0]) if route.tags else "default"
    prefix = re.sub(r"\W+", "_", tag.strip().lower())
    singular = prefix.removesuffix("s")
    action = re.sub(rf"(^|_)({re.escape(prefix)}|{re.escape(singular)})(?=_|$)", "", route.name)
    return f"{prefix}_{action.strip('_') or route.name}"


def body_responses(
    media_type: str,
    description: str,
    *problems: int,
    schema_type: str = "string",
    schema: dict[str, Any] | None = None,
) -> dict[int | str, dict[str, Any]]:
    """``responses`` of an operation whose 200 is not JSON (a stream, a file, JSON-LD): that
    body (``schema``, else one of ``schema_type``), then the problem documents
    (``problem_responses(*problems)``)."""
    return {
        200: {
            "content": {media_type: {"schema": schema or {"type": schema_type}}},
            "description": description,
        },
        **problem_responses(*problems),
    }


# One Server-Sent Event of an event stream (its fields, as SSE tools validate each event).
SERVER_SENT_EVENT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "description": "The event id, to resume after (Last-Event-ID)."},
        "event": {"type": "string", "description": "The event type, e.g. claim.scored."},
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "description": "The event as JSON: {type, timestamp, data}.",
        },
    },
    "required": ["data"],
}
