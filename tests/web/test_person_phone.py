"""The person and initiative pages on a phone and near a place, in a real browser.

On a 390 x 844 screen a person's page runs to many thousand pixels when every part is
open, so its parts fold under their headings: the first screen is the name, one line
about them and the list of parts, and the page stays under 5,000 px. Wide screens show
the parts open as before. Recommendations asked near a town say how far each one is, in
words, on the item itself; a place the server does not know is told beside the box.
Screenshots go to var/artifacts/screenshots/ (person-phone*, person-near-*)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import (
    PAGE_TIMEOUT_MS,
    SCREENSHOTS,
    Site,
    Watched,
    open_page,
    screenshot,
    unexpected_errors,
    watch,
)

pytestmark = pytest.mark.slow

PHONE = {"width": 390, "height": 844}


def placed_person(site: Site) -> dict[str, Any]:
    """A listed person with a bio and a public place precise enough to measure from."""
    for person in sorted(site.demo.listed_people(), key=lambda p: p["id"]):
        place = person.get("place") or {}
        precise = person.get("location_precision", "exact") in ("exact", "city")
        if person.get("bio") and place.get("lat") is not None and precise:
            return person
    raise AssertionError("the demo has no placed person with a bio")


def slug(node_id: str) -> str:
    return node_id.split(":", 1)[1]


def full_height(page: Page) -> int:
    """The page's whole height once nothing is loading any more."""
    page.wait_for_load_state("networkidle")
    height: int = page.evaluate(
        "Math.max(document.documentElement.scrollHeight, document.body.scrollHeight)"
    )
    return height


def on_phone(browser: Browser, site: Site) -> tuple[Watched, Any]:
    context = browser.new_context(base_url=site.url, viewport=PHONE)
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    return watch(context.new_page()), context


def test_on_a_phone_the_person_page_folds_and_stays_short(site: Site, browser: Browser) -> None:
    person = placed_person(site)
    watched, context = on_phone(browser, site)
    page: Page = watched.page
    try:
        open_page(page, f"/people/{slug(person['id'])}")
        expect(page.locator("h1")).to_have_text(person["name"])
        folds = page.locator("details.fold")
        headings = folds.locator("summary h2").all_inner_texts()
        assert headings[0] == "Profile"
        assert headings[-4:] == [
            "Recommended collaborators", "Initiatives they could join", "Links",
            "More like them, by their words",
        ]  # fmt: skip
        # Only the profile is open; the rest wait to be asked for.
        assert folds.evaluate_all("ds => ds.map(d => d.open)") == [True] + [False] * (
            len(headings) - 1
        )
        # The first screen: the name, one line about them, the list of parts.
        line = page.locator("p.one-line")
        expect(line).to_be_visible()
        said = line.inner_text().rstrip("…").strip()
        assert person["bio"].startswith(said)
        # ... and the profile goes on from there, without reading that sentence again.
        for bio in page.locator("p.bio").all_inner_texts():
            assert said not in bio, (said, bio)
        for part in ("h1", "p.one-line", "nav.toc"):
            box = page.locator(part).first.bounding_box()
            assert box is not None and box["y"] + box["height"] <= PHONE["height"], part
        height = full_height(page)
        assert height < 5000, f"the person page is {height} px tall on a phone"
        screenshot(page, "person-phone")
        # A folded part opens from the list of parts, and loads then.
        assert page.locator("[role=tabpanel]").count() == 0
        page.locator("nav.toc").get_by_role("link", name="Collaborators").click()
        panel = page.locator("[role=tabpanel]:not([hidden])").first
        expect(panel.locator("li.rec, .notice").first).to_be_visible()
        screenshot(page, "person-phone-collaborators")
        assert unexpected_errors(watched.errors) == []
    finally:
        context.close()


def test_on_a_phone_the_initiative_page_folds_too(site: Site, browser: Browser) -> None:
    initiative = sorted(n for n in site.demo.nodes if n.startswith("initiative:"))[0]
    watched, context = on_phone(browser, site)
    page: Page = watched.page
    try:
        open_page(page, f"/initiatives/{slug(initiative)}")
        headings = page.locator("details.fold summary h2").all_inner_texts()
        assert headings[0] == "People who could help" and "Links" in headings
        assert page.locator("details.fold[open]").count() == 0
        toc = page.locator("nav.toc").bounding_box()
        assert toc is not None and toc["y"] + toc["height"] <= PHONE["height"]
        height = full_height(page)
        assert height < 5000, f"the initiative page is {height} px tall on a phone"
        screenshot(page, "initiative-phone")
        assert unexpected_errors(watched.errors) == []
    finally:
        context.close()


def test_on_a_wide_screen_nothing_folds(site: Site, watched: Watched) -> None:
    page = watched.page
    open_page(page, f"/people/{slug(placed_person(site)['id'])}")
    assert page.locator("details.fold").count() == 0
    assert page.locator("nav.toc, p.one-line").count() == 0
    expect(page.locator("section.profile .bio")).to_be_visible()
    for title in ("Recommended collaborators", "Initiatives they could join", "Links"):
        expect(page.locator("section.card > h2", has_text=title)).to_be_visible()


def test_recommendations_near_a_town_say_how_far_each_is(site: Site, watched: Watched) -> None:
    page = watched.page
    person = placed_person(site)
    open_page(page, f"/people/{slug(person['id'])}")
    section = page.locator(
        "section.card", has=page.locator("h2", has_text="Recommended collaborators")
    )
    assert section.locator(".rec-distance").count() == 0  # worldwide: no distance asked
    section.get_by_label("Where", exact=True).select_option("place")
    box = section.get_by_label("Near (town or country)")
    expect(box).to_be_focused()
    # A place that is not one is told beside the box.
    box.fill("Atlantis Undersea")
    box.press("Enter")
    error = section.locator("[data-field='query.near'] .field-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("Atlantis Undersea")
    expect(box).to_have_attribute("aria-invalid", "true")
    # A town from the suggestions: each item says how far it is.
    section.get_by_label("Radius").select_option("1000")
    box.fill("Sacramento")
    box.press("Enter")
    panel = section.locator("[role=tabpanel]:not([hidden])").first
    expect(panel.locator("li.rec, .notice").first).to_be_visible()
    expect(error).to_be_hidden()
    recs = panel.locator("li.rec")
    expect(recs.first).to_be_visible()
    distances = recs.locator(".rec-distance").all_inner_texts()
    assert len(distances) == recs.count()
    for words in distances:
        assert re.fullmatch(r"(In|About|Less than|More than)\b.*\.", words), words
        assert not re.search(r"\d\.\d", words)  # words, not raw figures
    # The distance is said once: the sentence under it does not end on a band again.
    for sentence in recs.locator(".summary").all_inner_texts():
        assert not re.search(r"(within|over) [\d,]+ km( away)?\.$", sentence, re.I), sentence
    screenshot(page, "person-near-sacramento")
    section.screenshot(path=str(SCREENSHOTS / "person-near-sacramento-part.png"))
    # Initiatives to join, in a whole country: no radius asked of a country.
    joins = page.locator(
        "section.card", has=page.locator("h2", has_text="Initiatives they could join")
    )
    joins.get_by_label("Where", exact=True).select_option("place")
    country = joins.get_by_label("Near (town or country)")
    country.fill("United States")
    country.press("Enter")
    expect(joins.locator("li.rec .rec-distance, .notice").first).to_be_visible()
    for words in joins.locator("li.rec .rec-distance").all_inner_texts():
        assert words.startswith("In "), words
    assert joins.locator(".field-error:visible").count() == 0
    screenshot(page, "person-near-country")
    joins.screenshot(path=str(SCREENSHOTS / "person-near-country-part.png"))
    assert unexpected_errors(watched.errors) == [] or all(
        "422" in e for e in unexpected_errors(watched.errors)
    )
