"""The client against a live server: every operation round-trips, errors come back typed."""

from __future__ import annotations

import csv
import io
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from credscore_client import AsyncClient, Client, CredscoreError, operation_ids
from credscore_client.models import (
    ClaimCreate,
    ClaimRead,
    ConsensusRead,
    DeliveryStatus,
    EventType,
    ExportKind,
    FigureIn,
    Grade,
    OutletKind,
    Rating,
    Scope,
)
from tests.client.conftest import LiveService


@pytest.fixture
def client(live_service: LiveService) -> Client:
    with Client(live_service.url, live_service.admin_key) as credscore:
        yield credscore


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def new_outlet(client: Client, **fields: object) -> str:
    slug = unique("outlet")
    client.outlets_create({"slug": slug, "name": slug.title(), "kind": "ngo_monitor"} | fields)
    return slug


def test_the_client_covers_every_operation_of_the_served_document(
    live_service: LiveService,
) -> None:
    document = httpx.get(f"{live_service.url}/openapi.json").json()
    served = {op["operationId"] for item in document["paths"].values() for op in item.values()}
    assert operation_ids() == served


def test_health(client: Client) -> None:
    assert client.health_liveness().status == "ok"
    readiness = client.health_readiness()
    assert readiness.status == "ok"
    assert readiness.migration == readiness.expected_migration


def test_outlets_round_trip(client: Client) -> None:
    slug = unique("outlet")
    created = client.outlets_create(
        {"slug": slug, "name": "Monitor", "kind": OutletKind.NGO_MONITOR, "country": "GB"}
    )
    assert created.kind is OutletKind.NGO_MONITOR
    assert created.transparency.methodology is None
    fetched = client.outlets_get(slug)
    assert fetched.id == created.id
    assert fetched.etag
    updated = client.outlets_update(slug, {"name": "Monitor renamed"}, if_match=fetched.etag)
    assert (updated.name, updated.version) == ("Monitor renamed", fetched.version + 1)
    with pytest.raises(CredscoreError) as stale:
        client.outlets_update(slug, {"name": "lost update"}, if_match=fetched.etag)
    assert stale.value.status == 412
    archived = client.outlets_archive(created.id, if_match=updated.etag)
    assert archived.archived
    assert not client.outlets_unarchive(slug).archived

    record = client.outlets_add_record(
        slug,
        {
            "source": "fact-check desk",
            "as_of": datetime.now(UTC),
            "external_rating": "high",
            "verified": 9,
            "refuted": 1,
        },
    )
    assert [r.id for r in client.outlets_list_records(slug)] == [record.id]
    reliability = client.outlets_get_reliability(slug)
    assert reliability.rated
    assert reliability.grade in set(Grade)
    assert list(client.outlets_reliability_history(slug))
    assert list(client.outlets_list_dependencies(slug, min_probability=0.5)) == []
    client.outlets_delete_record(slug, record.id)
    assert list(client.outlets_list_records(slug)) == []


def test_lists_page_through_every_item(client: Client) -> None:
    marker = unique("paged")
    slugs = [new_outlet(client, notes=marker) for _ in range(5)]
    [new_outlet(client) for _ in range(2)]
    found = [o.slug for o in client.outlets_list(q="outlet-", limit=2) if o.slug in slugs]
    assert found == slugs  # oldest first, across three pages of two
    newest_first = [o.slug for o in client.outlets_list(limit=2, order="desc") if o.slug in slugs]
    assert newest_first == slugs[::-1]
    page = client.outlets_list.page(limit=2)
    assert len(page.items) == 2
    assert page.next_cursor
    following = client.outlets_list.page(limit=2, cursor=page.next_cursor)
    assert {o.id for o in following.items}.isdisjoint({o.id for o in page.items})


def test_claims_round_trip_and_idempotency(client: Client) -> None:
    slug = new_outlet(client)
    claim = ClaimCreate(
        outlet_slug=slug,
        text="37 civilians killed in strikes on al-Sakhani",
        figure=FigureIn(value=37, unit="people"),
        topic="casualties",
    )
    key = unique("key")
    first = client.claims_create(claim, idempotency_key=key)
    again = client.claims_create(claim, idempotency_key=key)
    assert again.id == first.id
    assert first.figure is not None
    assert first.figure.value == 37
    assert first.score is not None
    assert first.score.grade in set(Grade)
    # Without a key of its own, every post gets a fresh one: two posts, two claims.
    assert client.claims_create(claim).id != client.claims_create(claim).id

    batch = client.claims_create_batch(
        [{"outlet_slug": slug, "text": f"report {n}"} for n in range(3)]
    )
    assert len(batch.items) == 3
    preview = client.claims_preview_score({"outlet_slug": slug, "text": "a preview"})
    assert preview.id is None
    assert client.claims_get(first.id).text == claim.text
    listed = [c.id for c in client.claims_list(outlet=slug, limit=2)]
    assert len(listed) == 6
    assert listed[0] == first.id
    assert len(set(listed)) == 6
    assert [s.id for s in client.claims_list_scores(first.id)] == [first.score.id]


def test_verdicts_round_trip(client: Client) -> None:
    slug = new_outlet(client)
    claim = client.claims_create({"outlet_slug": slug, "text": "the bridge was destroyed"})
    recorded = client.verdicts_record(
        claim.id, {"rating": Rating.MOSTLY_TRUE, "source": "desk", "note": "satellite images"}
    )
    assert recorded.rating is Rating.MOSTLY_TRUE
    assert recorded.outlet_reliability.subject == "outlet"
    assert [v.id for v in client.verdicts_list(claim.id)] == [recorded.id]


def test_events_round_trip(client: Client) -> None:
    event = client.events_create({"title": unique("strikes"), "unit": "people"})
    slugs = [new_outlet(client) for _ in range(2)]
    for slug, value in zip(slugs, (37, 42), strict=True):
        client.claims_create(
            {
                "outlet_slug": slug,
                "text": "killed",
                "event_id": event.id,
                "figure": {"value": value},
            }
        )
    assert event.id in {e.id for e in client.events_list(limit=1)}
    detail = client.events_get(event.id)
    assert len(detail.claims) == 2
    consensus = client.events_get_consensus(event.id)
    assert isinstance(consensus, ConsensusRead)
    assert consensus.event_id == event.id
    assert all(c.event_id == event.id for c in client.events_consensus_history(event.id))


def test_models_round_trip(client: Client) -> None:
    queued = client.models_train({"params": {"C": 0.5}})
    assert queued.params.model == {"C": 0.5}
    assert client.models_get(queued.id).id == queued.id
    assert queued.id in {m.id for m in client.models_list()}
    assert client.models_get_active().model is None
    cancelled = client.models_cancel(queued.id)
    assert cancelled.status == "cancelled"
    with pytest.raises(CredscoreError) as not_ready:
        client.models_activate(queued.id, force=True)
    assert not_ready.value.status == 409
    with pytest.raises(CredscoreError) as nothing_to_roll_back:
        client.models_rollback()
    assert nothing_to_roll_back.value.status in (404, 409)


def test_api_keys_round_trip(client: Client, live_service: LiveService) -> None:
    created = client.api_keys_create({"name": unique("reader"), "scopes": [Scope.READ]})
    assert created.scopes == [Scope.READ]
    assert created.id in {k.id for k in client.api_keys_list(limit=1)}
    with Client(live_service.url, created.key) as reader:
        assert reader.health_liveness().status == "ok"
        with pytest.raises(CredscoreError) as forbidden:
            reader.events_create({"title": "not allowed"})
        assert forbidden.value.status == 403
        assert client.api_keys_revoke(created.id).revoked_at is not None
        with pytest.raises(CredscoreError) as revoked:
            list(reader.outlets_list())
        assert revoked.value.status == 401


def test_problems_arrive_as_one_typed_exception(client: Client) -> None:
    with pytest.raises(CredscoreError) as missing:
        client.outlets_get(unique("nobody"))
    problem = missing.value
    assert (problem.status, problem.title) == (404, "Not Found")
    assert problem.type.endswith("not-found")
    assert problem.detail
    assert problem.request_id
    assert problem.extra["instance"].startswith("/v1/outlets/")

    with pytest.raises(CredscoreError) as invalid:
        client.claims_create({"outlet_slug": "x", "text": "t", "published_at": "2017-08-21"})
    assert invalid.value.status == 422
    assert any(error["loc"][-1] == "published_at" for error in invalid.value.errors)


def test_webhooks_round_trip(client: Client) -> None:
    slug = new_outlet(client)
    created = client.webhooks_create(
        {
            "url": "http://127.0.0.1:9/hooks",
            "event_types": [EventType.CLAIM_SCORED],
            "outlets": [slug],
        }
    )
    assert created.secret.startswith("whsec_")
    assert created.enabled
    fetched = client.webhooks_get(created.id)
    assert fetched.outlets == [slug]
    assert "secret" not in fetched.model_dump()  # shown once, at creation
    assert created.id in {w.id for w in client.webhooks_list(limit=1)}
    updated = client.webhooks_update(
        created.id, {"event_types": ["claim.scored", "verdict.recorded"], "description": "desk"}
    )
    assert updated.event_types == [EventType.CLAIM_SCORED, EventType.VERDICT_RECORDED]
    assert updated.description == "desk"
    assert list(client.webhooks_list_deliveries(created.id, status=DeliveryStatus.FAILED)) == []
    with pytest.raises(CredscoreError) as no_delivery:
        client.webhooks_replay_delivery(created.id, 2**31 - 1)
    assert no_delivery.value.status == 404
    client.webhooks_delete(created.id)
    with pytest.raises(CredscoreError) as gone:
        client.webhooks_get(created.id)
    assert gone.value.status == 404


def test_outlets_import_dry_run_then_for_real(client: Client, tmp_path: Path) -> None:
    slugs = [unique("imported") for _ in range(2)]
    table = tmp_path / "outlets.csv"
    table.write_text(
        "slug,name,kind,url,factuality,colour\n"
        f"{slugs[0]},First,wire,https://{slugs[0]}.example,high,red\n"
        f"{slugs[1]},Second,newspaper,https://{slugs[1]}.example,,blue\n"
    )
    dry = client.outlets_import(table, dry_run=True)
    assert (dry.dry_run, dry.rows, dry.created) == (True, 2, 2)
    assert dry.ignored_columns == ["colour"]
    with pytest.raises(CredscoreError) as not_stored:
        client.outlets_get(slugs[0])
    assert not_stored.value.status == 404
    done = client.outlets_import(table.read_bytes())
    assert (done.dry_run, done.created, done.ratings_recorded) == (False, 2, 1)
    first = client.outlets_get(slugs[0])
    assert first.url == f"https://{slugs[0]}.example"
    assert client.outlets_import(table).unchanged == 2

    with pytest.raises(CredscoreError) as refused:
        client.outlets_import(b"slug,kind\nbad slug!,no-such-kind\n")
    assert refused.value.status == 422
    assert all(error["loc"][0] == "row" for error in refused.value.errors)


def _claimreview(outlet_url: str, text: str, rating: str) -> dict[str, object]:
    return {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": f"{outlet_url}/reviews/{uuid.uuid4().hex}",
        "claimReviewed": text,
        "itemReviewed": {
            "@type": "Claim",
            "author": {"@type": "Organization", "name": "Reviewed", "url": outlet_url},
            "datePublished": "2024-01-10T00:00:00+00:00",
        },
        "author": {"@type": "Organization", "name": "Checker"},
        "datePublished": "2024-02-01T00:00:00+00:00",
        "reviewRating": {"@type": "Rating", "alternateName": rating},
    }


def test_verdicts_import_claimreview_and_export_it_again(client: Client) -> None:
    outlet_url = f"https://{unique('reviewed')}.example"
    slug = new_outlet(client, url=outlet_url)
    claim = client.claims_create(
        {
            "outlet_slug": slug,
            "text": "The bridge was closed.",
            "published_at": "2024-01-10T00:00:00Z",
        }
    )
    document = json.dumps(
        {"@graph": [_claimreview(outlet_url, claim.text, "Pants on Fire")]}
    ).encode()
    dry = client.verdicts_import(document, dry_run=True)
    assert (dry.dry_run, dry.items, dry.verdicts_created) == (True, 1, 1)
    assert list(client.verdicts_list(claim.id)) == []
    report = client.verdicts_import(document, content_type="application/ld+json")
    assert (report.verdicts_created, report.claims_matched, report.claims_created) == (1, 1, 0)
    assert [v.rating for v in client.verdicts_list(claim.id)] == [Rating.FALSE]

    review = client.claimreviews_get(claim.id)
    assert review["@type"] == "ClaimReview"
    assert review["claimReviewed"] == claim.text
    assert review["reviewRating"]["alternateName"] == "False"
    listed = list(client.claimreviews_list(outlet=slug))
    assert [r["claimReviewed"] for r in listed] == [claim.text]
    assert list(client.claimreviews_list(outlet=slug, since=datetime(2025, 1, 1, tzinfo=UTC))) == []


def test_export_csv_is_streamed_line_by_line(client: Client, tmp_path: Path) -> None:
    slug = new_outlet(client)
    ids = [client.claims_create({"outlet_slug": slug, "text": f"line {n}"}).id for n in range(3)]
    lines = list(client.export_csv(ExportKind.CLAIMS, outlet=slug))
    assert all(line.endswith("\r\n") for line in lines)
    rows = list(csv.DictReader(io.StringIO("".join(lines))))
    assert [int(row["id"]) for row in rows] == ids
    target = tmp_path / "scores.csv"
    with target.open("w", newline="", encoding="utf-8") as out:
        out.writelines(client.export_csv("scores", outlet=slug))
    assert len(list(csv.DictReader(target.open(newline="")))) == 3
    with pytest.raises(CredscoreError) as missing:
        list(client.export_csv("claims", outlet=unique("nobody")))
    assert missing.value.status == 404


def test_metrics_scrape(client: Client) -> None:
    client.health_liveness()
    text = client.metrics_scrape()
    assert "# TYPE credscore_http_requests_total counter" in text
    assert "credscore_jobs_pending" in text


def test_the_stream_delivers_a_posted_claims_score(live_service: LiveService) -> None:
    # A short read timeout, with reconnection off, bounds the wait: the stream pings only every
    # 15 s.
    with Client(live_service.url, live_service.admin_key, timeout=10) as client:
        slug = new_outlet(client)
        claim = client.claims_create({"outlet_slug": slug, "text": "37 killed"})
        events = client.stream_subscribe(
            outlet=[slug], types=["claim.scored"], last_event_id=0, reconnect=False
        )
        first = next(events)
        events.close()
        assert first.type == EventType.CLAIM_SCORED
        assert first.data["claim_id"] == claim.id
        assert first.data["outlet"] == slug
        # Resuming after that event skips it: the next one is the next claim's.
        second_claim = client.claims_create({"outlet_slug": slug, "text": "42 killed"})
        resumed = client.stream_subscribe(outlet=[slug], last_event_id=first.id, reconnect=False)
        following = next(resumed)
        resumed.close()
        assert following.id > first.id
        assert following.data["claim_id"] == second_claim.id
        with pytest.raises(CredscoreError) as invalid:
            next(client.stream_subscribe(types=["no.such-type"]))
        assert invalid.value.status == 422


def test_the_stream_reconnects_by_itself_and_resumes_after_its_last_event(
    live_service: LiveService,
) -> None:
    # A read timeout shorter than the keep-alive period (15 s) drops the quiet connection; the
    # client opens it again after the last event, at most 20 times in a row (so that a failure
    # ends the test), until the claim posted meanwhile comes, once.
    with Client(live_service.url, live_service.admin_key) as poster:
        slug = new_outlet(poster)
        first_claim = poster.claims_create({"outlet_slug": slug, "text": "12 killed"})
        with Client(live_service.url, live_service.admin_key, timeout=1.5) as reader:
            resumed_from: list[str | None] = []
            reader.http.event_hooks["request"].append(
                lambda request: resumed_from.append(request.headers.get("Last-Event-ID"))
            )
            events = reader.stream_subscribe(
                outlet=[slug], types=["claim.scored"], last_event_id=0, reconnect=20
            )
            first = next(events)

            def post_while_the_stream_is_quiet() -> ClaimRead:
                time.sleep(4)
                return poster.claims_create({"outlet_slug": slug, "text": "13 killed"})

            with ThreadPoolExecutor(1) as later:
                second_claim = later.submit(post_while_the_stream_is_quiet)
                try:
                    second = next(events)
                finally:
                    events.close()
    assert first.data["claim_id"] == first_claim.id
    assert second.data["claim_id"] == second_claim.result().id
    assert second.id > first.id
    # The first connection timed out at least once: the later ones resumed after the first event.
    assert resumed_from[0] == "0"
    assert len(resumed_from) >= 2
    assert set(resumed_from[1:]) == {str(first.id)}


async def test_the_async_client_does_the_same(live_service: LiveService) -> None:
    async with AsyncClient(live_service.url, live_service.admin_key) as credscore:
        slug = unique("async")
        await credscore.outlets_create({"slug": slug, "name": "Async", "kind": "wire"})
        key = unique("key")
        first = await credscore.claims_create(
            {"outlet_slug": slug, "text": "a"}, idempotency_key=key
        )
        again = await credscore.claims_create(
            {"outlet_slug": slug, "text": "a"}, idempotency_key=key
        )
        assert again.id == first.id
        await credscore.claims_create({"outlet_slug": slug, "text": "b"})
        ids = [claim.id async for claim in credscore.claims_list(outlet=slug, limit=1)]
        assert len(ids) == 2
        assert ids[0] == first.id
        with pytest.raises(CredscoreError) as missing:
            await credscore.claims_get(2**31 - 1)
        assert missing.value.status == 404


async def test_the_async_client_streams_the_same_way(live_service: LiveService) -> None:
    async with AsyncClient(live_service.url, live_service.admin_key, timeout=10) as credscore:
        slug = unique("async")
        await credscore.outlets_create({"slug": slug, "name": "Async", "kind": "wire"})
        claim = await credscore.claims_create({"outlet_slug": slug, "text": "a"})
        events = credscore.stream_subscribe(outlet=[slug], last_event_id=0)
        first = await anext(events)
        await events.aclose()
        assert (first.type, first.data["claim_id"]) == ("claim.scored", claim.id)
        lines = [line async for line in credscore.export_csv("claims", outlet=slug)]
        assert len(lines) == 2
        assert lines[1].startswith(f"{claim.id},")
        assert "credscore_jobs_pending" in await credscore.metrics_scrape()
