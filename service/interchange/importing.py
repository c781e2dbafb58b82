"""What every import shares: all-or-nothing checking, dry runs, and one re-score per outlet.

An import checks every item first and stores nothing unless all pass: the errors come back
together, each naming its row or item and column. Then it writes in the caller's transaction,
in batches (a few statements per thousand rows, not one request's work per row), and queues one
re-score per affected outlet. A dry run does the same inside a savepoint it rolls back.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from service.claims.repository import ClaimRepository
from service.errors import FieldError, InvalidInput
from service.generations import GENERATIONS_DIRTY
from service.interchange.repository import InterchangeRepository, chunks
from service.jobs.service import RESCORE_OUTLET, WAKE_WORKER, enqueue, mark_events_stale
from service.outlets.models import OutletKind
from service.scores.service import ScoringService
from service.settings import Settings

# The kind of an imported outlet whose row does not say (its kind prior is the neutral one).
DEFAULT_OUTLET_KIND = OutletKind.OTHER
# Who an external rating is from when the row names neither a source nor a rating page.
DEFAULT_RATING_SOURCE = "import"
# Verdict rows per INSERT statement.
VERDICT_BATCH = 1_000

OUTLET_COLUMNS = {
    "slug": ("slug",),
    "name": ("name",),
    "kind": ("kind",),
    "country": ("country",),
    "owner": ("owner",),
    "notes": ("notes",),
    "url": ("url", "source_url", "website", "homepage"),
    "domain": ("domain", "source_url_normalized"),
    "rating": ("factuality", "fact", "external_rating"),
    "rating_source": ("rating_source",),
    "rating_url": ("rating_url", "ref"),
    "rating_as_of": ("rating_as_of",),
}
KNOWN_OUTLET_COLUMNS = {name for names in OUTLET_COLUMNS.values() for name in names}
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slug_for(text: str) -> str:
    """A slug from a host or a name: ``www.fury.news`` -> ``fury-news``."""
    return _NOT_SLUG.sub("-", text.lower().removeprefix("www.")).strip("-")[:80].strip("-")


def rating_key(label: str) -> str:
    return label.strip().lower().replace(" ", "-").replace("_", "-")


@asynccontextmanager
async def rolled_back_if(session: AsyncSession, dry_run: bool) -> AsyncIterator[None]:
    """Run the block in a savepoint and roll it back when ``dry_run``: checked, not stored."""
    if not dry_run:
        yield
        return
    # What the block's work flags (a worker to wake, counters changed) it takes back with it; the
    # events it staged are taken back by the savepoint's rollback (service/push/outbox.py).
    flags = {
        key: session.info[key] for key in (WAKE_WORKER, GENERATIONS_DIRTY) if key in session.info
    }
    savepoint = await session.begin_nested()
    try:
        yield
    finally:
        await savepoint.rollback()
        session.info.pop(WAKE_WORKER, None)
        session.info.pop(GENERATIONS_DIRTY, None)
        session.info.update(flags)


def row_errors(exc: ValidationError, loc: list[str | int]) -> list[FieldError]:
    return [
        FieldError(
            loc=[*loc, *[part for part in error["loc"] if isinstance(part, str | int)]],
            message=error["msg"],
            type=error["type"],
        )
        for error in exc.errors()
    ]


def refusal(errors: list[FieldError], what: str) -> InvalidInput:
    return InvalidInput(
        f"{len(errors)} problem(s) in the {what}; nothing was imported. Each is listed in "
        "'errors' with its row (line number, header = 1) or item and field.",
        errors=errors,
    )


class Importer:
    """The session, scoring and settings an import works with."""

    def __init__(self, session: AsyncSession, scoring: ScoringService, settings: Settings) -> None:
        self.session = session
        self.scoring = scoring
        self.settings = settings
        self.repository = InterchangeRepository(session)

    async def _queue_rescoring(self, outlet_ids: Sequence[int], reason: str) -> int:
        """Flag the open claims and events of these outlets stale, and queue one re-score each."""
        if not outlet_ids:
            return 0
        claims = ClaimRepository(self.session)
        for chunk in chunks(list(outlet_ids)):
            await claims.mark_stale(outlet_ids=chunk)
            await mark_events_stale(self.session, await claims.event_ids_of_outlets(chunk))
        await enqueue(self.session, RESCORE_OUTLET, outlet_ids, reason)
        return len(outlet_ids)
