"""The web page of `retrograde serve`: one HTML document and its static assets.

The page is plain HTML, CSS and JavaScript modules shipped inside the package
(`server/static/`, with Cytoscape.js vendored under `static/vendor/`): no build
step, no CDN, so it works offline and behind a proxy. It talks to the same
JSON API as any client (the page's own routes here serve files only and carry
no data), which is why these routes need no credential and stay out of the
OpenAPI document.

Every answer carries a strict Content-Security-Policy: scripts, styles and
connections only from the server itself, no inline script or style element,
no plugin, no framing. Together with the page building every value as text
(never as markup), a value such as ``<img src=x onerror=...>`` shows as
written and runs nothing. Asset paths are looked up in a fixed table built from
the files the package ships, so a request can never name a file outside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Final

from fastapi import APIRouter
from fastapi.responses import FileResponse, PlainTextResponse, Response

STATIC_DIR: Final = Path(__file__).parent / "static"

CONTENT_SECURITY_POLICY: Final = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

PAGE_HEADERS: Final[Mapping[str, str]] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}

MEDIA_TYPES: Final[Mapping[str, str]] = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".md": "text/plain; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}


def asset_table(root: Path = STATIC_DIR) -> dict[str, Path]:
    """Every servable file under `root`, by its URL path ("js/app.js").

    Built once from what is on disk, so a request path is only ever a key:
    ``..``, absolute paths and symbolic links out of the directory find nothing.
    """
    table: dict[str, Path] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink() and path.suffix in MEDIA_TYPES:
            table[path.relative_to(root).as_posix()] = path
    return table


ASSETS: Final = asset_table()

router = APIRouter(include_in_schema=False)


@router.get("/")
def page() -> Response:
    """The page itself; which view it shows is in the location hash."""
    return FileResponse(
        STATIC_DIR / "index.html", media_type=MEDIA_TYPES[".html"], headers=dict(PAGE_HEADERS)
    )


@router.get("/static/{asset:path}")
def static_asset(asset: str) -> Response:
    """One of the page's files, or 404 for any name the package does not ship."""
    path = ASSETS.get(asset)
    if path is None:
        return PlainTextResponse("not found", status_code=404, headers=dict(PAGE_HEADERS))
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix], headers=dict(PAGE_HEADERS))
