"""The API documentation, /docs (Swagger UI) and /redoc, served offline.

FastAPI's own pages load their scripts from a CDN and start Swagger UI with an inline script.
These load the same tools from an installed package (``fastapi-offline`` ships Swagger UI and
ReDoc; pinned in requirements.lock) and a start-up script of our own, so they work without a
network and under a Content-Security-Policy with no inline scripts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import fastapi_offline
from fastapi import APIRouter, Request, Response
from fastapi import Path as PathParam

from service.errors import NotFound
from service.http_caching import Asset, load_asset, serve_asset

router = APIRouter(include_in_schema=False)

OWN_DIR = Path(__file__).resolve().parent / "static"
PACKAGE_DIR = Path(fastapi_offline.__file__).resolve().parent / "static"

# Swagger UI sets styles from its script and shows data: icons; ReDoc injects its styles and
# runs its search in a blob: worker. Nothing leaves the service.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
PAGE_TYPE = "text/html; charset=utf-8"
ASSETS = {
    "swagger-ui-bundle.js": (PACKAGE_DIR, "text/javascript; charset=utf-8"),
    "swagger-ui.css": (PACKAGE_DIR, "text/css; charset=utf-8"),
    "redoc.standalone.js": (PACKAGE_DIR, "text/javascript; charset=utf-8"),
    "favicon.png": (PACKAGE_DIR, "image/png"),
    "swagger-init.js": (OWN_DIR, "text/javascript; charset=utf-8"),
}

AssetName = Annotated[str, PathParam(max_length=64)]


def _page(name: str) -> Asset:
    return load_asset(OWN_DIR / name, PAGE_TYPE)


@router.get("/docs")
def swagger_ui(request: Request) -> Response:
    return serve_asset(request, _page("docs.html"), PAGE_HEADERS)


@router.get("/redoc")
def redoc(request: Request) -> Response:
    return serve_asset(request, _page("redoc.html"), PAGE_HEADERS)


@router.get("/docs/static/{name}")
def docs_asset(name: AssetName, request: Request) -> Response:
    found = ASSETS.get(name)
    if found is None:
        raise NotFound(f"No documentation asset named {name!r}.")
    directory, media_type = found
    return serve_asset(
        request,
        load_asset(directory / name, media_type),
        {"Cross-Origin-Resource-Policy": "same-origin"},
    )
