from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from standardwebhooks import Webhook

from service.push.models import OutboxEvent, WebhookDelivery
from service.push.outbox import emit
from service.settings import Settings
from tests.conftest import in_process_client, make_key, running_app
from tests.service.factories import create_claim, create_outlet, record_verdict
from tests.service.push.conftest import Receiver


async def subscribe(
    client: httpx.AsyncClient, headers: dict[str, str], url: str, **fields: Any
) -> dict[str, Any]:
    body = {"url": url, "event_types": ["verdict.recorded", "claim.scored"], **fields}
    response = await client.post("/v1/webhooks", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def deliveries(
    client: httpx.AsyncClient, headers: dict[str, str], subscription_id: int
) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/webhooks/{subscription_id}/deliveries", headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def admin_key(app: Any) -> dict[str, str]:
    key = await make_key(app, "admin", ["read", "submit", "admin"])
    return {"Authorization": f"Bearer {key}"}


def verified(receiver: Receiver, secret: str) -> list[dict[str, Any]]:
    """Every received body, each checked against its Standard Webhooks signature."""
    return [Webhook(secret).verify(item.body, item.headers) for item in receiver.received]


class TestDelivery:
    async def test_a_verdict_is_delivered_signed_and_its_rescore_follows(
        self, app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str], receiver: Receiver
    ) -> None:
        await create_outlet(client, admin_headers, "monitor")
        judged = await create_claim(client, admin_headers, "monitor")
        still_open = await create_claim(
            client, admin_headers, "monitor", published_at="2024-07-01T00:00:00Z"
        )
        created = await subscribe(client, admin_headers, receiver.url)
        assert created["secret"].startswith("whsec_")
        assert (
            "secret"
            not in (await client.get(f"/v1/webhooks/{created['id']}", headers=admin_headers)).json()
        )

        verdict = await record_verdict(client, admin_headers, judged["id"], "false")
        await app.state.context.push.webhooks.drain()

        [payload] = verified(receiver, created["secret"])
        assert payload["type"] == "verdict.recorded"
        assert payload["data"]["verdict_id"] == verdict["id"]
        assert payload["data"]["claim_id"] == judged["id"]
        assert payload["data"]["outlet"] == "monitor"
        assert payload["data"]["rating"] == "false"
        headers = receiver.received[0].headers
        assert headers["webhook-id"].startswith("msg_")
        assert headers["webhook-signature"].startswith("v1,")
        # A tampered body fails verification: the signature covers it.
        with pytest.raises(Exception, match="signature"):
            Webhook(created["secret"]).verify(receiver.received[0].body + " ", headers)

        # The background re-score of the outlet's open claim is pushed too.
        await app.state.context.jobs.drain()
        await app.state.context.push.webhooks.drain()
        rescored = [p for p in verified(receiver, created["secret"]) if p["type"] == "claim.scored"]
        assert [p["data"]["claim_id"] for p in rescored] == [still_open["id"]]
        assert rescored[0]["data"]["trigger"] == "verdict.recorded"
        latest = (await client.get(f"/v1/claims/{still_open['id']}", headers=admin_headers)).json()
        assert rescored[0]["data"]["probability"] == latest["score"]["probability"]
        assert rescored[0]["data"]["model_version"] == latest["score"]["model_version"]

        items = await deliveries(client, admin_headers, created["id"])
        assert [item["status"] for item in items] == ["succeeded", "succeeded"]
        assert all(item["attempts"] == 1 and item["last_status_code"] == 200 for item in items)

    async def test_filters_by_type_and_outlet(
        self, app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str], receiver: Receiver
    ) -> None:
        await create_outlet(client, admin_headers, "first")
        await create_outlet(client, admin_headers, "second")
        created = await subscribe(
            client, admin_headers, receiver.url, event_types=["claim.scored"], outlets=["second"]
        )
        assert created["outlets"] == ["second"]
        await create_claim(client, admin_headers, "first")
        wanted = await create_claim(client, admin_headers, "second")
        await app.state.context.push.webhooks.drain()
        payloads = verified(receiver, created["secret"])
        assert [(p["type"], p["data"]["claim_id"]) for p in payloads] == [
            ("claim.scored", wanted["id"])
        ]

    async def test_unknown_outlet_filter_is_refused(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        response = await client.post(
            "/v1/webhooks",
            json={
                "url": "http://127.0.0.1:9/x",
                "event_types": ["claim.scored"],
                "outlets": ["no"],
            },
            headers=admin_headers,
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"] == ["body", "outlets", 0]

    async def test_admin_scope_required(
        self, client: httpx.AsyncClient, read_headers: dict[str, str]
    ) -> None:
        assert (await client.get("/v1/webhooks", headers=read_headers)).status_code == 403
        assert (await client.get("/v1/webhooks")).status_code == 401


@pytest.fixture
def retrying_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "webhook_retry_base_seconds": 0.0,
            "webhook_max_attempts": 10,
            "webhook_disable_after_failures": 3,
        }
    )


class TestRetries:
    async def test_failures_are_retried_until_success(
        self, retrying_settings: Settings, receiver: Receiver
    ) -> None:
        receiver.statuses = [500, 503]
        async with running_app(retrying_settings) as app, in_process_client(app) as client:
            headers = await admin_key(app)
            await create_outlet(client, headers, "monitor")
            created = await subscribe(client, headers, receiver.url)
            claim = await create_claim(client, headers, "monitor")
            await app.state.context.push.webhooks.drain()
            [item] = await deliveries(client, headers, created["id"])
            assert item["status"] == "succeeded"
            assert item["attempts"] == 3
            assert item["last_status_code"] == 200
            # Each attempt carried the same message id, so a receiver can deduplicate.
            assert len({r.headers["webhook-id"] for r in receiver.received}) == 1
            assert len(receiver.received) == 3
            assert verified(receiver, created["secret"])[-1]["data"]["claim_id"] == claim["id"]
            webhook = (await client.get(f"/v1/webhooks/{created['id']}", headers=headers)).json()
            assert webhook["enabled"]
            assert webhook["consecutive_failures"] == 0

    async def test_repeated_failures_disable_the_subscription_until_re_enabled(
        self, retrying_settings: Settings, receiver: Receiver
    ) -> None:
        receiver.default_status = 503
        async with running_app(retrying_settings) as app, in_process_client(app) as client:
            headers = await admin_key(app)
            await create_outlet(client, headers, "monitor")
            created = await subscribe(client, headers, receiver.url)
            await create_claim(client, headers, "monitor")
            await app.state.context.push.webhooks.drain()
            assert len(receiver.received) == 3
            webhook = (await client.get(f"/v1/webhooks/{created['id']}", headers=headers)).json()
            assert webhook["enabled"] is False
            assert "3 consecutive failed deliveries" in webhook["disabled_reason"]
            assert "HTTP 503" in webhook["disabled_reason"]
            [item] = await deliveries(client, headers, created["id"])
            assert item["status"] == "pending"
            assert item["last_status_code"] == 503
            assert item["last_response_body"] == "receiver says 503"

            # Disabled: nothing more is sent, and a replay is refused.
            await app.state.context.push.webhooks.drain()
            assert len(receiver.received) == 3
            replay = await client.post(
                f"/v1/webhooks/{created['id']}/deliveries/{item['id']}/replay", headers=headers
            )
            assert replay.status_code == 409

            receiver.default_status = 204
            enabled = await client.patch(
                f"/v1/webhooks/{created['id']}", json={"enabled": True}, headers=headers
            )
            assert enabled.json()["disabled_reason"] is None
            await app.state.context.push.webhooks.drain()
            [item] = await deliveries(client, headers, created["id"])
            assert (item["status"], item["attempts"]) == ("succeeded", 4)

    async def test_a_delivery_out_of_attempts_fails(
        self, retrying_settings: Settings, receiver: Receiver
    ) -> None:
        receiver.default_status = 500
        limited = retrying_settings.model_copy(
            update={"webhook_max_attempts": 2, "webhook_disable_after_failures": 50}
        )
        async with running_app(limited) as app, in_process_client(app) as client:
            headers = await admin_key(app)
            await create_outlet(client, headers, "monitor")
            created = await subscribe(client, headers, receiver.url)
            await create_claim(client, headers, "monitor")
            await app.state.context.push.webhooks.drain()
            [item] = await deliveries(client, headers, created["id"])
            assert (item["status"], item["attempts"], item["next_attempt_at"]) == (
                "failed",
                2,
                None,
            )


class TestReplayAndRecovery:
    async def test_replay_sends_the_same_event_again(
        self, app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str], receiver: Receiver
    ) -> None:
        await create_outlet(client, admin_headers, "monitor")
        created = await subscribe(client, admin_headers, receiver.url)
        await create_claim(client, admin_headers, "monitor")
        await app.state.context.push.webhooks.drain()
        [first] = await deliveries(client, admin_headers, created["id"])
        response = await client.post(
            f"/v1/webhooks/{created['id']}/deliveries/{first['id']}/replay", headers=admin_headers
        )
        assert response.status_code == 202, response.text
        assert response.json()["status"] == "pending"
        await app.state.context.push.webhooks.drain()
        assert len(receiver.received) == 2
        assert receiver.received[0].body == receiver.received[1].body
        assert (
            receiver.received[0].headers["webhook-id"] == receiver.received[1].headers["webhook-id"]
        )
        items = await deliveries(client, admin_headers, created["id"])
        assert [item["status"] for item in items] == ["succeeded", "succeeded"]
        missing = await client.post(
            f"/v1/webhooks/{created['id']}/deliveries/999999/replay", headers=admin_headers
        )
        assert missing.status_code == 404

    async def test_a_change_committed_before_a_crash_is_delivered_after_restart(
        self, settings: Settings, receiver: Receiver
    ) -> None:
        async with running_app(settings) as app, in_process_client(app) as client:
            headers = await admin_key(app)
            await create_outlet(client, headers, "monitor")
            created = await subscribe(client, headers, receiver.url)
            await app.state.context.push.webhooks.drain()  # the fan-out cursor exists from here on
            claim = await create_claim(client, headers, "monitor")
            # The process stops before its dispatcher ran: only the outbox holds the change.
        assert receiver.received == []
        async with running_app(settings) as app:
            async with app.state.context.sessionmaker() as session:
                rows = (await session.scalars(select(OutboxEvent))).all()
                assert [row.payload["data"]["claim_id"] for row in rows] == [claim["id"]]
            await app.state.context.push.webhooks.drain()
        [payload] = verified(receiver, created["secret"])
        assert payload["data"]["claim_id"] == claim["id"]

    async def test_a_delivery_leased_by_a_process_that_died_is_sent_again(
        self, app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str], receiver: Receiver
    ) -> None:
        await create_outlet(client, admin_headers, "monitor")
        await subscribe(client, admin_headers, receiver.url)
        await app.state.context.push.webhooks.drain()
        await create_claim(client, admin_headers, "monitor")
        dispatcher = app.state.context.push.webhooks
        await dispatcher.fan_out()
        leased = await dispatcher._lease()
        assert len(leased) == 1
        # Within its lease nobody else sends it...
        assert await dispatcher.drain() == 0
        async with app.state.context.sessionmaker() as session:
            await session.execute(
                update(WebhookDelivery).values(next_attempt_at=WebhookDelivery.created_at)
            )
            await session.commit()
        # ...once the lease has run out, it is sent.
        assert await dispatcher.drain() == 1
        assert len(receiver.received) == 1


class TestOutbox:
    async def test_events_are_written_only_if_their_transaction_commits(self, app: Any) -> None:
        async with app.state.context.sessionmaker() as session:
            emit(session, "claim.scored", {"claim_id": 1}, outlet_id=1)
            await session.execute(select(OutboxEvent.id))
            await session.rollback()
            emit(session, "claim.scored", {"claim_id": 2}, outlet_id=1)
            await session.commit()
            rows = (await session.scalars(select(OutboxEvent))).all()
        assert [row.payload["data"] for row in rows] == [{"claim_id": 2}]
        assert session.info == {"credscore.pushed": True}

    async def test_payloads_have_the_shared_shape(
        self, app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        await create_outlet(client, admin_headers, "monitor")
        claim = await create_claim(client, admin_headers, "monitor")
        await record_verdict(client, admin_headers, claim["id"], "true")
        async with app.state.context.sessionmaker() as session:
            rows = (await session.scalars(select(OutboxEvent).order_by(OutboxEvent.id))).all()
        assert [row.type for row in rows] == [
            "claim.scored",
            "outlet.reliability_changed",
            "verdict.recorded",
        ]
        for row in rows:
            assert set(row.payload) == {"type", "timestamp", "data"}
            assert row.payload["type"] == row.type
            assert row.payload["timestamp"].endswith("Z")
        changed = rows[1].payload["data"]
        assert changed["outlet"] == "monitor"
        assert changed["previous_reliability"] is None
        assert 0 < changed["reliability"] < 1
        assert [row.outlet_id for row in rows] == [claim["outlet_id"]] * 3
