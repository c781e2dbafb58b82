"""Imports (outlet lists, verdict archives) and exports (CSV, ClaimReview JSON-LD)."""

from __future__ import annotations

import email.parser
import email.policy
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from service.context import AppContext
from service.dependencies import (
    Admin,
    ContextDep,
    ImportServiceDep,
    OutletServiceDep,
    Reader,
    RequestIdDep,
    RowId,
    SessionDep,
    SettingsDep,
)
from service.errors import InvalidInput, problem_responses
from service.interchange.exports import claimreview_lines, claimreview_of, csv_export
from service.interchange.formats import parse_verdicts, read_table
from service.interchange.schemas import OutletImportReport, VerdictImportReport
from service.openapi import body_responses
from service.outlets.service import OutletService
from service.schemas import AwareDatetime

router = APIRouter()

# Paths that take whole files: the body limit is CREDSCORE_MAX_IMPORT_BYTES there.
IMPORT_PATHS = ("/v1/outlets/import", "/v1/verdicts/import")
LD_JSON = "application/ld+json"
NDJSON = "application/x-ndjson"
CSV = "text/csv"

DryRun = Annotated[
    bool, Query(description="Check everything and report what would change; store nothing.")
]
OutletFilter = Annotated[
    str | None, Query(max_length=80, description="Only this outlet (id or slug).")
]
Since = Annotated[AwareDatetime | None, Query(description="Only rows from this moment on.")]


@dataclass(frozen=True, slots=True)
class ExportSource:
    """What a streamed export reads with, once its reader is admitted: the app's sessions (each
    batch is a short read of its own) and the outlets it may be limited to."""

    context: AppContext
    outlets: OutletService

    async def outlet_id(self, reference: str | None) -> int | None:
        """The id of the outlet an export is limited to (404 if there is none such)."""
        return (await self.outlets.get(reference)).id if reference else None


async def export_source(
    context: ContextDep, _reader: Reader, outlets: OutletServiceDep
) -> ExportSource:
    return ExportSource(context, outlets)


ExportSourceDep = Annotated[ExportSource, Depends(export_source)]


def _upload_body(content_type: str, body: bytes) -> tuple[bytes, str | None]:
    """The file of a multipart/form-data upload (its first part), or the body as it is."""
    if not content_type.lower().startswith("multipart/form-data"):
        return body, content_type or None
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode("latin-1") + body
    )
    for part in message.iter_parts():
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            return payload, part.get_content_type()
    raise InvalidInput("The multipart upload has no file part.")


def _import_body(content_type: str, body: bytes) -> tuple[bytes, str | None]:
    data, media_type = _upload_body(content_type, body)
    if not data.strip():
        raise InvalidInput("The upload is empty.")
    return data, media_type


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"The file is not UTF-8 text: {exc}.") from exc


_TABLE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            CSV: {"schema": {"type": "string"}},
            "text/tab-separated-values": {"schema": {"type": "string"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            },
        },
    }
}
_VERDICT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            **_TABLE_BODY["requestBody"]["content"],
            LD_JSON: {"schema": {"type": "object"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}


@router.post(
    "/v1/outlets/import",
    tags=["outlets"],
    response_model=OutletImportReport,
    responses=problem_responses(413),
    summary="Create or update outlets from a CSV/TSV file (all or nothing)",
    description="Columns (header row, any order, case-insensitive): `slug`, `name`, `kind`, "
    "`country`, `url` (or `source_url`), `domain` (or `source_url_normalized`), `owner`, "
    "`notes`, `factuality` (or `fact`, `external_rating`), `rating_source`, `rating_url` (or "
    "`ref`), `rating_as_of`. A row updates the outlet with its slug, else the one with the "
    "same web host; else it creates one. Factuality labels become outlet records of their "
    "source. Any error refuses the whole file with a 422 listing every row's problems.",
    openapi_extra=_TABLE_BODY,
)
async def import_outlets(
    request: Request,
    admin: Admin,
    imports: ImportServiceDep,
    request_id: RequestIdDep,
    dry_run: DryRun = False,
) -> OutletImportReport:
    data, _ = _import_body(request.headers.get("content-type", ""), await request.body())
    return await imports.import_outlets(
        read_table(_text(data)), dry_run=dry_run, actor=admin, request_id=request_id
    )


@router.post(
    "/v1/verdicts/import",
    tags=["verdicts"],
    response_model=VerdictImportReport,
    responses=problem_responses(413),
    summary="Record verdicts in bulk from CSV or ClaimReview JSON-LD (all or nothing)",
    description="ClaimReview JSON-LD (one object, an array, or an `@graph`) or a CSV table "
    "(`rating`, `source`, `decided_at`, and `claim_id`, `claim_url`, or `outlet` + `text` + "
    "`published_at`). Ratings are read through the rating mapping (docs/import-export.md); "
    "an unknown rating is an error for its item, never a guess. One re-score is queued per "
    "affected outlet.",
    openapi_extra=_VERDICT_BODY,
)
async def import_verdicts(
    request: Request,
    context: ContextDep,
    admin: Admin,
    imports: ImportServiceDep,
    request_id: RequestIdDep,
    dry_run: DryRun = False,
) -> VerdictImportReport:
    data, media_type = _import_body(request.headers.get("content-type", ""), await request.body())
    items, errors = parse_verdicts(_text(data), media_type, context.rating_mapping)
    return await imports.import_verdicts(
        items, dry_run=dry_run, actor=admin, request_id=request_id, parse_errors=errors
    )


@router.get(
    "/v1/claims/{claim_id}/claimreview",
    tags=["claimreviews"],
    responses=body_responses(
        LD_JSON,
        "The claim and its newest verdict as a schema.org ClaimReview.",
        404,
        schema_type="object",
    ),
    response_class=Response,
    summary="A claim with its verdict as ClaimReview JSON-LD",
)
async def get_claimreview(
    claim_id: RowId,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    _reader: Reader,
) -> Response:
    document = await claimreview_of(session, claim_id, settings, base_url=str(request.base_url))
    return Response(orjson.dumps(document), media_type=LD_JSON)


@router.get(
    "/v1/claimreviews",
    tags=["claimreviews"],
    responses=body_responses(
        NDJSON,
        "One ClaimReview JSON-LD document per line, one per verdict, in the order verdicts "
        "were recorded; streamed.",
        404,
    ),
    response_class=StreamingResponse,
    summary="Every verdict as ClaimReview, as JSON lines (streamed)",
)
async def list_claimreviews(
    request: Request, source: ExportSourceDep, outlet: OutletFilter = None, since: Since = None
) -> StreamingResponse:
    settings = source.context.settings
    return StreamingResponse(
        claimreview_lines(
            source.context.sessionmaker,
            settings,
            base_url=str(request.base_url),
            outlet_id=await source.outlet_id(outlet),
            since=since,
            batch_rows=settings.export_batch_rows,
        ),
        media_type=NDJSON,
    )


class ExportKind(StrEnum):
    OUTLETS = "outlets"
    CLAIMS = "claims"
    SCORES = "scores"


@router.get(
    "/v1/export/{kind}.csv",
    tags=["export"],
    responses=body_responses(
        CSV, "A header row, then the rows in id order; streamed in batches.", 404
    ),
    response_class=StreamingResponse,
    summary="Outlets, claims or scores as CSV (streamed)",
    description="`since` filters outlets by `updated_at`, claims by `published_at` and scores "
    "by `computed_at`; `outlet` keeps one outlet's rows. Streamed in batches of "
    "CREDSCORE_EXPORT_BATCH_ROWS rows, each its own short read: no export holds more than one "
    "batch in memory.",
)
async def export_csv(
    kind: ExportKind, source: ExportSourceDep, outlet: OutletFilter = None, since: Since = None
) -> StreamingResponse:
    return StreamingResponse(
        csv_export(
            source.context.sessionmaker,
            kind.value,
            outlet_id=await source.outlet_id(outlet),
            since=since,
            batch_rows=source.context.settings.export_batch_rows,
        ),
        media_type=f"{CSV}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{kind.value}.csv"'},
    )
