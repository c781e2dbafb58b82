"""The built-in dashboard: the HTML shell and its assets over HTTP, then the page in Chromium.

The browser tests serve the app with uvicorn on 127.0.0.1 (SQLite only) and drive Debian's
chromium through the ``playwright`` package; they skip when either is missing. Set
CREDSCORE_DASHBOARD_SCREENSHOT=/tmp/some.png to keep a screenshot of the loaded page.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from service.dashboard.router import ASSET_TYPES, SCRIPT_MODULES, STATIC_DIR
from tests.service.conftest import LiveServer
from tests.service.factories import (
    create_claim,
    create_outlet,
    recent_track_record,
)

XSS_NAME = "<img src=x onerror=alert(1)>"
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
    await app.state.jobs.drain()
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
