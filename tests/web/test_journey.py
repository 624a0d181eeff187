"""The whole way from stranger to introduced, in Chromium against a real server that
mails through a real SMTP server on 127.0.0.1 (issue 12's acceptance):

1. Ana joins on /join; the link arrives by mail; following it signs her in.
2. She writes her profile on /me (with her contact email, shared once introduced).
3. Her matches (/matches) list people; among them Bea, who cares about the same thing.
4. On Bea's page she asks to be introduced, with a message. Bea gets a mail.
5. Bea signs in on /signin, finds the request in her inbox and accepts it.
6. Both now see the contact details the other shares, and not before; a third member,
   Cy, signed in too, and an anonymous visitor see none of it anywhere.

Every step goes through the pages a person would use; only Bea's and Cy's own sign-ups
(not what is tested here) are made through the API, with the links of their mails.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.web.conftest import PAGE_TIMEOUT_MS, Site, open_page, screenshot, wait_ready

pytestmark = pytest.mark.slow

PASSWORD = "a long enough password"
TOPIC = "beekeeping with refugee families"
BIO_ANA = f"I teach {TOPIC} in Davis: hives on school roofs, honey sold at the market."
BIO_BEA = f"I run {TOPIC} in Sacramento and train new beekeepers from the community."


@dataclass
class Member:
    name: str
    email: str
    contact: str
    person: str = ""


def new_member(name: str) -> Member:
    tag = secrets.token_hex(3)
    first = name.split()[0].lower()
    return Member(name, f"{first}-{tag}@example.org", f"{first}.private.{tag}@example.net")


def confirm_link(site: Site, email: str) -> str:
    [mail] = site.mailbox.wait(email)
    return next(link for link in mail.links() if "/verify?" in link)


def join_by_api(site: Site, who: Member, bio: str) -> None:
    """A member who joined and wrote a profile: members-only, open to collaborate, the
    same sector and goal as Ana's, and a contact email shared once introduced."""
    with httpx.Client(base_url=site.url, timeout=60) as api:
        joining = {"name": who.name, "email": who.email, "password": PASSWORD}
        asked = api.post("/v1/account/signup", json=joining)
        assert asked.status_code == 202, asked.text
        token = parse_qs(urlsplit(confirm_link(site, who.email)).query)["token"][0]
        done = api.post("/v1/account/verify", json={"token": token})
        assert done.status_code == 200, done.text
        bearer = {"Authorization": f"Bearer {done.json()['token']}"}
        profile = {
            "bio": bio, "interests": ["beekeeping", "refugee welcome"],
            "sectors": ["sector:environment"], "goals": ["sdg:15"],
            "visibility": "members", "share_contact": "introduced",
            "contact": {"email": who.contact},
            "place": {"name": "Sacramento", "country": "US", "lat": 38.58, "lon": -121.49},
        }  # fmt: skip
        made = api.patch("/v1/me", json=profile, headers=bearer)
        assert made.status_code == 200, made.text
        who.person = made.json()["person"]["id"]


def new_context(browser: Browser, site: Site) -> BrowserContext:
    made = browser.new_context(base_url=site.url, viewport={"width": 1280, "height": 900})
    made.set_default_timeout(PAGE_TIMEOUT_MS)
    return made


def sign_in(page: Page, who: Member, then: str) -> None:
    open_page(page, f"/signin?next={then}")
    page.get_by_label("Email").fill(who.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(then) + "$"))
    wait_ready(page)


def text_of(page: Page) -> str:
    return page.locator("body").inner_text()


def test_join_write_a_profile_meet_and_be_introduced(browser: Browser, site: Site) -> None:
    ana, bea, cy = new_member("Ana Apiarist"), new_member("Bea Beekeeper"), new_member("Cy Curious")
    join_by_api(site, bea, BIO_BEA)
    join_by_api(site, cy, "I grow vegetables with my neighbours.")

    # 1. Ana joins in the browser and follows the link from her mail.
    ana_context = new_context(browser, site)
    page = ana_context.new_page()
    open_page(page, "/join")
    page.get_by_label("Your name").fill(ana.name)
    page.get_by_label("Email").fill(ana.email)
    page.get_by_label("Password").fill("too short")  # first a mistake: told beside the field
    page.get_by_role("button", name="Join").click()
    password_field = page.locator("[data-field='password']")
    expect(password_field.locator(".field-error")).to_have_text("At least 10 characters.")
    expect(page.get_by_label("Password")).to_be_focused()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Join").click()
    expect(page.get_by_text("a mail with a link is on its way")).to_be_visible()
    page.goto(confirm_link(site, ana.email))
    wait_ready(page)
    expect(page.get_by_text(f"Welcome, {ana.name}")).to_be_visible()
    expect(page.locator("#account-status")).to_contain_text(ana.name)

    # 2. Her profile, through the form.
    page.get_by_role("link", name="Write your profile").click()
    wait_ready(page)
    page.get_by_label("A few words about you").fill(BIO_ANA)
    page.get_by_label("Interests").fill("beekeeping, refugee welcome")
    page.get_by_label("Environment", exact=False).first.check()
    page.locator("input[name='contact.email']").fill(ana.contact)
    page.get_by_role("button", name=re.compile("^Save")).click()
    expect(page.get_by_text(re.compile(r"^Saved"))).to_be_visible()
    screenshot(page, "journey-1-profile")
    me = page.request.get("/v1/me").json()
    ana.person = me["person"]["id"]
    assert me["person"]["contact"]["email"] == ana.contact

    # 3. Her matches list people, Bea among them.
    open_page(page, "/matches")
    bea_link = page.locator(f"main a[href='/people/{bea.person.partition(':')[2]}']")
    expect(bea_link.first).to_be_visible()
    screenshot(page, "journey-2-matches")

    # 4. She asks to be introduced from Bea's page; Bea hears of it by mail.
    open_page(page, f"/people/{bea.person.partition(':')[2]}")
    assert bea.contact not in text_of(page)  # not before an introduction
    page.get_by_role("button", name="Ask to be introduced").click()
    page.get_by_label("Your message").fill("Hello Bea, I keep bees with refugee families too!")
    page.get_by_role("button", name="Send the request").click()
    expect(page.get_by_text(re.compile("sent|asked", re.I)).first).to_be_visible()
    heard = site.mailbox.wait(bea.email, count=2)[-1]
    assert ana.name in heard.text and "/inbox" in heard.text

    # 5. Bea signs in and accepts in her inbox.
    bea_context = new_context(browser, site)
    bea_page = bea_context.new_page()
    sign_in(bea_page, bea, "/inbox")
    expect(bea_page.get_by_text("Hello Bea, I keep bees")).to_be_visible()
    bea_page.get_by_role("button", name="Accept").click()
    expect(bea_page.get_by_text(ana.contact)).to_be_visible()  # Ana's shared contact
    screenshot(bea_page, "journey-3-accepted")

    # 6. Ana sees Bea's contact now; nobody else sees either.
    open_page(page, "/inbox")
    expect(page.get_by_text(bea.contact)).to_be_visible()
    open_page(page, f"/people/{bea.person.partition(':')[2]}")
    expect(page.get_by_text(bea.contact)).to_be_visible()
    cy_context = new_context(browser, site)
    cy_page = cy_context.new_page()
    sign_in(cy_page, cy, "/inbox")
    anonymous = new_context(browser, site)
    visitor = anonymous.new_page()
    for viewer in (cy_page, visitor):
        for who in (ana, bea):
            slug = who.person.partition(":")[2]
            open_page(viewer, f"/people/{slug}")
            shown = text_of(viewer)
            assert ana.contact not in shown and bea.contact not in shown
            answer = viewer.request.get(f"/v1/nodes/{who.person}")
            assert ana.contact not in answer.text() and bea.contact not in answer.text()
        intro = viewer.request.get("/v1/introductions")
        assert ana.contact not in intro.text() and bea.contact not in intro.text()
    for made in (ana_context, bea_context, cy_context, anonymous):
        made.close()
