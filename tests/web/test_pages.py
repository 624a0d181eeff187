"""The pages in a real browser: search to a person and their recommendations, the map,
the councils' heatmap, the graph explorer, the editor desk; keyboard use, labels and
phone screens; every page photographed, and its load time measured.

Routes of issue 5 (recommendations, council analytics, related wisdom) may be missing
on the server under test; where one is, the page must say so plainly ("not available"),
and where it is there, the page must show its items with their reasons.
"""

from __future__ import annotations

import json
import os
import platform
import re
import statistics
import time
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, ViewportSize, expect

from graph.geo import public_place
from graph.model import LocationPrecision, Place
from tests.web.conftest import (
    ARTIFACTS,
    PEOPLE,
    Site,
    Watched,
    open_page,
    screenshot,
    unexpected_errors,
    wait_ready,
    watch,
)

pytestmark = pytest.mark.slow

COLLABORATORS = r"/v1/people/\{[^}]+\}/collaborators"
INITIATIVES_FOR = r"/v1/people/\{[^}]+\}/initiatives"
OVERLAP = r"/v1/sectors/overlap"
RELATED_WISDOM = r"/v1/wisdom/related"
RUNS = 3  # cold loads per page for the timings


def served(site: Site, method: str, pattern: str) -> bool:
    return any(re.fullmatch(f"{method} {pattern}", route) for route in site.routes)


def first_with(site: Site, kind: str, edge: str, *, listed_only: bool = True) -> str:
    """The node of ``kind`` with the most ``edge`` links to people an anonymous visitor sees."""
    listed = {p["id"] for p in site.demo.listed_people()}
    counts: dict[str, int] = {}
    for e in site.demo.edges:
        if e["kind"] != edge:
            continue
        for end, other in ((e["source"], e["target"]), (e["target"], e["source"])):
            if site.demo.nodes[end]["kind"] == kind and (not listed_only or other in listed):
                counts[end] = counts.get(end, 0) + 1
    return max(sorted(counts), key=lambda n: counts[n])


def pages_of(site: Site) -> dict[str, str]:
    """One address per page of the app, on real ids of the demo network."""
    person = first_with(site, "person", "knows")
    initiative = first_with(site, "initiative", "works_on")
    community = first_with(site, "community", "located_in")
    return {
        "home": "/",
        "search": "/?q=youth+mentoring+against+gang+violence",
        "person": f"/people/{person.split(':', 1)[1]}",
        "initiative": f"/initiatives/{initiative.split(':', 1)[1]}",
        "community": f"/nodes/{community}",
        "councils": "/sectors",
        "sector": "/sectors/health",
        "map": "/map",
        "graph": f"/graph/{initiative}",
        "editor": "/editor",
    }


# --- search, a person, their recommendations ------------------------------------------


def test_search_then_open_a_person_and_see_recommendations_with_reasons(
    site: Site, watched: Watched
) -> None:
    page = watched.page
    open_page(page, "/")
    box = page.get_by_label("What do you care about?")
    box.fill("youth mentoring")
    box.press("Enter")
    wait_ready(page)
    expect(page.locator("h1")).to_have_text("Search: youth mentoring")
    hits = page.locator("li.hit")
    assert hits.count() == 10
    # The matched words are highlighted in the passage and listed with every hit.
    assert page.locator("li.hit .passage mark").count() > 0
    first_terms = hits.first.locator(".reason-terms mark").all_inner_texts()
    assert set(first_terms) <= {"youth", "mentoring"} and first_terms
    # Goals as their official colours and numbers (SDG 4 is red #C5192D).
    badge = page.locator("li.hit .sdg-badge[data-sdg='4']").first
    expect(badge).to_have_text("4")
    assert badge.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(197, 25, 45)"
    # "Why this?" opens the reasons, in sentences (the strength's first).
    hits.first.locator("details.why summary").click()
    assert hits.first.locator("details.why li").count() >= 2
    screenshot(page, "search-results")

    person_hit = page.locator("li.hit[data-id^='person:']").first
    person_id = person_hit.get_attribute("data-id")
    assert person_id is not None
    person_hit.locator("a.node-link").click()
    wait_ready(page)
    expect(page).to_have_url(re.compile(f"/people/{re.escape(person_id.split(':', 1)[1])}$"))
    expect(page.locator("h1")).to_have_text(site.demo.nodes[person_id]["name"])

    panel = page.locator("[role=tabpanel]:not([hidden])").first
    if served(site, "GET", COLLABORATORS):
        recs = panel.locator("li.rec")
        assert recs.count() > 0
        for summary in panel.locator("li.rec .summary").all_inner_texts():
            assert len(summary.split()) >= 4  # a readable sentence, not a code
        panel.locator("li.rec details.why summary").first.click()
        assert panel.locator("table.components tr[data-part]").count() >= 1
        # Every recommended person is someone an anonymous visitor may see.
        listed = {p["id"] for p in site.demo.listed_people()}
        for rec_id in panel.locator("li.rec").evaluate_all("els => els.map(e => e.dataset.id)"):
            assert rec_id in listed or not rec_id.startswith("person:")
    else:
        expect(panel.locator(".notice-unavailable")).to_contain_text("not available")
    # The other modes are tabs, reachable with the arrow keys.
    page.get_by_role("tab", name="Similar").focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("tab", name="Complementary")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tab", name="Complementary")).to_be_focused()
    second = page.locator("[role=tabpanel]:not([hidden])").first
    expect(second.locator("li.rec, .notice").first).to_be_visible()
    initiatives = page.locator("section", has=page.locator("h2", has_text="Initiatives"))
    if served(site, "GET", INITIATIVES_FOR):
        expect(initiatives.locator("li.rec").first).to_be_visible()
    else:
        expect(initiatives.locator(".notice-unavailable")).to_be_visible()
    screenshot(page, "person")
    assert unexpected_errors(watched.errors) == []


def test_the_keyboard_alone_reaches_search_results_and_a_profile(watched: Watched) -> None:
    page = watched.page
    open_page(page, "/")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Skip to content")
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "q":
            break
    else:
        pytest.fail("the search box is not reachable with Tab")
    page.keyboard.type("restorative circles in schools")
    page.keyboard.press("Enter")
    wait_ready(page)
    first_link = page.locator("li.hit a.node-link").first
    first_link.focus()
    target = first_link.get_attribute("href")
    page.keyboard.press("Enter")
    wait_ready(page)
    assert target and page.url.endswith(target)
    expect(page.locator("h1")).not_to_be_empty()


def test_random_letters_get_a_plain_no_good_match(watched: Watched) -> None:
    page = watched.page
    open_page(page, "/?q=qzxv+wkpt+jrfl")
    wait_ready(page)
    expect(page.locator(".notice").first).to_contain_text("No good match for these words")
    expect(page.locator("li.hit")).to_have_count(0)
    screenshot(page, "search-no-good-match")
    assert unexpected_errors(watched.errors) == []


def test_near_me_uses_the_browsers_position_and_shows_distance_bands(
    site: Site, browser: Browser
) -> None:
    context = browser.new_context(
        base_url=site.url,
        geolocation={"latitude": 38.5816, "longitude": -121.4944},  # Sacramento
        permissions=["geolocation"],
    )
    try:
        page = context.new_page()
        open_page(page, "/?q=youth+mentoring")
        page.get_by_text("Filters").click()
        page.get_by_role("button", name="Use my location").click()
        expect(page.get_by_label("Latitude")).to_have_value("38.58")  # rounded to ~1 km
        expect(page.get_by_label("Longitude")).to_have_value("-121.49")
        page.get_by_label("Radius").select_option("50")
        page.get_by_role("button", name="Search", exact=True).click()
        wait_ready(page)
        assert "lat=38.58" in page.url and "radius_km=50" in page.url
        bands = page.locator("li.hit .summary").all_inner_texts()
        near = ("within about 10 km of the place", "within about 50 km of the place")
        assert bands and all(any(n in b for n in near) for b in bands), bands
        screenshot(page, "search-near-me")
    finally:
        context.close()


def test_an_initiative_page_shows_helpers_related_initiatives_and_wisdom(
    site: Site, watched: Watched
) -> None:
    page = watched.page
    initiative = first_with(site, "initiative", "works_on")
    open_page(page, f"/initiatives/{initiative.split(':', 1)[1]}")
    expect(page.locator("h1")).to_have_text(site.demo.nodes[initiative]["name"])

    def part(title: str) -> Locator:
        return page.locator("section", has=page.locator("h2", has_text=title))

    helpers = part("People who could help")
    if served(site, "GET", r"/v1/initiatives/\{[^}]+\}/people"):
        expect(helpers.locator("li.rec").first).to_be_visible()
        assert all(len(t.split()) >= 4 for t in helpers.locator(".summary").all_inner_texts())
        # Its own people are not suggested to it.
        own = set(site.demo.linked(initiative, "works_on"))
        shown = set(helpers.locator("li.rec").evaluate_all("els => els.map(e => e.dataset.id)"))
        assert not shown & own
        helpers.get_by_label("Who").select_option("bridging")
        expect(helpers.locator("li.rec, .notice").first).to_be_visible()
    else:
        expect(helpers.locator(".notice-unavailable")).to_be_visible()
    related = part("Related initiatives").locator("li.rec")
    expect(related.first).to_be_visible()
    assert initiative not in related.evaluate_all("els => els.map(e => e.dataset.id)")
    wisdom = part("Related Wisdom Book entries").locator("li.rec")
    expect(wisdom.first).to_be_visible()
    assert all(
        i.startswith("wisdom_entry:")
        for i in wisdom.evaluate_all("els => els.map(e => e.dataset.id)")
    )
    screenshot(page, "initiative")
    assert unexpected_errors(watched.errors) == []


def test_a_community_learns_from_communities_that_faced_its_issues(
    site: Site, watched: Watched
) -> None:
    page = watched.page
    community = first_with(site, "community", "located_in")
    open_page(page, f"/nodes/{community}")
    learn = page.locator("section", has=page.locator("h2", has_text="Learn from other communities"))
    issues = learn.get_by_label("The issues you face, in your words")
    expect(issues).to_have_value(", ".join(site.demo.nodes[community].get("issues", [])))
    issues.fill("gang violence among teenagers, drug use")
    learn.get_by_role("button", name="Find who faced them").click()
    if not served(site, "POST", r"/v1/communities/learn"):
        expect(learn.locator(".notice-unavailable")).to_be_visible()
        return
    expect(learn.locator("h3").first).to_have_text("Communities that faced these issues")
    expect(learn.locator("li.rec").first).to_be_visible()
    shown = learn.locator("li.rec").evaluate_all("els => els.map(e => e.dataset.id)")
    assert community not in shown
    screenshot(page, "community-learns")
    assert unexpected_errors(watched.errors) == []


# --- the map ------------------------------------------------------------------------------


def coarsened(node: dict[str, Any]) -> tuple[float | None, float | None]:
    place = Place(**node["place"])
    if node["kind"] != "person":
        return place.lat, place.lon
    shown = public_place(place, LocationPrecision(node.get("location_precision", "city")))
    return shown.lat, shown.lon


def test_the_map_shows_markers_never_more_precise_than_allowed(
    site: Site, watched: Watched
) -> None:
    page = watched.page
    with page.expect_response(lambda r: "/v1/map" in r.url) as answer:
        open_page(page, "/map")
    body = answer.value.json()
    assert page.locator(".leaflet-marker-icon").count() > 0
    expect(page.locator(".map-status")).to_contain_text("people")
    # What the page received for its view: every listed person placed in it counted (no
    # one else), and each person it names exactly at the position coarsened to their
    # precision.
    people = {
        i["id"]: i for c in body["clusters"] for i in c.get("items") or [] if i["kind"] == "person"
    }
    west, south, east, north = body["bbox"]
    expected = {
        p["id"]
        for p in site.demo.listed_people()
        if p.get("place", {}).get("lat") is not None
        and p.get("location_precision", "city") != "country"
        and south <= coarsened(site.demo.nodes[p["id"]])[0] <= north
        and west <= coarsened(site.demo.nodes[p["id"]])[1] <= east
    }
    assert sum(c["kinds"].get("person", 0) for c in body["clusters"]) == len(expected)
    assert people and set(people) <= expected
    for person_id, item in people.items():
        assert (item["lat"], item["lon"]) == coarsened(site.demo.nodes[person_id]), person_id
    screenshot(page, "map-world")
    # A cluster opens with the keyboard: Enter zooms in on it.
    expect(page.locator("#map")).to_have_attribute("data-zoom", "2")
    page.locator(".leaflet-marker-icon[data-marker=cluster]").first.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#map")).not_to_have_attribute("data-zoom", "2")

    # Zoomed in on the Capital Region, places (not clusters) show: pins for exact places,
    # areas for people placed to the town or region; each sits exactly where the API put
    # it, and so no nearer than each person allowed.
    open_page(page, "/map?lat=38.6&lon=-121.4&zoom=11")
    places = page.locator(".leaflet-marker-icon[data-marker=place]")
    assert places.count() > 0
    checked = 0
    for marker in page.locator("[data-marker=place], path[data-area]").evaluate_all(
        "els => els.map(e => [Number(e.dataset.lat), Number(e.dataset.lon), e.dataset.ids])"
    ):
        lat, lon, ids = marker
        for node_id in ids.split():
            assert coarsened(site.demo.nodes[node_id]) == (lat, lon), node_id
            checked += 1
    assert checked > 0
    assert page.locator("path[data-area]").count() > 0
    # A place opens with the keyboard and lists who is there.
    places.first.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".leaflet-popup .map-popup li").first).to_be_visible()
    expect(page.locator(".leaflet-popup")).to_have_css("opacity", "1")  # faded in
    expect(page.locator(".leaflet-popup .map-popup a").first).to_be_focused()
    screenshot(page, "map-capital-region")
    page.keyboard.press("Escape")
    expect(page.locator(".leaflet-popup")).to_have_count(0)
    # Filters: only initiatives in one sector.
    with page.expect_response(lambda r: "/v1/map" in r.url) as filtered:
        open_page(page, "/map?kind=initiative&sector=sector:health")
    kinds = {k for c in filtered.value.json()["clusters"] for k in c["kinds"]}
    assert kinds <= {"initiative"}
    assert unexpected_errors(watched.errors) == []


# --- councils -----------------------------------------------------------------------------


def test_the_councils_heatmap_has_twelve_by_twelve_cells(site: Site, watched: Watched) -> None:
    page = watched.page
    open_page(page, "/sectors")
    expect(page.locator(".sector-list a")).to_have_count(12)
    if not served(site, "GET", OVERLAP):
        expect(page.locator(".notice-unavailable")).to_contain_text("not available")
        screenshot(page, "councils")
        return
    table = page.locator("table.heatmap")
    expect(table.locator("tbody tr")).to_have_count(12)
    expect(table.locator("td.cell")).to_have_count(144)
    for row in table.locator("tbody tr").all():
        expect(row.locator("td.cell")).to_have_count(12)
    names = {n["name"] for n in site.demo.nodes.values() if n["kind"] == "sector"}
    titles = set(table.locator("thead th").evaluate_all("els => els.map(e => e.title)"))
    assert titles == names
    # A cell is a button; choosing one explains the pair.
    table.locator("td.cell button").first.click()
    detail = page.locator(".pair-detail")
    expect(detail.locator("h3")).to_have_text(re.compile(r"^\S.* and \S.*$"))
    expect(detail.locator(".cell-summary")).to_contain_text(" overlap ")
    # The strength as a percentage and in words, not as parts of a score.
    strength = r"Overlap: \d{1,3}%, they overlap (strongly|moderately|a little)"
    expect(detail).to_contain_text(re.compile(strength))
    expect(detail.locator("li.rec").first).to_be_visible()  # the pair's synergies
    screenshot(page, "councils")
    assert unexpected_errors(watched.errors) == []


def test_a_sector_page_shows_every_council_part(site: Site, watched: Watched) -> None:
    page = watched.page
    open_page(page, "/sectors/health")
    expect(page.locator("h1")).to_have_text("Health sector")
    headings = page.locator("section h2").all_inner_texts()
    for part in ("Overlap between the twelve sectors", "Synergies with other sectors",
                 "Bridge people", "Sub-sector groups", "Gaps by goal and region",
                 "Council assistant"):  # fmt: skip
        assert part in headings
    # Each part shows its content or says plainly that its endpoint is missing.
    for section in page.locator("section.card").all():
        expect(section.locator(".loading")).to_have_count(0)
    expect(page.locator(".notice-error")).to_have_count(0)  # no part failed to render
    if served(site, "GET", r"/v1/sectors/\{[^}]+\}/gaps"):
        expect(page.locator("table.gaps tbody tr")).to_have_count(17)
    if served(site, "GET", r"/v1/sectors/\{[^}]+\}/groups"):
        assert page.locator("li.group").count() > 0
    if served(site, "GET", r"/v1/sectors/\{[^}]+\}/bridges"):
        bridges = page.locator("section", has=page.locator("h2", has_text="Bridge people"))
        assert bridges.locator("li.rec .summary").count() > 0
    screenshot(page, "sector")
    assert unexpected_errors(watched.errors) == []


def test_the_council_assistant_proposes_members_with_reasons(site: Site, watched: Watched) -> None:
    page = watched.page
    open_page(page, "/sectors/education")
    assistant = page.locator("section", has=page.locator("h2", has_text="Council assistant"))
    expect(assistant.locator(".hint").last).to_contain_text("Sign in to propose a council")
    assistant.get_by_role("button", name="Propose a council").click()
    expect(assistant.locator(".notice")).to_contain_text("Sign in to propose a council")
    # With a key (an editor's counts as a member's), the proposal comes with reasons.
    page.evaluate("key => sessionStorage.setItem('cocreate.key', key)", site.editor_key)
    open_page(page, "/sectors/education")
    assistant.get_by_label("Council size").select_option("6")
    assistant.get_by_role("button", name="Propose a council").click()
    if not served(site, "POST", r"/v1/councils/propose"):
        expect(assistant.locator(".notice-unavailable")).to_be_visible()
        return
    members = assistant.locator("li.rec")
    expect(members.first).to_be_visible()
    assert 1 <= members.count() <= 6
    for summary in assistant.locator("li.rec .summary").all_inner_texts():
        assert len(summary.split()) >= 4
    expect(assistant.locator("h4", has_text="What they cover")).to_be_visible()
    screenshot(page, "council-assistant")
    assert unexpected_errors(watched.errors) == []


# --- graph explorer -----------------------------------------------------------------------


def test_the_graph_explorer_grows_when_a_node_is_expanded(site: Site, watched: Watched) -> None:
    page = watched.page
    initiative = first_with(site, "initiative", "works_on")
    open_page(page, f"/graph/{initiative}")
    expect(page.locator("h1")).to_have_text(f"Around {site.demo.nodes[initiative]['name']}")
    assert page.locator("canvas").count() > 0
    shown = page.locator(".graph-list li")
    before = shown.count()
    assert before > 1
    # Expanding from the list (the keyboard's way in) adds that node's neighbours.
    expand = page.locator(".graph-list li button.expand").first
    expand.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".graph-status")).to_contain_text("Added")
    assert shown.count() > before
    kinds = set(shown.evaluate_all("els => els.map(e => e.dataset.id.split(':')[0])"))
    assert len(kinds) >= 2
    screenshot(page, "graph")
    assert unexpected_errors(watched.errors) == []


# --- every page: labels, phones, no other host, timings -----------------------------------

A11Y_PROBLEMS = """() => {
  const problems = [];
  for (const img of document.querySelectorAll('img')) {
    if (!img.hasAttribute('alt')) problems.push('img without alt: ' + img.src);
  }
  const controls = document.querySelectorAll('input:not([type=hidden]), select, textarea');
  for (const el of controls) {
    const named = (el.labels && el.labels.length) || el.getAttribute('aria-label')
      || el.getAttribute('aria-labelledby');
    if (!named) problems.push('control without a label: ' + (el.name || el.outerHTML.slice(0, 80)));
  }
  for (const el of document.querySelectorAll('button, a[href]')) {
    const text = (el.textContent || '').trim() || el.getAttribute('aria-label') || el.title;
    if (!text) problems.push('unnamed element: ' + el.outerHTML.slice(0, 80));
  }
  if (document.querySelectorAll('h1').length !== 1) problems.push('not exactly one h1');
  if (!document.documentElement.lang) problems.push('no lang');
  return problems;
}"""


def test_every_page_has_labels_fits_a_phone_and_stays_on_this_host(
    site: Site, browser: Browser
) -> None:
    screens: dict[str, ViewportSize] = {
        "desktop": {"width": 1280, "height": 900},
        "phone": {"width": 390, "height": 844},
    }
    for name, path in pages_of(site).items():
        for device, viewport in screens.items():
            phone = device == "phone"
            context = browser.new_context(
                base_url=site.url, viewport=viewport, is_mobile=phone, has_touch=phone
            )
            try:
                seen = watch(context.new_page())
                open_page(seen.page, path)
                assert seen.page.evaluate(A11Y_PROBLEMS) == [], (name, device)
                assert seen.page.locator(".notice-error").count() == 0, (name, device)
                if phone:
                    width = seen.page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
                    assert width[0] <= width[1] + 1, (name, width)
                # No CDN, no font service: every request goes to this server.
                assert all(u.startswith((site.url, "data:")) for u in seen.requests), (name, seen)
                assert not [e for e in seen.errors if "Content Security Policy" in e], (name, seen)
                assert not [e for e in seen.errors if e.startswith("uncaught")], (name, seen)
                screenshot(seen.page, f"{name}-{device}")
            finally:
                context.close()


def test_page_load_times_are_measured(site: Site, browser: Browser) -> None:
    """Each page loaded cold (new context, empty cache) a few times; the times are written
    to var/artifacts/page-timings.json and quoted in docs/web.md. Not asserted."""
    timings: dict[str, Any] = {}
    for name, path in pages_of(site).items():
        runs = []
        for _ in range(RUNS):
            context: BrowserContext = browser.new_context(base_url=site.url)
            try:
                page = context.new_page()
                open_page(page, path)
                runs.append(page.evaluate(MEASURE))
            finally:
                context.close()
        ready = [r["ready_ms"] for r in runs]
        assert all(r > 0 for r in ready), (name, runs)
        timings[name] = {
            "path": path,
            "ready_ms_median": round(statistics.median(ready)),
            "ready_ms_max": round(max(ready)),
            "load_event_ms_median": round(statistics.median(r["load_ms"] for r in runs)),
            "requests": runs[-1]["requests"],
            "kilobytes": runs[-1]["kilobytes"],
        }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    report = {
        "what": "milliseconds from navigation start until every section of the page has "
        "loaded (performance mark 'cocreate:ready'), cold cache, median and max of "
        f"{RUNS} loads",
        "people": PEOPLE,
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "browser": browser.version,
        "measured_at": time.strftime("%Y-%m-%d %H:%M:%S"),
        "pages": timings,
    }
    (ARTIFACTS / "page-timings.json").write_text(json.dumps(report, indent=2) + "\n")


MEASURE = """() => {
  const ready = performance.getEntriesByName('cocreate:ready')[0];
  const nav = performance.getEntriesByType('navigation')[0];
  const resources = performance.getEntriesByType('resource');
  const bytes = resources.reduce((sum, r) => sum + (r.transferSize || 0), nav.transferSize || 0);
  return {ready_ms: ready ? ready.startTime : -1, load_ms: nav.loadEventEnd,
          requests: resources.length + 1, kilobytes: Math.round(bytes / 1024)};
}"""


# --- the editor desk (last: publishing a tag writes) ---------------------------------------

DRAFT_TITLE = "Clean water for every village"
DRAFT_BODY = (
    "We dig wells with the villagers, test the water every month and train local "
    "committees to keep the pumps working, so that children no longer walk hours to "
    "fetch water and fall ill from dirty water."
)


def test_the_editor_desk_suggests_tags_for_a_pasted_draft(site: Site, watched: Watched) -> None:
    page = watched.page
    open_page(page, "/editor")
    page.get_by_label("Title").fill(DRAFT_TITLE)
    page.get_by_label("Draft", exact=True).fill(DRAFT_BODY)
    page.get_by_role("button", name="Check my draft").click()
    tags = page.locator("li.tag")
    expect(tags.first).to_be_visible()
    suggested = page.locator("li.tag.suggested").evaluate_all("els => els.map(e => e.dataset.tag)")
    assert "sdg:6" in suggested  # Clean Water and Sanitation
    # Without a key the suggestion is shown, and accepting it says what it needs.
    accept = page.locator("li.tag[data-tag='sdg:6'] button")
    expect(accept).to_be_disabled()
    expect(page.locator("li.tag[data-tag='sdg:6'] .accept-state")).to_contain_text("editor key")
    if served(site, "POST", RELATED_WISDOM):
        related = page.locator("section", has=page.locator("h2", has_text="Related entries"))
        expect(related.locator("li.rec").first).to_be_visible()
    else:
        expect(page.locator(".notice-unavailable").first).to_be_visible()
    screenshot(page, "editor-desk")
    assert unexpected_errors(watched.errors) == []


def test_an_editor_accepts_a_suggested_tag_onto_an_entry(site: Site, watched: Watched) -> None:
    page = watched.page
    entries = sorted(n for n, r in site.demo.nodes.items() if r["kind"] == "wisdom_entry")
    entry = entries[0]
    name = site.demo.nodes[entry]["name"]
    open_page(page, "/editor")
    page.get_by_label("API key").fill(site.editor_key)
    page.get_by_role("button", name="Use this key").click()
    expect(page.locator("#key-status")).to_contain_text("Using your API key")
    page.get_by_label("Existing entry (name starts with)").fill(name[:12])
    page.get_by_role("button", name="Find").click()
    page.get_by_role("button", name=f"Open “{name}”").click()
    expect(page.locator(".target-line")).to_contain_text(name)
    page.get_by_role("button", name="Check my draft").click()
    expect(page.locator("li.tag").first).to_be_visible()
    with httpx.Client(base_url=site.url) as client:
        edges = client.get("/v1/edges", params={"node": entry, "kind": "in_sector"}).json()
    tagged = {e["target"] for e in edges["items"]}
    sectors = page.locator("li.tag[data-tag^='sector:']").evaluate_all(
        "els => els.map(e => e.dataset.tag)"
    )
    new = next(s for s in sectors if s not in tagged)
    page.locator(f"li.tag[data-tag='{new}'] button").click()
    expect(page.locator(f"li.tag[data-tag='{new}'] .accept-state")).to_contain_text("Added")
    # The tag goes into the draft of the entry, and onto the entry once it is published.
    expect(page.locator(f"[data-field=sectors] li[data-tag='{new}']")).to_be_visible()
    with httpx.Client(base_url=site.url) as client:
        edges = client.get("/v1/edges", params={"node": entry, "kind": "in_sector"}).json()
    assert new not in {e["target"] for e in edges["items"]}
    page.get_by_role("button", name="Publish").click()
    page.get_by_role("button", name="Yes, publish").click()
    expect(page.locator("form.draft [role=status]").last).to_contain_text("Published")
    with httpx.Client(base_url=site.url) as client:
        edges = client.get("/v1/edges", params={"node": entry, "kind": "in_sector"}).json()
    assert {e["target"] for e in edges["items"]} == tagged | {new}
    # The key never left the tab's sessionStorage: not in the address, not in localStorage.
    assert site.editor_key not in page.url
    assert site.editor_key not in page.evaluate("JSON.stringify(localStorage)")
    page.get_by_role("button", name="Forget key").click()
    assert page.evaluate("sessionStorage.getItem('cocreate.key')") is None
