"""/docs and /redoc work offline: every asset from the service itself, under a strict CSP."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.service.conftest import LiveServer

PAGES = ("/docs", "/redoc")


@pytest.mark.parametrize("path", PAGES)
async def test_pages_load_only_same_origin_files_with_no_inline_script(
    client: httpx.AsyncClient, path: str
) -> None:
    page = await client.get(path)
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    csp = dict(
        part.strip().split(" ", 1) for part in page.headers["content-security-policy"].split(";")
    )
    assert csp["script-src"] == "'self'"
    assert csp["default-src"] == "'self'"
    html = page.text
    assert "cdn" not in html.lower()
    assert "http" not in html  # every reference is relative to the service
    assert re.findall(r"<script\b[^>]*>(.*?)</script>", html, flags=re.S) == [""] * html.count(
        "<script"
    )
    for reference in re.findall(r'(?:src|href)="([^"]+)"', html):
        asset = await client.get(f"/{reference}")
        assert asset.status_code == 200, reference
        assert asset.headers["x-content-type-options"] == "nosniff"
        assert asset.headers["etag"]
    # Percent-encoded, so that the client sends them as they are (it would resolve a plain ../).
    for traversal in ("..%2F..%2Fservice%2Fapp.py", "%2E%2E"):
        refused = await client.get(f"/docs/static/{traversal}")
        assert refused.status_code == 404, traversal
        assert refused.headers["content-type"] == "application/problem+json", traversal


async def test_unknown_asset_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs/static/passwd")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def _blocked_own_content(errors: list[str], origin: str) -> list[str]:
    """CSP refusals of what the page itself needs: an inline script or style, or a file of the
    service. (ReDoc also tries a logo from its CDN: the policy blocks that, as it should.)"""
    return [
        error
        for error in errors
        if "Content Security Policy" in error and ("inline" in error or origin in error)
    ]


class TestInABrowserWithoutNetwork:
    """Chromium with every request outside the service aborted: the pages still render."""

    async def _open(self, browser: Any, url: str) -> tuple[Any, list[str], list[str]]:
        context = await browser.new_context()
        outside: list[str] = []
        errors: list[str] = []

        async def only_the_service(route: Any) -> None:
            if route.request.url.startswith(url.rsplit("/", 1)[0]):
                await route.continue_()
            else:
                outside.append(route.request.url)
                await route.abort()

        await context.route("**/*", only_the_service)
        page = await context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(url)
        return page, outside, errors

    async def test_swagger_ui_lists_the_operations(
        self, browser: Any, live_server: LiveServer
    ) -> None:
        from playwright.async_api import expect

        page, outside, errors = await self._open(browser, f"{live_server.url}/docs")
        await expect(page.locator(".opblock").first).to_be_visible(timeout=20_000)
        assert await page.locator(".opblock").count() > 20
        await expect(page.get_by_text("/v1/claims/batch").first).to_be_visible()
        assert outside == []
        assert _blocked_own_content(errors, live_server.url) == []

    async def test_redoc_renders_the_document(self, browser: Any, live_server: LiveServer) -> None:
        from playwright.async_api import expect

        page, outside, errors = await self._open(browser, f"{live_server.url}/redoc")
        title = page.locator("h2", has_text="Submit a claim; it is scored and stored")
        await expect(title.first).to_be_visible(timeout=20_000)
        assert outside == []
        assert _blocked_own_content(errors, live_server.url) == []
