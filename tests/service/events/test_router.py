from __future__ import annotations

import httpx

from tests.service.factories import create_claim, create_outlet

EVENT = {
    "title": "Civilians killed in strikes on al-Sakhani",
    "quantity_kind": "civilian_deaths",
    "unit": "people",
    "place": "Raqqa",
    "window_start": "2017-08-21T18:00:00Z",
    "window_end": "2017-08-22T18:00:00Z",
    "topic": "civilian-casualties",
    "conflict": "syria-2017",
}


class TestEvents:
    async def test_create_list_and_get_with_claims(
        self,
        client: httpx.AsyncClient,
        admin_headers: dict[str, str],
        submit_headers: dict[str, str],
    ) -> None:
        created = await client.post("/v1/events", json=EVENT, headers=submit_headers)
        assert created.status_code == 201
        event = created.json()
        assert event["conflict"] == "syria-2017"
        await create_outlet(client, admin_headers)
        claim = await create_claim(
            client, admin_headers, event_id=event["id"], figure={"value": 37}
        )
        assert claim["topic"] == "civilian-casualties"  # inherited from the event
        detail = (await client.get(f"/v1/events/{event['id']}", headers=admin_headers)).json()
        assert [item["id"] for item in detail["claims"]] == [claim["id"]]
        assert detail["claims"][0]["score"]["id"] == claim["score"]["id"]
        assert detail["claims_truncated"] is False
        listed = await client.get(
            "/v1/events", params={"conflict": "syria-2017"}, headers=admin_headers
        )
        assert [item["id"] for item in listed.json()["items"]] == [event["id"]]
        assert (
            await client.get("/v1/events", params={"topic": "other"}, headers=admin_headers)
        ).json()["items"] == []

    async def test_window_must_be_ordered(
        self, client: httpx.AsyncClient, submit_headers: dict[str, str]
    ) -> None:
        body = EVENT | {"window_end": "2017-08-20T00:00:00Z"}
        response = await client.post("/v1/events", json=body, headers=submit_headers)
        assert response.status_code == 422

    async def test_unknown_event_is_404(
        self, client: httpx.AsyncClient, read_headers: dict[str, str]
    ) -> None:
        assert (await client.get("/v1/events/5", headers=read_headers)).status_code == 404
