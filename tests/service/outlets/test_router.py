from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from service.audit.models import AuditEntry
from service.outlets.models import Outlet, OutletDependency
from service.outlets.service import dependency_read
from tests.service.factories import (
    create_claim,
    create_outlet,
    outlet_body,
    recent_track_record,
    record_verdict,
)


class TestCreateOutlet:
    async def test_creates_and_returns_etag(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        response = await client.post("/v1/outlets", json=outlet_body(), headers=admin_headers)
        assert response.status_code == 201
        body = response.json()
        assert body["slug"] == "test-wire"
        assert body["version"] == 1
        assert body["archived"] is False
        assert response.headers["ETag"] == f'"outlet-{body["id"]}-v1"'
        assert response.headers["Location"] == f"/v1/outlets/{body['id']}"

    async def test_duplicate_slug_is_409(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        await create_outlet(client, admin_headers)
        response = await client.post("/v1/outlets", json=outlet_body(), headers=admin_headers)
        assert response.status_code == 409
        assert response.headers["content-type"] == "application/problem+json"
        assert "already exists" in response.json()["detail"]

    async def test_unknown_kind_and_extra_fields_are_422(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        response = await client.post(
            "/v1/outlets", json=outlet_body(kind="blog", rating=5), headers=admin_headers
        )
        assert response.status_code == 422
        locs = {tuple(error["loc"]) for error in response.json()["errors"]}
        assert ("body", "kind") in locs
        assert ("body", "rating") in locs

    async def test_create_is_audited(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str], session: Any
    ) -> None:
        outlet = await create_outlet(client, admin_headers)
        entry = (
            await session.execute(select(AuditEntry).where(AuditEntry.action == "outlet.create"))
        ).scalar_one()
        assert entry.action == "outlet.create"
        assert entry.subject_id == str(outlet["id"])
        assert entry.actor == "test-admin"
        assert entry.after["slug"] == "test-wire"


class TestListOutlets:
    async def test_filters_and_cursor_pagination(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        for index in range(5):
            await create_outlet(client, admin_headers, f"wire-{index}")
        await create_outlet(
            client, admin_headers, "state-tv", kind="state_media", conflict_parties=["syria-2017"]
        )
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 2, "kind": "wire"}
            if cursor:
                params["cursor"] = cursor
            page = (await client.get("/v1/outlets", params=params, headers=admin_headers)).json()
            seen += [item["slug"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == [f"wire-{index}" for index in range(5)]
        exact = await client.get(
            "/v1/outlets", params={"limit": 5, "kind": "wire"}, headers=admin_headers
        )
        assert len(exact.json()["items"]) == 5
        assert exact.json()["next_cursor"] is None  # a full last page is still the last

        parties = await client.get(
            "/v1/outlets", params={"conflict": "syria-2017"}, headers=admin_headers
        )
        assert [item["slug"] for item in parties.json()["items"]] == ["state-tv"]
        searched = await client.get("/v1/outlets", params={"q": "STATE"}, headers=admin_headers)
        assert [item["slug"] for item in searched.json()["items"]] == ["state-tv"]

    async def test_bad_cursor_is_422(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        response = await client.get("/v1/outlets?cursor=nonsense", headers=admin_headers)
        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"] == ["query", "cursor"]


class TestGetOutlet:
    async def test_by_id_and_slug(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        outlet = await create_outlet(client, admin_headers)
        by_id = await client.get(f"/v1/outlets/{outlet['id']}", headers=admin_headers)
        by_slug = await client.get("/v1/outlets/test-wire", headers=admin_headers)
        assert by_id.json() == by_slug.json() == outlet
        assert by_id.headers["ETag"] == f'"outlet-{outlet["id"]}-v1"'

    async def test_unknown_is_404_problem(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        response = await client.get("/v1/outlets/nobody", headers=admin_headers)
        assert response.status_code == 404
        problem = response.json()
        assert problem["type"] == "/problems/not-found"
        assert problem["instance"] == "/v1/outlets/nobody"
        assert problem["request_id"] == response.headers["x-request-id"]


class TestUpdateOutlet:
    async def test_if_match_current_version_updates(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str], session: Any
    ) -> None:
        outlet = await create_outlet(client, admin_headers)
        etag = (await client.get("/v1/outlets/test-wire", headers=admin_headers)).headers["ETag"]
        response = await client.patch(
            "/v1/outlets/test-wire",
            json={"name": "Renamed Wire", "conflict_parties": ["ukraine-2022"]},
            headers=admin_headers | {"If-Match": etag},
        )
        assert response.status_code == 200
        body = response.json()
        assert body["name"] == "Renamed Wire"
        assert body["conflict_parties"] == ["ukraine-2022"]
        assert body["kind"] == outlet["kind"]
        assert body["version"] == 2
        assert response.headers["ETag"] == f'"outlet-{outlet["id"]}-v2"'
        entry = (
            await session.execute(select(AuditEntry).where(AuditEntry.action == "outlet.update"))
        ).scalar_one()
        assert entry.before["name"] == "Test Wire"
        assert entry.after["name"] == "Renamed Wire"

    async def test_stale_if_match_is_412_and_changes_nothing(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        await create_outlet(client, admin_headers)
        etag = (await client.get("/v1/outlets/test-wire", headers=admin_headers)).headers["ETag"]
        first = await client.patch(
            "/v1/outlets/test-wire",
            json={"name": "First"},
            headers=admin_headers | {"If-Match": etag},
        )
        assert first.status_code == 200
        second = await client.patch(
            "/v1/outlets/test-wire",
            json={"name": "Second"},
            headers=admin_headers | {"If-Match": etag},
        )
        assert second.status_code == 412
        current = await client.get("/v1/outlets/test-wire", headers=admin_headers)
        assert current.json()["name"] == "First"

    async def test_missing_if_match_is_428(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        await create_outlet(client, admin_headers)
        response = await client.patch(
            "/v1/outlets/test-wire", json={"name": "X"}, headers=admin_headers
        )
        assert response.status_code == 428

    async def test_null_for_required_field_is_422(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        await create_outlet(client, admin_headers)
        response = await client.patch(
            "/v1/outlets/test-wire", json={"name": None}, headers=admin_headers | {"If-Match": "*"}
        )
        assert response.status_code == 422


class TestArchive:
    async def test_archive_hides_and_refuses_new_claims(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        await create_outlet(client, admin_headers)
        archived = await client.post("/v1/outlets/test-wire/archive", headers=admin_headers)
        assert archived.json()["archived"] is True
        listed = await client.get("/v1/outlets", headers=admin_headers)
        assert listed.json()["items"] == []
        listed_all = await client.get(
            "/v1/outlets", params={"include_archived": True}, headers=admin_headers
        )
        assert len(listed_all.json()["items"]) == 1
        claim = await client.post(
            "/v1/claims",
            json={"outlet_slug": "test-wire", "text": "x", "published_at": "2024-01-01T00:00:00Z"},
            headers=admin_headers,
        )
        assert claim.status_code == 422
        assert claim.json()["errors"][0]["type"] == "archived_outlet"
        restored = await client.post("/v1/outlets/test-wire/unarchive", headers=admin_headers)
        assert restored.json()["archived"] is False


class TestRecordsAndReliability:
    async def test_unrated_outlet_is_flagged(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        await create_outlet(client, admin_headers)
        reliability = (
            await client.get("/v1/outlets/test-wire/reliability", headers=admin_headers)
        ).json()
        assert reliability["rated"] is False
        assert reliability["grade"] == "unrated"
        assert reliability["evidence"] == 0

    async def test_record_raises_reliability_and_is_listed(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        await create_outlet(client, admin_headers)
        before = (
            await client.get("/v1/outlets/test-wire/reliability", headers=admin_headers)
        ).json()
        created = await client.post(
            "/v1/outlets/test-wire/records",
            json={
                "source": "press council audit",
                "as_of": "2023-01-01T00:00:00Z",
                "verified": 40,
                "refuted": 2,
                "external_rating": "High",
            },
            headers=admin_headers,
        )
        assert created.status_code == 201
        assert created.json()["external_rating"] == "high"
        after = (
            await client.get("/v1/outlets/test-wire/reliability", headers=admin_headers)
        ).json()
        assert after["rated"] is True
        assert after["probability"] > before["probability"]
        assert after["interval"]["high"] - after["interval"]["low"] < (
            before["interval"]["high"] - before["interval"]["low"]
        )
        assert any("press council audit" in reason["text"] for reason in after["reasons"])
        records = (await client.get("/v1/outlets/test-wire/records", headers=admin_headers)).json()
        assert [record["verified"] for record in records["items"]] == [40]

        # Only evidence known by as_of counts.
        earlier = (
            await client.get(
                "/v1/outlets/test-wire/reliability",
                params={"as_of": "2022-06-01T00:00:00Z"},
                headers=admin_headers,
            )
        ).json()
        assert earlier["rated"] is False

        deleted = await client.delete(
            f"/v1/outlets/test-wire/records/{created.json()['id']}", headers=admin_headers
        )
        assert deleted.status_code == 204
        final = (
            await client.get("/v1/outlets/test-wire/reliability", headers=admin_headers)
        ).json()
        assert final["probability"] == before["probability"]
        history = (
            await client.get("/v1/outlets/test-wire/reliability/history", headers=admin_headers)
        ).json()
        assert [item["trigger"] for item in history["items"]] == ["record.added", "record.deleted"]

    async def test_negative_counts_and_unknown_rating_are_422(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        await create_outlet(client, admin_headers)
        response = await client.post(
            "/v1/outlets/test-wire/records",
            json={
                "source": "s",
                "as_of": "2023-01-01T00:00:00Z",
                "refuted": -1,
                "external_rating": "great",
            },
            headers=admin_headers,
        )
        assert response.status_code == 422
        locs = {tuple(error["loc"]) for error in response.json()["errors"]}
        assert locs == {("body", "refuted"), ("body", "external_rating")}

    async def test_kind_prior_comes_from_other_outlets(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        await create_outlet(client, admin_headers, "good-wire")
        await create_outlet(client, admin_headers, "new-wire")
        await create_outlet(client, admin_headers, "bad-state", kind="state_media")
        for slug, ratings in (("good-wire", ["true"] * 8), ("bad-state", ["false"] * 8)):
            for _ in ratings:
                claim = await create_claim(client, admin_headers, slug)
                await record_verdict(client, admin_headers, claim["id"], ratings[0])
        new_wire = (
            await client.get("/v1/outlets/new-wire/reliability", headers=admin_headers)
        ).json()
        assert new_wire["rated"] is False
        # An unrated wire starts from what other wires earned, not from state media's record.
        assert new_wire["prior_mean"] > 0.6
        assert new_wire["probability"] == new_wire["prior_mean"]


STRIKES = {"title": "Civilians killed", "quantity_kind": "civilian_deaths", "unit": "people"}


class TestDependencies:
    async def test_an_outlet_repeating_another_ones_wrong_figures_is_its_copy_partner(
        self, app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        for slug in ("wire-a", "wire-b", "origin", "copier"):
            await create_outlet(client, admin_headers, slug)
        await recent_track_record(client, admin_headers, "wire-a", ["true"] * 5)
        await recent_track_record(client, admin_headers, "wire-b", ["true"] * 5)
        await recent_track_record(client, admin_headers, "origin", ["false"] * 5)
        # Six events: two accurate wires agree on the truth; the copier repeats every wrong
        # figure the origin gives.
        for index in range(6):
            event = (
                await client.post(
                    "/v1/events", json=STRIKES | {"title": f"Strike {index}"}, headers=admin_headers
                )
            ).json()
            truth = 20 + 7 * index
            wrong = 3 * truth + 11
            for slug, value in (
                ("wire-a", truth),
                ("wire-b", truth),
                ("origin", wrong),
                ("copier", wrong),
            ):
                await create_claim(
                    client, admin_headers, slug, event_id=event["id"], figure={"value": value}
                )
        await app.state.context.jobs.drain()

        response = await client.get("/v1/outlets/origin/dependencies", headers=admin_headers)
        assert response.status_code == 200
        [partner] = response.json()["items"]
        assert partner["outlet_slug"] == "copier"
        assert partner["probability"] > 0.9
        assert partner["common_events"] == 6
        assert partner["direction"] in {"copies", "copied_by", None}
        seen_from_copier = (
            await client.get("/v1/outlets/copier/dependencies", headers=admin_headers)
        ).json()["items"]
        assert [item["outlet_slug"] for item in seen_from_copier] == ["origin"]
        assert seen_from_copier[0]["direction_probability"] == pytest.approx(
            1 - partner["direction_probability"]
        )

        # Every measured pair is kept; the accurate wires are not the copiers' partners.
        everything = (
            await client.get(
                "/v1/outlets/origin/dependencies",
                params={"min_probability": 0, "limit": 2},
                headers=admin_headers,
            )
        ).json()
        rest = (
            await client.get(
                "/v1/outlets/origin/dependencies",
                params={"min_probability": 0, "cursor": everything["next_cursor"]},
                headers=admin_headers,
            )
        ).json()
        probability = {
            item["outlet_slug"]: item["probability"] for item in everything["items"] + rest["items"]
        }
        assert set(probability) == {"wire-a", "wire-b", "copier"}
        assert probability["wire-a"] < 0.1
        assert probability["wire-b"] < 0.1

        # The consensus names the group it discounted and keeps the estimate with the truth.
        event_id = (await client.get("/v1/events", headers=admin_headers)).json()["items"][-1]["id"]
        consensus = (
            await client.get(f"/v1/events/{event_id}/consensus", headers=admin_headers)
        ).json()
        assert consensus["estimate"] == 20 + 7 * 5
        assert [sorted(group["outlet_slugs"]) for group in consensus["dependent_groups"]] == [
            ["copier", "origin"]
        ]
        discounted = {
            item["outlet_slug"]: item["reasons"] for item in consensus["explanation"]["discounted"]
        }
        # "likely copies", "likely copied by" or "likely dependent on", as the data tells.
        assert any(
            reason.startswith("likely") and ("origin" in reason or "copier" in reason)
            for reasons in discounted.values()
            for reason in reasons
        )

    async def test_unknown_outlet_is_404_and_reader_scope_suffices(
        self,
        client: httpx.AsyncClient,
        admin_headers: dict[str, str],
        read_headers: dict[str, str],
    ) -> None:
        assert (
            await client.get("/v1/outlets/nobody/dependencies", headers=read_headers)
        ).status_code == 404
        await create_outlet(client, admin_headers)
        response = await client.get("/v1/outlets/test-wire/dependencies", headers=read_headers)
        assert response.json() == {"items": [], "next_cursor": None}
        bad = await client.get(
            "/v1/outlets/test-wire/dependencies",
            params={"min_probability": 2},
            headers=read_headers,
        )
        assert bad.status_code == 422


@pytest.mark.parametrize(
    ("first_copies", "as_first", "as_second"),
    [(0.9, "copies", "copied_by"), (0.1, "copied_by", "copies"), (0.5, None, None)],
)
def test_direction_is_told_only_when_the_data_tells_it(
    first_copies: float, as_first: str | None, as_second: str | None
) -> None:
    first = Outlet(id=1, slug="first", name="First")
    second = Outlet(id=2, slug="second", name="Second")
    row = OutletDependency(
        id=1,
        first_outlet_id=1,
        second_outlet_id=2,
        probability=0.95,
        first_copies=first_copies,
        common_events=4,
        updated_at=datetime.now(UTC),
    )
    from_first = dependency_read(1, row, second)
    from_second = dependency_read(2, row, first)
    assert (from_first.outlet_slug, from_first.direction) == ("second", as_first)
    assert (from_second.outlet_slug, from_second.direction) == ("first", as_second)
    assert from_first.direction_probability + from_second.direction_probability == 1
