"""My profile (/me) in a real browser: a new member joins (the link arrives by real mail),
signs in, writes their profile with a mistake first (the reason appears beside the field
and nothing is saved), takes an idea the tagger draws from their bio, chooses how
precisely others see their place (the preview says it in words), saves, and finds it
all again after a reload. An anonymous visitor then finds neither the members-only
profile nor the contact email anywhere."""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Response, expect
from playwright.sync_api import Error as PlaywrightError

from tests.web.conftest import (
    PAGE_TIMEOUT_MS,
    Site,
    open_page,
    screenshot,
    wait_ready,
    watch,
)

pytestmark = pytest.mark.slow

PASSWORD = "a long enough password"
BIO = (
    "I am a primary school teacher in Davis. I run after-school reading circles for "
    "children and teach adults to read and write; I train volunteer tutors for schools."
)
CONTACT_EMAIL = "rosa.reads@example.org"
AREA = "My area, without the town's name (about 100 km around)"


def join(site: Site, name: str, email: str) -> None:
    """Sign up through the API and confirm the address with the link that was mailed."""
    with httpx.Client(base_url=site.url, timeout=30) as api:
        joining = {"name": name, "email": email, "password": PASSWORD}
        asked = api.post("/v1/account/signup", json=joining)
        assert asked.status_code == 202, asked.text
        [mail] = site.mailbox.wait(email)
        link = next(link for link in mail.links() if "/verify?" in link)
        token = parse_qs(urlsplit(link).query)["token"][0]
        done = api.post("/v1/account/verify", json={"token": token})
        assert done.status_code == 200, done.text


@pytest.fixture
def member(browser: Browser, site: Site) -> Iterator[tuple[BrowserContext, str]]:
    """A browsing context of a member who just joined (not signed in yet), and their email."""
    email = f"rosa-{secrets.token_hex(4)}@example.org"
    join(site, "Rosa Profile", email)
    made = browser.new_context(base_url=site.url, viewport={"width": 1280, "height": 900})
    made.set_default_timeout(PAGE_TIMEOUT_MS)
    yield made, email
    made.close()


def me(page: Page) -> dict[str, Any]:
    """GET /v1/me with the page's own session (its cookie)."""
    answer = page.request.get("/v1/me")
    assert answer.status == 200, answer.text()
    body: dict[str, Any] = answer.json()
    return body


def sign_in(page: Page, email: str) -> None:
    open_page(page, "/signin?next=/me")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/me$"))
    wait_ready(page)


def test_signed_out_visitors_are_asked_to_sign_in(context: BrowserContext) -> None:
    page = context.new_page()
    open_page(page, "/me")
    link = page.get_by_role("link", name="Sign in to write your profile")
    expect(link).to_have_attribute("href", "/signin?next=/me")
    expect(page.locator("form.profile-form")).to_have_count(0)


def test_a_member_writes_their_profile_and_others_see_only_what_they_chose(
    member: tuple[BrowserContext, str], context: BrowserContext
) -> None:
    own, email = member
    watched = watch(own.new_page())
    page = watched.page
    sign_in(page, email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Write your profile")
    assert me(page)["person"] is None

    # About you, and an idea from the bio, taken with one click.
    page.get_by_label("A few words about you").fill(BIO)
    idea = page.get_by_role("button", name="Add Quality Education")
    expect(idea).to_be_visible(timeout=90_000)
    idea.click()
    goal = page.locator('[data-field="goals"]').get_by_label("Quality Education")
    expect(goal).to_be_checked()
    expect(idea).to_have_count(0)

    page.get_by_label("Interests").fill("youth mentoring, reading circles\nadult literacy")
    page.get_by_label("What you can offer").fill("tutoring")
    languages = page.locator('[data-field="languages"]')
    languages.get_by_label("English").check()
    languages.get_by_label("Spanish").check()

    # Where: the preview says in words what others will see, as the choice changes.
    page.get_by_label("Town or city", exact=True).fill("Davis")
    page.get_by_label("Country", exact=True).select_option(label="United States")
    page.get_by_text("More precise: a point on the map").click()
    page.get_by_label("Latitude (north–south)").fill("38.54")
    page.get_by_label("Longitude (east–west)").fill("-121.74")
    preview = page.get_by_test_id("place-preview")
    expect(preview).to_have_text("Others will see: Davis, United States (about 10 km around).")
    page.get_by_label("Only my country").check()
    expect(preview).to_have_text("Others will see: somewhere in United States.")
    page.get_by_label(AREA).check()
    expect(preview).to_have_text(
        "Others will see: an area about 100 km across in United States, without the town's name."
    )

    # A mistake first: the reason beside the field, focus on it, nothing written.
    page.get_by_label("Email", exact=True).fill("rosa at example")
    page.get_by_role("button", name="Save").click()
    error = page.locator('[data-field="contact.email"] .field-error')
    expect(error).to_have_text("Please write an email address like name@example.org.")
    expect(page.get_by_label("Email", exact=True)).to_be_focused()
    expect(page.get_by_label("Email", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("Nothing was saved")).to_be_visible()
    screenshot(page, "profile-error-beside-the-field")
    assert me(page)["person"] is None, "a refused profile must not be half-written"

    page.get_by_label("Email", exact=True).fill(CONTACT_EMAIL)
    share = page.locator('[data-field="share_contact"]')
    shares_contact = share.count() == 1
    if shares_contact:
        share.get_by_label("Every signed-in member").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    expect(error).to_be_hidden()
    expect(page.get_by_role("heading", level=1)).to_have_text("My profile")
    screenshot(page, "profile-saved")

    stored = me(page)
    person = stored["person"]
    assert person["bio"] == BIO
    assert person["interests"] == ["youth mentoring", "reading circles", "adult literacy"]
    assert person["offers"] == ["tutoring"]
    assert sorted(person["languages"]) == ["en", "es"]
    assert person["place"] == {
        "name": "Davis", "country": "US", "region": "Northern America",
        "lat": 38.54, "lon": -121.74,
    }  # fmt: skip
    assert person["location_precision"] == "region"
    assert person["visibility"] == "members"
    assert person["contact"] == {"email": CONTACT_EMAIL}
    assert "sdg:4" in stored["goals"]
    assert "name" not in stored["place_shown_to_others"]
    if shares_contact:
        assert person["share_contact"] == "members"

    # After a reload the form holds what was saved, in words (never codes).
    page.reload()
    wait_ready(page)
    expect(page.get_by_label("A few words about you")).to_have_value(BIO)
    interests = "youth mentoring\nreading circles\nadult literacy"
    expect(page.get_by_label("Interests")).to_have_value(interests)
    expect(page.locator('[data-field="goals"]').get_by_label("Quality Education")).to_be_checked()
    expect(languages.get_by_label("Spanish")).to_be_checked()
    expect(page.get_by_label("Country", exact=True)).to_have_value("US")
    expect(page.get_by_label(AREA)).to_be_checked()
    expect(page.get_by_label("Signed-in members only")).to_be_checked()
    expect(page.get_by_label("Email", exact=True)).to_have_value(CONTACT_EMAIL)
    expect(preview).to_contain_text("an area about 100 km across in United States")
    if shares_contact:
        expect(share.get_by_label("Every signed-in member")).to_be_checked()
    screenshot(page, "profile-after-reload")
    assert [e for e in watched.errors if "uncaught" in e] == []

    # An anonymous visitor: the members-only profile is as missing as one that never was.
    slug = person["id"].removeprefix("person:")
    visitor = context.new_page()
    seen: list[str] = []

    def keep(response: Response) -> None:
        if "/v1/" in response.url:
            with contextlib.suppress(PlaywrightError):  # a body the browser no longer holds
                seen.append(response.text())

    visitor.on("response", keep)
    open_page(visitor, f"/people/{slug}")
    expect(visitor.get_by_text("not found, or not visible to you")).to_be_visible()
    screenshot(visitor, "profile-hidden-from-visitors")
    answer = visitor.request.get(f"/v1/nodes/{person['id']}")
    assert answer.status == 404
    assert answer.json()["detail"] == f"no node with id '{person['id']}'"
    assert not any(CONTACT_EMAIL in text or BIO[:40] in text for text in seen)
    # Nor does a search for their words find them (nor their words, nor their email).
    seen.clear()
    open_page(visitor, "/search?q=after-school+reading+circles+Davis")
    texts = [visitor.content(), *seen]
    for secret in (CONTACT_EMAIL, person["id"], BIO[:40]):
        assert not any(secret in text for text in texts), secret
