"""The web app: the built pages and assets, served at ``/`` by the same service.

Every page is the same HTML shell (``web/dist/index.html``); its script reads the
address and fills the page from the public API with the visitor's own access, so a
page route only needs to answer with the shell (the single-page-app fallback). Built
assets have content hashes in their names and are cached for good; the shell is
revalidated on every load. A strict Content-Security-Policy keeps the pages on this
origin: no CDN, no inline script, no other host except a configured map tile server.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.deps import CallerDep
from api.errors import NotFound, http_problem
from api.settings import Settings

router = APIRouter(include_in_schema=False)

WEB = Path(__file__).resolve().parents[2] / "web"
WEB_DIST = WEB / "dist"  # built by scripts/setup (npm ci, npm run build); never committed
WEB_PUBLIC = WEB / "public"  # files served as they are, build or no build

# The page routes of the app (web/src/main.ts has the same list).
PAGES = (
    "/",
    "/search",
    "/people/{slug}",
    "/initiatives/{slug}",
    "/nodes/{node_id}",
    "/sectors",
    "/sectors/{slug}",
    "/map",
    "/graph",
    "/graph/{node_id}",
    "/editor",
    "/communities",
    "/join",
    "/signin",
    "/verify",
    "/reset",
    "/me",
    "/settings",
    "/admin",
    "/inbox",
    "/matches",
    "/digest",
)
ASSET_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$"
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".txt": "text/plain; charset=utf-8",
    ".woff2": "font/woff2",
}
IMMUTABLE = "public, max-age=31536000, immutable"

NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Cocreate: the web app is not built</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>The web app is not built yet</h1>
<p>The API works (see <a href="/docs">/docs</a>), but the pages have not been built.
Build them with <code>./scripts/setup</code> (which <code>./scripts/serve</code> runs), or by hand:
<code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>. Then reload this page.</p>
</main></body></html>
"""


@dataclass(frozen=True)
class _Shell:
    mtime_ns: int
    text: str


_shells: dict[tuple[Path, str, str], _Shell] = {}


def dist_dir(request: Request) -> Path:
    """The folder of the built app (tests point ``app.state.web_dist`` elsewhere)."""
    found = getattr(request.app.state, "web_dist", None)
    return Path(found) if found is not None else WEB_DIST


def _settings(request: Request) -> Settings:
    services = request.app.state.services
    settings: Settings = services.settings
    return settings


def content_security_policy(tiles: str | None) -> str:
    """The pages' CSP: everything from this origin, map tiles also from the tile server."""
    images = "'self' data:"
    if tiles:
        parts = urlsplit(tiles.replace("{s}", "a"))
        host = parts.netloc
        if "{s}" in tiles:
            host = "*." + parts.netloc.split(".", 1)[-1]
        images += f" {parts.scheme}://{host}"
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"img-src {images}; connect-src 'self'; font-src 'self'; object-src 'none'; "
        "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )


def _shell(index: Path, tiles: str, attribution: str) -> str:
    """The built index.html with the map configuration in meta tags (cached per file version)."""
    mtime = index.stat().st_mtime_ns
    key = (index, tiles, attribution)
    cached = _shells.get(key)
    if cached is None or cached.mtime_ns != mtime:
        text = index.read_text(encoding="utf-8")
        config = (
            f'<meta name="cocreate-map-tiles" content="{html.escape(tiles)}">'
            f'<meta name="cocreate-map-attribution" content="{html.escape(attribution)}">'
        )
        cached = _Shell(mtime, text.replace("</head>", config + "</head>", 1))
        _shells[key] = cached
    return cached.text


def page(request: Request, caller: CallerDep) -> Response:
    """Any page of the app: the shell, which renders the page in the browser."""
    del caller  # asked only so that a bad key is refused here as on every other route
    return shell_response(request)


def shell_response(request: Request) -> HTMLResponse:
    """The app shell with the pages' security headers (also the body of a 404 page)."""
    index = dist_dir(request) / "index.html"
    settings = _settings(request)
    tiles = settings.map_tiles or ""
    headers = {
        "Cache-Control": "no-cache",
        "Content-Security-Policy": content_security_policy(tiles),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }
    if not index.is_file():
        return HTMLResponse(NOT_BUILT, headers=headers)
    return HTMLResponse(_shell(index, tiles, settings.map_attribution), headers=headers)


for _path in PAGES:
    router.add_api_route(_path, page, methods=["GET"], response_class=HTMLResponse)


@router.get("/assets/{name}")
def asset(
    name: Annotated[str, PathParam(pattern=ASSET_NAME)], request: Request, caller: CallerDep
) -> Response:
    """A built asset (hashed name, cached for good), or a file of ``web/public``."""
    del caller
    suffix = Path(name).suffix
    media_type = MEDIA_TYPES.get(suffix)
    built = dist_dir(request) / "assets" / name
    headers = {"X-Content-Type-Options": "nosniff"}
    if media_type is not None and built.is_file():
        headers["Cache-Control"] = IMMUTABLE
        packed = built.with_name(name + ".gz")
        if packed.is_file() and _accepts_gzip(request):
            headers.update({"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
            return FileResponse(packed, media_type=media_type, headers=headers)
        return FileResponse(built, media_type=media_type, headers=headers)
    public = WEB_PUBLIC / name
    if media_type is not None and public.is_file():
        headers["Cache-Control"] = "public, max-age=3600"
        return FileResponse(public, media_type=media_type, headers=headers)
    raise NotFound(f"no asset named '{name}'")


def _accepts_gzip(request: Request) -> bool:
    accepted = request.headers.get("accept-encoding", "")
    return re.search(r"(^|[\s,])gzip($|[\s,;])", accepted) is not None


# Paths of the API and its files: an unknown one there is an error for a program, not a page.
NOT_PAGES = ("/v1/", "/assets/")


async def unknown_path(request: Request, exc: Exception) -> Response:
    """No route here: a browser asking for a page gets the app's "Page not found" (404).

    The app shell renders "Page not found" with links onwards, instead of raw problem
    JSON; API and asset paths, and anything but GET, keep the problem JSON a program
    expects. Only the router raises this 404 (routes raise ``NotFound``), so a missing
    node or asset still answers problem JSON.
    """
    assert isinstance(exc, StarletteHTTPException)  # registered for status 404 only
    path = request.url.path
    if request.method not in ("GET", "HEAD") or path == "/v1" or path.startswith(NOT_PAGES):
        return http_problem(exc)
    response = shell_response(request)
    response.status_code = 404
    return response
