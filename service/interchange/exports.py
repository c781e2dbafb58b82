"""Exports: CSV streamed in batches, and claims with their verdicts as ClaimReview JSON-LD."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scoring.reliability import Rating
from service.claims.models import Claim
from service.claims.repository import ClaimRepository
from service.errors import NotFound
from service.interchange.formats import (
    ReviewedClaim,
    claimreview_document,
)
from service.interchange.repository import InterchangeRepository, export_header
from service.outlets.models import Outlet
from service.settings import Settings
from service.verdicts.models import Verdict


def _csv_cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None:
        return ""
    return value


def csv_text(rows: Sequence[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([[_csv_cell(value) for value in row] for row in rows])
    return buffer.getvalue()


async def csv_export(
    sessionmaker: async_sessionmaker[AsyncSession],
    kind: str,
    *,
    outlet_id: int | None,
    since: datetime | None,
    batch_rows: int,
) -> AsyncIterator[str]:
    """The header, then one chunk of CSV per batch of ``batch_rows`` rows in id order.

    Each batch is its own short read (keyset: ``id > last``), so neither the process nor a
    transaction holds more than one batch, however many rows the export has.
    """
    yield csv_text([export_header(kind)])
    after = 0
    while True:
        async with sessionmaker() as session:
            rows = await InterchangeRepository(session).export_batch(
                kind, after=after, limit=batch_rows, outlet_id=outlet_id, since=since
            )
        if not rows:
            return
        yield csv_text(rows)
        after = rows[-1][0]
        if len(rows) < batch_rows:
            return


def reviewed_claim(
    verdict: Verdict, claim: Claim, outlet: Outlet, settings: Settings
) -> ReviewedClaim:
    return ReviewedClaim(
        claim_id=claim.id,
        text=claim.text,
        published_at=claim.published_at,
        claim_url=claim.url,
        outlet_name=outlet.name,
        outlet_url=outlet.url,
        rating=Rating(verdict.rating),
        decided_at=verdict.decided_at,
        review_url=verdict.url,
        reviewer=settings.claimreview_author,
        reviewer_url=settings.claimreview_author_url,
    )


async def claimreview_of(
    session: AsyncSession, claim_id: int, settings: Settings, *, base_url: str
) -> dict[str, Any]:
    """The claim and its newest verdict as a ClaimReview."""
    repository = InterchangeRepository(session)
    row = await repository.newest_verdict(claim_id)
    if row is None:
        if not await ClaimRepository(session).existing_ids([claim_id]):
            raise NotFound(f"No claim with id {claim_id}.")
        raise NotFound(f"Claim {claim_id} has no verdict yet: there is no review to export.")
    verdict, claim, outlet = row
    return claimreview_document(
        reviewed_claim(verdict, claim, outlet, settings),
        fallback_url=f"{base_url}v1/claims/{claim.id}/claimreview",
    )


async def claimreview_lines(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    base_url: str,
    outlet_id: int | None,
    since: datetime | None,
    batch_rows: int,
) -> AsyncIterator[bytes]:
    """Every verdict as a ClaimReview, one JSON document per line, in batches (as CSV exports)."""
    import orjson

    after = 0
    while True:
        async with sessionmaker() as session:
            rows = await InterchangeRepository(session).reviewed_claims(
                after=after, limit=batch_rows, outlet_id=outlet_id, since=since
            )
        if not rows:
            return
        yield b"".join(
            orjson.dumps(
                claimreview_document(
                    reviewed_claim(verdict, claim, outlet, settings),
                    fallback_url=f"{base_url}v1/claims/{claim.id}/claimreview",
                )
            )
            + b"\n"
            for verdict, claim, outlet in rows
        )
        after = rows[-1][0].id
        if len(rows) < batch_rows:
            return
