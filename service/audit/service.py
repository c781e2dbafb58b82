from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.models import AuditEntry


class Actor(Protocol):
    """Who made a change: an API key's principal (``service.auth.service.Principal``, which
    imports this module, so it is described here rather than imported)."""

    @property
    def key_id(self) -> int: ...

    @property
    def name(self) -> str: ...


# The actor of changes made on the command line (no key); no API key may take this name.
CLI_ACTOR = "cli"


async def record_audit(
    session: AsyncSession,
    *,
    actor: Actor | None,
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
    actor: Actor | None,
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
