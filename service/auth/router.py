from __future__ import annotations

from fastapi import APIRouter, status

from service.auth.repository import ApiKeyRepository
from service.auth.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyPage, ApiKeyRead
from service.auth.service import create_key, revoke_key
from service.dependencies import Admin, PageDep, RequestIdDep, RowId, SessionDep
from service.errors import problem_responses

router = APIRouter(prefix="/v1/api-keys", tags=["api keys"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreated,
    responses=problem_responses(409),
    summary="Create an API key (the secret is shown once; active keys have unique names)",
)
async def create_api_key(
    body: ApiKeyCreate, session: SessionDep, admin: Admin, request_id: RequestIdDep
) -> ApiKeyCreated:
    key, secret = await create_key(
        session, name=body.name, scopes=body.scopes, created_by=admin, request_id=request_id
    )
    return ApiKeyCreated.model_validate(
        ApiKeyRead.model_validate(key).model_dump() | {"key": secret}
    )


@router.get("", response_model=ApiKeyPage, responses=problem_responses(), summary="List API keys")
async def list_api_keys(session: SessionDep, _admin: Admin, page: PageDep) -> ApiKeyPage:
    keys = await ApiKeyRepository(session).page(
        after=page.after, limit=page.fetch, descending=page.descending
    )
    keys, next_cursor = page.cut(keys)
    return ApiKeyPage(
        items=[ApiKeyRead.model_validate(key) for key in keys], next_cursor=next_cursor
    )


@router.delete(
    "/{key_id}",
    response_model=ApiKeyRead,
    responses=problem_responses(404),
    summary="Revoke an API key",
)
async def revoke_api_key(
    key_id: RowId,
    session: SessionDep,
    admin: Admin,
    request_id: RequestIdDep,
) -> ApiKeyRead:
    key = await revoke_key(session, key_id, actor=admin, request_id=request_id)
    return ApiKeyRead.model_validate(key)
