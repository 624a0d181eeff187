"""Search and more-like-this through the app, with the real model on the fixture network."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.auth import ANONYMOUS
from api.services import Services
from graph.edges import Edge
from graph.filters import SearchFilter, matching_ids
from graph.model import Initiative, Person, Place, SdgTarget
from graph.visibility import edge_filter
from tests.api.conftest import HIDDEN_FROM_ANONYMOUS

Headers = dict[str, dict[str, str]]


def ids(response: object) -> list[str]:
    body = response.json()  # type: ignore[attr-defined]
    return [item["node"]["id"] for item in body["items"]]


def test_search_finds_people_in_their_own_words_and_explains_why(client: TestClient) -> None:
    response = client.get("/v1/search", params={"q": "mentoring young people to prevent gang "
                                                "violence", "kind": "person"})  # fmt: skip
    assert response.status_code == 200, response.text
    hits = response.json()["items"]
    assert hits[0]["node"]["id"] == "person:maria"
    why = hits[0]["explanation"]
    assert why["mode"] == "hybrid"
    assert "mentoring" in why["matched_terms"]
    assert "interests" in why["fields"]
    assert why["passage"]["field"] in why["fields"]
    assert why["scores"]["dense"] > 0
    assert why["filters"] == {"kinds": ["person"]}
    scores = [hit["score"] for hit in hits]
    assert scores == sorted(scores, reverse=True)


def test_modes_and_goals_are_searchable(client: TestClient) -> None:
    for mode in ("dense", "lexical", "hybrid"):
        found = ids(client.get("/v1/search", params={"q": "quality education for all children",
                                                     "kind": "sdg", "mode": mode}))  # fmt: skip
        assert found[0] == "sdg:4", mode


def test_a_rare_filter_still_returns_every_match(
    client: TestClient, services: Services, keys: Headers
) -> None:
    # Two initiatives in Iceland; dozens of nodes match the words better elsewhere.
    reykjavik = Place(name="Reykjavik", country="IS", lat=64.15, lon=-21.94)
    services.store.write([
        Initiative(id="initiative:geothermal-greenhouses", name="Geothermal greenhouses",
                   description="Growing vegetables with hot springs.", place=reykjavik),
        Initiative(id="initiative:harbour-choir", name="Harbour choir",
                   description="Singing together.", place=reykjavik),
    ])  # fmt: skip
    found = ids(client.get("/v1/search", params={"q": "education", "country": "IS", "limit": 5}))
    assert sorted(found) == ["initiative:geothermal-greenhouses", "initiative:harbour-choir"]
    page = client.get("/v1/search", params={"q": "education", "country": "IS", "limit": 1})
    assert page.json()["total"] == 2


def test_private_profiles_never_appear_to_anonymous_callers(
    client: TestClient, keys: Headers
) -> None:
    for q in ("Pri Private", "Mo Member", "Shy Undiscoverable", "person"):
        text = client.get("/v1/search", params={"q": q, "limit": 100}).text
        for hidden in HIDDEN_FROM_ANONYMOUS:
            assert hidden not in text, (q, hidden)
    admin = ids(client.get("/v1/search", params={"q": "Pri Private"}, headers=keys["admin"]))
    assert admin[0] == "person:priv"
    own = ids(client.get("/v1/search", params={"q": "Mo Member"}, headers=keys["member"]))
    assert own[0] == "person:mem"


def test_an_edited_node_is_found_by_its_new_text_not_its_old(
    client: TestClient, keys: Headers
) -> None:
    editor = keys["editor"]
    created = client.post("/v1/nodes", headers=editor, json={
        "kind": "initiative", "id": "initiative:harbour-choir", "name": "Harbour choir",
        "description": "Choir singing for sailors."})  # fmt: skip
    assert created.status_code == 201
    bees = {"q": "beekeeping on city rooftops", "kind": "initiative", "mode": "lexical"}
    choir = {"q": "choir singing", "kind": "initiative", "mode": "lexical"}
    assert "initiative:harbour-choir" not in ids(client.get("/v1/search", params=bees))
    assert ids(client.get("/v1/search", params=choir))[0] == "initiative:harbour-choir"
    patched = client.patch(
        "/v1/nodes/initiative:harbour-choir",
        headers=editor,
        json={"description": "Urban beekeeping on city rooftops."},
    )
    assert patched.status_code == 200
    # No waiting: the index follows the write before the response is sent.
    assert ids(client.get("/v1/search", params=bees))[0] == "initiative:harbour-choir"
    assert ids(client.get("/v1/search", params=bees | {"mode": "hybrid"}))[0] == (
        "initiative:harbour-choir"
    )
    singing = {"q": "singing sailors", "kind": "initiative", "mode": "lexical"}
    assert "initiative:harbour-choir" not in ids(client.get("/v1/search", params=singing))


def test_radius_filter_uses_coarsened_places_only(client: TestClient, services: Services) -> None:
    near = {"q": "person", "kind": "person", "lat": 38.5741, "lon": -121.4831, "radius_km": 1}
    found = ids(client.get("/v1/search", params=near))
    # Pia shares her exact place; Cato only his city (his public point is ~4 km away).
    assert "person:pub" in found
    assert "person:city" not in found
    wider = ids(client.get("/v1/search", params=near | {"radius_km": 10}))
    assert "person:city" in wider
    assert "person:country" not in wider  # no coordinates at all at country precision
    hit = client.get("/v1/search", params=near | {"radius_km": 10}).json()["items"]
    by_id = {h["node"]["id"]: h["explanation"] for h in hit}
    assert by_id["person:city"]["distance_km"] == 4
    assert by_id["person:city"]["distance_band"] == "within 10 km"
    bad = client.get("/v1/search", params={"q": "x", "lat": 10})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"query.lon", "query.radius_km"}


def test_more_like_this_from_stored_vectors(
    client: TestClient, services: Services, keys: Headers
) -> None:
    services.store.write([
        Person(id="person:ivy", name="Ivy Chen", interests=["youth mentoring", "gang prevention"]),
        Person(id="person:olaf", name="Olaf Berg", interests=["solar panels", "wind energy"]),
        Edge(kind="knows", source="person:ivy", target="person:olaf"),
    ])  # fmt: skip
    similar = client.get("/v1/nodes/person:maria/similar", params={"kind": "person"})
    assert similar.status_code == 200, similar.text
    found = ids(similar)
    assert found.index("person:ivy") < found.index("person:olaf")
    assert "person:maria" not in found
    unlike = ids(client.get("/v1/nodes/person:maria/similar",
                            params={"kind": "person", "unlike": "person:ivy"}))  # fmt: skip
    assert "person:ivy" not in unlike
    hidden = client.get("/v1/nodes/person:priv/similar")
    assert hidden.status_code == 404


def test_random_letters_get_a_plain_no_good_match(client: TestClient) -> None:
    for mode in ("hybrid", "dense", "lexical"):
        response = client.get("/v1/search", params={"q": "xqzv kplmw", "mode": mode})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["items"] == [], mode
        assert body["no_good_match"] is True and body["message"] == "no good match"


def test_a_real_query_is_a_good_match_with_words_as_typed(client: TestClient) -> None:
    body = client.get("/v1/search", params={"q": "What about Mentoring the youths?"}).json()
    assert body["items"] and body["no_good_match"] is False and body["message"] is None
    words = {w for item in body["items"] for w in item["explanation"]["matched_terms"]}
    assert "Mentoring" in words  # as typed, not the stem "mentor"
    assert not words & {"What", "about", "the", "what"}


def test_no_good_match_is_in_the_openapi_document(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()["components"]["schemas"]["TextSearchPage"]
    assert {"no_good_match", "message"} <= set(schema["properties"])


def test_a_filters_ids_are_kept_for_their_version_and_callers_and_follow_every_write(
    client: TestClient, services: Services, keys: Headers
) -> None:
    """The ids passing a filter are found once per version for the callers who may not
    find the same people (the same object, whose rows each index remembers); another
    caller, or a write, finds them anew."""
    people = SearchFilter(kinds=frozenset({"person"}))
    with services.feed.lock.read():
        seq = services.view.seq
        first, _ = services.search._candidates(ANONYMOUS, people)
        again, _ = services.search._candidates(ANONYMOUS, people)
        assert first is not None and again is first
        assert not first & set(HIDDEN_FROM_ANONYMOUS) and "person:maria" in first

    def found(q: str, headers: dict[str, str]) -> list[str]:
        return ids(client.get("/v1/search", params={"q": q, "kind": "person", "limit": 100},
                              headers=headers))  # fmt: skip

    assert "person:mem" not in found("Mo Member", keys["anonymous"])
    assert found("Mo Member", keys["member"])[0] == "person:mem"  # a person finds themselves
    assert "person:mem" not in found("Mo Member", keys["anonymous"])
    # A write that changes nobody's passing: carried over, the same object.
    edited = client.patch("/v1/nodes/person:maria", headers=keys["admin"],
                          json={"bio": "Mentors teenagers after school."})  # fmt: skip
    assert edited.status_code == 200, edited.text
    services.catch_up()
    with services.feed.lock.read():
        assert services.view.seq > seq  # a later version
        carried, _ = services.search._candidates(ANONYMOUS, people)
    assert carried is first
    created = client.post("/v1/nodes", headers=keys["admin"], json={
        "kind": "person", "id": "person:quill", "name": "Quill Quarrington",
        "bio": "Binds books by hand with schoolchildren.", "visibility": "public"})  # fmt: skip
    assert created.status_code == 201, created.text
    assert found("Quill Quarrington binds books", keys["anonymous"])[0] == "person:quill"
    services.catch_up()
    with services.feed.lock.read():
        grown, _ = services.search._candidates(ANONYMOUS, people)
        anew = matching_ids(services.view.graph, people)
    assert grown is not first and anew is not None
    assert grown == anew - services.search.hidden_from(ANONYMOUS)
    hidden = client.patch("/v1/nodes/person:quill", headers=keys["admin"],
                          json={"visibility": "private"})  # fmt: skip
    assert hidden.status_code == 200, hidden.text
    assert "person:quill" not in found("Quill Quarrington binds books", keys["anonymous"])
    services.catch_up()
    with services.feed.lock.read():
        after, _ = services.search._candidates(ANONYMOUS, people)
    assert after is not first and "person:quill" not in after


def test_a_filter_by_sector_or_goal_follows_every_write_through_what_it_touched(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Filters by a sector or a goal are carried to later versions through the nodes the
    writes touched: the same object when none changed whether it passes, and after every
    write what :func:`matching_ids` finds anew. A goal given a new target is found anew."""
    filters = [
        SearchFilter(sector="sector:peace"),
        SearchFilter(kinds=frozenset({"initiative"}), sdg="sdg:16"),
        SearchFilter(sdg="sdg:15"),
    ]
    found_anew: list[SearchFilter] = []

    def counted(graph: Any, flt: SearchFilter, **options: Any) -> set[str] | None:
        found_anew.append(flt)
        return matching_ids(graph, flt, **options)

    monkeypatch.setattr("api.search.matching_ids", counted)

    def held() -> list[frozenset[str]]:
        services.catch_up()
        with services.feed.lock.read():
            kept = [services.search._candidates(ANONYMOUS, flt)[0] for flt in filters]
            graph, hidden = services.view.graph, services.search.hidden_from(ANONYMOUS)
            allow = edge_filter(ANONYMOUS, graph)
            anew = [matching_ids(graph, flt, allow_edge=allow) for flt in filters]
        assert [set(k) for k in kept] == [a - hidden for a in anew]  # type: ignore[operator]
        return kept  # type: ignore[return-value]

    first = held()
    assert "initiative:safe-streets" in first[0] and "initiative:safe-streets" in first[1]
    assert "person:lena" in first[2]
    assert found_anew == filters
    found_anew.clear()
    # A new text for a member: nobody's passing changes, the same objects.
    retold = Initiative(id="initiative:safe-streets", name="Safe Streets",
                        description="Mentoring, and late-night football.")  # fmt: skip
    services.store.write([retold])
    assert all(now is before for now, before in zip(held(), first, strict=True))
    # A new initiative in the sector, on the goal: carried, with it.
    services.store.write([
        Initiative(id="initiative:night-court", name="Night court", description="Football."),
        Edge(kind="in_sector", source="initiative:night-court", target="sector:peace"),
        Edge(kind="addresses", source="initiative:night-court", target="sdg:16"),
    ])  # fmt: skip
    grown = held()
    assert "initiative:night-court" in grown[0] and "initiative:night-court" in grown[1]
    assert grown[2] is first[2]
    # Its link to the sector removed: out of that filter only.
    services.store.delete_edge("initiative:night-court", "in_sector", "sector:peace")
    shrunk = held()
    assert "initiative:night-court" not in shrunk[0] and shrunk[1] is grown[1]
    assert found_anew == []  # every one carried
    # A goal given a new target: what already addressed the target passes now, though
    # no write touched it; found anew.
    services.store.write([
        SdgTarget(id="sdg_target:15.99", name="Target 15.99", code="15.99", goal=15,
                  title="A target of the test."),
        Edge(kind="addresses", source="initiative:safe-streets", target="sdg_target:15.99"),
    ])  # fmt: skip
    assert "initiative:safe-streets" not in held()[2] and found_anew == []
    services.store.write([Edge(kind="part_of", source="sdg_target:15.99", target="sdg:15")])
    targeted = held()
    assert "initiative:safe-streets" in targeted[2] and "sdg_target:15.99" in targeted[2]
    assert found_anew == [filters[2]]


def test_an_explanations_passage_is_the_same_with_the_passages_skipped() -> None:
    """The passages without any query stem are not tokenised: the fields and passage found
    are those of tokenising every passage."""
    from api.search import _passage, _shorten
    from embeddings.tokenize import terms
    from graph.model import Person
    from graph.texts import node_passages

    person = Person(
        id="person:p", name="Ana Communities", bio="Runs community gardens and mentoring.",
        interests=["Community gardening", "Youth mentors", "Play"], skills=["Plays piano"],
        offers=["Garden tools"], needs=["Volunteers for the café"],
    )  # fmt: skip
    for query in ["communities", "gardens mentor", "playing", "café volunteers", "piano",
                  "nothing here", "mentoring communities garden"]:  # fmt: skip
        wanted = set(terms(query))
        passages = node_passages(person)
        scored = [(len(wanted & set(terms(text))), -i, field, text)
                  for i, (field, text) in enumerate(passages)]  # fmt: skip
        best = max(scored)
        if not best[0]:
            best = scored[1]
        expected = {"fields": [field for count, _, field, _ in scored if count],
                    "passage": {"field": best[2], "text": _shorten(best[3], wanted)}}  # fmt: skip
        assert _passage(person, wanted) == expected, query
