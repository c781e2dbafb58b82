from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy import text

from service.dependencies import ContextDep
from service.migrate import current_revision, head_revision

router = APIRouter(tags=["health"])
_OK = b'{"status":"ok"}'


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ok", "unavailable", "migrations pending"]
    database: str
    migration: str | None
    expected_migration: str | None


@router.get("/healthz", response_model=Health, summary="The process is up")
async def liveness() -> Response:
    return Response(_OK, media_type="application/json")


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Not ready: see database/migration."}},
    summary="The database is reachable and its schema is at the code's migration head",
)
async def readiness(context: ContextDep) -> JSONResponse:
    engine = context.engine
    expected = head_revision()
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            current = await connection.run_sync(current_revision)
    except Exception as exc:  # any failure to reach the database means "not ready"
        return JSONResponse(
            {
                "status": "unavailable",
                "database": f"unreachable: {type(exc).__name__}",
                "migration": None,
                "expected_migration": expected,
            },
            status_code=503,
            headers={"Retry-After": "5"},
        )
    ready = current == expected
    return JSONResponse(
        {
            "status": "ok" if ready else "migrations pending",
            "database": "ok",
            "migration": current,
            "expected_migration": expected,
        },
        status_code=200 if ready else 503,
    )
