"""The API's interactive docs at ``/docs``, working with no internet.

FastAPI's own ``/docs`` page loads Swagger UI from a CDN, so it stays blank on a
machine without internet (or behind a strict proxy). Here the page loads Swagger UI
from this service: ``web/build.mjs`` copies it from the ``swagger-ui-dist`` npm package
into ``web/dist/assets`` under content-hashed names and lists them in
``web/dist/docs.json``. The page's Content-Security-Policy keeps it on this origin,
allowing only its one inline script (by hash), so no request can leave the machine.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response

from api.routes.web import dist_dir

router = APIRouter(include_in_schema=False)

DOCS_NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Cocreate API: docs not built</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>The API's docs page is not built yet</h1>
<p>Its viewer ships with the web app: build it with <code>./scripts/setup</code>, or
<code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>. The API's description
itself is at <a href="/openapi.json">/openapi.json</a>.</p>
</main></body></html>
"""
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _assets(dist: Path) -> dict[str, str] | None:
    """The hashed names of Swagger UI's script and stylesheet, if the app is built."""
    manifest = dist / "docs.json"
    if not manifest.is_file():
        return None
    names = json.loads(manifest.read_text(encoding="utf-8"))
    if not all((dist / "assets" / names.get(key, "")).is_file() for key in ("js", "css")):
        return None
    return {"js": names["js"], "css": names["css"]}


def docs_csp(page: str) -> str:
    """Everything from this origin; the page's own inline scripts allowed by their hash."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in _INLINE_SCRIPT.findall(page)
    )
    return (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; "
        "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )


@router.get("/docs", response_class=HTMLResponse)
def docs(request: Request) -> Response:
    """Swagger UI over ``/openapi.json``, its assets served from ``/assets``."""
    headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    found = _assets(dist_dir(request))
    if found is None:
        return HTMLResponse(DOCS_NOT_BUILT, headers=headers)
    app = request.app
    rendered = get_swagger_ui_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title=f"{app.title} API",
        swagger_js_url=f"/assets/{found['js']}",
        swagger_css_url=f"/assets/{found['css']}",
        swagger_favicon_url="/assets/icon.svg",
        # The validator badge would send the API's description to validator.swagger.io.
        swagger_ui_parameters={"validatorUrl": None},
    )
    page = bytes(rendered.body).decode().replace("<html>", '<html lang="en">', 1)
    headers["Content-Security-Policy"] = docs_csp(page)
    return HTMLResponse(page, headers=headers)
