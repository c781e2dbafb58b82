"""API keys: minting, verifying (constant-time, cached briefly), revoking."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.service import CLI_ACTOR, record_audit
from service.auth.models import ApiKey
from service.auth.rate_limit import RateLimiter, retry_after_header
from service.auth.repository import ApiKeyRepository
from service.auth.schemas import Scope
from service.database.types import utcnow
from service.errors import Conflict, Forbidden, NotFound, RateLimited, Unauthorized

KEY_PREFIX = "cs"
# The session flag listing the prefixes of keys a transaction revoked.
FORGET_KEYS = "credscore.forget_keys"


@dataclass(frozen=True, slots=True)
class Principal:
    key_id: int
    name: str
    scopes: frozenset[str]


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def mint_key() -> tuple[str, str]:
    """A new key and its public prefix: cs_<prefix>_<256-bit secret>."""
    prefix = secrets.token_hex(6)
    return f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}", prefix


def looks_like_key(value: str) -> bool:
    """Whether ``value`` has the shape of a credscore key, wherever it turns up (a request id)."""
    return value.startswith(f"{KEY_PREFIX}_")


def _prefix_of(key: str) -> str | None:
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != 12:
        return None
    return parts[1]


class KeyCache:
    """Verified keys for a few seconds, so a hot path does not ask the database every time.

    A revocation must hold on this replica the moment it is committed, yet a request that read
    the key's row just before that commit would put it back here for a whole TTL. So every
    ``forget`` bumps ``revocations``, and ``put`` takes the value its reader saw before asking
    the database: an entry read before any later revocation is dropped instead of cached.
    """

    def __init__(self, ttl_seconds: float) -> None:
        self.ttl_seconds = ttl_seconds
        self.revocations = 0
        self._entries: dict[str, tuple[str, Principal, float]] = {}

    def get(self, prefix: str) -> tuple[str, Principal] | None:
        entry = self._entries.get(prefix)
        if entry is None or entry[2] < time.monotonic():
            return None
        return entry[0], entry[1]

    def put(self, prefix: str, key_hash: str, principal: Principal, *, seen: int) -> None:
        """Cache a key whose row was read after ``revocations`` was ``seen``."""
        if self.ttl_seconds > 0 and seen == self.revocations:
            self._entries[prefix] = (key_hash, principal, time.monotonic() + self.ttl_seconds)

    def forget(self, prefix: str) -> None:
        self.revocations += 1
        self._entries.pop(prefix, None)

    async def after_commit(self, info: dict[Any, Any]) -> None:
        """Forget the keys a committed transaction revoked."""
        for prefix in info.pop(FORGET_KEYS, ()):
            self.forget(prefix)


def first_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[bytes, bytes]:
    """Raw ASGI headers as a dict where the first of repeated names wins, as in Starlette's
    ``Headers.get``, so middleware reads the same key the routes would."""
    headers: dict[bytes, bytes] = {}
    for name, value in raw:
        headers.setdefault(name, value)
    return headers


def presented_key(headers: dict[bytes, bytes]) -> str | None:
    """The key a request presents: ``Authorization: Bearer <key>``, else ``X-API-Key``.

    Read from the raw ASGI headers as FastAPI's ``HTTPBearer`` and ``APIKeyHeader`` read them (a
    non-bearer Authorization header is ignored), for the routes and the code before them alike.
    """
    authorization = headers.get(b"authorization")
    if authorization:
        scheme, _, credentials = authorization.decode("latin-1").partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            return credentials.strip()
    api_key = headers.get(b"x-api-key")
    return api_key.decode("latin-1") if api_key else None


def cached_principal(cache: KeyCache, presented: str) -> Principal | None:
    """The principal of a key this process verified recently, without the database; else None."""
    prefix = _prefix_of(presented)
    cached = cache.get(prefix) if prefix is not None else None
    if cached is None:
        return None
    stored_hash, principal = cached
    return principal if hmac.compare_digest(stored_hash, hash_key(presented)) else None


async def authenticate(session: AsyncSession, cache: KeyCache, presented: str) -> Principal:
    prefix = _prefix_of(presented)
    if prefix is None:
        raise Unauthorized("The API key is malformed.")
    presented_hash = hash_key(presented)
    cached = cache.get(prefix)
    if cached is not None:
        stored_hash, principal = cached
        if hmac.compare_digest(stored_hash, presented_hash):
            return principal
        raise Unauthorized("The API key is not valid.")
    seen = cache.revocations
    key = await ApiKeyRepository(session).by_prefix(prefix)
    # Compare against a dummy hash when the prefix is unknown so timing says nothing either way.
    stored_hash = key.key_hash if key is not None else hash_key("")
    if not hmac.compare_digest(stored_hash, presented_hash) or key is None:
        raise Unauthorized("The API key is not valid.")
    if key.revoked_at is not None:
        raise Unauthorized("The API key has been revoked.")
    principal = Principal(key.id, key.name, frozenset(key.scopes))
    cache.put(prefix, key.key_hash, principal, seen=seen)
    return principal


async def admit(
    request: MutableMapping[str, Any],
    needed: Scope,
    session: AsyncSession,
    keys: KeyCache,
    limiter: RateLimiter,
) -> Principal:
    """Let a request in, or say why not: the one admission check of every keyed operation.

    ``request`` is the ASGI scope; ``keys`` and ``limiter`` are the process's (its context's).
    A key must be presented (401), be valid and not revoked (401), carry the ``needed`` scope
    (403), and the key must have rate-limit room (429; the token is taken only when everything
    else passed). The routes' dependencies (service/dependencies.py) and
    service/claims/fast_path.py call this, and the code that answers from memory
    (service/claims/not_modified.py) calls ``admit_cached``, which checks the same way, so none
    of them can admit differently.
    """
    presented = _required_key(request)
    principal = await authenticate(session, keys, presented)
    return _let_in(request, principal, needed, limiter)


def admit_cached(
    request: MutableMapping[str, Any], needed: Scope, keys: KeyCache, limiter: RateLimiter
) -> Principal | None:
    """``admit`` without the database: None for a key this process has not verified recently
    (the caller hands the request on to its route, which ``admit``s it)."""
    presented = _required_key(request)
    principal = cached_principal(keys, presented)
    return None if principal is None else _let_in(request, principal, needed, limiter)


def _required_key(request: MutableMapping[str, Any]) -> str:
    presented = presented_key(first_headers(request["headers"]))
    if presented is None:
        raise Unauthorized("An API key is required: send `Authorization: Bearer <key>`.")
    return presented


def _let_in(
    request: MutableMapping[str, Any], principal: Principal, needed: Scope, limiter: RateLimiter
) -> Principal:
    """The scope and rate-limit checks of an authenticated caller (the token taken last)."""
    request.setdefault("state", {})["key_name"] = principal.name
    if needed.value not in principal.scopes:
        raise Forbidden(f"This operation needs an API key with the '{needed.value}' scope.")
    wait = limiter.retry_after(principal.key_id)
    if wait > 0:
        raise RateLimited(
            "This API key is over its rate limit; slow down.",
            headers={"Retry-After": retry_after_header(wait)},
        )
    return principal


async def create_key(
    session: AsyncSession,
    *,
    name: str,
    scopes: list[Scope] | list[str],
    created_by: Principal | None = None,
    request_id: str | None = None,
) -> tuple[ApiKey, str]:
    """A new key and its secret. Names identify keys in the audit trail (``created_by``), so an
    active key's name is taken (409) and the command line's own name is reserved."""
    if name == CLI_ACTOR:
        raise Conflict(f"The name '{CLI_ACTOR}' stands for the command line; choose another.")
    repository = ApiKeyRepository(session)
    if await repository.active_by_name(name) is not None:
        raise _name_taken(name)
    secret, prefix = mint_key()
    normalized = sorted({Scope(scope).value for scope in scopes})
    key = ApiKey(
        name=name,
        prefix=prefix,
        key_hash=hash_key(secret),
        scopes=normalized,
        created_by=created_by.name if created_by else CLI_ACTOR,
    )
    try:
        await repository.add(key)
    except IntegrityError as exc:  # a concurrent request took the name first
        raise _name_taken(name) from exc
    await record_audit(
        session,
        actor=created_by,
        action="api_key.create",
        subject_type="api_key",
        subject_id=key.id,
        before=None,
        after=_key_snapshot(key),
        request_id=request_id,
    )
    return key, secret


def _name_taken(name: str) -> Conflict:
    return Conflict(f"An active API key is already named '{name}'; revoke it or choose another.")


async def revoke_key(
    session: AsyncSession,
    key_id: int,
    *,
    actor: Principal | None,
    request_id: str | None = None,
) -> ApiKey:
    repository = ApiKeyRepository(session)
    key = await repository.by_id(key_id)
    if key is None:
        raise NotFound(f"No API key with id {key_id}.")
    if key.revoked_at is None:
        before = _key_snapshot(key)
        key.revoked_at = utcnow()
        await session.flush()
        await record_audit(
            session,
            actor=actor,
            action="api_key.revoke",
            subject_type="api_key",
            subject_id=key.id,
            before=before,
            after=_key_snapshot(key),
            request_id=request_id,
        )
    # Forgotten once the revocation is committed (KeyCache.after_commit): forgetting it before, a
    # concurrent request could read the still-valid row and cache the key again.
    session.info.setdefault(FORGET_KEYS, set()).add(key.prefix)
    return key


def _key_snapshot(key: ApiKey) -> dict[str, Any]:
    return {
        "name": key.name,
        "prefix": key.prefix,
        "scopes": list(key.scopes),
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
    }
