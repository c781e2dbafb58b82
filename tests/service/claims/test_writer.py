"""Group commit of single-claim submissions: shared transactions, isolated failures."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from service.auth.service import Principal
from service.claims.models import Claim
from service.claims.schemas import ClaimCreate
from service.claims.service import ClaimService, PendingClaim
from service.claims.writer import ClaimWriter
from service.context import app_context
from service.scores.models import Score
from tests.service.factories import claim_body, create_outlet


async def pending_claims(
    app: Any, count: int, bodies: list[dict[str, Any]] | None = None
) -> list[PendingClaim]:
    """Checked claims ready for a writer: ``bodies``, or ``count`` numbered ones."""
    context = app_context(app)
    submitter = Principal(key_id=None, name="test", scopes=frozenset({"submit"}))  # type: ignore[arg-type]
    if bodies is None:
        bodies = [claim_body(text=f"claim number {index}") for index in range(count)]
    async with context.sessionmaker() as session:
        service = ClaimService(session, context.scoring, context.settings)
        return [
            await service.check_one(ClaimCreate.model_validate(body), submitter=submitter)
            for body in bodies
        ]


def committed_groups(writer: ClaimWriter) -> list[int]:
    """The sizes of the groups ``writer`` commits, filled in as each commits (a spy on its
    ``_write``, which returns once its transaction has committed)."""
    sizes: list[int] = []
    write = writer._write

    async def counted(pending: list[PendingClaim]) -> list[Any]:
        stored = await write(pending)
        sizes.append(len(pending))
        return stored

    writer._write = counted  # type: ignore[method-assign]
    return sizes


def writer_of(app: Any, **options: Any) -> ClaimWriter:
    """A writer of its own on the app's sessions (``options``: ``ClaimWriter``'s)."""
    context = app_context(app)
    return ClaimWriter(context.sessions, context.scoring, context.settings, **options)


async def stored_counts(session: Any) -> tuple[int, int]:
    claims = await session.scalar(select(func.count()).select_from(Claim))
    scores = await session.scalar(select(func.count()).select_from(Score))
    return int(claims), int(scores)


class TestGroupCommit:
    async def test_concurrent_submissions_share_transactions(
        self, app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str], session: Any
    ) -> None:
        await create_outlet(client, admin_headers)
        writer = writer_of(app, max_group=8)
        groups = committed_groups(writer)
        pending = await pending_claims(app, 20)
        stored = await asyncio.gather(*(writer.submit(item) for item in pending))
        assert [item.claim.text for item in stored] == [f"claim number {i}" for i in range(20)]
        assert len({item.claim.id for item in stored}) == 20
        assert sum(groups) == 20
        # 20 claims at most 8 to a group, queued at once: three transactions, not twenty.
        assert len(groups) == 3
        for item in stored:
            assert item.score is not None
            row = await session.get(Score, item.score.id)
            assert row.claim_id == item.claim.id
            assert row.probability == pytest.approx(item.score.probability)
            claim = await session.get(Claim, item.claim.id)
            assert claim.text == item.claim.text
        assert await stored_counts(session) == (20, 20)

    async def test_any_text_and_missing_values_are_stored_exactly(
        self, app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str], session: Any
    ) -> None:
        # Characters that array literals quote or escape, words they treat specially, and a
        # column that is null in some rows of the group and set in others.
        await create_outlet(client, admin_headers)
        texts = ['say "78" dead', "back\\slash \\N", "{braces}, commas", "NULL", "Raqqa الرقة ✓"]
        bodies = [
            claim_body(text=text, figure={"value": 37 + i, "unit": "people"} if i % 2 else None)
            for i, text in enumerate(texts)
        ]
        writer = writer_of(app)
        groups = committed_groups(writer)
        pending = await pending_claims(app, len(bodies), bodies)
        stored = await asyncio.gather(*(writer.submit(item) for item in pending))
        assert len(groups) == 1
        for item, text, body in zip(stored, texts, bodies, strict=True):
            claim = await session.get(Claim, item.claim.id)
            assert claim.text == text
            figure = body["figure"]
            assert claim.figure_value == (figure["value"] if figure else None)
            assert claim.event_id is None
            score = await session.get(Score, item.score.id)
            assert score.reasons == item.score.reasons
            assert score.as_of == item.score.as_of

    async def test_one_bad_claim_does_not_fail_the_others(
        self, app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str], session: Any
    ) -> None:
        await create_outlet(client, admin_headers)
        writer = writer_of(app)
        pending = await pending_claims(app, 5)
        # An outlet deleted between the check and the write: a foreign-key violation.
        gone = replace(pending[2].outlet, id=999_999)  # type: ignore[type-var]
        pending[2] = replace(pending[2], row={**pending[2].row, "outlet_id": gone.id}, outlet=gone)
        results = await asyncio.gather(
            *(writer.submit(item) for item in pending), return_exceptions=True
        )
        assert isinstance(results[2], IntegrityError)
        failed = [index for index, result in enumerate(results) if isinstance(result, Exception)]
        assert failed == [2]
        assert await stored_counts(session) == (4, 4)

    async def test_a_database_failure_reaches_every_request(
        self,
        app: Any,
        client: httpx.AsyncClient,
        admin_headers: dict[str, str],
        session: Any,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        await create_outlet(client, admin_headers)
        writer = writer_of(app)
        pending = await pending_claims(app, 3)
        calls = []

        async def down(self: ClaimService, items: Any) -> Any:
            calls.append(len(items))
            raise OperationalError("INSERT", {}, ConnectionError("server closed the connection"))

        monkeypatch.setattr(ClaimService, "write", down)
        results = await asyncio.gather(
            *(writer.submit(item) for item in pending), return_exceptions=True
        )
        assert all(isinstance(result, OperationalError) for result in results)
        assert calls == [3]  # not retried claim by claim: it is nobody's fault in particular
        assert await stored_counts(session) == (0, 0)

    async def test_through_the_api_under_concurrency(
        self, app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str], session: Any
    ) -> None:
        await create_outlet(client, admin_headers)
        responses = await asyncio.gather(
            *(
                client.post("/v1/claims", json=claim_body(text=f"n{i}"), headers=admin_headers)
                for i in range(12)
            )
        )
        assert [response.status_code for response in responses] == [201] * 12
        ids = {response.json()["id"] for response in responses}
        for response in responses:
            stored = await session.get(Claim, response.json()["id"])
            assert stored.text == response.json()["text"]
        assert len(ids) == 12
        assert await stored_counts(session) == (12, 12)

    async def test_a_cancelled_writer_releases_the_waiting_requests(
        self,
        app: Any,
        client: httpx.AsyncClient,
        admin_headers: dict[str, str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        await create_outlet(client, admin_headers)
        writer = writer_of(app, max_writers=1)
        pending = await pending_claims(app, 3)
        started = asyncio.Event()

        async def stuck(self: ClaimService, items: Any) -> Any:
            started.set()
            await asyncio.Event().wait()

        monkeypatch.setattr(ClaimService, "write", stuck)
        requests = [asyncio.ensure_future(writer.submit(item)) for item in pending]
        await started.wait()
        for drain in list(writer._drains):
            drain.cancel()
        results = await asyncio.wait_for(
            asyncio.gather(*requests, return_exceptions=True), timeout=5
        )
        assert all(isinstance(result, asyncio.CancelledError) for result in results)
