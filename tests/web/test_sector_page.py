"""The sector page in a real browser: its current council with the board member named, the
council assistant for a signed-in member set beside that council (who stays, who is new,
who would leave, and what each brings), no formula or raw score in its words, and on a
phone its long parts folded away so that the page stays short. Screenshots at desktop and
phone widths go to var/artifacts/screenshots/ (sector-council-*)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import (
    PAGE_TIMEOUT_MS,
    Site,
    Watched,
    open_page,
    screenshot,
    unexpected_errors,
    watch,
)
from tests.web.test_account_pages import _join, _ours

pytestmark = pytest.mark.slow

SECTOR = "sector:education"
PAGE = "/sectors/education"
PHONE = {"width": 390, "height": 844}

# Words a volunteer should never meet on the sector page: formulas, raw figures and the
# internal names of the figures' parts.
FORBIDDEN = [
    re.compile(r"\d\.\d{3,}"),  # a number with more than two decimals
    re.compile(r"\d(\.\d+)?\s*[x×*]\s*[a-z]", re.I),  # 0.5 x text similarity
    re.compile(r"shortest paths? (from|pass)", re.I),
    re.compile(r"similarity\s*-?\d", re.I),
    re.compile(r"\bscore[sd]?\s+-?\d", re.I),
    re.compile(r"\b(rescaled|betweenness|ochiai|cosine|jaccard)\b", re.I),
    re.compile(r"\(0 weakest, 1 strongest\)"),
]


def current_council(site: Site) -> dict[str, Any]:
    response = httpx.get(f"{site.url}/v1/sectors/{SECTOR}/council", timeout=30)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def board_member_in_demo(site: Site) -> dict[str, Any]:
    """The ground truth: the demo's board member on the sector's global council."""
    councils = {
        e["source"] for e in site.demo.edges
        if e["kind"] == "in_sector" and e["target"] == SECTOR
        and site.demo.nodes[e["source"]].get("scope", "global_sector") == "global_sector"
    }  # fmt: skip
    [board] = [
        site.demo.nodes[e["source"]] for e in site.demo.edges
        if e["kind"] == "member_of" and e["target"] in councils
        and site.demo.nodes[e["source"]].get("board_member")
    ]  # fmt: skip
    return board


def test_the_sector_page_names_its_current_council_and_board_member(
    site: Site, watched: Watched
) -> None:
    page = watched.page
    open_page(page, PAGE)
    council = current_council(site)
    assert council["council"] is not None and council["members"]
    card = page.locator("section.council-card")
    expect(card.locator("h2")).to_have_text("Current council")
    expect(card.locator(".summary")).to_have_text(council["explanation"]["summary"])
    board = board_member_in_demo(site)
    listed = {p["id"] for p in site.demo.listed_people()}
    members = card.locator(".council-members > li")
    expect(members).to_have_count(len(council["members"]))
    if board["id"] in listed:  # the board member is named, first, and marked
        assert council["board_member"]["id"] == board["id"]
        first = members.first
        expect(first.locator("a.node-link")).to_have_text(board["name"])
        expect(first.locator(".board-tag")).to_have_text("Board member")
        expect(card.locator(".summary")).to_contain_text(f"{board['name']} is the board member")
    else:  # hidden from anonymous visitors: neither named nor counted
        expect(card).not_to_contain_text(board["name"])
    # Nobody a visitor may not find is on the page.
    shown = set(card.locator(".council-members a.node-link").evaluate_all(
        "links => links.map(a => a.dataset.id)"))  # fmt: skip
    assert shown <= listed
    for person in site.demo.hidden_from_anonymous():
        assert person["id"] not in shown
    # Strength in words and percentages: no formula, raw score or internal name anywhere.
    text = page.locator("main").inner_text()
    for pattern in FORBIDDEN:
        assert not pattern.search(text), f"{pattern.pattern!r} matches: {pattern.search(text)}"
    cell = page.locator("table.heatmap td.cell:not(.diagonal) button").first
    assert re.fullmatch(r"\d{1,3}%", cell.inner_text())
    screenshot(page, "sector-council-desktop")
    assert unexpected_errors(watched.errors) == []


def test_the_assistant_compares_its_proposal_with_the_current_council(
    site: Site, watched: Watched
) -> None:
    if not site.has("POST", "/v1/councils/propose"):
        pytest.skip("no council assistant on this server")
    page = watched.page
    _join(site, page, "Cora Council")
    open_page(page, PAGE)
    council = current_council(site)  # a member may find more people than a visitor
    assistant = page.locator("section", has=page.locator("h2", has_text="Council assistant"))
    assistant.get_by_role("button", name="Propose a council").click()
    comparison = assistant.locator(".comparison")
    expect(comparison).to_be_visible()
    current = comparison.locator("[data-side=current] li")
    proposal = comparison.locator("[data-side=proposal] li")
    assert current.count() >= len(council["members"])  # the member's view holds at least these
    now = set(current.evaluate_all("items => items.map(li => li.dataset.id)"))
    kept = 0
    for item in proposal.all():
        status, person = item.get_attribute("data-status"), item.get_attribute("data-id")
        assert status == ("kept" if person in now else "new")
        kept += status == "kept"
        expect(item.locator(".status-tag")).to_have_text("Stays" if status == "kept" else "New")
        assert re.search(r"\b(from|works on|cares about|in the group)\b", item.inner_text(), re.I)
    leaving = comparison.locator("[data-side=current] li[data-status=leaving]").count()
    assert leaving == len(now) - kept
    summary = comparison.locator(".summary").inner_text()
    assert summary.startswith("The proposal keeps") and "would leave" in summary
    # The board member of the proposal is marked too.
    expect(proposal.locator(".board-tag")).to_have_count(1)
    comparison.scroll_into_view_if_needed()
    screenshot(page, "sector-council-assistant")
    assert _ours(watched.errors) == []


def test_on_a_phone_the_long_parts_fold_and_the_page_stays_short(
    site: Site, browser: Browser
) -> None:
    context = browser.new_context(base_url=site.url, viewport=PHONE)
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    watched = watch(context.new_page())
    page: Page = watched.page
    try:
        open_page(page, PAGE)
        folds = page.locator("details.fold")
        headings = folds.locator("summary h2").all_inner_texts()
        assert headings[:2] == ["About the sector", "Council assistant"]
        assert len(headings) == 8
        # Only the first long part is open (the about text folds too: it runs long).
        assert folds.evaluate_all("ds => ds.map(d => d.open)") == [False, True] + [False] * 6
        # The first screen: the heading, the current council, the list of parts.
        first_member = "section.council-card .council-members > li"
        for part in ("h1", "nav.toc", "section.council-card h2", first_member):
            box = page.locator(part).first.bounding_box()
            assert box is not None and box["y"] + box["height"] <= PHONE["height"], part
        height = page.evaluate("document.documentElement.scrollHeight")
        assert height < 5000, f"the sector page is {height} px tall on a phone"
        screenshot(page, "sector-council-phone")
        # A folded part opens from the list of parts, and loads then.
        assert page.locator("table.gaps").count() == 0
        page.locator("nav.toc").get_by_role("link", name="Gaps").click()
        expect(page.locator("table.gaps")).to_be_visible()
        assert unexpected_errors(watched.errors) == []
    finally:
        context.close()
