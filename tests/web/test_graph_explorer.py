"""The graph explorer read as a volunteer would (issue 13, item 4): it stays readable as
it grows (labels 13 px on screen at the fitted zoom, none drawn over another), hubs open
on their most connected neighbours with "25 more" to page on, search highlights and
centres, nodes can be hidden and expansions collapsed (by keyboard too), and the legend
shows the colours the nodes are drawn in (goals in their official colours).

The page publishes what cytoscape drew as ``window.cocreateGraph.drawn()`` (each node's
colour, on-screen size and label box, read back from cytoscape itself), so these checks
are about the drawing, not about the page's intentions."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import (
    PAGE_TIMEOUT_MS,
    Site,
    Watched,
    open_page,
    screenshot,
    unexpected_errors,
)
from tests.web.test_loose_ends import _axe

pytestmark = pytest.mark.slow

HUB = "sector:health"
STATUS = ".graph-status"


def drawn(page: Page) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = page.evaluate("() => window.cocreateGraph.drawn()")
    return nodes


def list_ids(page: Page) -> list[str]:
    ids: list[str] = page.locator(".graph-list li").evaluate_all(
        "els => els.map(e => e.dataset.id)"
    )
    return ids


def overlaps(a: dict[str, float], b: dict[str, float], slack: float = 1.0) -> bool:
    return (
        a["x1"] + slack < b["x2"]
        and b["x1"] + slack < a["x2"]
        and a["y1"] + slack < b["y2"]
        and b["y1"] + slack < a["y2"]
    )


def assert_readable(page: Page, at_least: int = 8) -> list[dict[str, Any]]:
    """Labels 12 px or more on screen, the shown ones apart, the best linked named."""
    nodes = drawn(page)
    assert all(n["fontPx"] >= 12 for n in nodes), sorted({n["fontPx"] for n in nodes})
    labelled = [n for n in nodes if n["labelShown"]]
    for i, a in enumerate(labelled):
        for b in labelled[i + 1 :]:
            assert not overlaps(a["label"], b["label"]), (a["name"], b["name"])
    assert len(labelled) >= min(at_least, len(nodes)), f"{len(labelled)} of {len(nodes)} labelled"
    top = sorted(nodes, key=lambda n: -n["links"])[:5]
    # Around a dense hub the big circles of the best linked crowd each other: at least two
    # of them are named at once (the others on hover, and always in the list beside).
    assert sum(n["labelShown"] for n in top) >= 2, [(n["name"], n["labelShown"]) for n in top]
    return nodes


def start(page: Page, node: str) -> None:
    open_page(page, f"/graph/{node}")
    expect(page.locator(STATUS)).to_contain_text("Added")


def expand_from_list(page: Page, node_id: str) -> None:
    item = page.locator(f'.graph-list li[data-id="{node_id}"]')
    item.focus()
    page.keyboard.press("Enter")
    expect(page.locator(f'.graph-list li[data-id="{node_id}"] button.collapse')).to_be_visible()


def test_expanding_keeps_labels_readable_and_gives_room(site: Site, watched: Watched) -> None:
    page = watched.page
    start(page, HUB)
    first = assert_readable(page)
    height = page.locator(".graph").bounding_box()
    assert height is not None
    # Expand the two best linked neighbours: the canvas grows, the labels stay readable.
    for node_id in [i for i in list_ids(page) if i != HUB][:2]:
        expand_from_list(page, node_id)
    grown = assert_readable(page)
    assert len(grown) > len(first) + 10
    taller = page.locator(".graph").bounding_box()
    assert taller is not None and taller["height"] > height["height"]
    # Bigger circles for more links.
    hub = next(n for n in grown if n["id"] == HUB)
    leaf = min(grown, key=lambda n: n["links"])
    assert hub["size"] > leaf["size"]
    # Zoomed out and in, labels stay 12 px or more and apart.
    for factor in (0.4, 3.0):
        page.locator(".graph").hover()
        page.mouse.wheel(0, 600 if factor < 1 else -600)
        page.wait_for_timeout(300)
        assert_readable_after_zoom(page)
    page.get_by_role("button", name="Fit to screen").click()
    page.wait_for_timeout(200)
    assert_readable(page)
    screenshot(page, "graph-explorer-desktop")
    assert unexpected_errors(watched.errors) == []


def assert_readable_after_zoom(page: Page) -> None:
    nodes = drawn(page)
    assert all(n["fontPx"] >= 12 for n in nodes)
    labelled = [n for n in nodes if n["labelShown"]]
    for i, a in enumerate(labelled):
        for b in labelled[i + 1 :]:
            assert not overlaps(a["label"], b["label"]), (a["name"], b["name"])


def test_a_hub_opens_on_its_most_connected_neighbours(site: Site, watched: Watched) -> None:
    page = watched.page
    start(page, HUB)
    answer = page.request.get(f"/v1/nodes/{HUB}/neighbors?order=links&limit=200").json()
    total = answer["total"]
    assert total > 25, "the demo's health sector is a hub"
    expect(page.locator(STATUS)).to_contain_text(f"25 of its {total:,} neighbours shown")
    links = {i["node"]["id"]: i["links"] for i in answer["items"]}
    kinds = {i["node"]["id"]: i["node"]["kind"] for i in answer["items"]}
    shown = set(list_ids(page)) - {HUB}
    assert len(shown) == 25
    # Within each kind, every neighbour shown has at least as many links as any left out.
    for kind in {kinds[s] for s in shown}:
        least = min(links[s] for s in shown if kinds[s] == kind)
        left = [links[n] for n in links if kinds[n] == kind and n not in shown]
        assert not left or least >= max(left), kind
    # Never the first 25 by name.
    names = [site.demo.nodes[s]["name"] for s in shown]
    assert sorted(names) != sorted(site.demo.nodes[n]["name"] for n in sorted(links)[:25])
    # The list beside the graph says each node's links, the most connected first.
    said = [
        int(m.group(1).replace(",", ""))
        for m in (
            re.search(r"([\d,]+) links?", t)
            for t in page.locator(".graph-list li").all_inner_texts()
        )
        if m
    ]
    assert said[1:] == sorted(said[1:], reverse=True)
    page.locator(f'.graph-list li[data-id="{HUB}"] button.more').click()
    expect(page.locator(STATUS)).to_contain_text(f"50 of its {total:,} neighbours shown")
    assert len(set(list_ids(page)) - {HUB}) == 50
    assert unexpected_errors(watched.errors) == []


def test_search_highlights_and_centres_a_node(site: Site, watched: Watched) -> None:
    page = watched.page
    start(page, HUB)
    quiet = [n for n in drawn(page) if not n["labelShown"]] or drawn(page)
    target = min(quiet, key=lambda n: n["links"])
    page.get_by_label("Find in the graph").fill(target["name"])
    expect(page.locator(".graph-found")).to_contain_text("match")
    expect(page.locator(f'.graph-list li.match[data-id="{target["id"]}"]')).to_be_visible()
    after = {n["id"]: n for n in drawn(page)}
    found = after[target["id"]]
    assert found["labelShown"] and found["label"] is not None
    box = page.locator(".graph").bounding_box()
    assert box is not None
    middle_x = (found["label"]["x1"] + found["label"]["x2"]) / 2
    assert box["width"] * 0.2 < middle_x < box["width"] * 0.8
    screenshot(page, "graph-explorer-search")
    page.get_by_label("Find in the graph").fill("zzqx no such name")
    expect(page.locator(".graph-found")).to_contain_text("No node shown")
    assert unexpected_errors(watched.errors) == []


def test_hide_and_collapse_by_keyboard(site: Site, watched: Watched) -> None:
    page = watched.page
    start(page, HUB)
    before = set(list_ids(page))
    victim = [i for i in list_ids(page) if i != HUB][-1]
    page.locator(f'.graph-list li[data-id="{victim}"]').focus()
    page.keyboard.press("Delete")
    expect(page.locator(".graph-hidden")).to_contain_text("1 node hidden")
    assert victim not in list_ids(page)
    assert victim not in {n["id"] for n in drawn(page)}
    # Focus moved to a neighbouring item, not lost.
    assert page.evaluate("() => document.activeElement.dataset.id") in before
    page.get_by_role("button", name="show them again").click()
    expect(page.locator(f'.graph-list li[data-id="{victim}"]')).to_be_visible()
    assert set(list_ids(page)) == before
    # Expand a neighbour with Enter, then collapse it with Enter: back to what was.
    other = next(i for i in list_ids(page) if i != HUB)
    expand_from_list(page, other)
    grown = set(list_ids(page))
    assert len(grown) > len(before)
    page.locator(f'.graph-list li[data-id="{other}"]').focus()
    page.keyboard.press("Enter")
    expect(page.locator(STATUS)).to_contain_text("Collapsed")
    assert set(list_ids(page)) == before
    assert {n["id"] for n in drawn(page)} == before
    # Collapsing the start takes everything it brought away.
    page.locator(f'.graph-list li[data-id="{HUB}"] button.collapse').click()
    assert list_ids(page) == [HUB]
    assert unexpected_errors(watched.errors) == []


def rgb(colour: str) -> str:
    """A CSS colour as #rrggbb (cytoscape answers rgb(r,g,b), the legend keeps hex)."""
    if colour.startswith("#"):
        return colour.lower()
    r, g, b = (int(x) for x in re.findall(r"\d+", colour)[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


def test_the_legend_shows_the_colours_drawn(site: Site, watched: Watched) -> None:
    page = watched.page
    target = next(n for n in sorted(site.demo.nodes) if n.startswith("sdg_target:"))
    start(page, target)
    goal = next(i for i in list_ids(page) if i.startswith("sdg:"))
    expand_from_list(page, goal)  # a goal and its neighbours: several kinds, goals among them
    drawn_colours: dict[str, set[str]] = {}
    for n in drawn(page):
        drawn_colours.setdefault(n["kind"], set()).add(rgb(n["colour"]))
    legend: dict[str, set[str]] = {}
    for item in page.locator(".graph-legend li").all():
        kind = item.get_attribute("data-kind") or ""
        swatches = item.locator("[data-colour]").evaluate_all(
            "els => els.map(e => e.dataset.colour)"
        )
        shown_as = item.locator("[data-colour]").evaluate_all(
            "els => els.map(e => getComputedStyle(e).backgroundColor)"
        )
        legend[kind] = {rgb(c) for c in swatches}
        assert {rgb(c) for c in shown_as} == legend[kind]
    assert legend == drawn_colours
    assert "#f0e442" not in legend["sdg"], "goals are drawn in their own colours, not one yellow"
    assert unexpected_errors(watched.errors) == []


def test_the_graph_on_a_phone(site: Site, browser: Browser) -> None:
    context = browser.new_context(
        base_url=site.url, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    try:
        page = context.new_page()
        start(page, HUB)
        screenshot(page, "graph-explorer-phone")
        assert_readable(page, at_least=6)  # a 390 px canvas: about half of 13 named at once
        box = page.locator(".graph").bounding_box()
        assert box is not None and box["width"] <= 390 and box["height"] >= 300
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        screenshot(page, "graph-explorer-phone")
    finally:
        context.close()


@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
def test_the_grown_graph_passes_the_accessibility_check(
    site: Site, browser: Browser, width: int
) -> None:
    """axe-core (WCAG 2.1 A/AA) on the explorer after an expansion, a search and a hide:
    the states the page walker of test_loose_ends.py does not reach."""
    context = browser.new_context(
        base_url=site.url, viewport={"width": width, "height": 900}, bypass_csp=True
    )
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    try:
        page = context.new_page()
        start(page, HUB)
        page.locator("details.graph-nodes > summary").evaluate("s => s.parentElement.open = true")
        expand_from_list(page, next(i for i in list_ids(page) if i != HUB))
        page.get_by_label("Find in the graph").fill(site.demo.nodes[HUB]["name"][:3])
        page.locator(".graph-list li").last.focus()
        page.keyboard.press("Delete")
        expect(page.locator(".graph-hidden")).to_contain_text("hidden")
        violations, contrast_checked = _axe(page)
        assert contrast_checked > 5
        assert violations == [], sorted({v["id"] for v in violations})
    finally:
        context.close()


def test_every_link_learnt_between_two_nodes_shown_is_drawn(site: Site, watched: Watched) -> None:
    """A node that a second expansion brings may be linked to the first expanded node too
    (one of its neighbours past the first 25): that link is drawn as soon as both ends
    are shown. Links between two nodes neither of which is expanded are not drawn: the
    neighbour answers name only the edges to the node asked about (docs/web.md)."""
    page = watched.page
    start(page, HUB)
    for node_id in [i for i in list_ids(page) if i != HUB][:3]:
        expand_from_list(page, node_id)
    edges = page.evaluate("() => window.cocreateGraph.edges()")
    shown = set(list_ids(page))
    between_shown = {
        e for e in edges["known"] if e.split("|")[0] in shown and e.split("|")[2] in shown
    }
    assert between_shown, "no edge known between two nodes shown"
    missing = between_shown - set(edges["drawn"])
    assert not missing, sorted(missing)[:5]
    # Every edge drawn is one an answer told of: none is made up.
    assert set(edges["drawn"]) <= set(edges["known"])
    assert unexpected_errors(watched.errors) == []
