from __future__ import annotations

import csv
import io
import json
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from service.audit.models import AuditEntry
from service.claims.models import Claim
from service.interchange.exports import csv_export
from service.jobs.models import Job
from service.jobs.service import RESCORE_OUTLET
from service.outlets.models import Outlet, OutletRecord
from service.push.models import OutboxEvent
from service.settings import Settings
from service.tables import Base
from service.verdicts.models import Verdict
from tests.conftest import SHARED_DATA, in_process_client, make_key, running_app
from tests.service.factories import create_claim, create_outlet

MBFC = SHARED_DATA / "outlets" / "mbfc-emnlp18" / "corpus.tsv"
CSV_HEADERS = {"content-type": "text/csv"}

OUTLETS_CSV = (
    "slug,name,kind,country,url,factuality,rating_source\n"
    "daily-planet,Daily Planet,newspaper,US,https://www.dailyplanet.example/,high,Checker\n"
    ",,,,https://bugle.example/,low,Checker\n"
)


async def _count(session: Any, model: type[Base]) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _post_outlets(
    client: httpx.AsyncClient, headers: dict[str, str], body: str, **params: Any
) -> httpx.Response:
    return await client.post(
        "/v1/outlets/import", content=body, params=params, headers=headers | CSV_HEADERS
    )


class TestOutletImport:
    async def test_dry_run_stores_nothing_then_import_creates_with_ratings(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str], session: Any
    ) -> None:
        dry = await _post_outlets(client, admin_headers, OUTLETS_CSV, dry_run="true")
        assert dry.status_code == 200, dry.text
        assert dry.json()["created"] == 2
        assert dry.json()["dry_run"] is True
        assert await _count(session, Outlet) == 0

        done = await _post_outlets(client, admin_headers, OUTLETS_CSV)
        assert done.status_code == 200, done.text
        assert done.json() | {"ignored_columns": []} == {
            "dry_run": False,
            "rows": 2,
            "created": 2,
            "updated": 0,
            "unchanged": 0,
            "ratings_recorded": 2,
            "ignored_columns": [],
        }
        bugle = (await client.get("/v1/outlets/bugle-example", headers=admin_headers)).json()
        assert bugle["url"] == "https://bugle.example/"
        assert bugle["kind"] == "other"
        records = (
            await client.get("/v1/outlets/bugle-example/records", headers=admin_headers)
        ).json()["items"]
        assert [(r["source"], r["external_rating"]) for r in records] == [("Checker", "low")]
        # The rating counts at once: a low rating puts the outlet below a high-rated one.
        low = await client.get("/v1/outlets/bugle-example/reliability", headers=admin_headers)
        high = await client.get("/v1/outlets/daily-planet/reliability", headers=admin_headers)
        assert low.json()["probability"] < high.json()["probability"]
        actions = (await session.execute(select(AuditEntry.action))).scalars().all()
        assert sorted(actions).count("outlet.create") == 2

    async def test_reimport_updates_by_slug_or_host_without_duplicates(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str], session: Any
    ) -> None:
        await _post_outlets(client, admin_headers, OUTLETS_CSV)
        changed = (
            "domain,name,fact\n"
            "dailyplanet.example,The Daily Planet,high\n"  # matched by host: renamed
            "bugle.example,,mixed\n"  # matched by host: rating changed
        )
        response = await _post_outlets(client, admin_headers, changed)
        assert response.status_code == 200, response.text
        report = response.json()
        assert (report["created"], report["updated"], report["ratings_recorded"]) == (0, 1, 2)
        assert await _count(session, Outlet) == 2
        planet = (await client.get("/v1/outlets/daily-planet", headers=admin_headers)).json()
        assert planet["name"] == "The Daily Planet"
        assert planet["version"] == 2
        # The file names no rating source: the rating is stored as the import's own, beside
        # the earlier one; the same file again changes nothing.
        again = (await _post_outlets(client, admin_headers, changed)).json()
        assert (again["updated"], again["unchanged"], again["ratings_recorded"]) == (0, 2, 0)
        ratings = await session.execute(
            select(OutletRecord.source, OutletRecord.external_rating)
            .join(Outlet, Outlet.id == OutletRecord.outlet_id)
            .where(Outlet.slug == "bugle-example")
            .order_by(OutletRecord.id)
        )
        assert ratings.all() == [("Checker", "low"), ("import", "mixed")]

    async def test_every_row_error_is_listed_and_nothing_is_stored(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str], session: Any
    ) -> None:
        bad = (
            "slug,name,kind,country,factuality\n"
            "good-one,Good,wire,GB,high\n"
            "bad-kind,Bad,blog,GB,high\n"
            "bad-rating,Bad,wire,GB,excellent\n"
            ",,,,\n"
            "good-one,Again,wire,GB,high\n"
            ",Nameless,wire,GB,\n"
        )
        response = await _post_outlets(client, admin_headers, bad)
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        locs = {(e["loc"][1], e["loc"][2]) for e in response.json()["errors"]}
        assert locs == {(3, "kind"), (4, "factuality"), (6, "slug"), (7, "slug")}
        assert await _count(session, Outlet) == 0

    async def test_needs_admin(
        self, client: httpx.AsyncClient, read_headers: dict[str, str]
    ) -> None:
        response = await _post_outlets(client, read_headers, OUTLETS_CSV)
        assert response.status_code == 403

    async def test_multipart_upload(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        response = await client.post(
            "/v1/outlets/import",
            files={"file": ("outlets.csv", OUTLETS_CSV.encode(), "text/csv")},
            headers=admin_headers,
        )
        assert response.status_code == 200, response.text
        assert response.json()["created"] == 2

    @pytest.mark.skipif(not MBFC.exists(), reason=f"the MBFC outlet list is not at {MBFC}")
    async def test_the_real_outlet_list_imports(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str], session: Any
    ) -> None:
        body = MBFC.read_text()
        dry = await _post_outlets(client, admin_headers, body, dry_run="true")
        assert dry.status_code == 200, dry.text
        assert (dry.json()["rows"], dry.json()["created"]) == (1066, 1066)
        assert dry.json()["ignored_columns"] == ["bias"]
        assert await _count(session, Outlet) == 0
        done = (await _post_outlets(client, admin_headers, body)).json()
        assert (done["created"], done["ratings_recorded"]) == (1066, 1066)
        sources = await session.execute(select(OutletRecord.source).distinct())
        assert sources.scalars().all() == ["mediabiasfactcheck.com"]
        again = (await _post_outlets(client, admin_headers, body)).json()
        assert (again["created"], again["unchanged"]) == (0, 1066)
        assert await _count(session, Outlet) == 1066


def _claimreview(**overrides: Any) -> dict[str, Any]:
    review: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": "https://checker.example/reviews/1",
        "claimReviewed": "The bridge was closed for a year.",
        "itemReviewed": {
            "@type": "Claim",
            "author": {"@type": "Organization", "name": "Bugle", "url": "https://bugle.example"},
            "datePublished": "2024-01-10T00:00:00+00:00",
            "appearance": {"@type": "CreativeWork", "url": "https://bugle.example/a/1"},
        },
        "author": {"@type": "Organization", "name": "Checker"},
        "datePublished": "2024-02-01T00:00:00+00:00",
        "reviewRating": {"@type": "Rating", "alternateName": "Pants on Fire"},
    }
    review.update(overrides)
    return review


class TestVerdictImport:
    async def test_claimreview_creates_outlet_and_claim_and_queues_one_rescore(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str], session: Any
    ) -> None:
        second = _claimreview(
            url="https://checker.example/reviews/2",
            claimReviewed="Taxes doubled.",
            reviewRating={"ratingValue": 4, "bestRating": 5, "worstRating": 1},
        )
        second["itemReviewed"] = {**second["itemReviewed"], "appearance": None}
        document = {"@context": "https://schema.org", "@graph": [_claimreview(), second]}
        response = await client.post(
            "/v1/verdicts/import",
            content=json.dumps(document),
            headers=admin_headers | {"content-type": "application/ld+json"},
        )
        assert response.status_code == 200, response.text
        report = response.json()
        assert (report["verdicts_created"], report["claims_created"]) == (2, 2)
        assert (report["outlets_created"], report["outlets_rescored"]) == (1, 1)
        ratings = await session.execute(select(Verdict.rating).order_by(Verdict.id))
        assert ratings.scalars().all() == ["false", "mostly-true"]
        jobs = await session.execute(select(Job.kind, Job.target_id).where(Job.status == "pending"))
        outlet_id = await session.scalar(select(Outlet.id).where(Outlet.slug == "bugle-example"))
        assert jobs.all() == [(RESCORE_OUTLET, outlet_id)]
        # Imported again: the same reviews are recognised, nothing is duplicated.
        again = await client.post(
            "/v1/verdicts/import",
            content=json.dumps(document),
            headers=admin_headers | {"content-type": "application/ld+json"},
        )
        assert again.json()["duplicates_skipped"] == 2
        assert again.json()["claims_matched"] == 2
        assert await _count(session, Verdict) == 2

    async def test_a_dry_run_pushes_no_event(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str], session: Any
    ) -> None:
        document = {"@context": "https://schema.org", "@graph": [_claimreview()]}
        newest = await session.scalar(select(func.max(OutboxEvent.id))) or 0
        response = await client.post(
            "/v1/verdicts/import",
            params={"dry_run": "true"},
            content=json.dumps(document),
            headers=admin_headers | {"content-type": "application/ld+json"},
        )
        assert response.status_code == 200, response.text
        assert response.json()["verdicts_created"] == 1
        assert await _count(session, Verdict) == 0
        after = await session.scalar(select(func.max(OutboxEvent.id))) or 0
        assert after == newest

    async def test_csv_matches_claims_by_id_and_text_and_reports_unknown_ratings(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str], session: Any
    ) -> None:
        await create_outlet(client, admin_headers, "wire")
        first = await create_claim(client, admin_headers, "wire", text="First claim.")
        await create_claim(client, admin_headers, "wire", text="Second claim.")
        rows = (
            "claim_id,outlet,text,rating,source,decided_at\n"
            f"{first['id']},,,Mostly True,desk,2024-06-01\n"
            ",wire,Second claim.,misleading,desk,2024-06-02T00:00:00Z\n"
        )
        response = await client.post(
            "/v1/verdicts/import", content=rows, headers=admin_headers | CSV_HEADERS
        )
        assert response.status_code == 200, response.text
        assert (response.json()["claims_matched"], response.json()["claims_created"]) == (2, 0)
        ratings = await session.execute(select(Verdict.rating).order_by(Verdict.id))
        assert ratings.scalars().all() == ["mostly-true", "mostly-false"]

        unknown = (
            "claim_id,rating,source,decided_at\n"
            f"{first['id']},Sort of,desk,2024-07-01\n"
            f"{first['id']},false,desk,2023-01-01\n"
            "999999,false,desk,2024-07-01\n"
        )
        refused = await client.post(
            "/v1/verdicts/import", content=unknown, headers=admin_headers | CSV_HEADERS
        )
        assert refused.status_code == 422
        errors = refused.json()["errors"]
        assert [(e["loc"][1], e["loc"][2], e["type"]) for e in errors] == [
            (2, "rating", "rating"),
            (3, "decided_at", "before_claim"),
            (4, "claim_id", "not_found"),
        ]
        assert "Sort of" in errors[0]["message"]
        assert await _count(session, Verdict) == 2

    async def test_verdicts_for_one_outlet_coalesce_into_one_pending_job(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str], session: Any, app: Any
    ) -> None:
        await create_outlet(client, admin_headers, "wire")
        claims = [
            await create_claim(client, admin_headers, "wire", text=f"Claim {n}.") for n in range(3)
        ]
        await create_claim(client, admin_headers, "wire", text="Open claim.")
        for claim in claims:
            response = await client.post(
                f"/v1/claims/{claim['id']}/verdicts",
                json={"rating": "false", "source": "desk", "decided_at": "2024-06-01T00:00:00Z"},
                headers=admin_headers,
            )
            assert response.status_code == 201
        pending = await session.execute(
            select(Job.kind).where(Job.status == "pending", Job.kind == RESCORE_OUTLET)
        )
        assert pending.scalars().all() == [RESCORE_OUTLET]
        # Only the open claim is stale: those with a verdict are not re-scored.
        stale = select(func.count()).select_from(Claim).where(Claim.score_stale_since.is_not(None))
        assert await session.scalar(stale) == 1
        open_before = (
            await client.get("/v1/claims?outlet_slug=wire", headers=admin_headers)
        ).json()
        await app.state.context.jobs.drain()
        assert await session.scalar(stale) == 0
        open_after = (await client.get("/v1/claims?outlet_slug=wire", headers=admin_headers)).json()
        # The open claim was re-scored once, with the three false verdicts counted.
        before, after = open_before["items"][-1], open_after["items"][-1]
        assert (before["text"], before["score_stale"], after["score_stale"]) == (
            "Open claim.",
            True,
            False,
        )
        assert after["score"]["probability"] < before["score"]["probability"]


class TestClaimReviewExport:
    async def test_properties_and_lossless_round_trip(
        self,
        client: httpx.AsyncClient,
        admin_headers: dict[str, str],
        app: Any,
        settings: Settings,
    ) -> None:
        await create_outlet(client, admin_headers, "wire", url="https://wire.example")
        claim = await create_claim(
            client, admin_headers, "wire", published_at="2024-03-01T08:30:00Z"
        )
        await client.post(
            f"/v1/claims/{claim['id']}/verdicts",
            json={"rating": "mostly-false", "source": "desk", "decided_at": "2024-04-02T10:00:00Z"},
            headers=admin_headers,
        )
        response = await client.get(f"/v1/claims/{claim['id']}/claimreview", headers=admin_headers)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/ld+json"
        review = response.json()
        assert review["@type"] == "ClaimReview"
        assert review["claimReviewed"] == claim["text"]
        assert review["itemReviewed"]["@type"] == "Claim"
        assert review["itemReviewed"]["author"] == {
            "@type": "Organization",
            "name": "Wire",
            "url": "https://wire.example",
        }
        assert review["itemReviewed"]["datePublished"] == "2024-03-01T08:30:00+00:00"
        assert review["reviewRating"] == {
            "@type": "Rating",
            "ratingValue": 2,
            "bestRating": 5,
            "worstRating": 1,
            "alternateName": "Mostly false",
        }
        assert review["author"]["name"] == "credscore"
        assert review["datePublished"] == "2024-04-02T10:00:00+00:00"
        assert review["url"].endswith(f"/v1/claims/{claim['id']}/claimreview")

        lines = await client.get("/v1/claimreviews", headers=admin_headers)
        assert [json.loads(line) for line in lines.text.splitlines()] == [review]

        # Into an empty database, read by a fresh process: the same claim, outlet, dates and
        # rating come back.
        async with app.state.context.sessionmaker() as cleaner:
            for table in reversed(Base.metadata.sorted_tables):
                if table.name != "generations":
                    await cleaner.execute(table.delete())
            await cleaner.commit()
        async with running_app(settings) as fresh, in_process_client(fresh) as http:
            headers = {
                "Authorization": f"Bearer {await make_key(fresh, 'again', ['read', 'admin'])}"
            }
            imported = await http.post(
                "/v1/verdicts/import",
                content=json.dumps(review),
                headers=headers | {"content-type": "application/ld+json"},
            )
            assert imported.status_code == 200, imported.text
            assert imported.json()["claims_created"] == 1
            claims = (await http.get("/v1/claims", headers=headers)).json()["items"]
            assert [(c["text"], c["published_at"]) for c in claims] == [
                (claim["text"], "2024-03-01T08:30:00Z")
            ]
            outlet = await http.get(f"/v1/outlets/{claims[0]['outlet_id']}", headers=headers)
            assert (outlet.json()["name"], outlet.json()["url"]) == ("Wire", "https://wire.example")
            verdicts = (
                await http.get(f"/v1/claims/{claims[0]['id']}/verdicts", headers=headers)
            ).json()["items"]
            assert [(v["rating"], v["decided_at"]) for v in verdicts] == [
                ("mostly-false", "2024-04-02T10:00:00Z")
            ]
            again = await http.get(f"/v1/claims/{claims[0]['id']}/claimreview", headers=headers)
        assert {k: v for k, v in again.json().items() if k != "url"} == {
            k: v for k, v in review.items() if k != "url"
        }

    async def test_claim_without_verdict_is_404(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        await create_outlet(client, admin_headers)
        claim = await create_claim(client, admin_headers)
        response = await client.get(f"/v1/claims/{claim['id']}/claimreview", headers=admin_headers)
        assert response.status_code == 404
        assert "no verdict" in response.json()["detail"]


class TestCsvExport:
    @pytest.fixture
    def settings(self, settings: Any) -> Any:
        return settings.model_copy(update={"export_batch_rows": 2})

    async def test_streamed_in_batches_with_filters(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str], app: Any
    ) -> None:
        await create_outlet(client, admin_headers, "wire")
        await create_outlet(client, admin_headers, "other-wire")
        for day in range(1, 6):
            await create_claim(
                client, admin_headers, "wire", published_at=f"2024-05-0{day}T00:00:00Z"
            )
        await create_claim(client, admin_headers, "other-wire")
        response = await client.get(
            "/v1/export/claims.csv", params={"outlet": "wire"}, headers=admin_headers
        )
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert [row["outlet_slug"] for row in rows] == ["wire"] * 5
        # The response body is the header, then one chunk per batch of two rows: no more than
        # one batch is ever read or held at once, whatever the number of rows.
        outlet_id = int(rows[0]["outlet_id"])
        chunks = [
            chunk
            async for chunk in csv_export(
                app.state.context.sessionmaker,
                "claims",
                outlet_id=outlet_id,
                since=None,
                batch_rows=2,
            )
        ]
        assert [len(chunk.splitlines()) for chunk in chunks] == [1, 2, 2, 1]
        assert "".join(chunks) == response.text
        since = await client.get(
            "/v1/export/claims.csv",
            params={"outlet": "wire", "since": "2024-05-04T00:00:00Z"},
            headers=admin_headers,
        )
        assert [row["published_at"][:10] for row in csv.DictReader(io.StringIO(since.text))] == [
            "2024-05-04",
            "2024-05-05",
        ]
        scores = await client.get("/v1/export/scores.csv", headers=admin_headers)
        assert len(list(csv.DictReader(io.StringIO(scores.text)))) == 6
        outlets = await client.get("/v1/export/outlets.csv", headers=admin_headers)
        assert [row["slug"] for row in csv.DictReader(io.StringIO(outlets.text))] == [
            "wire",
            "other-wire",
        ]

    async def test_unknown_outlet_is_404(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        response = await client.get(
            "/v1/export/claims.csv", params={"outlet": "nope"}, headers=admin_headers
        )
        assert response.status_code == 404
