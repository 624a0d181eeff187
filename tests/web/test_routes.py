"""The routes that serve the web app: the page shell, its assets, the build message."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.routes.web import PAGES, WEB_DIST
from api.services import Services
from api.settings import Settings
from tests.api.conftest import client, reference_index, seeded, services, settings  # noqa: F401

MAIN_TS = WEB_DIST.parent / "src" / "main.ts"
EXAMPLE_PAGES = ["/", "/search", "/people/maria", "/initiatives/hub", "/nodes/sdg:4", "/sectors",
                 "/sectors/health", "/map", "/graph", "/graph/sdg:4", "/editor", "/join",
                 "/signin", "/verify", "/reset", "/me", "/settings", "/admin",
                 "/inbox", "/matches", "/digest", "/communities"]  # fmt: skip


@pytest.fixture
def built() -> Path:
    index = WEB_DIST / "index.html"
    assert index.is_file(), "the web app is not built: run ./scripts/setup"
    return index


def test_the_page_list_is_the_apps(built: Path) -> None:
    # Every page the app routes is served by the shell, and the other way round.
    assert len(EXAMPLE_PAGES) == len(PAGES)
    source = MAIN_TS.read_text(encoding="utf-8")
    found = re.findall(r"pattern: /(\^.*?\$)/", source)
    patterns = [re.compile(p.replace("(?<", "(?P<")) for p in found]  # JS to Python groups
    assert len(patterns) >= 9
    for page in EXAMPLE_PAGES:
        assert any(p.fullmatch(page) for p in patterns), page


@pytest.mark.parametrize("path", EXAMPLE_PAGES)
def test_every_page_answers_the_shell_with_a_strict_policy(
    client: TestClient,  # noqa: F811
    built: Path,
    path: str,
) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy
    assert "unsafe-inline" not in policy and "http" not in policy  # no other host
    assert response.headers["x-content-type-options"] == "nosniff"
    assert '<script type="module" src="/assets/app-' in response.text
    assert '<meta name="cocreate-map-tiles" content="">' in response.text


def test_assets_are_cached_for_good_and_sent_gzipped_when_asked(
    client: TestClient,  # noqa: F811
    built: Path,
) -> None:
    shell = client.get("/").text
    names = re.findall(r'"/assets/([^"]+)"', shell)
    script = next(n for n in names if n.startswith("app-") and n.endswith(".js"))
    style = next(n for n in names if n.startswith("style-") and n.endswith(".css"))
    for name, media in ((script, "text/javascript"), (style, "text/css")):
        plain = client.get(f"/assets/{name}", headers={"Accept-Encoding": "identity"})
        assert plain.status_code == 200
        assert plain.headers["content-type"].startswith(media)
        assert plain.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert "content-encoding" not in plain.headers
        assert plain.content == (WEB_DIST / "assets" / name).read_bytes()
    packed = client.get(f"/assets/{style}", headers={"Accept-Encoding": "gzip, br"})
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.headers["vary"] == "Accept-Encoding"
    # httpx decodes it: the same bytes as the plain file.
    assert packed.content == (WEB_DIST / "assets" / style).read_bytes()
    raw = (WEB_DIST / "assets" / f"{style}.gz").read_bytes()
    assert gzip.decompress(raw) == packed.content


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/assets/icon.svg", 200),  # web/public, build or no build
        ("/assets/no-such-file.js", 404),
        ("/assets/main.ts", 404),  # not a served type
        ("/assets/..%2F..%2Fpyproject.toml", 404),
        ("/assets/.hidden", 422),
        ("/v1/no-such-route", 404),  # API paths never fall back to the shell
    ],
)
def test_only_assets_are_served(
    client: TestClient,  # noqa: F811
    path: str,
    status: int,
) -> None:
    response = client.get(path)
    assert response.status_code == status, response.text
    if status != 200:
        assert response.headers["content-type"].startswith("application/problem+json")


def test_without_a_build_the_pages_say_how_to_build(
    client: TestClient,  # noqa: F811
    tmp_path: Path,
) -> None:
    client.app.state.web_dist = tmp_path  # type: ignore[attr-defined]
    response = client.get("/map")
    assert response.status_code == 200
    assert "not built" in response.text and "npm ci" in response.text
    assert "./scripts/setup" in response.text


@pytest.fixture
def tiled(settings: Settings, services: Services) -> Iterator[TestClient]:  # noqa: F811
    services.settings = settings.model_copy(
        update={"map_tiles": "https://{s}.tiles.example.org/{z}/{x}/{y}.png",
                "map_attribution": '© Example & "friends"'}
    )  # fmt: skip
    with TestClient(create_app(services=services)) as test_client:
        yield test_client


def test_a_configured_tile_server_reaches_the_map_and_the_policy(
    tiled: TestClient, built: Path
) -> None:
    response = tiled.get("/map")
    assert (
        '<meta name="cocreate-map-tiles" content="https://{s}.tiles.example.org/{z}/{x}/{y}.png">'
        in response.text
    )
    assert (
        '<meta name="cocreate-map-attribution" content="© Example &amp; &quot;friends&quot;">'
        in response.text
    )
    policy = response.headers["content-security-policy"]
    assert "img-src 'self' data: https://*.tiles.example.org;" in policy
    assert "connect-src 'self';" in policy  # tiles are images, nothing else
