"""Issue 13's loose ends in a real browser: /docs with no request leaving the machine,
an unknown address as the app's "Page not found", the Communities page, link counts
that are the server's (not one page's), and an automated accessibility check (axe-core
from npm: colour contrast and the other WCAG 2.1 A/AA rules) on every page."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.web.conftest import (
    ARTIFACTS,
    PAGE_TIMEOUT_MS,
    REPO,
    Site,
    Watched,
    open_page,
    screenshot,
    unexpected_errors,
    watch,
)
from tests.web.test_pages import first_with
from tests.web.test_plain_words import SIGNED_IN_PAGES
from tests.web.test_social import someone

pytestmark = pytest.mark.slow

AXE = REPO / "web" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def _errors(errors: list[str]) -> list[str]:
    """Console errors, less an anonymous visitor's 401 from the session probe (GET /v1/account)."""
    return [e for e in unexpected_errors(errors) if "401 (Unauthorized)" not in e]


def _same_origin_only(site: Site, page: Page) -> list[str]:
    """Record every request of the page; any to another origin is refused and listed."""
    elsewhere: list[str] = []

    def guard(route: Route) -> None:
        url = route.request.url
        if url.startswith(site.url + "/") or url.startswith("data:"):
            route.continue_()
        else:
            elsewhere.append(url)
            route.abort()

    page.route("**/*", guard)
    return elsewhere


def test_docs_render_with_no_request_leaving_the_machine(site: Site, watched: Watched) -> None:
    page = watched.page
    elsewhere = _same_origin_only(site, page)
    response = page.goto("/docs")
    assert response is not None and response.status == 200
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Cocreate")
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible()
    assert operations.count() > 30
    expect(page.locator(".opblock-tag", has_text="nodes").first).to_be_visible()
    # Open one operation: its parameters render from the spec.
    page.locator(".opblock-summary-path", has_text="/v1/search").first.click()
    expect(page.locator(".parameters-container").first).to_be_visible()
    screenshot(page, "docs-offline")
    assert elsewhere == [], elsewhere
    assert all(url.startswith(site.url) for url in watched.requests), watched.requests
    assert not watched.errors, watched.errors  # no CSP violation, no missing script


def test_an_unknown_address_is_the_apps_not_found_page(site: Site, watched: Watched) -> None:
    page = watched.page
    response = page.goto("/nowhere")
    assert response is not None and response.status == 404
    assert response.headers["content-type"].startswith("text/html")
    page.wait_for_selector("html[data-state=ready]", state="attached")
    expect(page.locator("h1")).to_have_text("Page not found")
    expect(page.get_by_role("link", name="Search the network")).to_have_attribute("href", "/")
    page.get_by_role("link", name="Communities").last.click()
    page.wait_for_selector("html[data-state=ready]", state="attached")
    expect(page).to_have_url(re.compile(r"/communities$"))
    # The API keeps answering problem JSON to programs.
    api = page.request.get("/v1/nowhere")
    assert api.status == 404
    assert api.headers["content-type"].startswith("application/problem+json")
    assert _errors(watched.errors) == []


def _visible_communities(site: Site) -> list[dict[str, Any]]:
    return [
        n
        for n in site.demo.nodes.values()
        if n["kind"] == "community" and n.get("visibility", "public") == "public"
    ]


def test_the_communities_page_lists_every_community(site: Site, browser: Browser) -> None:
    expected = _visible_communities(site)
    assert expected, "the demo has communities"
    for name, viewport in (("desktop", (1280, 900)), ("phone", (390, 844))):
        context = browser.new_context(
            base_url=site.url, viewport={"width": viewport[0], "height": viewport[1]}
        )
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        watched = watch(context.new_page())
        page = watched.page
        open_page(page, "/")
        page.get_by_role("link", name="Communities", exact=True).first.click()
        page.wait_for_selector("html[data-state=ready]", state="attached")
        expect(page.locator("h1")).to_have_text("Compassionate communities")
        nav = page.locator("header nav a[href='/communities']")
        expect(nav).to_have_attribute("aria-current", "page")
        more = page.get_by_role("button", name="Show more communities")
        for _ in range(len(expected) // 50 + 1):  # one click per further page, no more
            if not more.is_visible():
                break
            before = page.locator("li.community-card").count()
            more.click()
            expect(page.locator("li.community-card")).not_to_have_count(before)
        expect(more).to_be_hidden()
        cards = page.locator("li.community-card")
        expect(cards).to_have_count(len(expected))
        shown = set(cards.evaluate_all("els => els.map(e => e.dataset.id)"))
        assert shown == {c["id"] for c in expected}
        expect(page.locator("main p.muted").first).to_contain_text(f"{len(expected)} communit")
        with_issues = next(c for c in expected if c.get("issues"))
        card = page.locator(f"li.community-card[data-id='{with_issues['id']}']")
        expect(card.locator("h2 a")).to_have_attribute("href", f"/nodes/{with_issues['id']}")
        expect(card.locator(".community-issues")).to_contain_text(with_issues["issues"][0])
        screenshot(page, f"communities-{name}")
        card.locator("h2 a").click()
        page.wait_for_selector("html[data-state=ready]", state="attached")
        expect(page.locator("h1")).to_contain_text(with_issues["name"])
        assert _errors(watched.errors) == []
        context.close()


def _people_linked(site: Site, node: str) -> set[str]:
    """The people linked to ``node`` that the API shows an anonymous caller, over all pages."""
    found: set[str] = set()
    offset, total = 0, 1
    while offset < total:
        page = httpx.get(
            f"{site.url}/v1/edges", params={"node": node, "limit": 200, "offset": offset}
        ).json()
        total = page["total"]
        offset += 200
        for edge in page["items"]:
            other = edge["target"] if edge["source"] == node else edge["source"]
            if other.startswith("person:"):
                found.add(other)
    return found


def test_link_counts_are_the_servers_not_one_pages(site: Site, watched: Watched) -> None:
    # The community with the most links: its page must count all the people linked to it,
    # however many pages the API splits them into (one page of 200 made 198 people read
    # as 180). The demo under test may have fewer links than a page holds, so the API's
    # pages are made 10 long here: the page must follow `total` to count them all.
    links: dict[str, int] = {}
    for e in site.demo.edges:
        for end in (e["source"], e["target"]):
            if site.demo.nodes[end]["kind"] == "community":
                links[end] = links.get(end, 0) + 1
    community = max(sorted(links), key=lambda c: links[c])
    people = _people_linked(site, community)
    assert len(people) > 10, "a community with more people than one short page"
    page = watched.page

    def short_pages(route: Route) -> None:
        route.continue_(url=route.request.url.replace("limit=200", "limit=10"))

    page.route(re.compile(r".*/v1/(edges|nodes/[^/?]+/neighbors)\?.*"), short_pages)
    open_page(page, f"/nodes/{community}")
    label = page.locator("dl.links dt", has_text=re.compile(r"^People \("))
    expect(label).to_have_text(f"People ({len(people)})")
    shown = page.locator("dl.links dt:has-text('People (') + dd a.node-link")
    assert set(shown.evaluate_all("els => els.map(e => e.dataset.id)")) <= people
    assert any("offset=10" in url for url in watched.requests), "the page asked for page 2"
    assert _errors(watched.errors) == []


def _pages(site: Site) -> dict[str, str]:
    person = first_with(site, "person", "knows")
    initiative = first_with(site, "initiative", "works_on")
    return {
        "home": "/",
        "search": "/search?q=mentoring",
        "person": f"/people/{person.split(':', 1)[1]}",
        "initiative": f"/initiatives/{initiative.split(':', 1)[1]}",
        "goal": "/nodes/sdg:4",
        "councils": "/sectors",
        "sector": "/sectors/health",
        "map": "/map",
        "graph": f"/graph/{initiative}",
        "editor": "/editor",
        "communities": "/communities",
        "join": "/join",
        "signin": "/signin",
        "not-found": "/nowhere",
    }


def _axe(page: Page) -> tuple[list[dict[str, Any]], int]:
    """The WCAG 2.1 A and AA violations axe-core finds on the page as it is shown, and
    how many elements its colour-contrast rule checked and passed."""
    page.add_script_tag(path=str(AXE))
    found: dict[str, Any] = page.evaluate(
        """async (tags) => {
          const result = await axe.run(document, { runOnly: { type: "tag", values: tags } });
          const contrast = result.passes.find((r) => r.id === "color-contrast");
          return {
            violations: result.violations.map((v) => ({
              id: v.id, impact: v.impact, help: v.help, count: v.nodes.length,
              nodes: v.nodes.slice(0, 5).map(
                (n) => ({ target: n.target.join(" "), why: n.failureSummary })),
            })),
            contrastPassed: contrast ? contrast.nodes.length : 0,
          };
        }""",
        AXE_TAGS,
    )
    return found["violations"], found["contrastPassed"]


def _check(
    browser: Browser, site: Site, pages: dict[str, str], width: int, key: str | None = None
) -> dict[str, list[dict[str, Any]]]:
    """axe's violations on each page at this width (signed in with ``key``, if given)."""
    assert AXE.is_file(), "axe-core is missing: cd web && npm ci"
    # The pages' CSP allows no script but their own: the check's script is let in here only.
    context = browser.new_context(
        base_url=site.url, viewport={"width": width, "height": 900}, bypass_csp=True
    )
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    if key is not None:
        context.add_init_script(f"sessionStorage.setItem('cocreate.key', {key!r});")
    report: dict[str, list[dict[str, Any]]] = {}
    try:
        for name, path in pages.items():
            page = context.new_page()
            open_page(page, path)
            page.wait_for_load_state("networkidle")
            if key is not None:  # signed in: the page is the member's, not the sign-in form
                expect(page.locator("form[aria-label='Sign in']")).to_have_count(0)
            violations, contrast_checked = _axe(page)
            assert contrast_checked > 5, f"axe checked the contrast of the text on {name}"
            if violations:
                report[name] = violations
            page.close()
    finally:
        context.close()
    return report


def _verdict(report: dict[str, list[dict[str, Any]]], out: Path) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1), encoding="utf-8")
    summary = {name: sorted({v["id"] for v in found}) for name, found in report.items()}
    assert report == {}, f"{summary} (details in {Path(out).relative_to(REPO)})"


@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
def test_every_page_passes_the_automated_accessibility_check(
    site: Site, browser: Browser, width: int
) -> None:
    _verdict(_check(browser, site, _pages(site), width), ARTIFACTS / f"axe-{width}.json")


@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
def test_the_signed_in_pages_pass_the_automated_accessibility_check(
    site: Site, browser: Browser, width: int
) -> None:
    """A member's own pages (their profile, matches, inbox, settings and digest), and a
    person's page as a member sees it (with the form to ask for an introduction)."""
    member = someone(site, f"Axel Check {width}")
    person = first_with(site, "person", "knows")
    pages = {**SIGNED_IN_PAGES, "person-signed-in": f"/people/{person.split(':', 1)[1]}"}
    report = _check(browser, site, pages, width, member.key)
    _verdict(report, ARTIFACTS / f"axe-signed-in-{width}.json")
