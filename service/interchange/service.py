"""Imports (outlet lists, verdict archives) and exports (CSV, ClaimReview JSON-LD).

An import checks every item first and stores nothing unless all pass: the errors come back
together, each naming its row or item and column. Then it writes in the caller's transaction,
in batches (a few statements per thousand rows, not one request's work per row), and queues one
re-score per affected outlet. A dry run does the same inside a savepoint it rolls back.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scoring.reliability import EXTERNAL_RATING_MEAN, Rating
from service import generations
from service.audit.models import AuditEntry
from service.audit.service import CLI_ACTOR, audit_entry
from service.auth.service import Principal
from service.claims.models import Claim, ClaimRecord
from service.claims.repository import ClaimRepository
from service.db import GENERATIONS_DIRTY, WAKE_WORKER, insert_returning_ids, utcnow
from service.errors import FieldError, InvalidInput, NotFound
from service.interchange.formats import (
    ReviewedClaim,
    Table,
    VerdictItem,
    claimreview_document,
    first_of,
    host_of,
    parse_moment,
    site_of,
)
from service.interchange.repository import InterchangeRepository, chunks, export_header
from service.interchange.schemas import OutletImportReport, VerdictImportReport
from service.jobs.service import RESCORE_OUTLET, enqueue, mark_events_stale
from service.outlets.models import Outlet, OutletKind, OutletRecord
from service.outlets.schemas import OutletCreate
from service.outlets.service import outlet_snapshot
from service.push.outbox import emit_verdict_recorded
from service.scores.history import ReliabilityHistory
from service.scores.models import Score
from service.scores.schemas import ReliabilityCause
from service.scores.service import ScoringService, score_values
from service.scores.track_records import touch_evidence
from service.settings import Settings
from service.verdicts.models import Verdict

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
_KNOWN_OUTLET_COLUMNS = {name for names in OUTLET_COLUMNS.values() for name in names}
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
    savepoint = await session.begin_nested()
    try:
        yield
    finally:
        await savepoint.rollback()
        # Nothing committed: no worker to wake, no counters changed.
        session.info.pop(WAKE_WORKER, None)
        session.info.pop(GENERATIONS_DIRTY, None)


def _row_errors(exc: ValidationError, loc: list[str | int]) -> list[FieldError]:
    return [
        FieldError(
            loc=[*loc, *[part for part in error["loc"] if isinstance(part, str | int)]],
            message=error["msg"],
            type=error["type"],
        )
        for error in exc.errors()
    ]


def _refuse(errors: list[FieldError], what: str) -> InvalidInput:
    return InvalidInput(
        f"{len(errors)} problem(s) in the {what}; nothing was imported. Each is listed in "
        "'errors' with its row (line number, header = 1) or item and field.",
        errors=errors,
    )


@dataclass
class _OutletPlan:
    loc: list[str | int]
    slug: str
    fields: dict[str, Any]
    target: Outlet | None
    rating: str | None
    rating_source: str
    rating_as_of: datetime
    rating_note: str | None


class ImportService:
    def __init__(self, session: AsyncSession, scoring: ScoringService, settings: Settings) -> None:
        self.session = session
        self.scoring = scoring
        self.settings = settings
        self.repository = InterchangeRepository(session)

    # --- outlets -------------------------------------------------------------------------

    async def import_outlets(
        self,
        table: Table,
        *,
        dry_run: bool,
        actor: Principal | None,
        request_id: str | None,
        progress: Callable[[int], None] | None = None,
    ) -> OutletImportReport:
        """Create or update outlets from a table; factuality labels become outlet records.

        An outlet is the same as a row when the slug matches, else its site (host and path).
        Only the columns the file has (and non-empty cells) change a known outlet.
        """
        outlets = await self.repository.all_outlets()
        plans, errors = self._plan_outlets(table, outlets)
        if errors:
            raise _refuse(errors, "outlet file")
        async with rolled_back_if(self.session, dry_run):
            report = await self._apply_outlets(
                plans, actor=actor, request_id=request_id, progress=progress
            )
        ignored = sorted({name for name in table.columns if name not in _KNOWN_OUTLET_COLUMNS})
        return OutletImportReport(
            dry_run=dry_run, rows=len(table.rows), ignored_columns=ignored, **report
        )

    def _plan_outlets(
        self, table: Table, outlets: Sequence[Outlet]
    ) -> tuple[list[_OutletPlan], list[FieldError]]:
        by_slug = {outlet.slug: outlet for outlet in outlets}
        by_site = {site_of(outlet.url): outlet for outlet in outlets if outlet.url}
        seen: dict[str, int] = {}
        plans: list[_OutletPlan] = []
        errors: list[FieldError] = []
        now = utcnow()
        for line, row in table.rows:
            loc: list[str | int] = ["row", line]

            def cell(name: str, row: dict[str, str] = row) -> str | None:
                return first_of(row, *OUTLET_COLUMNS[name])

            url = cell("url")
            domain = cell("domain")
            site = site_of(url) or site_of(domain)
            slug = cell("slug") or slug_for(domain or site or "")
            if not slug:
                errors.append(
                    FieldError(
                        loc=[*loc, "slug"],
                        message="give a slug, a url or a domain to name the outlet",
                        type="missing",
                    )
                )
                continue
            for key in (f"slug:{slug}", f"site:{site}" if site else None):
                if key is not None and key in seen:
                    errors.append(
                        FieldError(
                            loc=[*loc, "slug" if key.startswith("slug:") else "url"],
                            message=f"the same outlet as row {seen[key]}",
                            type="duplicate",
                        )
                    )
                elif key is not None:
                    seen[key] = line
            target = by_slug.get(slug) or (by_site.get(site) if site else None)
            fields: dict[str, Any] = {}
            for name in ("name", "kind", "owner", "notes"):
                if (value := cell(name)) is not None:
                    fields[name] = value
            if (country := cell("country")) is not None:
                fields["country"] = country.upper()
            # A bare domain that names the outlet's own site keeps the address it has.
            if url or (domain and (target is None or site_of(target.url) != site)):
                fields["url"] = url or f"https://{domain}"
            if target is None:
                fields.setdefault("name", site or slug)
                fields.setdefault("kind", DEFAULT_OUTLET_KIND.value)
            try:
                checked = OutletCreate.model_validate(
                    {"slug": slug, "name": "-", "kind": DEFAULT_OUTLET_KIND.value, **fields}
                )
            except ValidationError as exc:
                errors.extend(_row_errors(exc, loc))
                continue
            if "kind" in fields:
                fields["kind"] = checked.kind.value
            rating = cell("rating")
            if rating is not None and rating_key(rating) not in EXTERNAL_RATING_MEAN:
                errors.append(
                    FieldError(
                        loc=[*loc, "factuality"],
                        message=f"{rating!r} is not one of {', '.join(EXTERNAL_RATING_MEAN)}",
                        type="enum",
                    )
                )
                continue
            as_of_text = cell("rating_as_of")
            as_of = parse_moment(as_of_text, [*loc, "rating_as_of"], errors) if as_of_text else now
            if as_of is None:
                continue
            rating_url = cell("rating_url")
            plans.append(
                _OutletPlan(
                    loc=loc,
                    slug=slug,
                    fields=fields,
                    target=target,
                    rating=rating_key(rating) if rating else None,
                    rating_source=cell("rating_source")
                    or host_of(rating_url)
                    or DEFAULT_RATING_SOURCE,
                    rating_as_of=as_of,
                    rating_note=f"rating page: {rating_url}" if rating_url else None,
                )
            )
        return plans, errors

    async def _apply_outlets(
        self,
        plans: Sequence[_OutletPlan],
        *,
        actor: Principal | None,
        request_id: str | None,
        progress: Callable[[int], None] | None,
    ) -> dict[str, int]:
        created: list[Outlet] = []
        updated: list[tuple[Outlet, dict[str, Any]]] = []
        unchanged = 0
        for plan in plans:
            if plan.target is None:
                outlet = Outlet(
                    slug=plan.slug,
                    affiliations=[],
                    conflict_parties=[],
                    transparency={},
                    **plan.fields,
                )
                self.session.add(outlet)
                created.append(outlet)
                plan.target = outlet
                continue
            outlet = plan.target
            changes = {
                name: value for name, value in plan.fields.items() if getattr(outlet, name) != value
            }
            if not changes:
                unchanged += 1
                continue
            before = outlet_snapshot(outlet)
            for name, value in changes.items():
                setattr(outlet, name, value)
            outlet.updated_at = utcnow()
            updated.append((outlet, before))
        await self.session.flush()
        if progress:
            progress(len(plans) // 2)
        kind_changed = any(before["kind"] != outlet.kind for outlet, before in updated)
        entries = [
            audit_entry(
                actor=actor,
                action="outlet.create",
                subject_type="outlet",
                subject_id=outlet.id,
                before=None,
                after=outlet_snapshot(outlet),
                request_id=request_id,
            )
            for outlet in created
        ] + [
            audit_entry(
                actor=actor,
                action="outlet.update",
                subject_type="outlet",
                subject_id=outlet.id,
                before=before,
                after=outlet_snapshot(outlet),
                request_id=request_id,
            )
            for outlet, before in updated
        ]
        rated, records_replaced = await self._record_ratings(plans, actor=actor)
        for outlet, record in rated:
            entries.append(
                audit_entry(
                    actor=actor,
                    action="outlet_record.create",
                    subject_type="outlet",
                    subject_id=outlet.id,
                    before=None,
                    after={
                        "record_id": record.id,
                        "source": record.source,
                        "external_rating": record.external_rating,
                        "as_of": record.as_of.isoformat(),
                    },
                    request_id=request_id,
                )
            )
        self.session.add_all(entries)
        await self.session.flush()
        if created or updated:
            await generations.bump(self.session, generations.OUTLETS)
        if rated or kind_changed:
            await touch_evidence(self.session, appended_only=not (records_replaced or kind_changed))
            await ReliabilityHistory(self.session, self.scoring).record_many(
                [outlet for outlet, _ in rated],
                trigger="outlets.imported",
                cause=ReliabilityCause.RECORD,
                evidence_at={outlet.id: record.as_of for outlet, record in rated},
            )
        # Outlets that were known before may have claims, whose scores read the new evidence.
        known = {id(outlet) for outlet in created}
        affected = sorted(
            {outlet.id for outlet, _ in rated if id(outlet) not in known}
            | {outlet.id for outlet, before in updated if before["kind"] != outlet.kind}
        )
        await self._queue_rescoring(affected, "outlets.imported")
        if progress:
            progress(len(plans))
        return {
            "created": len(created),
            "updated": len(updated),
            "unchanged": unchanged,
            "ratings_recorded": len(rated),
        }

    async def _record_ratings(
        self, plans: Sequence[_OutletPlan], *, actor: Principal | None
    ) -> tuple[list[tuple[Outlet, OutletRecord]], bool]:
        """Store each row's external rating as an outlet record (one per outlet and source:
        a re-import replaces the rating in place). Returns the records written, and whether any
        replaced an older one."""
        rated_plans = [plan for plan in plans if plan.rating is not None and plan.target]
        existing = await self.repository.records_by_source(
            [plan.target.id for plan in rated_plans if plan.target is not None]
        )
        written: list[tuple[Outlet, OutletRecord]] = []
        replaced = False
        for plan in rated_plans:
            outlet = plan.target
            assert outlet is not None
            record = existing.get((outlet.id, plan.rating_source))
            if record is not None and record.external_rating == plan.rating:
                continue
            if record is None:
                record = OutletRecord(
                    outlet_id=outlet.id,
                    source=plan.rating_source,
                    created_by=actor.name if actor else CLI_ACTOR,
                    verified=0,
                    refuted=0,
                    corrections=0,
                    retractions=0,
                )
                self.session.add(record)
            else:
                replaced = True
            record.external_rating = plan.rating
            record.as_of = plan.rating_as_of
            record.note = plan.rating_note
            written.append((outlet, record))
        await self.session.flush()
        return written, replaced

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

    # --- verdicts ------------------------------------------------------------------------

    async def import_verdicts(
        self,
        items: Sequence[VerdictItem],
        *,
        dry_run: bool,
        actor: Principal | None,
        request_id: str | None,
        parse_errors: Sequence[FieldError] = (),
        progress: Callable[[int], None] | None = None,
    ) -> VerdictImportReport:
        """Store verdicts on the claims they name, creating unknown outlets and claims.

        A claim is matched by id, else by its web address, else by its outlet and exact text;
        else it is created (it needs its text and ``published_at``). The outlet is matched by
        slug, by its site (host and path), by host (when one outlet has it), or by name
        (case-insensitive); else it is created, of kind ``other``, when the item names it.
        ``parse_errors``: what reading the file found, reported with the rest.
        """
        resolution = await self._resolve_claims(items)
        errors = [*parse_errors, *resolution.errors]
        if errors:
            # In file order, whichever check found them.
            errors.sort(key=lambda error: [str(part).zfill(12) for part in error.loc[:2]])
            raise _refuse(errors, "verdicts")
        async with rolled_back_if(self.session, dry_run):
            counts = await self._store_verdicts(
                items, resolution, actor=actor, request_id=request_id, progress=progress
            )
        return VerdictImportReport(
            dry_run=dry_run,
            items=len(items),
            claims_matched=resolution.matched,
            **counts,
        )

    async def _resolve_claims(self, items: Sequence[VerdictItem]) -> _Resolution:
        resolution = _Resolution()
        outlets = await self.repository.all_outlets()
        by_slug = {outlet.slug: outlet for outlet in outlets}
        by_site = {site_of(outlet.url): outlet for outlet in outlets if outlet.url}
        by_host = _unique_by_host(outlets)
        by_name = {outlet.name.casefold(): outlet for outlet in outlets}
        by_id = await self.repository.claims_by_id(
            [item.claim_id for item in items if item.claim_id is not None]
        )
        by_url = await self.repository.claims_by_url(
            [item.claim_url for item in items if item.claim_url]
        )
        unmatched: list[int] = []
        for index, item in enumerate(items):
            claim: Claim | None = None
            if item.claim_id is not None:
                claim = by_id.get(item.claim_id)
                if claim is None:
                    resolution.errors.append(
                        FieldError(
                            loc=[*item.loc, "claim_id"],
                            message=f"no claim with id {item.claim_id}",
                            type="not_found",
                        )
                    )
                    continue
            elif item.claim_url:
                claim = by_url.get(item.claim_url)
            if claim is not None:
                resolution.claims[index] = claim
                continue
            outlet_key = _outlet_key(item)
            if outlet_key is None:
                resolution.errors.append(
                    FieldError(
                        loc=[*item.loc, "outlet"],
                        message="the claim is not known and its outlet is not named "
                        "(ClaimReview: itemReviewed.author; CSV: outlet or outlet_name)",
                        type="missing",
                    )
                )
                continue
            outlet = (
                (by_slug.get(item.outlet_slug) if item.outlet_slug else None)
                or by_site.get(site_of(item.outlet_url))
                or by_host.get(host_of(item.outlet_url))
                or (by_name.get(item.outlet_name.casefold()) if item.outlet_name else None)
                or resolution.new_outlets.get(outlet_key)
            )
            if outlet is None:
                outlet = self._new_outlet(item, outlet_key, by_slug, resolution)
                if outlet is None:
                    continue
            resolution.outlets[index] = outlet
            unmatched.append(index)
        known_pairs = [
            (resolution.outlets[index].id, items[index].claim_text or "")
            for index in unmatched
            if resolution.outlets[index].id is not None
        ]
        by_text = await self.repository.claims_by_outlet_and_text(known_pairs)
        for index in unmatched:
            item = items[index]
            outlet = resolution.outlets[index]
            claim = by_text.get((outlet.id, item.claim_text or "")) if outlet.id else None
            if claim is not None:
                resolution.claims[index] = claim
                continue
            if not item.claim_text or item.published_at is None:
                resolution.errors.append(
                    FieldError(
                        loc=[*item.loc, "published_at" if item.claim_text else "text"],
                        message="the claim is not known: its text and the date it was "
                        "published are needed to create it",
                        type="missing",
                    )
                )
                continue
            resolution.to_create.append(index)
        resolution.matched = len(resolution.claims)
        now = utcnow()
        latest = now + timedelta(seconds=self.settings.max_future_skew_seconds)
        for index, item in enumerate(items):
            published = (
                resolution.claims[index].published_at
                if index in resolution.claims
                else item.published_at
            )
            if item.decided_at > latest:
                resolution.errors.append(
                    FieldError(
                        loc=[*item.loc, "decided_at"],
                        message="in the future",
                        type="future_timestamp",
                    )
                )
            elif published is not None and item.decided_at <= published:
                resolution.errors.append(
                    FieldError(
                        loc=[*item.loc, "decided_at"],
                        message=f"before the claim's published_at {published.isoformat()}",
                        type="before_claim",
                    )
                )
        return resolution

    def _new_outlet(
        self,
        item: VerdictItem,
        key: str,
        by_slug: dict[str, Outlet],
        resolution: _Resolution,
    ) -> Outlet | None:
        site = site_of(item.outlet_url)
        slug = item.outlet_slug or slug_for(site or item.outlet_name or "")
        if not slug or slug in by_slug:
            resolution.errors.append(
                FieldError(
                    loc=[*item.loc, "outlet"],
                    message=f"no outlet matches {key!r} and slug {slug!r} cannot name a new one",
                    type="not_found",
                )
            )
            return None
        outlet = Outlet(
            slug=slug,
            name=(item.outlet_name or site or slug)[:200],
            kind=DEFAULT_OUTLET_KIND.value,
            url=item.outlet_url if item.outlet_url and "://" in item.outlet_url else None,
            affiliations=[],
            conflict_parties=[],
            transparency={},
        )
        by_slug[slug] = outlet
        resolution.new_outlets[key] = outlet
        return outlet

    async def _store_verdicts(
        self,
        items: Sequence[VerdictItem],
        resolution: _Resolution,
        *,
        actor: Principal | None,
        request_id: str | None,
        progress: Callable[[int], None] | None,
    ) -> dict[str, int]:
        new_outlets = list(resolution.new_outlets.values())
        self.session.add_all(new_outlets)
        await self.session.flush()
        if new_outlets:
            await generations.bump(self.session, generations.OUTLETS)
            self.session.add_all(
                [
                    audit_entry(
                        actor=actor,
                        action="outlet.create",
                        subject_type="outlet",
                        subject_id=outlet.id,
                        before=None,
                        after=outlet_snapshot(outlet),
                        request_id=request_id,
                    )
                    for outlet in new_outlets
                ]
            )
        created_claims = await self._create_claims(items, resolution)
        claim_of: dict[int, Claim | ClaimRecord] = {**resolution.claims, **created_claims}
        stored = await self.repository.verdict_keys([claim.id for claim in claim_of.values()])
        rows: list[dict[str, Any]] = []
        affected: dict[int, None] = {}
        duplicates = 0
        now = utcnow()
        for index, item in enumerate(items):
            claim = claim_of[index]
            key = (claim.id, item.source, item.decided_at)
            if key in stored:
                duplicates += 1
                continue
            stored.add(key)
            affected[claim.outlet_id] = None
            rows.append(
                {
                    "claim_id": claim.id,
                    "rating": item.rating.value,
                    "source": item.source[:200],
                    "decided_at": item.decided_at,
                    "note": item.note,
                    "url": item.review_url,
                    "created_at": now,
                    "created_by": actor.name if actor else CLI_ACTOR,
                }
            )
        written = 0
        outlets = {outlet.id: outlet for outlet in await self.repository.all_outlets()}
        claims_by_id = {claim.id: claim for claim in claim_of.values()}
        for batch in chunks(rows, VERDICT_BATCH):
            ids = await insert_returning_ids(self.session, Verdict, batch)
            for verdict_id, row in zip(ids, batch, strict=True):
                claim = claims_by_id[row["claim_id"]]
                emit_verdict_recorded(
                    self.session,
                    verdict_id=verdict_id,
                    claim_id=claim.id,
                    outlet_id=claim.outlet_id,
                    outlet_slug=outlets[claim.outlet_id].slug,
                    event_id=claim.event_id,
                    rating=row["rating"],
                    source=row["source"],
                    decided_at=row["decided_at"],
                )
            audit_rows = [
                {
                    "at": now,
                    "actor": actor.name if actor else CLI_ACTOR,
                    "api_key_id": actor.key_id if actor else None,
                    "action": "verdict.import",
                    "subject_type": "claim",
                    "subject_id": str(row["claim_id"]),
                    "before": None,
                    "after": {
                        "verdict_id": verdict_id,
                        "rating": row["rating"],
                        "source": row["source"],
                        "decided_at": row["decided_at"].isoformat(),
                        "url": row["url"],
                    },
                    "request_id": request_id,
                }
                for verdict_id, row in zip(ids, batch, strict=True)
            ]
            await self.session.execute(insert(AuditEntry), audit_rows)
            written += len(batch)
            if progress:
                progress(written)
        outlet_ids = list(affected)
        if rows:
            await touch_evidence(self.session)
            newest: dict[int, datetime] = {}
            for row in rows:
                outlet_id = claims_by_id[row["claim_id"]].outlet_id
                newest[outlet_id] = max(row["decided_at"], newest.get(outlet_id, row["decided_at"]))
            await ReliabilityHistory(self.session, self.scoring).record_many(
                [outlets[outlet_id] for outlet_id in outlet_ids],
                trigger="verdicts.imported",
                cause=ReliabilityCause.VERDICT,
                evidence_at=newest,
            )
        rescored = await self._queue_rescoring(outlet_ids, "verdicts.imported")
        # Claims with a verdict are no longer re-scored: no flag may stay on them.
        claims = ClaimRepository(self.session)
        for batch in chunks(sorted({row["claim_id"] for row in rows})):
            await claims.clear_stale(batch, queued_before=utcnow())
        if progress:
            progress(len(items))
        return {
            "verdicts_created": len(rows),
            "duplicates_skipped": duplicates,
            "claims_created": len(created_claims),
            "outlets_created": len(new_outlets),
            "outlets_rescored": rescored,
        }

    async def _create_claims(
        self, items: Sequence[VerdictItem], resolution: _Resolution
    ) -> dict[int, ClaimRecord]:
        """Insert the claims no item matched (one per distinct outlet, text and address) and
        store their score as of their publication (what the service would have said then)."""
        if not resolution.to_create:
            return {}
        now = utcnow()
        distinct: dict[tuple[int, str, str | None], int] = {}
        rows: list[dict[str, Any]] = []
        for index in resolution.to_create:
            item = items[index]
            outlet = resolution.outlets[index]
            key = (outlet.id, item.claim_text or "", item.claim_url)
            if key in distinct:
                continue
            distinct[key] = len(rows)
            rows.append(
                {
                    "outlet_id": outlet.id,
                    "event_id": None,
                    "text": item.claim_text,
                    "url": item.claim_url,
                    "published_at": item.published_at,
                    "topic": None,
                    "figure_value": None,
                    "figure_low": None,
                    "figure_high": None,
                    "figure_unit": None,
                    "copy_of_claim_id": None,
                    "idempotency_key": None,
                    "request_fingerprint": None,
                    "submitted_by_key_id": None,
                    "created_at": now,
                }
            )
        claims = ClaimRepository(self.session)
        records: list[ClaimRecord] = []
        for batch in chunks(rows, VERDICT_BATCH):
            records.extend(await claims.insert(batch))
        outlets = {outlet.id: outlet for outlet in resolution.outlets.values()}
        for batch in chunks(records, VERDICT_BATCH):
            computed = await self.scoring.score_claims(self.session, batch, outlets)
            await self.session.execute(
                insert(Score),
                [
                    score_values(
                        result,
                        subject="claim",
                        outlet_id=claim.outlet_id,
                        claim_id=claim.id,
                        trigger="claim.imported",
                    )
                    for claim, result in zip(batch, computed, strict=True)
                ],
            )
        return {
            index: records[
                distinct[
                    (
                        resolution.outlets[index].id,
                        items[index].claim_text or "",
                        items[index].claim_url,
                    )
                ]
            ]
            for index in resolution.to_create
        }


def _unique_by_host(outlets: Sequence[Outlet]) -> dict[str | None, Outlet]:
    """Outlets by their web host, where only one outlet has that host."""
    found: dict[str | None, Outlet] = {}
    shared: set[str | None] = set()
    for outlet in outlets:
        host = host_of(outlet.url)
        if host is None:
            continue
        if host in found:
            shared.add(host)
        found[host] = outlet
    return {host: outlet for host, outlet in found.items() if host not in shared}


def _outlet_key(item: VerdictItem) -> str | None:
    if item.outlet_slug:
        return f"slug:{item.outlet_slug}"
    site = site_of(item.outlet_url)
    if site:
        return f"site:{site}"
    if item.outlet_name:
        return f"name:{item.outlet_name.casefold()}"
    return None


class _Resolution:
    """Each item's claim (matched), or its outlet (claim to create), and what went wrong."""

    def __init__(self) -> None:
        self.claims: dict[int, Claim] = {}
        self.outlets: dict[int, Outlet] = {}
        self.new_outlets: dict[str, Outlet] = {}
        self.to_create: list[int] = []
        self.errors: list[FieldError] = []
        self.matched = 0


# --- exports -------------------------------------------------------------------------------


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
