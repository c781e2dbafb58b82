"""Dependencies every router shares: the app's context, the request's session, the caller,
paging, settings, and the domain services built on them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

from fastapi import Depends, Path, Query, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.schemas import Scope
from service.auth.service import Principal, admit
from service.claims.service import ClaimService
from service.context import AppContext, app_context
from service.database.transaction import request_transaction
from service.errors import FieldError, InvalidInput
from service.events.service import EventService
from service.interchange.service import ImportService
from service.model_registry.service import ModelService
from service.outlets.service import OutletService
from service.push.service import WebhookService
from service.schemas import MAX_DATABASE_ID, decode_cursor, encode_cursor
from service.settings import Settings
from service.verdicts.service import VerdictService

T = TypeVar("T")


def _row_id(row: Any) -> int:
    return int(row.id)


# Every dependency here is ``async def``: FastAPI runs plain ``def`` dependencies in the thread
# pool, a hop per request that costs more than these functions themselves.
# A row id in a path: ids are 32-bit, so a larger number is a 422, not a query that finds nothing.
RowId = Annotated[int, Path(ge=1, le=MAX_DATABASE_ID)]


async def get_context(request: Request) -> AppContext:
    return app_context(request.app)


ContextDep = Annotated[AppContext, Depends(get_context)]


async def get_session(context: ContextDep) -> AsyncIterator[AsyncSession]:
    """One session and transaction per request: commit on success, roll back on any error.

    Registered with ``scope="function"`` so the commit happens before the response leaves: a
    client never sees a 2xx for a write that failed to commit.
    """
    async with request_transaction(context.sessions) as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]

_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <API key>`")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="The API key.")


async def get_settings_dep(context: ContextDep) -> Settings:
    return context.settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


async def request_id(request: Request) -> str | None:
    value = request.scope.get("state", {}).get("request_id")
    return value if isinstance(value, str) else None


RequestIdDep = Annotated[str | None, Depends(request_id)]


def require(scope: Scope) -> Callable[..., Awaitable[Principal]]:
    """The dependency that admits a caller with ``scope`` (service/auth/service.py's ``admit``).

    The two security schemes are parameters so that OpenAPI documents them; the key itself is
    read by ``admit``, from the same headers, as the code before the router reads it.
    """

    async def dependency(
        request: Request,
        session: SessionDep,
        context: ContextDep,
        _bearer_key: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
        _header_key: Annotated[str | None, Security(_header)],
    ) -> Principal:
        return await admit(request.scope, scope, session, context.key_cache, context.rate_limiter)

    dependency.__name__ = f"require_{scope.value}"
    return dependency


Reader = Annotated[Principal, Depends(require(Scope.READ))]
Submitter = Annotated[Principal, Depends(require(Scope.SUBMIT))]
Admin = Annotated[Principal, Depends(require(Scope.ADMIN))]


@dataclass(frozen=True, slots=True)
class PageParams:
    after: int | None
    limit: int
    descending: bool = False

    @property
    def fetch(self) -> int:
        """Rows to ask for: one more than the page, to know whether another page follows."""
        return self.limit + 1

    def cut(
        self, rows: Sequence[T], key: Callable[[T], int] = _row_id
    ) -> tuple[list[T], str | None]:
        """The page's rows and the cursor of the next page (None on the last one)."""
        items = list(rows[: self.limit])
        more = len(rows) > self.limit and bool(items)
        if not more:
            return items, None
        return items, encode_cursor(key(items[-1]), descending=self.descending)


async def page_params(
    settings: SettingsDep,
    cursor: Annotated[
        str | None, Query(max_length=200, description="`next_cursor` of the previous page.")
    ] = None,
    limit: Annotated[
        int | None,
        Query(ge=1, description="Page size (default 50, at most 500: more is a 422)."),
    ] = None,
    order: Annotated[
        Literal["asc", "desc"],
        Query(description="`asc`: oldest first (the default); `desc`: newest first."),
    ] = "asc",
) -> PageParams:
    if limit is not None and limit > settings.page_size_max:
        raise InvalidInput(
            f"limit may be at most {settings.page_size_max}; follow next_cursor for more.",
            errors=[
                FieldError(
                    loc=["query", "limit"],
                    message=f"Input should be less than or equal to {settings.page_size_max}",
                    type="less_than_equal",
                )
            ],
        )
    size = settings.page_size_default if limit is None else limit
    descending = order == "desc"
    return PageParams(
        after=decode_cursor(cursor, descending=descending), limit=size, descending=descending
    )


PageDep = Annotated[PageParams, Depends(page_params)]


# The domain services, each built on the request's session (declare them after the caller's
# admission, so that nothing is read for a request that is refused).


async def claim_service(session: SessionDep, context: ContextDep) -> ClaimService:
    return ClaimService(session, context.scoring, context.settings)


async def outlet_service(session: SessionDep, context: ContextDep) -> OutletService:
    return OutletService(session, context.scoring)


async def verdict_service(session: SessionDep, context: ContextDep) -> VerdictService:
    return VerdictService(session, context.scoring, context.settings)


async def event_service(session: SessionDep) -> EventService:
    return EventService(session)


async def import_service(session: SessionDep, context: ContextDep) -> ImportService:
    return ImportService(session, context.scoring, context.settings)


async def model_service(session: SessionDep) -> ModelService:
    return ModelService(session)


async def webhook_service(session: SessionDep, context: ContextDep) -> WebhookService:
    """Webhooks name outlets by slug: the service holds the current outlet registry."""
    return WebhookService(session, await context.scoring.outlets(session))


ClaimServiceDep = Annotated[ClaimService, Depends(claim_service)]
OutletServiceDep = Annotated[OutletService, Depends(outlet_service)]
VerdictServiceDep = Annotated[VerdictService, Depends(verdict_service)]
EventServiceDep = Annotated[EventService, Depends(event_service)]
ImportServiceDep = Annotated[ImportService, Depends(import_service)]
ModelServiceDep = Annotated[ModelService, Depends(model_service)]
WebhookServiceDep = Annotated[WebhookService, Depends(webhook_service)]


async def checked_parameters(request: Request) -> None:
    """Refuse query parameters the operation does not take, naming them, and NUL characters in
    any path or query parameter (no database column can hold one).

    Every /v1 router runs this first (service/app.py). An operation takes the query parameters
    its OpenAPI document lists: a misspelt filter is an error, not an unfiltered list. A request
    without a query string (every hot one: POST /v1/score, POST /v1/claims, a claim's poll)
    skips the document entirely.
    """
    errors, unknown = _query_errors(request) if request.scope["query_string"] else ([], [])
    errors += [
        _nul_error("path", name) for name, value in request.path_params.items() if "\x00" in value
    ]
    if unknown:
        raise InvalidInput(f"Unknown query parameter(s): {', '.join(unknown)}.", errors=errors)
    if errors:
        raise InvalidInput("Parameters must not contain NUL characters.", errors=errors)


def _query_errors(request: Request) -> tuple[list[FieldError], list[str]]:
    """The query string's errors, and the names of its parameters the operation does not take."""
    route = request.scope.get("route")
    operation = request.app.openapi()["paths"].get(getattr(route, "path", ""), {})
    parameters = operation.get(request.method.lower(), {}).get("parameters", [])
    known = {parameter["name"] for parameter in parameters if parameter["in"] == "query"}
    errors: list[FieldError] = []
    unknown: list[str] = []
    for name, value in request.query_params.multi_items():
        if name not in known:
            if name not in unknown:
                unknown.append(name)
                taken = ", ".join(sorted(known)) or "none"
                errors.append(
                    FieldError(
                        loc=["query", name],
                        message=f"unknown query parameter; this operation takes: {taken}",
                        type="extra_forbidden",
                    )
                )
        elif "\x00" in value:
            errors.append(_nul_error("query", name))
    return errors, unknown


def _nul_error(where: str, name: str) -> FieldError:
    return FieldError(
        loc=[where, name], message="must not contain NUL characters", type="string_nul"
    )
