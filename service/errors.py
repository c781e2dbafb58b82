"""One error type, rendered by one handler as RFC 9457 problem+json.

Domain code raises ``CredscoreError`` (or one of its named subclasses); the handlers below also
turn FastAPI's validation errors, unknown routes, oversize bodies and lost database connections
into problem documents, so no client ever has to parse an HTML page or a bare 500.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "/problems/"
DATABASE_RETRY_AFTER_SECONDS = 5

logger = logging.getLogger("credscore.errors")


class FieldError(BaseModel):
    """One invalid input: where it is, and what is wrong with it."""

    loc: list[str | int] = Field(
        description="Path to the field, e.g. ['body', 'claims', 3, 'text']."
    )
    message: str
    type: str = Field(description="Machine-readable error kind, e.g. 'missing', 'too_long'.")


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(description="URI reference naming the kind of problem.")
    title: str
    status: int
    detail: str
    instance: str | None = Field(default=None, description="The request path.")
    request_id: str | None = None
    errors: list[FieldError] | None = Field(
        default=None, description="Per-field errors, for validation problems."
    )


class CredscoreError(Exception):
    """An expected failure with its HTTP status; the message is safe to show to clients."""

    status_code: int = 400
    slug: str = "bad-request"

    def __init__(
        self,
        detail: str,
        *,
        status_code: int | None = None,
        slug: str | None = None,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if status_code is not None:
            self.status_code = status_code
        if slug is not None:
            self.slug = slug
        self.errors = errors
        self.headers = headers or {}
        # RFC 9457 extension members, added to the problem document as they are.
        self.extensions = extensions or {}


class NotFound(CredscoreError):
    status_code = 404
    slug = "not-found"


class Conflict(CredscoreError):
    status_code = 409
    slug = "conflict"


class PreconditionFailed(CredscoreError):
    status_code = 412
    slug = "precondition-failed"


class PreconditionRequired(CredscoreError):
    status_code = 428
    slug = "precondition-required"


class Unauthorized(CredscoreError):
    status_code = 401
    slug = "unauthorized"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="credscore"'})


class Forbidden(CredscoreError):
    status_code = 403
    slug = "forbidden"


class InvalidInput(CredscoreError):
    status_code = 422
    slug = "invalid-input"


class RateLimited(CredscoreError):
    status_code = 429
    slug = "too-many-requests"


def problem_response(
    request: Request,
    *,
    status_code: int,
    slug: str,
    detail: str,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
) -> Response:
    problem: dict[str, Any] = {
        **(extensions or {}),
        "type": PROBLEM_TYPE_BASE + slug,
        "title": HTTPStatus(status_code).phrase,
        "status": status_code,
        "detail": detail,
        "instance": request.url.path,
        "request_id": request.scope.get("state", {}).get("request_id"),
    }
    if errors is not None:
        problem["errors"] = [error.model_dump() for error in errors]
    return Response(
        orjson.dumps(problem), status_code, headers=headers, media_type=PROBLEM_MEDIA_TYPE
    )


def field_errors_from_validation(exc: RequestValidationError) -> list[FieldError]:
    errors = []
    for error in exc.errors():
        message = str(error.get("msg", "invalid value"))
        errors.append(
            FieldError(
                loc=[part for part in error.get("loc", ()) if isinstance(part, str | int)],
                message=message,
                type=str(error.get("type", "value_error")),
            )
        )
    return errors


_STATUS_SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "invalid-input",
    429: "too-many-requests",
}


async def _credscore_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CredscoreError)
    return problem_response(
        request,
        status_code=exc.status_code,
        slug=exc.slug,
        detail=exc.detail,
        errors=exc.errors,
        headers=exc.headers,
        extensions=exc.extensions,
    )


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = field_errors_from_validation(exc)
    if any(error.type == "json_invalid" for error in errors):
        return problem_response(
            request,
            status_code=400,
            slug="malformed-json",
            detail="The request body is not valid JSON.",
            errors=errors,
        )
    count = len(errors)
    return problem_response(
        request,
        status_code=422,
        slug="invalid-input",
        detail=f"The request has {count} invalid field{'s' if count != 1 else ''}.",
        errors=errors,
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status_code = exc.status_code
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(status_code).description
    if status_code == 404 and detail == "Not Found":
        detail = f"No route matches {request.method} {request.url.path}."
    if status_code == 400 and "parsing the body" in detail:
        detail = "The request body could not be parsed."
    headers = dict(exc.headers) if exc.headers else {}
    if status_code == 405:
        # Starlette names only the methods of the first route that matched the path; a path
        # can have several routes (GET and POST of /v1/outlets are two).
        allowed = _allowed_methods(request)
        headers["Allow"] = ", ".join(allowed)
        detail = f"{request.method} is not allowed here; use {' or '.join(allowed)}."
    return problem_response(
        request,
        status_code=status_code,
        slug=_STATUS_SLUGS.get(status_code, "http-error"),
        detail=detail,
        headers=headers or None,
    )


_HTTP_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def _allowed_methods(request: Request) -> list[str]:
    """Every method of the path that was matched: its route's, and those OpenAPI lists for it."""
    route = request.scope.get("route")
    methods = set(getattr(route, "methods", None) or ())
    template = getattr(route, "path", None)
    if template is not None:
        operations = request.app.openapi()["paths"].get(template, {})
        methods |= {method.upper() for method in operations} & _HTTP_METHODS
    return sorted(methods)


async def _database_unavailable(request: Request, exc: Exception) -> Response:
    if (
        isinstance(exc, DBAPIError)
        and not exc.connection_invalidated
        and not isinstance(exc, OperationalError)
    ):
        return await _unexpected_error(request, exc)
    logger.warning("database unavailable: %s", type(exc).__name__)
    return problem_response(
        request,
        status_code=503,
        slug="database-unavailable",
        detail="The database is unreachable; retry later.",
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
    )


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    logger.exception("unhandled error", exc_info=exc)
    return problem_response(
        request,
        status_code=500,
        slug="internal-error",
        detail="An unexpected error occurred; it has been logged with this request id.",
    )


_ExceptionHandler = Callable[[Request, Exception], Awaitable[Response]]

# Most specific first, so that ``error_response`` picks what Starlette's MRO lookup would.
_HANDLERS: tuple[tuple[type[Exception], _ExceptionHandler], ...] = (
    (CredscoreError, _credscore_error),
    (RequestValidationError, _validation_error),
    (StarletteHTTPException, _http_error),
    (OperationalError, _database_unavailable),
    (DBAPIError, _database_unavailable),
    (PoolTimeoutError, _database_unavailable),
    (ConnectionError, _database_unavailable),
    (Exception, _unexpected_error),
)


def install_error_handlers(app: FastAPI) -> None:
    for exception_type, handler in _HANDLERS:
        app.add_exception_handler(exception_type, handler)


async def error_response(request: Request, exc: Exception) -> Response:
    """The problem document the app's handlers give ``exc``, for code that runs outside them."""
    for exception_type, handler in _HANDLERS:
        if isinstance(exc, exception_type):
            return await handler(request, exc)
    raise exc


def declared_problem(description: str, model: type[Problem] = Problem) -> dict[str, Any]:
    """An OpenAPI response declared as problem+json of ``model`` (Problem or a subclass)."""
    schema = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {
        "model": model,
        "content": {PROBLEM_MEDIA_TYPE: {"schema": schema}},
        "description": description,
    }


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: declared_problem(description)
    for status, description in {
        400: "Malformed request (for instance, a body that is not JSON).",
        401: "Missing, unknown or revoked API key.",
        403: "The API key lacks the scope this operation needs.",
        429: "Rate limit of the API key reached; retry after `Retry-After` seconds.",
        422: "Invalid input; `errors` lists each field.",
        503: "The database is unreachable; retry after `Retry-After` seconds.",
    }.items()
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Declare problem+json responses for OpenAPI: the common ones plus the given statuses."""
    extra = {
        404: "No such resource.",
        409: "Conflicts with the current state.",
        412: "The If-Match version is stale: re-read and retry.",
        413: "Body or batch too large.",
        428: "This operation needs an If-Match header.",
    }
    responses = dict(PROBLEM_RESPONSES)
    for status in statuses:
        responses[status] = declared_problem(extra.get(status, HTTPStatus(status).phrase))
    return responses
