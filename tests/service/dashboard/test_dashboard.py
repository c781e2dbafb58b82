"""The built-in dashboard: the HTML shell and its assets over HTTP, then the page in Chromium.

The browser tests serve the app with uvicorn on 127.0.0.1 (SQLite only) and drive Debian's
chromium through the ``playwright`` package; they skip when either is missing. The desk tests
(at 1400 and 390 px) write screenshots to tests/artifacts/ (git-ignored), or to the directory in
CREDSCORE_DASHBOARD_SCREENSHOTS; CREDSCORE_DASHBOARD_SCREENSHOT=/tmp/some.png keeps one of the
first test's page.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from service.claims.repository import ClaimRepository
from service.dashboard.router import ASSET_TYPES, SCRIPT_MODULES, STATIC_DIR
from service.outlets.models import Outlet
from tests.service.conftest import LiveServer
from tests.service.factories import (
    create_claim,
    create_outlet,
    recent_track_record,
    record_verdict,
)

XSS_NAME = "<img src=x onerror=alert(1)>"
MANY_CLAIMS = 5_000
VERDICT_DECIDED = "2026-11-20T09:00:00Z"
EVENT = {
    "title": "Civilians killed by strikes, night of 2017-08-21",
    "quantity_kind": "civilian_deaths",
    "unit": "people",
    "place": "Raqqa",
    "conflict": "syria-2017",
}
CONTESTED_EVENT = {
    "title": "People displaced from the old city",
    "quantity_kind": "displaced_people",
    "unit": "people",
    "place": "Raqqa",
}


class TestDashboardOverHttp:
    async def test_page_is_html_with_a_strict_csp(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/dashboard")
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        csp = response.headers["content-security-policy"]
        directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
        assert directives["default-src"] == "'self'"
        assert directives["script-src"] == "'self'"
        assert directives["object-src"] == "'none'"
        assert directives["frame-ancestors"] == "'none'"
        assert "unsafe-inline" not in csp
        assert "unsafe-eval" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        html = response.text
        assert html.lower().startswith("<!doctype html>")
        # No inline code or styles: every script is an external file, no handlers, no <style>.
        assert re.findall(r"<script\b[^>]*>(.*?)</script>", html, flags=re.S) == [""]
        # One module script; the modules it imports are same-origin files preloaded by the page.
        assert re.search(r'<script type="module" src="dashboard/static/dashboard\.js">', html)
        assert not re.search(r"\son[a-z]+\s*=", html, flags=re.I)
        assert "<style" not in html
        assert " style=" not in html
        # The key input has no name, so a form submitted without the script puts no key in a URL.
        assert re.search(r'<input id="api-key" type="password"(?![^>]*\bname=)[^>]*>', html)

    async def test_page_embeds_no_api_data(
        self, client: httpx.AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        await create_outlet(client, admin_headers, "secret-wire", name="Distinctive Outlet Name")
        anonymous = await client.get("/dashboard")
        with_key = await client.get("/dashboard", headers=admin_headers)
        assert anonymous.status_code == with_key.status_code == 200
        assert anonymous.content == with_key.content
        assert "Distinctive Outlet Name" not in anonymous.text
        assert "secret-wire" not in anonymous.text
        assert "/dashboard" not in (await client.get("/openapi.json")).text

    @pytest.mark.parametrize(("name", "media_type"), sorted(ASSET_TYPES.items()))
    async def test_assets_are_served_with_their_types_and_revalidate(
        self, client: httpx.AsyncClient, name: str, media_type: str
    ) -> None:
        response = await client.get(f"/dashboard/static/{name}")
        assert response.status_code == 200
        assert response.headers["content-type"] == media_type
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.content == (STATIC_DIR / name).read_bytes()
        etag = response.headers["etag"]
        again = await client.get(f"/dashboard/static/{name}", headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""

    async def test_every_file_the_page_links_is_served(self, client: httpx.AsyncClient) -> None:
        html = (await client.get("/dashboard")).text
        linked = re.findall(r'(?:src|href)="(dashboard/static/[^"]+)"', html)
        assert sorted(path.rsplit("/", 1)[1] for path in linked) == sorted(ASSET_TYPES)
        for path in linked:
            assert (await client.get(f"/{path}")).status_code == 200, path

    def test_every_module_imports_only_served_modules(self) -> None:
        for name in SCRIPT_MODULES:
            script = (STATIC_DIR / name).read_text()
            imported = re.findall(r'^import .* from "([^"]+)";$', script, flags=re.M)
            assert all(path.startswith("./") for path in imported), name
            assert {path.removeprefix("./") for path in imported} <= set(SCRIPT_MODULES), name

    @pytest.mark.parametrize(
        "name", ["index.html", "nope.js", "..%2Frouter.py", "..%2F..%2Fapp.py"]
    )
    async def test_only_the_listed_assets_are_served(
        self, client: httpx.AsyncClient, name: str
    ) -> None:
        response = await client.get(f"/dashboard/static/{name}")
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/problem+json")

    def test_script_never_parses_data_as_html(self) -> None:
        script = "\n".join((STATIC_DIR / name).read_text() for name in SCRIPT_MODULES)
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in script
        assert "new Function" not in script
        # The key is kept per tab, never in localStorage or a URL; the live stream is read with
        # fetch() and the Authorization header (EventSource could only put the key in the URL).
        assert "localStorage" not in script
        assert "sessionStorage" in script
        assert "EventSource(" not in script
        # Styles are set through the CSSOM only: a style attribute would break style-src 'self'.
        assert 'setAttribute("style"' not in script


# ------------------------------------------------------------------------------ in a browser


@dataclass
class DashboardData:
    key: str
    grades: dict[str, str]
    names: dict[str, str]
    event_id: int
    event_title: str
    consensus_status: str
    history_points: int
    contested_title: str
    contested_status: str


@pytest.fixture
async def dashboard_data(
    app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> DashboardData:
    names = {
        "good-wire": "Good Wire",
        "monitor": "Casualty Monitor",
        "state-tv": "State TV",
        "xss": XSS_NAME,
    }
    await create_outlet(client, admin_headers, "good-wire", name=names["good-wire"])
    await create_outlet(client, admin_headers, "monitor", name=names["monitor"], kind="ngo_monitor")
    await create_outlet(
        client,
        admin_headers,
        "state-tv",
        name=names["state-tv"],
        kind="state_media",
        conflict_parties=["syria-2017"],
    )
    await create_outlet(client, admin_headers, "xss", name=XSS_NAME, kind="online")
    await recent_track_record(client, admin_headers, "good-wire", ["true"] * 5)
    await recent_track_record(client, admin_headers, "monitor", ["true", "true", "mostly-true"])
    await recent_track_record(client, admin_headers, "state-tv", ["false"] * 5)
    event = (await client.post("/v1/events", json=EVENT, headers=admin_headers)).json()
    for slug, value in (("good-wire", 37), ("monitor", 42), ("state-tv", 78)):
        await create_claim(
            client,
            admin_headers,
            slug,
            event_id=event["id"],
            figure={"value": value},
            text=f"Strikes killed {value} civilians overnight, the outlet says.",
            published_at="2017-08-22T10:00:00Z",
        )
    contested = (
        await client.post("/v1/events", json=CONTESTED_EVENT, headers=admin_headers)
    ).json()
    for slug, value in (("good-wire", 8_000), ("monitor", 25_000)):
        await create_claim(
            client,
            admin_headers,
            slug,
            event_id=contested["id"],
            figure={"value": value},
            text=f"{value} people fled, the outlet says.",
            published_at="2017-08-27T10:00:00Z",
        )
    await app.state.context.jobs.drain()
    grades = {}
    for slug in names:
        reliability = await client.get(f"/v1/outlets/{slug}/reliability", headers=admin_headers)
        grades[slug] = reliability.json()["grade"]
    consensus = await client.get(f"/v1/events/{event['id']}/consensus", headers=admin_headers)
    history = await client.get(
        "/v1/outlets/good-wire/reliability/history", params={"limit": 500}, headers=admin_headers
    )
    return DashboardData(
        key=admin_headers["Authorization"].removeprefix("Bearer "),
        grades=grades,
        names=names,
        event_id=event["id"],
        event_title=EVENT["title"],
        consensus_status=consensus.json()["status"],
        history_points=len(history.json()["items"]),
        contested_title=CONTESTED_EVENT["title"],
        contested_status=(
            await client.get(f"/v1/events/{contested['id']}/consensus", headers=admin_headers)
        ).json()["status"],
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
class TestDashboardInABrowser:
    async def test_outlets_events_history_and_escaping(
        self, browser: Any, dashboard_data: DashboardData, live_server: LiveServer
    ) -> None:
        from playwright.async_api import expect

        data = dashboard_data
        # A sanity check on the set-up: the grades differ, and one outlet has no record.
        assert data.grades["xss"] == "unrated"
        assert data.grades["good-wire"] != data.grades["state-tv"]
        assert data.consensus_status == "consensus"
        assert data.contested_status == "contested"
        assert data.history_points >= 2

        context = await browser.new_context(viewport={"width": 1280, "height": 1000})
        page = await context.new_page()
        # A service without the live stream (an older one, or a proxy that blocks streams): the
        # page must fall back to polling and say so.
        await page.route("**/v1/stream", lambda route: route.fulfill(status=404, body=""))
        dialogs: list[str] = []
        page_errors: list[str] = []
        page.on("dialog", lambda dialog: dialogs.append(dialog.message))
        page.on("pageerror", lambda error: page_errors.append(str(error)))
        page.on("console", lambda message: _console_error(message, page_errors))
        try:
            await page.goto(f"{live_server.url}/dashboard")
            await page.get_by_label("API key").fill(data.key)
            await page.get_by_role("button", name="Connect").click()

            rows = page.locator("#outlets-table tbody tr")
            await expect(rows).to_have_count(4)
            for slug, grade in data.grades.items():
                row = page.locator(f'#outlets-table tbody tr[data-slug="{slug}"]')
                await expect(row.locator(".grade")).to_have_text(grade)
                await expect(row.get_by_role("button")).to_have_text(data.names[slug])
            await expect(rows.filter(has_text="unrated")).to_have_count(1)
            await expect(page.locator("#reliability-chart .reliability-mark")).to_have_count(4)
            # A group of marks a keyboard reaches, described by its figures as a table.
            chart = page.locator("#reliability-chart")
            await expect(chart).to_have_attribute("role", "group")
            await expect(chart).to_have_attribute("aria-describedby", "reliability-data")
            await expect(page.locator("#reliability-data tbody tr")).to_have_count(4)

            # The hostile outlet name is text, never markup.
            assert await page.locator("img").count() == 0
            await expect(page.get_by_role("button", name=XSS_NAME, exact=True)).to_have_count(1)
            await expect(page.locator("#claims-table tbody tr")).to_have_count(10)

            # The key is in this tab's sessionStorage, not the URL or the input.
            assert data.key not in page.url
            assert await page.get_by_label("API key").input_value() == ""
            stored = await page.evaluate("sessionStorage.getItem('credscore.apiKey')")
            assert stored == data.key

            # Select the event with the keyboard.
            await page.get_by_role("button", name=data.event_title).focus()
            await page.keyboard.press("Enter")
            status = page.locator("#consensus-status")
            await expect(status).to_contain_text(data.consensus_status.capitalize())
            await expect(page.locator("#consensus-chart .claim-dot")).to_have_count(3)
            await expect(page.locator("#consensus-chart .claim-dot.party")).to_have_count(1)
            await expect(page.locator("#consensus-chart .consensus-band")).to_have_count(1)
            await expect(page.locator("#sources-table tbody tr")).to_have_count(3)
            await expect(
                page.locator('#sources-table tr[data-outlet-slug="state-tv"] .badge.party')
            ).to_have_count(1)
            await expect(page.locator("#consensus-explanation")).to_contain_text(
                "Discounted: State TV: party to the conflict"
            )

            # A contested event shows its competing figures, not one estimate.
            await page.get_by_role("button", name=data.contested_title).click()
            await expect(status).to_contain_text("Contested")
            facts = page.locator("#consensus-facts")
            await expect(facts).to_contain_text("Competing figures")
            await expect(facts).to_contain_text("8,000 people: Good Wire")
            await expect(facts).to_contain_text("25,000 people: Casualty Monitor")
            await expect(facts).not_to_contain_text("Estimate")
            await expect(page.locator("#consensus-chart .competing-band")).to_have_count(2)
            await expect(page.locator("#consensus-chart .estimate")).to_have_count(0)
            await expect(page.locator("#consensus-chart .consensus-band")).to_have_count(0)
            await expect(page.locator("#consensus-explanation")).to_contain_text("Contested")

            # The outlet's history: one point per stored reliability.
            await page.get_by_role("button", name="Good Wire", exact=True).click()
            await expect(page.locator("#history-chart .history-point")).to_have_count(
                data.history_points
            )
            await expect(page.locator("#history-heading")).to_have_text(
                "Reliability history: Good Wire"
            )

            # A refresh revalidates with ETags: unchanged reliabilities come back as 304.
            async with page.expect_response(
                lambda r: "/reliability" in r.url and "history" not in r.url and r.status == 304
            ):
                await page.get_by_role("button", name="Refresh now").click()
            await expect(page.locator("#last-updated")).to_contain_text("unchanged (304)")
            # So do the lists: the newest claims in one request, a 304 while none is new.
            async with page.expect_response(
                lambda r: "/v1/claims?order=desc" in r.url and r.status == 304
            ):
                await page.get_by_role("button", name="Refresh now").click()

            screenshot = os.environ.get("CREDSCORE_DASHBOARD_SCREENSHOT")
            if screenshot:
                await page.screenshot(path=screenshot, full_page=True)

            # Hidden tab: polling pauses; visible again: it resumes.
            await _set_visibility(page, "hidden")
            await expect(page.locator("#poll-status")).to_have_text(
                "Paused while this tab is hidden."
            )
            await _set_visibility(page, "visible")
            await expect(page.locator("#poll-status")).to_have_text("Connected.")
            await expect(page.locator("#live-indicator")).to_have_text(
                "Not live — refreshing every 15 s"
            )
            await expect(page.get_by_role("alert")).to_be_hidden()
            await expect(page.locator("main")).not_to_contain_text("null")
            await expect(page.locator("main")).not_to_contain_text("undefined")
            assert dialogs == []
            assert page_errors == []
        finally:
            await context.close()

    async def test_refused_and_insufficient_keys_show_the_problem_detail(
        self,
        browser: Any,
        live_server: LiveServer,
        client: httpx.AsyncClient,
        submit_headers: dict[str, str],
    ) -> None:
        from playwright.async_api import expect

        bad_key = "cs_not-a-real-key-0123456789abcdef"
        refused = await client.get("/v1/outlets", headers={"Authorization": f"Bearer {bad_key}"})
        forbidden = await client.get("/v1/outlets", headers=submit_headers)
        assert (refused.status_code, forbidden.status_code) == (401, 403)

        context = await browser.new_context()
        page = await context.new_page()
        try:
            await page.goto(f"{live_server.url}/dashboard")
            await page.get_by_label("API key").fill(bad_key)
            await page.get_by_role("button", name="Connect").click()
            alert = page.get_by_role("alert")
            await expect(alert).to_contain_text("401")
            await expect(alert).to_contain_text(refused.json()["detail"])
            await expect(page.locator("#poll-status")).to_have_text(
                "Stopped: the API key was refused."
            )
            assert await page.evaluate("sessionStorage.getItem('credscore.apiKey')") is None

            submit_key = submit_headers["Authorization"].removeprefix("Bearer ")
            await page.get_by_label("API key").fill(submit_key)
            await page.get_by_role("button", name="Connect").click()
            await expect(alert).to_contain_text("403")
            await expect(alert).to_contain_text(forbidden.json()["detail"])
            await expect(page.locator("#outlets-table tbody tr")).to_have_count(0)
        finally:
            await context.close()


@pytest.fixture
async def many_claims(app: Any, dashboard_data: DashboardData) -> int:
    """5,000 more claims, inserted in one statement (not 5,000 posts); returns the newest's id."""
    async with app.state.context.sessionmaker() as session:
        outlet_id = await session.scalar(select(Outlet.id).where(Outlet.slug == "good-wire"))
        start = datetime(2020, 1, 1, tzinfo=UTC)
        rows = [
            {
                "outlet_id": outlet_id,
                "event_id": None,
                "text": f"Bulk claim number {number}.",
                "published_at": start + timedelta(minutes=number),
                "topic": None,
                "figure_value": None,
                "figure_low": None,
                "figure_high": None,
                "figure_unit": None,
                "copy_of_claim_id": None,
                "idempotency_key": None,
                "request_fingerprint": None,
                "submitted_by_key_id": None,
                "created_at": start + timedelta(minutes=number),
            }
            for number in range(1, MANY_CLAIMS + 1)
        ]
        records = await ClaimRepository(session).insert(rows)
        await session.commit()
    return records[-1].id


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """Where the browser tests leave screenshots for review (git-ignored)."""
    directory = Path(
        os.environ.get("CREDSCORE_DASHBOARD_SCREENSHOTS", Path(__file__).parents[2] / "artifacts")
    )
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
class TestTheDesksDashboard:
    """Issue 14: current, readable on a phone and a wide screen, and honest about changes."""

    @pytest.mark.parametrize("width", [1400, 390])
    async def test_at_desk_and_phone_width(
        self,
        browser: Any,
        admin_headers: dict[str, str],
        dashboard_data: DashboardData,
        many_claims: int,
        live_server: LiveServer,
        screenshot_dir: Path,
        width: int,
    ) -> None:
        from playwright.async_api import expect

        data = dashboard_data
        context = await browser.new_context(viewport={"width": width, "height": 900})
        page = await context.new_page()
        page_errors: list[str] = []
        page.on("pageerror", lambda error: page_errors.append(str(error)))
        page.on("console", lambda message: _console_error(message, page_errors))
        claim_lists: list[str] = []
        stream_requests: list[Any] = []
        page.on(
            "request",
            lambda request: (
                claim_lists.append(request.url) if "/v1/claims?" in request.url else None
            ),
        )
        page.on(
            "request",
            lambda request: (
                stream_requests.append(request) if "/v1/stream" in request.url else None
            ),
        )
        try:
            await page.goto(f"{live_server.url}/dashboard")
            await page.get_by_label("API key").fill(data.key)
            await page.get_by_role("button", name="Connect").click()

            # With 5,000 more claims, the newest is the first row after one load.
            claims = page.locator("#claims-table tbody tr")
            await expect(claims).to_have_count(10)
            await expect(claims.first).to_have_attribute("data-claim-id", str(many_claims))
            await expect(claims.first).to_contain_text(f"Bulk claim number {MANY_CLAIMS}.")
            await expect(claims.first).to_contain_text("Good Wire")
            assert len(claim_lists) == 1, claim_lists

            # The service's stream answers: the page says it is live.
            indicator = page.locator("#live-indicator")
            await expect(indicator).to_have_text("Live")
            assert stream_requests, "the page looks for the live stream"
            stream = stream_requests[0]
            assert stream.headers["authorization"] == f"Bearer {data.key}"
            assert data.key not in stream.url

            # Desk words: past verdicts, not decayed observation counts.
            good_wire = page.locator('#outlets-table tr[data-slug="good-wire"]')
            await expect(good_wire).to_contain_text("based on 5 past verdicts")

            # The history of an outlet; a verdict recorded meanwhile shows with its cause.
            await page.get_by_role("button", name="Good Wire", exact=True).click()
            points = page.locator("#history-chart .history-point")
            await expect(points).to_have_count(data.history_points)
            # Posted to the server the page reads (another replica would see it within its
            # counters' refresh interval, not at once).
            async with httpx.AsyncClient(base_url=live_server.url) as desk:
                claim = await create_claim(
                    desk, admin_headers, "good-wire", published_at="2026-10-01T00:00:00Z"
                )
                await record_verdict(desk, admin_headers, claim["id"], "false", VERDICT_DECIDED)
            await page.get_by_role("button", name="Refresh now").click()
            newest = page.locator("#history-data tbody tr").first
            await expect(newest).to_contain_text("a verdict on this outlet")
            await expect(newest).to_contain_text(VERDICT_DECIDED[:10])
            # Plotted at the verdict's date, the right-most point; focus shows its figures.
            latest_point = await _rightmost(page, "#history-chart .history-point")
            await expect(latest_point).to_have_attribute("data-cause", "verdict")
            await latest_point.focus()
            tip = page.locator("#history-chart-wrap .chart-tip")
            await expect(tip).to_be_visible()
            await expect(tip).to_contain_text(VERDICT_DECIDED[:10])
            await expect(tip).to_contain_text("90% interval")
            await expect(tip).to_contain_text("changed by a verdict on this outlet")
            await expect(page.locator("#history-chart")).to_have_attribute(
                "aria-describedby", "history-data"
            )

            # A contested event shows its competing figures, each with its outlets' names.
            await page.get_by_role("button", name=data.contested_title).click()
            await expect(page.locator("#consensus-status")).to_contain_text("Contested")
            facts = page.locator("#consensus-facts")
            await expect(facts.locator(".competing-list li")).to_have_count(2)
            await expect(facts).to_contain_text("8,000 people: Good Wire")
            await expect(facts).to_contain_text("25,000 people: Casualty Monitor")
            await expect(page.locator("#consensus-chart .competing-band")).to_have_count(2)
            await expect(page.locator("#consensus-chart .estimate")).to_have_count(0)

            # The other event: each claim's text, its outlet's name and its Admiralty code.
            await page.get_by_role("button", name=data.event_title).click()
            rows = page.locator("#consensus-claims-table tbody tr")
            await expect(rows).to_have_count(3)
            state_tv = page.locator('#consensus-claims-table tr[data-outlet-slug="state-tv"]')
            await expect(state_tv).to_contain_text("State TV")
            await expect(state_tv).to_contain_text("Strikes killed 78 civilians overnight")
            await expect(state_tv).to_contain_text("party to the conflict")
            await expect(state_tv.locator(".admiralty")).to_have_text(re.compile(r"^[A-F][1-6]$"))

            # Names everywhere, slugs nowhere (in what the page shows).
            shown = await page.locator("main").inner_text()
            for slug in ("good-wire", "state-tv"):
                assert slug not in shown

            # Nothing cut off: every chart label lies inside its chart, text is >= 11 px.
            assert await _labels_outside_their_chart(page) == []
            assert await _smallest_chart_text(page) >= 11
            # No sideways scrolling at any width.
            assert await page.evaluate(
                "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
            )
            path = screenshot_dir / f"dashboard-{width}px.png"
            await page.screenshot(path=str(path), full_page=True)
            print(f"screenshot: {path}")
            # Each panel on its own too: a phone's full page is too tall to review at a glance.
            for panel in ("outlets", "history", "consensus", "claims"):
                section = page.locator(f'section[aria-labelledby="{panel}-heading"]')
                await section.screenshot(path=str(screenshot_dir / f"{panel}-{width}px.png"))
            assert page_errors == []
        finally:
            await context.close()

    async def test_live_messages_refresh_the_panels_they_name_and_resume(
        self, browser: Any, dashboard_data: DashboardData, live_server: LiveServer
    ) -> None:
        """The live path against a stand-in stream (the real one is built elsewhere): once the
        page has loaded, one message between keep-alive comments, then the stream ends. The page
        reads again only what the message names, says when it is live and when not, and asks
        for the stream again from the last id it saw."""
        from playwright.async_api import expect

        data = dashboard_data
        context = await browser.new_context(viewport={"width": 1400, "height": 900})
        page = await context.new_page()
        streams: list[dict[str, str]] = []
        loaded = asyncio.Event()
        message = {
            "type": "claim.scored",
            "timestamp": "2026-12-01T03:00:00Z",
            "data": {"claim_id": 1, "outlet": "good-wire", "event_id": data.event_id},
        }
        body = (
            ": keep-alive\n\n"
            f"id: 41\r\nevent: claim.scored\r\ndata: {json.dumps(message)}\r\n\r\n"
            ": keep-alive\n\n"
        )

        async def stream(route: Any) -> None:
            streams.append(await route.request.all_headers())
            await loaded.wait()  # held open until the first full load is done
            await route.fulfill(
                status=200, headers={"Content-Type": "text/event-stream"}, body=body
            )

        await page.route("**/v1/stream", stream)
        reads: list[str] = []
        try:
            await page.goto(f"{live_server.url}/dashboard")
            await page.get_by_label("API key").fill(data.key)
            await page.get_by_role("button", name="Connect").click()
            await expect(page.locator("#claims-table tbody tr")).to_have_count(10)
            await expect(page.locator("#last-updated")).to_contain_text("Updated")
            await page.evaluate(
                """() => {
                    window.liveTexts = [];
                    const node = document.getElementById("live-indicator");
                    new MutationObserver(() => window.liveTexts.push(node.textContent))
                        .observe(node, { childList: true, characterData: true, subtree: true });
                }"""
            )
            page.on("request", lambda request: reads.append(request.url))
            async with page.expect_request(lambda request: "/v1/claims?order=desc" in request.url):
                loaded.set()
            # The stream ended: not live, and asked again with the last id seen.
            await expect(page.locator("#live-indicator")).to_have_text(
                "Not live — refreshing every 15 s"
            )
            assert "Live" in await page.evaluate("window.liveTexts")
            for _ in range(100):
                if len(streams) > 1:
                    break
                await page.wait_for_timeout(100)
            assert streams[0]["authorization"] == f"Bearer {data.key}"
            assert "last-event-id" not in streams[0]
            assert streams[1]["last-event-id"] == "41"
            # The message named one outlet and a claim: that outlet's reliability and the
            # claims were read again, not every outlet (the next poll is 15 s away).
            outlets_read = {url for url in reads if "/reliability" in url}
            assert any("/v1/outlets/good-wire/reliability" in url for url in outlets_read)
            assert not any("/v1/outlets/state-tv/" in url for url in outlets_read), reads
        finally:
            await context.close()

    async def test_the_stream_parser_follows_the_event_stream_format(
        self, browser: Any, live_server: LiveServer
    ) -> None:
        page = await browser.new_page()
        try:
            await page.goto(f"{live_server.url}/dashboard")
            messages = await page.evaluate(
                r"""async () => {
                    const { EventStreamParser } = await import("./dashboard/static/live.js");
                    const seen = [];
                    const comments = [];
                    const parser = new EventStreamParser(
                        (message) => seen.push(message), (comment) => comments.push(comment),
                    );
                    // Split anywhere, CR LF and CR line ends, a comment, two data lines, an id.
                    for (const chunk of [": ping\r", "\nid: 7\r", "\nevent: verdict.rec",
                                         "orded\ndata: {\"a\":\rdata: 1}\n", "\n",
                                         "data:no-space\n\nid: 8\nevent: x\n\n"]) {
                        parser.push(chunk);
                    }
                    return { seen, comments };
                }"""
            )
        finally:
            await page.close()
        assert messages["comments"] == [" ping"]
        assert messages["seen"] == [
            {"id": "7", "type": "verdict.recorded", "data": '{"a":\n1}'},
            {"id": None, "type": "message", "data": "no-space"},
        ]


async def _rightmost(page: Any, selector: str) -> Any:
    index = await page.evaluate(
        """(selector) => {
            const marks = [...document.querySelectorAll(selector)];
            const xs = marks.map((mark) => mark.getBoundingClientRect().x);
            return xs.indexOf(Math.max(...xs));
        }""",
        selector,
    )
    return page.locator(selector).nth(index)


async def _labels_outside_their_chart(page: Any) -> list[str]:
    result: list[str] = await page.evaluate(
        """() => [...document.querySelectorAll(".chart svg text")].filter((text) => {
            const box = text.getBoundingClientRect();
            const chart = text.ownerSVGElement.getBoundingClientRect();
            return box.width > 0 && (box.left < chart.left - 0.5 || box.right > chart.right + 0.5);
        }).map((text) => text.textContent)"""
    )
    return result


async def _smallest_chart_text(page: Any) -> float:
    size: float = await page.evaluate(
        """() => Math.min(...[...document.querySelectorAll(".chart svg text")].map((text) => {
            const root = text.ownerSVGElement;
            const scale = root.getBoundingClientRect().width / root.viewBox.baseVal.width;
            return parseFloat(getComputedStyle(text).fontSize) * scale;
        }))"""
    )
    return size


async def _set_visibility(page: Any, value: str) -> None:
    await page.evaluate(
        """(value) => {
            Object.defineProperty(document, "visibilityState", {
                configurable: true, get: () => value,
            });
            document.dispatchEvent(new Event("visibilitychange"));
        }""",
        value,
    )


def _console_error(message: Any, errors: list[str]) -> None:
    """Console errors, but the browser's own note of the absent live stream's 404 (the page
    expects it: that is its cue to poll)."""
    if message.type != "error":
        return
    if message.location.get("url", "").endswith("/v1/stream") and "404" in message.text:
        return
    errors.append(message.text)
