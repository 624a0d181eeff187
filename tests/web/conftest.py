"""The web app in a real browser: Debian's Chromium driven by Playwright against a real
``cocreate serve`` on the loopback interface, loaded with the demo network.

One server and one browser for the whole session. The demo network is the full one
(3,000 people) so that the page timings are those of the demo; set
``COCREATE_WEB_TEST_PEOPLE`` to test on a smaller one. While working on the pages, set
``COCREATE_WEB_TEST_REUSE`` to a folder: the demo network and its index are built there
once and reused by later runs. Screenshots and the page timings go to ``var/artifacts/``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

from tests.api.server import Server, cocreate, cocreate_env, create_key, serving
from tests.mailbox import Mailbox, smtp_server

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
DIST = REPO / "web" / "dist" / "index.html"
ARTIFACTS = REPO / "var" / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
PEOPLE = int(os.environ.get("COCREATE_WEB_TEST_PEOPLE", "3000"))
READY = "html[data-state=ready]"
PAGE_TIMEOUT_MS = 60_000
expect.set_options(timeout=30_000)  # a first request may wait for the server to warm up


@dataclass
class Demo:
    """The demo network as exported right after loading it: the ground truth."""

    nodes: dict[str, dict[str, Any]]
    edges: list[dict[str, Any]]

    def people(self) -> list[dict[str, Any]]:
        return [n for n in self.nodes.values() if n["kind"] == "person"]

    def hidden_from_anonymous(self) -> list[dict[str, Any]]:
        """People an anonymous visitor may not see anywhere: not public, or not discoverable."""
        return [
            p
            for p in self.people()
            if p.get("visibility", "public") != "public" or not p.get("discoverable", True)
        ]

    def listed_people(self) -> list[dict[str, Any]]:
        hidden = {p["id"] for p in self.hidden_from_anonymous()}
        return [p for p in self.people() if p["id"] not in hidden]

    def contacts(self) -> set[str]:
        """Every contact detail of anyone (emails, phones): never shown to anonymous visitors."""
        found: set[str] = set()
        for person in self.people():
            for value in (person.get("contact") or {}).values():
                if isinstance(value, str) and len(value) >= 6:
                    found.add(value)
        return found

    def linked(self, node_id: str, kind: str) -> list[str]:
        return sorted(
            e["target"] if e["source"] == node_id else e["source"]
            for e in self.edges
            if e["kind"] == kind and node_id in (e["source"], e["target"])
        )


@dataclass
class Site:
    server: Server
    demo: Demo
    editor_key: str = field(repr=False)
    routes: set[str] = field(default_factory=set)
    mailbox: Mailbox = field(default_factory=Mailbox, repr=False)
    """Every mail the server sent (sign-up links and the like): a real SMTP server."""
    data_dir: Path | None = None
    """The served store's folder (for tests that make accounts in it directly)."""

    @property
    def url(self) -> str:
        return self.server.url

    def has(self, method: str, path: str) -> bool:
        """Whether the API serves this route (issue-5 routes arrive over time)."""
        return f"{method.upper()} {path}" in self.routes


def _read_export(path: Path) -> Demo:
    nodes: dict[str, dict[str, Any]] = {}
    edges: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if record["type"] == "node":
                nodes[record["id"]] = record
            else:
                edges.append(record)
    return Demo(nodes, edges)


def _routes(url: str) -> set[str]:
    spec = httpx.get(f"{url}/openapi.json", timeout=30).json()
    return {f"{method.upper()} {path}" for path, ops in spec["paths"].items() for method in ops}


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    assert DIST.is_file(), "the web app is not built: run ./scripts/setup (npm ci, npm run build)"
    assert CHROMIUM.is_file(), (
        "Debian's Chromium is missing: run ./scripts/setup as root, or "
        "apt-get install chromium chromium-driver"
    )
    reuse = os.environ.get("COCREATE_WEB_TEST_REUSE")  # a folder kept between runs
    root = Path(reuse) if reuse else tmp_path_factory.mktemp("web")
    # The tagger's cache of encoded reference texts is shared with the API tests: it
    # holds only what the shipped data gives, nothing a test writes.
    env = cocreate_env(
        root / "var", rate_limit_per_minute="1000000", rate_limit_burst="100000",
        cache=str(REPO / "var" / "test-cache"),
    )  # fmt: skip
    with smtp_server() as mailbox:
        # The server mails through a real SMTP server here, so that a test can join
        # as a visitor does and follow the link it was sent.
        yield from _serve(root, env | {"COCREATE_SMTP_URL": mailbox.url}, mailbox)


def _serve(root: Path, env: dict[str, str], mailbox: Mailbox) -> Iterator[Site]:
    if not (root / "demo.jsonl").is_file():
        loaded = cocreate(env, "demo", "--people", str(PEOPLE), timeout=600)
        assert "demo network loaded" in loaded, loaded
        cocreate(env, "export", str(root / "demo.jsonl"), timeout=600)
        # Build the search index before serving, so that the server is ready at once.
        cocreate(env, "reindex", timeout=3600)
    editor = create_key(env, "editor")
    with serving(env, root / "logs") as server:
        demo = _read_export(root / "demo.jsonl")
        yield Site(server, demo, editor, _routes(server.url), mailbox, root / "var")


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
    yield launched
    launched.close()


@pytest.fixture
def context(browser: Browser, site: Site) -> Iterator[BrowserContext]:
    """A fresh, anonymous browsing context (no cache, no storage) on a desktop screen."""
    made = browser.new_context(base_url=site.url, viewport={"width": 1280, "height": 900})
    made.set_default_timeout(PAGE_TIMEOUT_MS)
    yield made
    made.close()


@dataclass
class Watched:
    """A page whose console errors and requests are recorded."""

    page: Page
    errors: list[str]
    requests: list[str]


def watch(page: Page) -> Watched:
    """Record the page's console errors, uncaught exceptions and requests."""
    found = Watched(page, [], [])
    page.on("console", lambda m: found.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: found.errors.append(f"uncaught: {e}"))
    page.on("request", lambda r: found.requests.append(r.url))
    return found


@pytest.fixture
def watched(context: BrowserContext) -> Watched:
    return watch(context.new_page())


def open_page(page: Page, path: str) -> None:
    """Go to a page of the app and wait until all its sections have loaded."""
    page.goto(path)
    page.wait_for_selector(READY, state="attached")


def wait_ready(page: Page) -> None:
    page.wait_for_selector(READY, state="attached")


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def unexpected_errors(errors: list[str]) -> list[str]:
    """Console errors other than the 404s of API routes this server does not have yet."""
    return [e for e in errors if "404 (Not Found)" not in e]
