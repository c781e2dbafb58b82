from __future__ import annotations

from typing import Any, Protocol, TypedDict, Unpack

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


class AuditFields(TypedDict):
    """What an audit entry records: who, what they did to which subject, and its state before
    and after (None where there was none)."""

    actor: Actor | None
    action: str
    subject_type: str
    subject_id: int | str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None


async def record_audit(session: AsyncSession, **fields: Unpack[AuditFields]) -> AuditEntry:
    """Append an audit entry in the caller's transaction: change and record land together."""
    return await add_audit(session, audit_entry(**fields))


async def add_audit(session: AsyncSession, entry: AuditEntry) -> AuditEntry:
    """Append an entry already built (``audit_entry``, ``outlet_audit``), as ``record_audit``."""
    session.add(entry)
    await session.flush()
    return entry


def audit_entry(**fields: Unpack[AuditFields]) -> AuditEntry:
    """An audit entry not yet added: bulk changes add many and flush once."""
    actor = fields["actor"]
    return AuditEntry(
        actor=actor.name if actor else CLI_ACTOR,
        api_key_id=actor.key_id if actor else None,
        action=fields["action"],
        subject_type=fields["subject_type"],
        subject_id=str(fields["subject_id"]),
        before=fields["before"],
        after=fields["after"],
        request_id=fields["request_id"],
    )
