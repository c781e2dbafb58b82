"""Verdict archives from CSV or ClaimReview JSON-LD: claims matched or created, verdicts stored
in batches."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert

from service import generations
from service.audit.models import AuditEntry
from service.audit.service import CLI_ACTOR
from service.auth.service import Principal
from service.claims.models import Claim, InsertedClaim
from service.claims.repository import ClaimRepository
from service.database.bulk import insert_returning_ids
from service.database.types import utcnow
from service.errors import FieldError
from service.interchange.formats import (
    VerdictItem,
    host_of,
    site_of,
)
from service.interchange.importing import (
    DEFAULT_OUTLET_KIND,
    VERDICT_BATCH,
    Importer,
    refusal,
    rolled_back_if,
    slug_for,
)
from service.interchange.repository import chunks
from service.interchange.schemas import VerdictImportReport
from service.outlets.models import Outlet
from service.outlets.service import outlet_audit
from service.push.outbox import emit_verdict_recorded
from service.scores.documents import score_values
from service.scores.history import ReliabilityHistory
from service.scores.models import Score
from service.scores.schemas import ReliabilityCause
from service.scores.track_records import touch_evidence
from service.verdicts.models import Verdict


class VerdictImport(Importer):
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
            raise refusal(errors, "verdicts")
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
                    outlet_audit(
                        outlet, "outlet.create", before=None, actor=actor, request_id=request_id
                    )
                    for outlet in new_outlets
                ]
            )
        created_claims = await self._create_claims(items, resolution)
        claim_of: dict[int, Claim | InsertedClaim] = {**resolution.claims, **created_claims}
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
    ) -> dict[int, InsertedClaim]:
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
        records: list[InsertedClaim] = []
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
