"""My matches and my digest in a real browser: what a visitor who is signed out, or has no
profile yet, is told; cards with reasons in plain words; "Not interested" removes a card
for good (and can be undone); the digest page and its opt-in."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, select

from api.accounts import Accounts, hash_password
from api.accounts import accounts as accounts_table
from api.auth import KeyRing
from tests.postgres import database_url_for
from tests.web.conftest import Site, Watched, open_page, screenshot, unexpected_errors

pytestmark = pytest.mark.slow


def account_key(site: Site, *, profile: bool) -> str:
    """A token of a new member account, made in the site's store; with a ``profile``, it
    is linked to a listed demo person no other account has (a reused site keeps them)."""
    data_dir = Path(site.server.stdout).parents[1] / "var"
    store = data_dir / "cocreate.db"
    engine = create_engine(database_url_for(store) or f"sqlite:///{store}")  # the site's store
    try:
        accounts = Accounts(engine)
        person_id = None
        if profile:
            with engine.connect() as conn:
                taken = set(conn.scalars(select(accounts_table.c.person_id)))
            person_id = listed_person(site, taken)
        with engine.begin() as conn:
            made = accounts.create(conn, f"web-{secrets.token_hex(4)}@example.org", "Web Tester",
                                   hash_password("a long passphrase"), "member")  # fmt: skip
        if person_id is not None:
            accounts.update(made.id, person_id=person_id)
        _, secret = KeyRing(engine, accounts=accounts.standing).issue(
            made.id, "token", label="web test", lifetime=None
        )
    finally:
        engine.dispose()
    return secret


def listed_person(site: Site, taken: set[str]) -> str:
    """A public, discoverable demo person with a bio and a place, free to be linked."""
    for person in site.demo.listed_people():
        usable = person.get("bio") and person.get("place")
        usable = usable and person.get("open_to_collaborate", True)
        if usable and person["id"] not in taken:
            return str(person["id"])
    raise AssertionError("no listed person with a bio and a place in the demo")


def errors_of(watched: Watched) -> list[str]:
    """Unexpected console errors; a signed-out visitor's 401 for their account, and the
    403 of an account without a profile, are the answers the pages expect."""
    expected = re.compile(r"status of 40[13] \((Unauthorized|Forbidden)\)")
    return [e for e in unexpected_errors(watched.errors) if not expected.search(e)]


def use_key(page: Page, key: str) -> None:
    page.goto("/search")
    page.evaluate("key => sessionStorage.setItem('cocreate.key', key)", key)


def test_signed_out_and_profileless_visitors_are_told_what_to_do(
    site: Site, watched: Watched
) -> None:
    page = watched.page
    open_page(page, "/matches")
    expect(page.get_by_role("link", name="Sign in to see your matches")).to_be_visible()
    open_page(page, "/digest")
    expect(page.get_by_role("link", name="Sign in to see your digest")).to_be_visible()
    use_key(page, account_key(site, profile=False))
    open_page(page, "/matches")
    expect(page.get_by_role("link", name="Write your profile first")).to_have_attribute(
        "href", "/me"
    )
    assert errors_of(watched) == []


def test_my_matches_with_reasons_and_not_interested(site: Site, watched: Watched) -> None:
    page = watched.page
    use_key(page, account_key(site, profile=True))
    open_page(page, "/matches")
    expect(page.get_by_role("heading", name="My matches")).to_be_visible()
    cards = page.locator("li.match")
    expect(cards.first).to_be_visible()
    for reasons in page.locator("li.match ul.reasons").all_inner_texts():
        assert reasons.strip() and not re.search(r"\d", re.sub(r"\d+ km", "", reasons)), reasons
        assert "_" not in reasons
    first = cards.first
    name = first.locator("h3").inner_text()
    hidden_id = first.get_attribute("data-id")
    first.get_by_role("button", name="Not interested").click()
    expect(page.locator(".hidden-match")).to_contain_text(f"We will not suggest {name} again")
    open_page(page, "/matches")
    expect(cards.first).to_be_visible()
    assert hidden_id not in [c.get_attribute("data-id") for c in cards.all()]
    # What I set aside is listed, with a way back.
    set_aside = page.locator("section[aria-labelledby='kept-h'] li", has_text=name)
    expect(set_aside.get_by_role("button", name="Suggest again")).to_be_visible()
    # The three modes, in plain words.
    page.get_by_label("Bridging: other sectors").check()
    expect(cards.first.locator("ul.reasons")).to_be_visible()
    follow = cards.first.get_by_role("button", name="Follow")
    follow.click()
    expect(cards.first.get_by_role("button", name="Following")).to_have_attribute(
        "aria-pressed", "true"
    )
    page.get_by_role("tab", name="Communities").click()
    screenshot(page, "matches")
    open_page(page, "/digest")
    expect(page.get_by_role("heading", name="My weekly digest")).to_be_visible()
    expect(page.get_by_role("heading", name="People you could work with")).to_be_visible()
    page.get_by_label("Send me this digest by mail once a week").check()
    expect(page.get_by_role("status")).to_contain_text("every Monday")
    screenshot(page, "digest")
    assert errors_of(watched) == []
