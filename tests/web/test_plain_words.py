"""Plain words on every page (issue 13): a volunteer reads sentences, strengths in words
and shares that add up, never a raw score, a formula or an internal name.

The test walks every page of the app at desktop width, anonymous and signed in, opens
every "Why this?" and every tab, reads the visible text of the main element and fails
on a number with more than two decimals, a formula ("0.5 x text similarity"), a
snake_case name or a field name used as a label ("bio:"), an id, or a language code
shown alone. On the search page the highlighted words must be words of the query as
typed (never stems such as "violen"), and no result may show a bare number as its
strength. Screenshots go to var/artifacts/screenshots/plain-words-*.png.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Browser, Page

from tests.web.conftest import (
    PAGE_TIMEOUT_MS,
    SCREENSHOTS,
    Site,
    open_page,
    screenshot,
)
from tests.web.test_pages import first_with
from tests.web.test_social import someone

pytestmark = pytest.mark.slow

QUERY = "youth mentoring against gang violence"

LONG_DECIMAL = re.compile(r"(?<![\d.])\d+\.\d{3,}(?![\d.])")
FORMULA = re.compile(
    r"\d\s*[×*]\s*\w"  # 0.5 * text, 0.5 × text
    r"|(?<![\w.])\d+(?:\.\d+)?\s+x\s+[A-Za-z]"  # 0.5 x text
    r"|\w\s*\+\s*\d+(?:\.\d+)?\s*(?:x|×|\*)"  # ... + 0.3 x goals
    r"|\b[a-z]+\s*=\s*-?\d"  # score = 0.59
)
# A score shown by its internal name ("lexical rank 16.0", "graph 18.0", "content
# similarity -0.16") or a fractional count ("46.4 shortest paths").
RAW_SCORE = re.compile(
    r"\b(?:score|rank|similarity|lexical|dense|graph|text|complement|proximity|diversity|"
    r"overlap|betweenness|cowork|activity|bridging)\s*[:\t ]\s*-?\d+\.\d+"
    r"|\d+\.\d+\s+(?:shortest\s+)?paths\b",
    re.IGNORECASE,
)
SNAKE_CASE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")
NODE_ID = re.compile(
    r"\b(?:person|initiative|organization|community|council|sector|sdg|sdg_target|"
    r"wisdom_entry|event):[A-Za-z0-9]"
)
FIELD_LABELS = (
    "bio", "body", "description", "summary", "text", "title", "name", "interests",
    "skills", "offers", "needs", "fields", "score", "dense", "lexical", "graph",
    "complement", "proximity", "diversity", "components",
)  # fmt: skip
FIELD_LABEL = re.compile(r"(?:^|[\s(])(" + "|".join(FIELD_LABELS) + r"):", re.MULTILINE)
LANGUAGE_CODES = frozenset({
    "ar", "bn", "zh", "nl", "en", "fa", "fr", "de", "el", "ha", "he", "hi", "id", "it", "ja",
    "ko", "ms", "pl", "pt", "pa", "ro", "ru", "es", "sw", "sv", "tl", "ta", "th", "tr", "uk",
    "ur", "vi", "yo", "zu",
})  # fmt: skip
BARE_NUMBER = re.compile(r"^\s*-?\d+(?:\.\d+)?\s*$")

# Every element with no element inside it, as shown: a language code alone is one.
LEAVES = """(main) => [...main.querySelectorAll('*')]
  .filter((e) => e.children.length === 0 && e.getClientRects().length > 0)
  .map((e) => (e.textContent || '').trim())
  .filter(Boolean)"""


@dataclass
class Finding:
    page: str
    what: str
    text: str


@dataclass
class Reader:
    """The visible text of each page walked, and what it should not say."""

    findings: list[Finding] = field(default_factory=list)
    walked: list[str] = field(default_factory=list)

    def read(
        self, page: Page, name: str, path: str, act: Callable[[Page], None] | None = None
    ) -> str:
        """Read a page (after ``act``, a form sent for example), every tab and "Why this?"."""
        open_page(page, path)
        if act is not None:
            act(page)
        self.walked.append(name)
        texts = [self._visible(page)]
        tabs = page.locator("main [role=tab]")
        for at in range(tabs.count()):
            tabs.nth(at).click()
            page.wait_for_function(
                "() => !document.querySelector('main [role=tabpanel]:not([hidden]) .loading')",
                timeout=PAGE_TIMEOUT_MS,
            )
            texts.append(self._visible(page))
        screenshot(page, f"plain-words-{name}")
        page.evaluate("window.scrollTo(0, 0)")  # the first screen, as a visitor sees it
        page.screenshot(path=str(SCREENSHOTS / f"plain-words-{name}-top.png"))
        first = page.locator("main :is(.rec, .hit) >> visible=true").first
        if first.count():  # one result close up, to read as a volunteer would
            first.screenshot(path=str(SCREENSHOTS / f"plain-words-{name}-first.png"))
        text = "\n".join(texts)
        self.check(name, text, page.locator("main").evaluate(LEAVES))
        return text

    @staticmethod
    def _visible(page: Page) -> str:
        page.evaluate("document.querySelectorAll('main details').forEach((d) => d.open = true)")
        return page.locator("main").inner_text()

    def check(self, name: str, text: str, leaves: list[str]) -> None:
        def found(what: str, pattern: re.Pattern[str]) -> None:
            for match in pattern.finditer(text):
                start = max(0, match.start() - 40)
                self.findings.append(Finding(name, what, text[start : match.end() + 40]))

        found("a number with more than two decimals", LONG_DECIMAL)
        found("a formula", FORMULA)
        found("a raw score", RAW_SCORE)
        found("an internal name", SNAKE_CASE)
        found("an id", NODE_ID)
        found("a field name as a label", FIELD_LABEL)
        for leaf in leaves:
            if leaf in LANGUAGE_CODES:
                self.findings.append(Finding(name, "a language code alone", leaf))

    def report(self) -> str:
        return "\n".join(f"{f.page}: {f.what}: {f.text!r}" for f in self.findings)


def _slug(node_id: str) -> str:
    return node_id.split(":", 1)[1]


def anonymous_pages(site: Site) -> dict[str, str]:
    """One address per page an anonymous visitor can open, on real ids of the demo."""
    person = first_with(site, "person", "knows")
    initiative = first_with(site, "initiative", "works_on")
    community = first_with(site, "community", "located_in")
    return {
        "home": "/",
        "search": f"/?q={QUERY.replace(' ', '+')}",
        "person": f"/people/{_slug(person)}",
        "initiative": f"/initiatives/{_slug(initiative)}",
        "goal": "/nodes/sdg:4",
        "community": f"/nodes/{community}",
        "councils": "/sectors",
        "sector": "/sectors/health",
        "map": "/map",
        "graph": "/graph",
        "graph-node": f"/graph/{initiative}",
        "editor": "/editor",
        "communities": "/communities",
        "join": "/join",
        "signin": "/signin",
    }


def _learn(page: Page) -> None:
    """A community asks who faced its issues: the answers are explained too."""
    page.get_by_role("button", name="Find who faced them").click()
    page.get_by_role("heading", name="Communities that faced these issues").wait_for()
    page.wait_for_function("() => !document.querySelector('main .loading')")


SIGNED_IN_PAGES = {
    "me": "/me",
    "matches": "/matches",
    "inbox": "/inbox",
    "settings": "/settings",
    "digest": "/digest",
}


def test_every_page_speaks_plain_words(site: Site, browser: Browser) -> None:
    reader = Reader()
    anonymous = browser.new_context(base_url=site.url, viewport={"width": 1280, "height": 900})
    anonymous.set_default_timeout(PAGE_TIMEOUT_MS)
    try:
        page = anonymous.new_page()
        for name, path in anonymous_pages(site).items():
            reader.read(page, name, path)
        community = anonymous_pages(site)["community"]
        reader.read(page, "community-learning", community, _learn)
    finally:
        anonymous.close()
    member = someone(site, "Wren Words")
    signed = browser.new_context(base_url=site.url, viewport={"width": 1280, "height": 900})
    signed.set_default_timeout(PAGE_TIMEOUT_MS)
    signed.add_init_script(f"sessionStorage.setItem('cocreate.key', {member.key!r});")
    try:
        page = signed.new_page()
        for name, path in SIGNED_IN_PAGES.items():
            reader.read(page, name, path)
    finally:
        signed.close()
    assert len(reader.walked) == len(anonymous_pages(site)) + 1 + len(SIGNED_IN_PAGES)
    assert not reader.findings, reader.report()


def test_search_results_show_words_as_typed_and_strength_in_words(
    site: Site, browser: Browser
) -> None:
    context = browser.new_context(base_url=site.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    try:
        page = context.new_page()
        open_page(page, f"/?q={QUERY.replace(' ', '+')}")
        hits = page.locator("main .hit")
        assert hits.count() > 0
        typed = set(QUERY.split())
        marked = page.locator("main .hit .summary mark").all_inner_texts()
        assert marked, "no result names the words that matched"
        assert {m.lower() for m in marked} <= typed, f"stems or other words shown: {marked}"
        strengths = page.locator("main .hit .strength").all_inner_texts()
        assert len(strengths) == hits.count()
        assert not [s for s in strengths if BARE_NUMBER.match(s)], strengths
        first = hits.first.locator(".summary")
        assert first.inner_text().strip(), "a result does not lead with a sentence"
    finally:
        context.close()


def test_the_checks_catch_what_the_issue_found() -> None:
    """The patterns fail on the very texts the issue quotes, and pass on plain ones."""
    reader = Reader()
    bad = [
        "Parts of the score 0.5932",
        "0.5 x text similarity + 0.3 x shared goals",
        "lexical_rank 16.0",
        "bio: I teach reading",
        "content_similarity -0.16",
        "from person:maria-lopez",
        "lexical rank\t16.0",
        "46.4 shortest paths pass through them",
    ]
    for text in bad:
        reader.check("sample", text, [])
    reader.check("sample", "", ["en"])
    assert {f.text.strip() for f in reader.findings} >= {"Parts of the score 0.5932", "en"}
    assert len({f.text for f in reader.findings}) >= len(bad) + 1
    plain = Reader()
    plain.check(
        "sample",
        "Strong match: you both care about SDG 4 Quality education; about 50 km away.\n"
        "Linked in the network 62%\nShared goals 38%\nLanguages\nEnglish, Spanish",
        ["English", "Spanish"],
    )
    assert not plain.findings, plain.report()


STRENGTH_WORDS = {"Strong match", "Good match", "Some overlap", "Loosely related"}


def test_recommendations_show_strength_in_words_and_shares_that_add_up(
    site: Site, browser: Browser
) -> None:
    """On a person's page every recommendation says its strength on the one scale, and
    each "Why this?" table's shares add up to 100%."""
    context = browser.new_context(base_url=site.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    try:
        page = context.new_page()
        open_page(page, anonymous_pages(site)["person"])
        recs = page.locator("main .rec")
        assert recs.count() > 0
        strengths = page.locator("main .rec .strength").all_text_contents()
        assert len(strengths) == recs.count()
        assert set(strengths) <= STRENGTH_WORDS, strengths
        tables = page.locator("main table.components")
        assert tables.count() > 0
        for at in range(tables.count()):
            cells = tables.nth(at).locator("td.num").all_text_contents()
            assert all(c.endswith("%") for c in cells), cells
            assert sum(int(c.rstrip("%")) for c in cells) == 100, cells
    finally:
        context.close()
