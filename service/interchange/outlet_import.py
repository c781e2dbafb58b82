"""Outlet lists from CSV/TSV: outlets created or updated, external ratings as records."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from scoring.reliability import EXTERNAL_RATING_MEAN
from service import generations
from service.audit.service import CLI_ACTOR, audit_entry
from service.auth.service import Principal
from service.database.types import utcnow
from service.errors import FieldError
from service.interchange.formats import (
    Table,
    first_of,
    host_of,
    parse_moment,
    site_of,
)
from service.interchange.importing import (
    DEFAULT_OUTLET_KIND,
    DEFAULT_RATING_SOURCE,
    KNOWN_OUTLET_COLUMNS,
    OUTLET_COLUMNS,
    Importer,
    rating_key,
    refusal,
    rolled_back_if,
    row_errors,
    slug_for,
)
from service.interchange.schemas import OutletImportReport
from service.outlets.models import Outlet, OutletRecord
from service.outlets.schemas import OutletCreate
from service.outlets.service import outlet_audit, outlet_snapshot
from service.scores.history import ReliabilityHistory
from service.scores.schemas import ReliabilityCause
from service.scores.track_records import touch_evidence


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


class OutletImport(Importer):
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
            raise refusal(errors, "outlet file")
        async with rolled_back_if(self.session, dry_run):
            report = await self._apply_outlets(
                plans, actor=actor, request_id=request_id, progress=progress
            )
        ignored = sorted({name for name in table.columns if name not in KNOWN_OUTLET_COLUMNS})
        return OutletImportReport(
            dry_run=dry_run, rows=len(table.rows), ignored_columns=ignored, **report
        )

    def _plan_outlets(
        self, table: Table, outlets: Sequence[Outlet]
    ) -> tuple[list[_OutletPlan], list[FieldError]]:
        naming = [name for key in ("slug", "url", "domain") for name in OUTLET_COLUMNS[key]]
        if not set(naming) & set(table.columns):
            # Not an outlet list (or not a table at all): refused, not read as zero rows.
            found = ", ".join(table.columns) or "none"
            return [], [
                FieldError(
                    loc=["header"],
                    message=f"no column names the outlet: give one of {', '.join(naming)} "
                    f"(columns found: {found})",
                    type="missing",
                )
            ]
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
                errors.extend(row_errors(exc, loc))
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
            outlet_audit(outlet, "outlet.create", before=None, actor=actor, request_id=request_id)
            for outlet in created
        ] + [
            outlet_audit(outlet, "outlet.update", before=before, actor=actor, request_id=request_id)
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
