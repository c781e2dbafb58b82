"""The built-in dashboard: one static HTML page, its stylesheet, script and icon.

The page holds no API data: the script asks for an API key (kept in sessionStorage), then reads
the public /v1 API like any other client. Every asset is a file in ``static/`` shipped as package
data; they are read once and served with a strong ETag so reloads revalidate cheaply.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import RedirectResponse

from service.errors import NotFound
from service.http_caching import Asset, load_asset, serve_asset

router = APIRouter(include_in_schema=False)

STATIC_DIR = Path(__file__).resolve().parent / "static"

# Only same-origin scripts, styles and requests; no inline code, no plugins, no framing.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}

# The script is ES modules, one per panel plus what they share; dashboard.js wires them.
SCRIPT_MODULES = (
    "api.js",
    "badges.js",
    "chart.js",
    "claims.js",
    "consensus.js",
    "dashboard.js",
    "dom.js",
    "events.js",
    "format.js",
    "history.js",
    "live.js",
    "names.js",
    "outlets.js",
)
# The files the page loads, with their media types; nothing else under static/ is served.
ASSET_TYPES = {
    "dashboard.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
} | dict.fromkeys(SCRIPT_MODULES, "text/javascript; charset=utf-8")
PAGE = "index.html"
PAGE_TYPE = "text/html; charset=utf-8"

AssetName = Annotated[str, PathParam(max_length=64)]


def _asset(name: str, media_type: str) -> Asset:
    return load_asset(STATIC_DIR / name, media_type)


@router.get("/dashboard")
def dashboard_page(request: Request) -> Response:
    """The dashboard's HTML shell (no data: the script fetches it with the user's key)."""
    return serve_asset(request, _asset(PAGE, PAGE_TYPE), SECURITY_HEADERS)


@router.get("/dashboard/")
def dashboard_slash(request: Request) -> Response:
    """To the page, with a relative Location: never one built from the request's Host header."""
    return RedirectResponse(f"{request.scope.get('root_path', '')}/dashboard", status_code=308)


@router.get("/dashboard/static/{name}")
def dashboard_asset(name: AssetName, request: Request) -> Response:
    media_type = ASSET_TYPES.get(name)
    if media_type is None:
        raise NotFound(f"No dashboard asset named {name!r}.")
    return serve_asset(
        request,
        _asset(name, media_type),
        {"Cross-Origin-Resource-Policy": "same-origin"},
    )
