"""The editorial graph code on a small hand-built network, with a spelling-only encoder.

Meaning is covered by the API tests on the demo network with the real model; here the
hashing encoder (words and letter trigrams) is enough to check near-duplicates, the
candidate sets, paths, consent and the local-first order of connectors.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from embeddings.encoder import HashingEncoder
from embeddings.tokenize import tokens
from graph.edges import Edge
from graph.editorial import (
    NEAR_DUPLICATE,
    Draft,
    PassageVectors,
    find_practitioners,
    learn_from_communities,
    related_wisdom,
)
from graph.editorial.communities import DID_PER_KIND
from graph.editorial.explain import reverse
from graph.editorial.related import BEFORE, RANKING, TITLE_DEPTH, Ranking
from graph.editorial.text import phrases, resemblance, sentences, shingles
from graph.editorial.titles import BODY_CREDIT, EntryTitles
from graph.model import Community, Initiative, Node, Person, Place, WisdomEntry
from graph.similarity import VectorSimilarity
from graph.store import Store
from graph.texts import node_text
from graph.view import GraphView
from tests.conftest import DATA

GARDEN = (
    "We started a school garden with a small group of parents. Every Friday the children "
    "planted vegetables, weeded the beds and cooked what they grew. The first harvest "
    "went to the school kitchen, and the teachers used the garden for science lessons."
)
REWORDED = GARDEN.replace("started", "launched").replace("small group", "handful")
MURAL = (
    "Residents painted a mural on the wall of the old cinema. Artists sketched the design "
    "with neighbours, and young people filled in the colours over three weekends."
)
SAC = Place(name="Sacramento", country="US", lat=38.58, lon=-121.49)
DAVIS = Place(name="Davis", country="US", lat=38.54, lon=-121.74)
LONDON = Place(name="London", country="GB", lat=51.5, lon=-0.12)


def network() -> list[Node | Edge]:
    people = [
        Person(id="person:author", name="Ana Author", interests=["school gardens"]),
        Person(id="person:worker", name="Wes Worker", interests=["cooking with children"]),
        Person(id="person:topic", name="Tia Topic", interests=["quality education"]),
        Person(id="person:loner", name="Lou Loner", interests=["school garden vegetables"]),
        Person(
            id="person:hidden",
            name="Hal Hidden",
            interests=["school garden harvest"],
            discoverable=False,
        ),
        Person(
            id="person:near",
            name="Nia Near",
            place=SAC,
            location_precision="exact",
            interests=["gang violence prevention"],
        ),
        Person(id="person:davis", name="Dev Davis", place=DAVIS, interests=["youth"]),
        Person(id="person:far", name="Fay Far", place=LONDON, interests=["youth violence"]),
        Person(
            id="person:vague",
            name="Val Vague",
            place=SAC,
            location_precision="country",
            interests=["youth violence"],
        ),
    ]
    return [
        Community(
            id="community:sacramento",
            name="Compassionate Sacramento",
            place=SAC,
            issues=["gang violence", "youth empowerment"],
        ),
        Community(
            id="community:oakland",
            name="Compassionate Oakland",
            place=Place(name="Oakland", country="US", lat=37.8, lon=-122.27),
            issues=["gang violence", "youth violence"],
        ),
        Community(
            id="community:reykjavik",
            name="Compassionate Reykjavik",
            issues=["loneliness of elders"],
        ),
        *people,
        Initiative(
            id="initiative:kitchen",
            name="Kitchen Garden",
            description="Children grow and cook vegetables at school.",
        ),
        Initiative(
            id="initiative:interrupters",
            name="Oakland Violence Interrupters",
            description="Young people trained to interrupt gang violence.",
        ),
        Initiative(id="initiative:tea", name="Tea for Elders", description="Visiting elders."),
        WisdomEntry(id="wisdom_entry:garden", name="Our school garden", body=GARDEN),
        WisdomEntry(
            id="wisdom_entry:garden-again", name="Our school garden (revised)", body=REWORDED
        ),
        WisdomEntry(id="wisdom_entry:mural", name="A mural with neighbours", body=MURAL),
        Edge(kind="authored", source="person:author", target="wisdom_entry:garden"),
        Edge(kind="authored", source="person:hidden", target="wisdom_entry:garden"),
        Edge(kind="describes", source="wisdom_entry:garden", target="initiative:kitchen"),
        Edge(kind="works_on", source="person:worker", target="initiative:kitchen"),
        Edge(kind="works_on", source="person:hidden", target="initiative:kitchen"),
        Edge(kind="addresses", source="wisdom_entry:garden", target="sdg:4"),
        Edge(kind="in_sector", source="wisdom_entry:garden", target="sector:education"),
        Edge(kind="interested_in", source="person:topic", target="sdg_target:4.1"),
        Edge(kind="addresses", source="community:oakland", target="sdg:16"),
        Edge(kind="located_in", source="initiative:interrupters", target="community:oakland"),
        Edge(kind="works_on", source="person:far", target="initiative:interrupters"),
        Edge(kind="works_on", source="person:vague", target="initiative:interrupters"),
        Edge(kind="works_on", source="person:hidden", target="initiative:interrupters"),
        Edge(kind="located_in", source="person:near", target="community:sacramento"),
        Edge(kind="member_of", source="person:davis", target="community:sacramento"),
    ]


@pytest.fixture
def world(store: Store) -> tuple[GraphView, VectorSimilarity]:
    store.write(network())
    view = GraphView.from_store(store)
    encoder = HashingEncoder(256)
    mine = [n for n in store.iter_nodes() if n.kind not in ("sdg", "sdg_target", "sector")]
    vectors = encoder.encode([node_text(n) for n in mine])
    return view, VectorSimilarity(dict(zip([n.id for n in mine], vectors, strict=True)), encoder)


def of_kind(view: GraphView, kind: str) -> set[str]:
    return {n for n, attrs in view.graph.nodes(data=True) if attrs["kind"] == kind}


def people(view: GraphView) -> set[str]:
    """Discoverable people, as the service would pass them."""
    graph = view.graph
    return {n for n in of_kind(view, "person") if graph.nodes[n]["discoverable"]}


def ids(items: Iterable[object]) -> list[str]:
    return [item.node_id for item in items]  # type: ignore[attr-defined]


def test_sentences_phrases_and_word_resemblance() -> None:
    assert sentences("We met. Then we ate. It was a long and good day!") == [
        "We met. Then we ate.",
        "It was a long and good day!",
    ]
    assert phrases("youth violence, drug use; lack of care\nhomelessness") == [
        "youth violence", "drug use", "lack of care", "homelessness",
    ]  # fmt: skip
    garden = shingles(GARDEN, tokens)
    assert resemblance(garden, garden) == 1.0
    assert resemblance(garden, shingles(MURAL, tokens)) == 0.0
    assert NEAR_DUPLICATE <= resemblance(garden, shingles(REWORDED, tokens)) < 1.0
    assert resemblance(garden, frozenset()) == 0.0


def test_a_refiled_entry_is_a_near_duplicate_not_a_related_one(
    store: Store, world: tuple[GraphView, VectorSimilarity]
) -> None:
    view, similarity = world
    draft = Draft.filed(store.get_node("wisdom_entry:garden"))
    found = related_wisdom(view.graph, store, similarity, draft,
                           entries=of_kind(view, "wisdom_entry"), topics={"sdg:4"},
                           tokens=tokens, limit=5)  # fmt: skip
    assert ids(found.near_duplicates) == ["wisdom_entry:garden-again"]
    duplicate = found.near_duplicates[0]
    assert duplicate.score >= NEAR_DUPLICATE
    assert "Nearly the same text as this entry" in duplicate.explanation["summary"]
    assert ids(found.related) == ["wisdom_entry:mural"]  # never the entry itself
    why = found.related[0].explanation
    assert why["summary"].startswith("Close in meaning to this entry")
    assert {p["from"] for p in why["passages"]} == {"related", "query"}
    assert why["components"]["topics"] == 0.0  # the mural is not about SDG 4


def test_a_draft_finds_the_entry_it_copies_and_only_among_the_allowed(
    store: Store, world: tuple[GraphView, VectorSimilarity]
) -> None:
    view, similarity = world
    draft = Draft.written("School garden", GARDEN)  # a copy under a new title
    kwargs = {"topics": {"sdg:4", "sector:education"}, "tokens": tokens, "limit": 5}
    found = related_wisdom(view.graph, store, similarity, draft,
                           entries=of_kind(view, "wisdom_entry"), **kwargs)  # type: ignore[arg-type]  # fmt: skip
    assert sorted(ids(found.near_duplicates)) == [
        "wisdom_entry:garden",
        "wisdom_entry:garden-again",
    ]
    summary = found.near_duplicates[0].explanation["summary"]
    assert summary.startswith("Nearly the same text as your draft")
    narrowed = related_wisdom(view.graph, store, similarity, draft,
                              entries={"wisdom_entry:mural"}, **kwargs)  # type: ignore[arg-type]  # fmt: skip
    assert ids(narrowed.related) == ["wisdom_entry:mural"]
    assert narrowed.near_duplicates == []


def test_practitioners_are_linked_consenting_and_shown_with_their_path(
    store: Store, world: tuple[GraphView, VectorSimilarity]
) -> None:
    view, similarity = world
    draft = Draft.written("A school garden", "Children grow vegetables at school.")
    entries = {"wisdom_entry:garden": 1.0, "wisdom_entry:mural": 0.4}
    found = find_practitioners(view.graph, store, similarity, draft, entries,
                               people=people(view), limit=10)  # fmt: skip
    by_id = {item.node_id: item.explanation for item in found}
    assert set(by_id) == {"person:author", "person:worker", "person:topic"}
    assert "person:hidden" not in by_id  # linked three ways, but not discoverable
    assert "person:loner" not in by_id  # close words, but no link to the related entries
    assert by_id["person:author"]["summary"].startswith('Wrote the related entry "Our school')
    worker = by_id["person:worker"]["path"]
    assert [step.get("id") or step["edge"] for step in worker] == [
        "person:worker", "works_on", "initiative:kitchen", "describes", "wisdom_entry:garden",
    ]  # fmt: skip
    assert [s["direction"] for s in worker if "edge" in s] == ["out", "in"]
    topic = by_id["person:topic"]
    assert [s.get("id") or s["edge"] for s in topic["path"]] == [
        "person:topic", "interested_in", "sdg_target:4.1", "part_of", "sdg:4", "addresses",
        "wisdom_entry:garden",
    ]  # fmt: skip
    assert topic["sdgs"] == [{"id": "sdg:4", "number": 4, "name": "Quality education"}]
    assert "SDG 4 Quality education" in topic["summary"]
    scores = [item.score for item in found]
    assert scores == sorted(scores, reverse=True)
    again = find_practitioners(view.graph, store, similarity, draft, entries,
                               people=people(view), limit=10)  # fmt: skip
    assert again == found


def test_reverse_walks_a_path_back() -> None:
    hops = (("works_on", True, "initiative:a"), ("addresses", True, "sdg:4"))
    assert reverse("person:p", hops) == (
        ("addresses", False, "initiative:a"),
        ("works_on", False, "person:p"),
    )


def test_communities_learn_from_similar_ones_with_local_connectors_first(
    store: Store, world: tuple[GraphView, VectorSimilarity]
) -> None:
    view, similarity = world

    def learn(allow_edge: object = None) -> object:
        return learn_from_communities(
            view.graph, store, similarity, "community:sacramento", "youth violence, gangs",
            communities=of_kind(view, "community"), initiatives=of_kind(view, "initiative"),
            people=people(view), goals={"sdg:16": 0.9}, tokens=tokens, limit=5,
            allow_edge=allow_edge, cache=PassageVectors(100),  # type: ignore[arg-type]
        )  # fmt: skip

    found = learn()
    communities = ids(found.communities)  # type: ignore[attr-defined]
    assert communities[0] == "community:oakland"
    assert "community:sacramento" not in communities
    oakland = found.communities[0].explanation  # type: ignore[attr-defined]
    assert oakland["sdgs"] == [
        {"id": "sdg:16", "number": 16, "name": "Peace, justice and strong institutions"}
    ]
    initiatives = found.initiatives  # type: ignore[attr-defined]
    assert ids(initiatives)[0] == "initiative:interrupters"
    assert initiatives[0].explanation["community"]["id"] == "community:oakland"
    connectors = found.connectors  # type: ignore[attr-defined]
    # Local first: Sacramento itself, then Davis (~22 km), then London, then no place shared
    # (Wes works on the school kitchen garden, the last of the three initiatives found).
    assert ids(connectors)[:3] == ["person:near", "person:davis", "person:far"]
    assert set(ids(connectors)[3:]) == {"person:vague", "person:worker"}
    bands = [c.explanation["distance_band"] for c in connectors]
    assert bands == ["within 10 km", "within 50 km", "over 1000 km", None, None]
    assert "person:hidden" not in ids(connectors)
    near = connectors[0].explanation
    assert near["summary"] == (
        "Within 10 km of Compassionate Sacramento; belongs to Compassionate Sacramento."
    )
    assert [s.get("id") or s["edge"] for s in near["path"]] == [
        "person:near", "located_in", "community:sacramento",
    ]  # fmt: skip

    def no_community_links(source: str, kind: str, target: str) -> bool:
        return kind not in ("located_in", "member_of")

    hidden_links = ids(learn(no_community_links).connectors)  # type: ignore[attr-defined]
    assert "person:near" not in hidden_links
    assert "person:davis" not in hidden_links


def test_without_coordinates_no_distance_is_claimed(
    store: Store, world: tuple[GraphView, VectorSimilarity]
) -> None:
    view, similarity = world
    found = learn_from_communities(
        view.graph, store, similarity, "community:reykjavik", "lonely elders",
        communities=of_kind(view, "community"), initiatives=of_kind(view, "initiative"),
        people=people(view), goals={}, tokens=tokens, limit=5,
    )  # fmt: skip
    assert found.connectors
    for connector in found.connectors:
        assert connector.explanation["distance_band"] is None
        assert connector.explanation["summary"].startswith(
            "Compassionate Reykjavik has no coordinates to measure a distance from; "
        )


# -- the title match of related entries, and what similar communities did ----------------------

MENTORING = (
    "Older students mentor teenagers after school. The mentors listen, help with homework "
    "and stay with the young people at risk through the hard months."
)
INTERRUPTERS = (
    "Respected people from the street step in before a shooting turns into revenge. They "
    "keep a phone line open at night and follow up at the hospital."
)


def built(store: Store, records: list[Node | Edge]) -> tuple[GraphView, VectorSimilarity]:
    store.write(records)
    view = GraphView.from_store(store)
    encoder = HashingEncoder(256)
    mine = [n for n in store.iter_nodes() if n.kind not in ("sdg", "sdg_target", "sector")]
    vectors = encoder.encode([node_text(n) for n in mine])
    return view, VectorSimilarity(dict(zip([n.id for n in mine], vectors, strict=True)), encoder)


def test_the_entry_whose_title_names_the_practice_comes_first(store: Store) -> None:
    entries: list[Node | Edge] = [
        WisdomEntry(id="wisdom_entry:interrupters", name="Violence interrupters in Oakland",
                    body=INTERRUPTERS),
        *(WisdomEntry(id=f"wisdom_entry:mentors-{n}", name=title, body=MENTORING)
          for n, title in enumerate(["Peer mentoring for first-year students",
                                     "Mentors at our college", "Mentoring after school"])),
    ]  # fmt: skip
    view, similarity = built(store, entries)
    allowed = of_kind(view, "wisdom_entry")
    titles = EntryTitles.build(
        ((n.id, n.name) for n in entries if isinstance(n, WisdomEntry)), tokens
    )
    # A draft named for the practice whose body speaks of mentoring teenagers.
    draft = Draft.written(
        "Violence interrupters on our block",
        "After the shootings, older men from the street mentor teenagers at risk.",
    )

    def first(ranking: Ranking, titles: EntryTitles | None = titles) -> list[str]:
        found = related_wisdom(view.graph, store, similarity, draft, entries=allowed,
                               topics=(), tokens=tokens, limit=4, titles=titles,
                               ranking=ranking)  # fmt: skip
        return ids(found.related)

    # Text similarity alone ranks by theme: the mentoring entries first.
    assert first(BEFORE)[0].startswith("wisdom_entry:mentors-")
    assert first(RANKING, None)[0].startswith("wisdom_entry:mentors-")
    assert first(RANKING)[0] == "wisdom_entry:interrupters"
    found = related_wisdom(view.graph, store, similarity, draft, entries=allowed, topics=(),
                           tokens=tokens, limit=4, titles=titles)  # fmt: skip
    why = found.related[0].explanation
    assert why["title_terms"] == ["interrupters", "Violence"]
    assert 'its title names "interrupters" and "Violence", as your draft does' in why["summary"]
    # First by its title, though another entry's text is closer to the draft's.
    closest = max(item.explanation["components"]["text"] for item in found.related)
    assert why["components"]["title"] > 0.5 and why["components"]["text"] < closest
    # A plain title that says nothing of the practice changes nothing.
    plain = EntryTitles.build([("wisdom_entry:x", "Notes"), ("wisdom_entry:y", "Notes")], tokens)
    assert plain.match("Our year", "We mentor teenagers.") == {}


def test_similar_communities_show_what_they_did_linked_and_without_people(
    store: Store,
) -> None:
    records = [
        *network(),
        WisdomEntry(id="wisdom_entry:oakland-streets", name="Interrupting gang violence",
                    body="How Oakland's interrupters calmed the streets."),
        WisdomEntry(id="wisdom_entry:oakland", name="A year in Oakland",
                    body="Youth violence went down after the city listened to young people."),
        Edge(kind="describes", source="wisdom_entry:oakland-streets",
             target="initiative:interrupters"),
        Edge(kind="describes", source="wisdom_entry:oakland", target="community:oakland"),
        Edge(kind="authored", source="person:hidden", target="wisdom_entry:oakland"),
    ]  # fmt: skip
    view, similarity = built(store, records)
    found = learn_from_communities(
        view.graph, store, similarity, "community:sacramento", "youth violence, gangs",
        communities=of_kind(view, "community"), initiatives=of_kind(view, "initiative"),
        entries=of_kind(view, "wisdom_entry"), people=people(view), goals={"sdg:16": 0.9},
        tokens=tokens, limit=5,
    )  # fmt: skip
    oakland = next(c for c in found.communities if c.node_id == "community:oakland")
    did = oakland.explanation["did"]
    assert [d["id"] for d in did] == [
        "initiative:interrupters", "wisdom_entry:oakland-streets", "wisdom_entry:oakland",
    ] or [d["id"] for d in did] == [
        "initiative:interrupters", "wisdom_entry:oakland", "wisdom_entry:oakland-streets",
    ]  # fmt: skip
    reasons = {d["id"]: d["reason"] for d in did}
    assert reasons["initiative:interrupters"] == (
        'The initiative "Oakland Violence Interrupters" is in Compassionate Oakland.'
    )
    assert reasons["wisdom_entry:oakland-streets"] == (
        'The Wisdom Book entry "Interrupting gang violence" tells of "Oakland Violence '
        'Interrupters", in Compassionate Oakland.'
    )
    assert reasons["wisdom_entry:oakland"] == (
        'The Wisdom Book entry "A year in Oakland" tells of Compassionate Oakland.'
    )
    assert all({"id", "kind", "name", "reason"} <= d.keys() for d in did)
    assert "what they did: " in oakland.explanation["summary"]
    assert "person:" not in str(oakland.explanation)
    entries = ids(found.entries)
    assert set(entries) >= {"wisdom_entry:oakland-streets", "wisdom_entry:oakland"}
    told = next(e for e in found.entries if e.node_id == "wisdom_entry:oakland")
    assert told.explanation["community"]["id"] == "community:oakland"
    assert told.explanation["summary"].startswith("Tells of work on issues like yours")
    # Entries the caller may not list are neither deeds nor found.
    narrowed = learn_from_communities(
        view.graph, store, similarity, "community:sacramento", "youth violence, gangs",
        communities=of_kind(view, "community"), initiatives=of_kind(view, "initiative"),
        entries={"wisdom_entry:oakland"}, people=people(view), goals={}, tokens=tokens,
    )  # fmt: skip
    assert ids(narrowed.entries) == ["wisdom_entry:oakland"]
    oakland = next(c for c in narrowed.communities if c.node_id == "community:oakland")
    assert "wisdom_entry:oakland-streets" not in str(oakland.explanation)


def test_the_editors_doc_states_the_weights_the_code_uses() -> None:
    doc = " ".join((DATA.parent / "docs" / "editors.md").read_text(encoding="utf-8").split())
    r = RANKING
    assert f"`{r.text} text + {r.title} title + {r.topics} topics`" in doc
    assert f"the {TITLE_DEPTH} best by title match" in doc
    assert BODY_CREDIT == 0.5 and "half when only its body does" in doc
    assert f"up to {DID_PER_KIND} initiatives, then up to {DID_PER_KIND} Wisdom Book" in doc
