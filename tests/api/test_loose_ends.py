"""Loose ends of issue 13 at the HTTP level: an unknown web path is an HTML page (API
paths keep problem JSON), responses are gzipped when asked, and /docs loads Swagger UI
from this service (no CDN)."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.routes.web import WEB_DIST
from api.services import Services
from graph.model import Person, Place

GZIP = {"Accept-Encoding": "gzip"}
IDENTITY = {"Accept-Encoding": "identity"}


@pytest.fixture
def built() -> Path:
    index = WEB_DIST / "index.html"
    assert index.is_file(), "the web app is not built: run ./scripts/setup"
    return index


@pytest.mark.parametrize("path", ["/nowhere", "/people/maria/extra", "/no/such/page?x=1"])
def test_an_unknown_web_path_is_the_apps_not_found_page(
    client: TestClient, built: Path, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/assets/app-' in response.text  # the app shell
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert client.head(path).status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/no-such-route"),
        ("GET", "/v1/nodes/person:pub/no-such-thing"),
        ("GET", "/assets/no-such-file.js"),
        ("POST", "/nowhere"),
        ("DELETE", "/nowhere"),
    ],
)
def test_api_and_asset_paths_keep_problem_json(
    client: TestClient, built: Path, method: str, path: str
) -> None:
    response = client.request(method, path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 404


def test_a_missing_node_is_still_problem_json(client: TestClient) -> None:
    # Routes raise their own 404 (a node nobody may see reads as missing): never the page.
    for node in ("person:nobody", "person:priv"):
        response = client.get(f"/v1/nodes/{node}")
        assert response.status_code == 404
        assert response.json()["detail"] == f"no node with id '{node}'"


def test_without_a_build_an_unknown_path_still_answers_html(
    client: TestClient, tmp_path: Path
) -> None:
    client.app.state.web_dist = tmp_path  # type: ignore[attr-defined]
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "not built" in response.text


@pytest.fixture
def crowded(services: Services) -> None:
    """Sixty more people on the map and in search: answers big enough to be worth packing."""
    place = Place(name="Davis", country="US", region="Northern America", lat=38.54, lon=-121.74)
    services.store.write(
        [
            Person(id=f"person:crowd-{i}", name=f"Crowd Member {i}", place=place,
                   location_precision="city", bio="Mentoring young people in reading.")
            for i in range(60)
        ]
    )  # fmt: skip
    services.catch_up()


@pytest.mark.parametrize(
    "path", ["/v1/map?kind=person&kind=initiative", "/v1/search?q=mentoring", "/v1/nodes?limit=50"]
)
def test_responses_are_gzipped_when_asked(client: TestClient, crowded: None, path: str) -> None:
    plain = client.get(path, headers=IDENTITY)
    assert plain.status_code == 200
    assert "content-encoding" not in plain.headers
    assert len(plain.content) > 1024, "too small to be worth compressing"
    packed = client.get(path, headers=GZIP)
    assert packed.status_code == 200
    assert packed.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["vary"]
    assert int(packed.headers["content-length"]) < len(plain.content) / 2
    assert packed.json() == plain.json()  # httpx decodes the gzip
    # The change-log header set by the middleware around it survives compression.
    assert packed.headers.get("x-cocreate-seq") == plain.headers.get("x-cocreate-seq")


def test_small_and_error_responses_are_left_as_they_are(client: TestClient) -> None:
    small = client.get("/health", headers=GZIP)
    assert small.status_code == 200 and "content-encoding" not in small.headers
    problem = client.get("/v1/nodes/person:nobody", headers=GZIP)
    assert problem.status_code == 404 and "content-encoding" not in problem.headers


def test_pre_gzipped_assets_are_not_compressed_twice(client: TestClient, built: Path) -> None:
    shell = client.get("/", headers=IDENTITY).text
    script = re.findall(r'"/assets/(app-[^"]+\.js)"', shell)[0]
    with client.stream("GET", f"/assets/{script}", headers=GZIP) as response:
        raw = b"".join(response.iter_raw())
    assert response.headers["content-encoding"] == "gzip"
    assert raw == (WEB_DIST / "assets" / f"{script}.gz").read_bytes()
    assert gzip.decompress(raw) == (WEB_DIST / "assets" / script).read_bytes()


def test_the_page_shell_is_gzipped_and_keeps_its_headers(client: TestClient, built: Path) -> None:
    plain = client.get("/map", headers=IDENTITY)
    packed = client.get("/map", headers=GZIP)
    assert packed.text == plain.text
    for header in ("cache-control", "content-security-policy", "x-content-type-options"):
        assert packed.headers[header] == plain.headers[header]
    if len(plain.content) >= 1024:
        assert packed.headers["content-encoding"] == "gzip"


def test_docs_load_swagger_ui_from_this_service(client: TestClient, built: Path) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and all(s.startswith("/") and not s.startswith("//") for s in sources), sources
    assert "cdn" not in page.lower() and "http" not in page.replace("http-equiv", "")
    names = json.loads((WEB_DIST / "docs.json").read_text(encoding="utf-8"))
    for key, media in (("js", "text/javascript"), ("css", "text/css")):
        assert f"/assets/{names[key]}" in sources
        asset = client.get(f"/assets/{names[key]}", headers=GZIP)
        assert asset.status_code == 200
        assert asset.headers["content-type"].startswith(media)
        assert asset.headers["content-encoding"] == "gzip"  # the build's .gz copy
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "connect-src 'self'" in policy
    assert "script-src 'self' 'sha256-" in policy  # its one inline script, by hash
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/redoc").headers["content-type"].startswith("text/html")  # the 404 page


def test_without_a_build_the_docs_say_how_to_build(client: TestClient, tmp_path: Path) -> None:
    client.app.state.web_dist = tmp_path  # type: ignore[attr-defined]
    response = client.get("/docs")
    assert response.status_code == 200
    assert "npm run build" in response.text and "/openapi.json" in response.text
