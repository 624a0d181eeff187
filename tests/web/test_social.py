"""People act, in the browser: ask to be introduced from a person's page (the problem shown
beside the message box), accept in the inbox, and both sides then see the contact details
the other shares; anonymous visitors are offered to sign in instead."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from api.accounts import Accounts, hash_password
from api.auth import KeyRing
from graph.store import Store
from tests.web.conftest import PAGE_TIMEOUT_MS, Site, open_page


@dataclass
class Someone:
    name: str
    email: str
    person: str
    key: str


def someone(site: Site, name: str) -> Someone:
    """A member account with a token, made in the served store, and a profile written
    through the API (with contact details of its own)."""
    assert site.data_dir is not None
    store = Store.open(site.data_dir / "cocreate.db")
    try:
        accounts = Accounts(store.engine)
        with store.engine.begin() as conn:
            account = accounts.create(
                conn, f"{secrets.token_hex(4)}@example.org", name,
                hash_password("a long passphrase"), "member",
            )  # fmt: skip
        _, key = KeyRing(store.engine).issue(account.id, "token", label="web test", lifetime=None)
    finally:
        store.close()
    email = f"{name.split()[0].lower()}-{secrets.token_hex(3)}@example.org"
    with httpx.Client(base_url=site.url, headers={"Authorization": f"Bearer {key}"}) as client:
        made = client.patch("/v1/me", json={"bio": "Reading circles.", "contact": {"email": email}})
    assert made.status_code == 200, made.text
    return Someone(name, email, made.json()["person"]["id"], key)


def signed_in(browser: Browser, site: Site, who: Someone) -> BrowserContext:
    context = browser.new_context(base_url=site.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    context.add_init_script(f"sessionStorage.setItem('cocreate.key', {who.key!r});")
    return context


@pytest.fixture
def pair(site: Site) -> tuple[Someone, Someone]:
    return someone(site, "Ada Asker"), someone(site, "Rin Receiver")


def test_ask_accept_and_see_the_shared_contact(
    site: Site, browser: Browser, pair: tuple[Someone, Someone]
) -> None:
    ada, rin = pair
    asking = signed_in(browser, site, ada)
    page = asking.new_page()
    open_page(page, f"/people/{rin.person.partition(':')[2]}")
    expect(page.get_by_text(rin.email)).to_have_count(0)  # not before
    page.get_by_role("button", name="Ask to be introduced").click()
    page.get_by_role("button", name="Send the request").click()
    problem = page.locator(".social-form [data-field=message] .field-error")
    expect(problem).to_be_visible()  # beside the field, in plain words
    page.get_by_label("Your message").fill("We both run reading circles; could we talk?")
    page.get_by_role("button", name="Send the request").click()
    expect(page.get_by_text("Your request is sent")).to_be_visible()

    answering = signed_in(browser, site, rin)
    inbox = answering.new_page()
    open_page(inbox, "/inbox")
    card = inbox.locator("li.request", has_text="Ada Asker")
    expect(card).to_contain_text("We both run reading circles")
    expect(card).to_contain_text("Waiting for your answer")
    card.get_by_role("button", name="Accept").click()
    expect(inbox.locator("li.request", has_text="Ada Asker")).to_contain_text(ada.email)

    open_page(page, "/inbox")
    sent = page.locator("li.request", has_text="Rin Receiver")
    expect(sent).to_contain_text("Accepted")
    expect(sent).to_contain_text(rin.email)
    asking.close()
    answering.close()


def test_anonymous_visitors_are_offered_to_sign_in(site: Site, context: BrowserContext) -> None:
    person = site.demo.listed_people()[0]
    page = context.new_page()
    open_page(page, f"/people/{person['id'].partition(':')[2]}")
    expect(page.get_by_role("link", name="Sign in to ask for an introduction")).to_be_visible()
    expect(page.get_by_role("button", name="Ask to be introduced")).to_have_count(0)
