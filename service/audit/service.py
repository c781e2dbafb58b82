from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.models import AuditEntry

if TYPE_CHECKING:
    from service.auth.service import Principal

# The actor of changes made on the command line (no key); no API key may take this name.
CLI_ACTOR = "cli"


async def record_audit(
    session: AsyncSession,
    *,
    actor: Principal | None,
    action: str,
    subject_type: str,
    subject_id: int | str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    request_id: str | None,
) -> AuditEntry:
    """Append an audit entry in the caller's transaction: change and record land together."""
    entry = audit_entry(
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        before=before,
        after=after,
        request_id=request_id,
    )
    session.add(entry)
    await session.flush()
    return entry


def audit_entry(
    *,
    actor: Principal | None,
    action: str,
    subject_type: str,
    subject_id: int | str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    request_id: str | None,
) -> AuditEntry:
    """An audit entry not yet added: bulk changes add many and flush once."""
    return AuditEntry(
        actor=actor.name if actor else CLI_ACTOR,
        api_key_id=actor.key_id if actor else None,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        before=before,
        after=after,
        request_id=request_id,
    )
