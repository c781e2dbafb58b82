"""Outlet registry: create, edit with optimistic locking, archive, historical records. Audited."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from service import generations
from service.audit.models import AuditEntry
from service.audit.service import Actor, add_audit, audit_entry, record_audit
from service.auth.service import Principal
from service.database.types import utcnow
from service.errors import Conflict, NotFound, PreconditionFailed, PreconditionRequired
from service.outlets.models import Outlet, OutletDependency, OutletRecord
from service.outlets.repository import OutletRepository
from service.outlets.schemas import (
    OutletCreate,
    OutletDependencyRead,
    OutletRecordCreate,
    OutletUpdate,
)
from service.schemas import database_id
from service.scores.history import ReliabilityHistory
from service.scores.repository import ScoreRepository
from service.scores.schemas import ReliabilityCause
from service.scores.service import ScoringService
from service.scores.track_records import touch_evidence

# A direction is told when one way is at least this likely (as for a consensus's dependent groups).
DIRECTION_TOLD = 0.8

_SNAPSHOT_FIELDS = (
    "slug",
    "name",
    "kind",
    "country",
    "affiliations",
    "owner",
    "conflict_parties",
    "on_the_ground",
    "transparency",
    "notes",
    "url",
    "version",
)


def outlet_snapshot(outlet: Outlet) -> dict[str, Any]:
    snapshot = {name: getattr(outlet, name) for name in _SNAPSHOT_FIELDS}
    snapshot["archived_at"] = outlet.archived_at.isoformat() if outlet.archived_at else None
    return snapshot


def outlet_audit(
    outlet: Outlet,
    action: str,
    *,
    before: dict[str, Any] | None,
    actor: Actor | None,
    request_id: str | None,
) -> AuditEntry:
    """The audit entry of a change to an outlet's own fields: its snapshot after the change."""
    return audit_entry(
        actor=actor,
        action=action,
        subject_type="outlet",
        subject_id=outlet.id,
        before=before,
        after=outlet_snapshot(outlet),
        request_id=request_id,
    )


def dependency_read(
    outlet_id: int, dependency: OutletDependency, partner: Outlet
) -> OutletDependencyRead:
    """A stored dependence as seen from ``outlet_id``'s side."""
    copies = (
        dependency.first_copies
        if dependency.first_outlet_id == outlet_id
        else 1.0 - dependency.first_copies
    )
    direction = None
    if copies >= DIRECTION_TOLD:
        direction = "copies"
    elif copies <= 1.0 - DIRECTION_TOLD:
        direction = "copied_by"
    return OutletDependencyRead(
        outlet_id=partner.id,
        outlet_slug=partner.slug,
        outlet_name=partner.name,
        probability=dependency.probability,
        direction=direction,
        direction_probability=copies,
        common_events=dependency.common_events,
        updated_at=dependency.updated_at,
    )


def etag_for(outlet: Outlet) -> str:
    return f'"outlet-{outlet.id}-v{outlet.version}"'


def version_from_if_match(if_match: str | None, outlet: Outlet) -> None:
    """Raise unless If-Match names the outlet's current version (or is '*')."""
    if if_match is None:
        raise PreconditionRequired(
            "Updating an outlet needs an If-Match header with the ETag from your last read, "
            "so that concurrent edits cannot silently overwrite each other."
        )
    candidates = [tag.strip().removeprefix("W/") for tag in if_match.split(",")]
    if "*" in candidates or etag_for(outlet) in candidates:
        return
    raise PreconditionFailed(
        f"The outlet has changed since you read it (now version {outlet.version}); "
        "read it again and re-apply your change."
    )


class OutletService:
    def __init__(self, session: AsyncSession, scoring: ScoringService) -> None:
        self.session = session
        self.scoring = scoring
        self.repository = OutletRepository(session)
        # A page of outlets needs nothing beyond the query.
        self.page = self.repository.page
        self.history = ReliabilityHistory(session, scoring)

    async def get(self, reference: str) -> Outlet:
        number = database_id(reference)
        if number is None:
            outlet = await self.repository.by_slug(reference)
        else:
            outlet = await self.repository.by_id(number) if number > 0 else None
        if outlet is None:
            raise NotFound(f"No outlet with id or slug '{reference}'.")
        return outlet

    async def create(
        self, data: OutletCreate, *, actor: Principal, request_id: str | None
    ) -> Outlet:
        if await self.repository.by_slug(data.slug) is not None:
            raise Conflict(f"An outlet with slug '{data.slug}' already exists.")
        outlet = Outlet(
            slug=data.slug,
            name=data.name,
            kind=data.kind.value,
            country=data.country,
            affiliations=list(data.affiliations),
            owner=data.owner,
            conflict_parties=list(data.conflict_parties),
            on_the_ground=data.on_the_ground,
            transparency=data.transparency.model_dump(),
            notes=data.notes,
            url=data.url,
        )
        try:
            async with self.session.begin_nested():
                await self.repository.add(outlet)
        except IntegrityError as exc:
            raise Conflict(f"An outlet with slug '{data.slug}' already exists.") from exc
        await generations.bump(self.session, generations.OUTLETS)
        await add_audit(
            self.session,
            outlet_audit(outlet, "outlet.create", before=None, actor=actor, request_id=request_id),
        )
        return outlet

    async def update(
        self,
        reference: str,
        data: OutletUpdate,
        *,
        if_match: str | None,
        actor: Principal,
        request_id: str | None,
    ) -> Outlet:
        outlet = await self.get(reference)
        version_from_if_match(if_match, outlet)
        before = outlet_snapshot(outlet)
        changes = data.model_dump(exclude_unset=True)
        if "kind" in changes:
            changes["kind"] = data.kind.value if data.kind is not None else outlet.kind
        if "transparency" in changes and data.transparency is not None:
            changes["transparency"] = data.transparency.model_dump()
        for name, value in changes.items():
            setattr(outlet, name, value)
        outlet.updated_at = utcnow()
        try:
            # The version column makes this UPDATE ... WHERE version = :read_version, so a
            # concurrent writer that got there first turns this flush into a 412, not a lost update.
            await self.session.flush()
        except StaleDataError as exc:
            raise PreconditionFailed(
                "The outlet was changed by another request at the same time; read it again."
            ) from exc
        await generations.bump(self.session, generations.OUTLETS)
        if before["kind"] != outlet.kind:
            await touch_evidence(self.session, appended_only=False)
            # Its evidence left one kind's prior for another's: outlets of both kinds may move.
            if await ScoreRepository(self.session).latest_for_outlets([outlet.id]):
                await self._record_changed(outlet, trigger="outlet.updated", evidence_at=None)
            else:
                await self.history.record_prior_shift(
                    changed_outlet_ids=[outlet.id],
                    trigger="outlet.updated",
                    evidence_at=utcnow(),
                )
        await add_audit(
            self.session,
            outlet_audit(
                outlet, "outlet.update", before=before, actor=actor, request_id=request_id
            ),
        )
        return outlet

    async def set_archived(
        self,
        reference: str,
        archived: bool,
        *,
        if_match: str | None,
        actor: Principal,
        request_id: str | None,
    ) -> Outlet:
        outlet = await self.get(reference)
        if if_match is not None:
            version_from_if_match(if_match, outlet)
        if (outlet.archived_at is not None) == archived:
            return outlet
        before = outlet_snapshot(outlet)
        outlet.archived_at = utcnow() if archived else None
        outlet.updated_at = utcnow()
        try:
            await self.session.flush()
        except StaleDataError as exc:
            raise PreconditionFailed("The outlet was changed concurrently; retry.") from exc
        await generations.bump(self.session, generations.OUTLETS)
        await add_audit(
            self.session,
            outlet_audit(
                outlet,
                "outlet.archive" if archived else "outlet.unarchive",
                before=before,
                actor=actor,
                request_id=request_id,
            ),
        )
        return outlet

    async def dependencies(
        self, reference: str, *, min_probability: float, after: int | None, limit: int
    ) -> tuple[Outlet, Sequence[tuple[OutletDependency, Outlet]]]:
        """The outlet and its learned copy partners (``OutletDependency`` rows), in row order."""
        outlet = await self.get(reference)
        rows = await self.repository.dependencies_of(
            outlet.id, min_probability=min_probability, after=after, limit=limit
        )
        return outlet, rows

    async def records(
        self, reference: str, *, after: int | None, limit: int, descending: bool = False
    ) -> Sequence[OutletRecord]:
        outlet = await self.get(reference)
        return await self.repository.records(
            outlet.id, after=after, limit=limit, descending=descending
        )

    async def add_record(
        self,
        reference: str,
        data: OutletRecordCreate,
        *,
        actor: Principal,
        request_id: str | None,
    ) -> OutletRecord:
        outlet = await self.get(reference)
        await self.history.record_drift(outlet, trigger="record.added")
        record = await self.repository.add_record(
            # Every field of the input is a column of the record.
            OutletRecord(outlet_id=outlet.id, created_by=actor.name, **data.model_dump())
        )
        await touch_evidence(self.session)
        await record_audit(
            self.session,
            actor=actor,
            action="outlet_record.create",
            subject_type="outlet",
            subject_id=outlet.id,
            before=None,
            after=data.model_dump(mode="json") | {"record_id": record.id},
            request_id=request_id,
        )
        await self._record_changed(outlet, trigger="record.added", evidence_at=record.as_of)
        return record

    async def _record_changed(
        self, outlet: Outlet, *, trigger: str, evidence_at: datetime | None
    ) -> None:
        """The outlet's own record changed: its history entry, then the others' (their prior)."""
        await self.history.record(
            outlet,
            trigger=trigger,
            cause=ReliabilityCause.RECORD,
            evidence_at=evidence_at,
        )
        await self.history.record_prior_shift(
            changed_outlet_ids=[outlet.id],
            trigger=trigger,
            evidence_at=evidence_at or utcnow(),
        )

    async def delete_record(
        self, reference: str, record_id: int, *, actor: Principal, request_id: str | None
    ) -> None:
        outlet = await self.get(reference)
        record = await self.repository.record(outlet.id, record_id)
        if record is None:
            raise NotFound(f"Outlet '{reference}' has no record {record_id}.")
        before = {
            "record_id": record.id,
            "source": record.source,
            "as_of": record.as_of.isoformat(),
            "external_rating": record.external_rating,
            "verified": record.verified,
            "refuted": record.refuted,
            "corrections": record.corrections,
            "retractions": record.retractions,
        }
        await self.history.record_drift(outlet, trigger="record.deleted")
        await self.repository.delete_record(record)
        await touch_evidence(self.session, appended_only=False)
        await record_audit(
            self.session,
            actor=actor,
            action="outlet_record.delete",
            subject_type="outlet",
            subject_id=outlet.id,
            before=before,
            after=None,
            request_id=request_id,
        )
        await self._record_changed(outlet, trigger="record.deleted", evidence_at=record.as_of)
