"""An anonymous visitor sees no private data anywhere: not in the pages, not in any answer
the pages receive. Every page is visited, aimed at where hidden people would show up
(people who know them, initiatives they work on, their communities, searches for their
words and names); every response body and the final DOM are searched for them."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

import pytest
from playwright.sync_api import BrowserContext, Page, Response, expect
from playwright.sync_api import Error as PlaywrightError

from tests.web.conftest import Demo, Site, open_page

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Secrets:
    """What must never reach an anonymous visitor: hidden people's ids, the names only
    they carry, and everyone's contact details."""

    ids: frozenset[str]
    names: tuple[str, ...]
    contacts: tuple[str, ...]
    checked_names: int

    def found_in(self, text: str) -> list[str]:
        """Every secret in ``text``: an id not continued by another id character, a name
        as whole words, a contact anywhere. Each literal is looked for with ``in`` first
        (one alternation of hundreds of branches took seconds per response)."""
        hits = {i for i in self.ids if occurs(text, i, ID_CHAR, whole_start=False)}
        hits.update(c for c in self.contacts if c in text)
        hits.update(name for name in self.names if occurs(text, name, WORD))
        return sorted(hits)

    def contact_in(self, text: str) -> bool:
        return any(c in text for c in self.contacts)


_SECRETS: dict[int, Secrets] = {}
WORD = re.compile(r"\w")
ID_CHAR = re.compile(r"[\w-]|\.[\w-]")
"""What would make an id part of a longer one: an id character, or a dot and one (a
full stop after an id still leaves it whole)."""


def occurs(text: str, literal: str, joined: re.Pattern[str], *, whole_start: bool = True) -> bool:
    """Whether ``literal`` occurs in ``text`` and ``joined`` matches neither right after it
    nor (with ``whole_start``) at the character before it, found by ``str.find``: a name
    as ``\\bname\\b`` finds it (for names that begin and end with a word character), an
    id whole (``person:ann`` is not in ``person:ann-2`` nor ``person:ann.b``, but is in
    ``xperson:ann`` and ``person:ann.``)."""
    at = text.find(literal)
    while at >= 0:
        end = at + len(literal)
        before = whole_start and at > 0 and joined.match(text, at - 1)
        after = end < len(text) and joined.match(text, end)
        if not before and not after:
            return True
        at = text.find(literal, at + 1)
    return False


def secrets_of(site: Site) -> Secrets:
    """The site's secrets, worked out once per site."""
    if id(site) not in _SECRETS:
        _SECRETS[id(site)] = _work_out_secrets(site)
    return _SECRETS[id(site)]


def _work_out_secrets(site: Site) -> Secrets:
    hidden = site.demo.hidden_from_anonymous()
    hidden_ids = {p["id"] for p in hidden}
    # A hidden person's name is checked only if nothing an anonymous visitor may see
    # carries it (names repeat in a generated population, and texts may mention them).
    visible_text = json.dumps(
        [n for n in site.demo.nodes.values() if n["id"] not in hidden_ids], ensure_ascii=False
    )
    every = sorted({p["name"] for p in hidden})
    assert all(WORD.match(n) and WORD.match(n[-1]) for n in every), "occurs needs these"
    names = tuple(n for n in every if not occurs(visible_text, n, WORD))
    contacts = tuple(sorted(site.demo.contacts()))
    assert hidden_ids and names and contacts, "the demo network must hold hidden people"
    return Secrets(frozenset(hidden_ids), tuple(names), contacts, len(names))


def near_hidden(site: Site, kind: str, edge: str) -> str:
    """A node of ``kind`` linked by ``edge`` to the most hidden people."""
    hidden = {p["id"] for p in site.demo.hidden_from_anonymous()}
    counts: dict[str, int] = {}
    for e in site.demo.edges:
        if e["kind"] != edge:
            continue
        for end, other in ((e["source"], e["target"]), (e["target"], e["source"])):
            if other in hidden and site.demo.nodes[end]["kind"] == kind and end not in hidden:
                counts[end] = counts.get(end, 0) + 1
    assert counts, (kind, edge)
    return max(sorted(counts), key=lambda n: counts[n])


def tour(site: Site) -> list[str]:
    """Addresses of every page, each chosen to sit next to hidden people."""
    hidden = site.demo.hidden_from_anonymous()
    interests = quote_plus(" ".join(str(w) for w in hidden[0].get("interests", [])[:3]))
    # Surnames only: a full name typed by the visitor would be on the page anyway.
    surnames = [quote_plus(p["name"].split()[-1]) for p in hidden[:2]]
    person = near_hidden(site, "person", "knows")
    initiative = near_hidden(site, "initiative", "works_on")
    community = near_hidden(site, "community", "located_in")
    entry = near_hidden(site, "wisdom_entry", "authored")
    council = near_hidden(site, "council", "member_of")
    return [
        "/",
        f"/?q={interests or 'mentoring'}",
        f"/?q={surnames[0]}&kind=person",
        f"/?q={surnames[1]}",
        f"/?q=youth+mentoring&community={community}",
        f"/people/{person.split(':', 1)[1]}",
        f"/initiatives/{initiative.split(':', 1)[1]}",
        f"/nodes/{community}",
        f"/nodes/{entry}",
        f"/nodes/{council}",
        "/sectors",
        "/sectors/health",
        "/sectors/education",
        "/map?kind=person&kind=initiative&kind=community&kind=organization&kind=event",
        f"/graph/{initiative}",
        f"/graph/{community}",
        "/editor",
    ]


def visit(page: Page, path: str) -> list[Response]:
    """Open a page and open every "Why this?" and tab on it, recording all responses."""
    seen: list[Response] = []

    def record(response: Response) -> None:
        seen.append(response)

    page.on("response", record)
    open_page(page, path)
    for tab in page.get_by_role("tab").all():
        tab.click()
    page.locator("details").evaluate_all("els => els.forEach(e => { e.open = true; })")
    page.wait_for_load_state("networkidle")
    page.remove_listener("response", record)
    return seen


def leaks(secrets: Secrets, responses: list[Response], page: Page) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for response in responses:
        if response.request.method == "OPTIONS" or response.status in (204, 301, 302, 304):
            continue
        try:
            body = response.text()
        except PlaywrightError:  # a body the browser dropped cannot be read back
            continue
        hits = secrets.found_in(body)
        if hits:
            found[response.url] = hits
    dom = secrets.found_in(page.content())
    if dom:
        found["DOM"] = dom
    return found


def test_the_leak_detector_finds_each_secret_where_it_hides() -> None:
    people = [
        {"id": "person:ann", "kind": "person", "name": "Ann Open"},
        {"id": "person:ann-2", "kind": "person", "name": "Bea Hidden", "visibility": "private",
         "contact": {"email": "bea@example.org"}},
        {"id": "person:cy", "kind": "person", "name": "Cy Quiet", "discoverable": False},
        {"id": "person:dee", "kind": "person", "name": "Dee Open", "bio": "Works with Cy Quiet"},
    ]  # fmt: skip

    class Tiny:
        demo = Demo({p["id"]: p for p in people}, [])

    secrets = _work_out_secrets(Tiny())  # type: ignore[arg-type]
    assert secrets.ids == {"person:ann-2", "person:cy"}
    assert secrets.names == ("Bea Hidden",)  # "Cy Quiet" is in a visible bio
    for text, found in [
        ('{"text":"see\\nperson:ann-2"}', ["person:ann-2"]),
        ("follow:person:cy, xperson:cy", ["person:cy"]),
        ("person:ann person:ann-20 person:cy.x person:cy-b", []),
        ("person:ann-2.", ["person:ann-2"]),
        ("(Bea Hidden) wrote to bea@example.org", ["Bea Hidden", "bea@example.org"]),
        ("Bea Hiddenness, ZBea Hidden", []),
    ]:
        assert secrets.found_in(text) == found, text


def test_an_anonymous_visitor_receives_no_private_data_on_any_page(
    site: Site, context: BrowserContext
) -> None:
    secrets = secrets_of(site)
    assert secrets.checked_names > 0
    page = context.new_page()
    answered = 0
    for path in tour(site):
        responses = visit(page, path)
        answered += len(responses)
        assert leaks(secrets, responses, page) == {}, path
    assert answered > 50


def test_the_editor_desk_draft_reveals_no_hidden_practitioners(
    site: Site, context: BrowserContext
) -> None:
    secrets = secrets_of(site)
    entry = near_hidden(site, "wisdom_entry", "authored")
    text = site.demo.nodes[entry]
    page = context.new_page()
    open_page(page, "/editor")
    seen: list[Response] = []

    def record(response: Response) -> None:
        seen.append(response)

    page.on("response", record)
    page.get_by_label("Title").fill(text["name"])
    page.get_by_label("Draft", exact=True).fill(str(text.get("body", text["name"]))[:4000])
    page.get_by_role("button", name="Check my draft").click()
    expect(page.locator("li.tag").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert leaks(secrets, seen, page) == {}


def test_a_hidden_profile_looks_missing(site: Site, context: BrowserContext) -> None:
    secrets = secrets_of(site)
    hidden = site.demo.hidden_from_anonymous()
    private = next(p for p in hidden if p.get("visibility") == "private")
    page = context.new_page()
    open_page(page, f"/people/{private['id'].split(':', 1)[1]}")
    expect(page.locator(".notice")).to_contain_text("not found, or not visible to you")
    assert private["name"] not in page.content()
    assert not secrets.contact_in(page.content())
    assert str(private.get("bio", "no bio to find"))[:40] not in page.content()
