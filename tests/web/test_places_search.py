"""Search by a place's name, as a volunteer who does not read coordinates types it:
"near Sacramento" in the search box, or a town chosen in the "Near (town or country)"
field from its suggestions; every result then says how far it is in words. Screenshots go
to ``var/artifacts/screenshots/search-near-*.png``.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.web.conftest import Watched, open_page, screenshot, unexpected_errors, wait_ready

pytestmark = pytest.mark.slow

IN_WORDS = re.compile(
    r"^Where: (in Sacramento|in Davis|less than 10 km away|about [\d,]+ km away|"
    r"in the same region|in the same country)$"
)


def test_near_sacramento_typed_in_search_shows_distances_in_words(watched: Watched) -> None:
    page = watched.page
    open_page(page, "/")
    page.get_by_label("What do you care about?").fill("near Sacramento")
    page.get_by_role("button", name="Search", exact=True).click()
    wait_ready(page)
    expect(page.locator(".near-line")).to_contain_text(
        "within 100 km of Sacramento, California, United States"
    )
    distances = page.locator(".hit .reason-distance")
    expect(distances.first).to_be_visible()
    texts = distances.all_inner_texts()
    assert texts and all(IN_WORDS.match(t.strip()) for t in texts), texts
    # listed by distance alone: no score is shown, nearest first
    assert page.locator(".hit .score").count() == 0
    screenshot(page, "search-near-sacramento")
    assert [e for e in unexpected_errors(watched.errors) if "401" not in e] == []


def test_a_town_chosen_from_suggestions(watched: Watched) -> None:
    page = watched.page
    open_page(page, "/?q=food")
    page.locator("details.filters summary").click()
    near = page.get_by_label("Near (town or country)")
    near.fill("Davi")
    option = page.locator("#place-suggestions option[value='Davis, California, United States']")
    expect(option).to_have_count(1)
    near.fill("Davis, California, United States")
    page.get_by_role("button", name="Search", exact=True).click()
    wait_ready(page)
    expect(page).to_have_url(re.compile(r"near=Davis"))
    expect(page.locator(".near-line")).to_contain_text("Davis, California, United States")
    texts = page.locator(".hit .reason-distance").all_inner_texts()
    assert all(IN_WORDS.match(t.strip()) for t in texts), texts
    screenshot(page, "search-near-davis")
    # a country by its name, not its code
    open_page(page, "/?q=food&country=Mexico")
    expect(page.locator(".problem, .error")).to_have_count(0)
    assert [e for e in unexpected_errors(watched.errors) if "401" not in e] == []
