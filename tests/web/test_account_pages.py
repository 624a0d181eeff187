"""Signed-in pages in a real browser: a member joins (the link from the mail the site's
SMTP server received), uses the settings page (a token shown once and revoked,
the download of their data, deleting the account after typing the address), proposes a
council with the session alone, and is told on the editor desk that only editors keep
drafts; an editor saves a draft (seen by nobody else), publishes it, and revises the
published entry through a draft of it."""

from __future__ import annotations

import re
import secrets
from datetime import date

import httpx
import pytest
from playwright.sync_api import APIResponse, Page, Route, expect

from tests.web.conftest import Site, Watched, open_page, screenshot, unexpected_errors

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery"


def _verify_token(site: Site, email: str) -> str:
    """The token of the sign-up link mailed to ``email`` (the site's SMTP server got it)."""
    [mail] = site.mailbox.wait(email)
    link = next(link for link in mail.links() if "/verify?token=" in link)
    return link.partition("/verify?token=")[2]


def _join(site: Site, page: Page, name: str) -> str:
    """A new member signed in in ``page``: their address."""
    email = f"{name.split()[0].lower()}-{secrets.token_hex(3)}@example.org"
    body = {"email": email, "password": PASSWORD, "name": name}
    assert httpx.post(f"{site.url}/v1/account/signup", json=body).status_code == 202
    open_page(page, f"/verify?token={_verify_token(site, email)}")
    expect(page.locator("main")).to_contain_text(f"Welcome, {name}")
    return email


def _ours(errors: list[str]) -> list[str]:
    """Console errors but the refusals these tests cause on purpose (a wrong confirmation)
    and the 401 of asking who is signed in while nobody is."""
    return [e for e in unexpected_errors(errors) if "422" not in e and "401" not in e]


def test_a_member_manages_tokens_downloads_and_deletes(site: Site, watched: Watched) -> None:
    page = watched.page
    email = _join(site, page, "Sam Settings")
    open_page(page, "/settings")
    expect(page.get_by_label("Your name")).to_have_value("Sam Settings")
    sign_ins = page.locator("section", has=page.locator("h2", has_text="Your sign-ins and tokens"))
    expect(sign_ins.locator("tr", has_text="(this one)")).to_contain_text("Signed in on the web")
    # A token for a script: its secret is shown once, works, and stops when revoked.
    page.get_by_label("What it is for").fill("my import script")
    page.get_by_role("button", name="Make a token for a script").click()
    secret = page.get_by_label("Your new token").input_value()
    assert secret.startswith("cc_")
    bearer = {"Authorization": f"Bearer {secret}"}
    assert httpx.get(f"{site.url}/v1/account", headers=bearer).status_code == 200
    row = sign_ins.locator("tr", has_text="my import script")
    row.get_by_role("button", name="Revoke").click()
    expect(row).to_have_count(0)
    assert httpx.get(f"{site.url}/v1/account", headers=bearer).status_code == 401
    # My data, as a file.
    link = page.get_by_role("link", name="Download my data")
    assert link.get_attribute("href") == "/v1/me/export"
    exported = page.request.get("/v1/me/export")
    assert exported.ok and exported.json()["account"]["email"] == email
    screenshot(page, "settings")
    # Deleting asks for the address, and says so beside the field.
    form = page.locator("form", has=page.locator("h2", has_text="Delete my account"))
    form.get_by_label("Type your email address to confirm").fill("someone@example.org")
    form.get_by_role("button", name="Delete my account").click()
    expect(form.locator(".field-error")).to_contain_text("Type your email address to confirm")
    form.get_by_label("Type your email address to confirm").fill(email)
    form.get_by_role("button", name="Delete my account").click()
    expect(page.locator("h1")).to_have_text("Your account is deleted")
    login = httpx.post(f"{site.url}/v1/account/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 401
    assert _ours(watched.errors) == []


def test_a_signed_in_member_proposes_a_council_but_saves_no_entry(
    site: Site, watched: Watched
) -> None:
    page = watched.page
    _join(site, page, "Mia Member")
    open_page(page, "/sectors/education")
    assistant = page.locator("section", has=page.locator("h2", has_text="Council assistant"))
    expect(assistant.locator(".hint").last).not_to_contain_text("Sign in")
    assistant.get_by_role("button", name="Propose a council").click()
    if site.has("POST", "/v1/councils/propose"):
        expect(assistant.locator("li.rec").first).to_be_visible()
    open_page(page, "/editor")
    expect(page.get_by_role("button", name="Save draft")).to_be_disabled()
    expect(page.get_by_role("button", name="Publish")).to_be_disabled()
    expect(page.locator("form.draft [role=status]").last).to_contain_text(
        "Only editors can keep drafts; ask an admin"
    )
    expect(page.get_by_role("heading", name="Your drafts")).to_be_hidden()
    assert _ours(watched.errors) == []


def _save_a_draft(site: Site, page: Page, title: str, text: str) -> None:
    """On the editor's desk, with the editor's key: a new draft written and saved."""
    open_page(page, "/editor")
    page.get_by_label("API key").fill(site.editor_key)
    page.get_by_role("button", name="Use this key").click()
    page.get_by_label("Title").fill(title)
    page.get_by_label("Draft", exact=True).fill(text)
    page.get_by_role("button", name="Save draft").click()


def test_a_list_of_drafts_answered_late_does_not_hide_a_newer_one(
    site: Site, watched: Watched
) -> None:
    """The desk asks for the list of drafts as the key is set, and again after a save. The
    first answer held back until the second has shown the new draft (as a busy server
    may answer) does not replace it: only the latest list is shown."""
    page = watched.page
    title = f"Evening repair cafes {secrets.token_hex(3)}"
    held: list[tuple[Route, APIResponse]] = []

    def hold_first_list(route: Route) -> None:
        if route.request.method == "GET" and not held:
            held.append((route, route.fetch()))  # answered now, given to the page later
        else:
            route.continue_()

    page.route(re.compile(r".*/v1/drafts$"), hold_first_list)
    _save_a_draft(site, page, title, "Neighbours mend lamps and bicycles together.")
    drafts = page.locator("section", has=page.locator("h2", has_text="Your drafts"))
    expect(drafts.locator("li", has_text=title)).to_contain_text("last saved")
    assert held, "the first list was asked for"
    route, answer = held[0]
    with page.expect_response(lambda response: response.request is route.request):
        route.fulfill(response=answer)
    page.evaluate("() => new Promise((done) => setTimeout(done, 200))")
    mine = drafts.locator("li", has_text=title)
    expect(mine).to_contain_text("last saved")
    expect(drafts).not_to_contain_text("No drafts yet")
    # The draft goes, so that no other page of the session (or its screenshot) shows it.
    mine.get_by_role("button", name="Delete").click()
    expect(mine).to_have_count(0)


def test_an_editor_saves_a_draft_and_publishes_it(site: Site, watched: Watched) -> None:
    page = watched.page
    suffix = secrets.token_hex(3)
    title = f"Night gardens for tired parents {suffix}"
    entry = f"wisdom_entry:night-gardens-for-tired-parents-{suffix}"
    bearer = {"Authorization": f"Bearer {site.editor_key}"}
    _save_a_draft(site, page, title, "Parents plant and water a garden at dusk.")
    status = page.locator("form.draft [role=status]").last
    expect(status).to_contain_text("Draft saved at")
    expect(status).to_contain_text("only editors can see it")
    # A draft is not in the Wisdom Book: nobody reads or finds it there.
    assert httpx.get(f"{site.url}/v1/nodes/{entry}").status_code == 404
    assert httpx.get(f"{site.url}/v1/nodes/{entry}", headers=bearer).status_code == 404
    drafts = page.locator("section", has=page.locator("h2", has_text="Your drafts"))
    expect(drafts.locator("li", has_text=title)).to_contain_text("last saved")
    page.get_by_label("Draft", exact=True).fill("Parents plant and water a garden at dusk, weekly.")
    page.get_by_role("button", name="Publish").click()
    page.get_by_role("button", name="Yes, publish").click()
    expect(status).to_contain_text("Published")
    expect(status.get_by_role("link", name=title)).to_have_attribute("href", f"/nodes/{entry}")
    expect(drafts.locator("li", has_text=title)).to_have_count(0)
    stored = httpx.get(f"{site.url}/v1/nodes/{entry}").json()
    assert stored["body"].endswith("weekly.")
    assert stored["published"] in {
        date.today().isoformat(),
        str(date.fromordinal(date.today().toordinal() - 1)),
    }
    screenshot(page, "editor-published")
    # Opening the published entry makes a draft of it; publishing that changes the entry.
    open_page(page, "/editor")
    page.get_by_label("Existing entry (name starts with)").fill(title)
    page.get_by_role("button", name="Find").click()
    page.get_by_role("button", name=f"Open “{title}”").click()
    expect(status).to_contain_text("A draft of")
    expect(page.get_by_label("Draft", exact=True)).to_have_value(stored["body"])
    page.get_by_label("Draft", exact=True).fill("Parents and children garden at dusk, weekly.")
    page.get_by_role("button", name="Publish").click()
    page.get_by_role("button", name="Yes, publish").click()
    expect(status).to_contain_text("Published")
    revised = httpx.get(f"{site.url}/v1/nodes/{entry}").json()
    assert revised["body"] == "Parents and children garden at dusk, weekly."
    assert revised["published"] == stored["published"]
    # A new entry with the same title is refused beside the title, when publishing.
    open_page(page, "/editor")
    page.get_by_label("Title").fill(title)
    page.get_by_label("Draft", exact=True).fill("Another garden.")
    page.get_by_role("button", name="Publish").click()
    page.get_by_role("button", name="Yes, publish").click()
    expect(page.locator("[data-field=title] .field-error")).to_contain_text("exists already")
    left = drafts.locator("li", has_text=title)
    expect(left).to_have_count(1)
    left.get_by_role("button", name="Delete").click()
    expect(left).to_have_count(0)
    assert httpx.delete(f"{site.url}/v1/nodes/{entry}", headers=bearer).status_code == 204
    assert [e for e in _ours(watched.errors) if "409" not in e and "404" not in e] == []
