"""Matching on a small hand-built network: candidates, consent, modes, diversity, explanations.

Text similarity comes from hand-made vectors (one axis per theme), so that each test
knows which profiles are alike; the real model is exercised by the API tests.
"""

from __future__ import annotations

import math
import pickle
import random
import tracemalloc
from collections.abc import Iterator
from typing import Any

import networkx as nx
import numpy as np
import pytest

from graph.edges import Edge
from graph.errors import SavedByOtherCode
from graph.feed import ChangeFeed, catch_up_saved
from graph.matching.context import Audience, MatchContext, Neighbourhoods
from graph.matching.explain import Described, explanation, ids_to_describe
from graph.matching.features import Near, gather, summarise
from graph.matching.profiles import Profile, ProfileIndex, offer_need_pairs
from graph.matching.recommend import (
    Result,
    recommend_collaborators,
    recommend_initiatives,
    recommend_people,
)
from graph.matching.scoring import Mode
from graph.model import Initiative, Node, Organization, Person, Place
from graph.similarity import VectorSimilarity
from graph.store import Store
from graph.texts import node_text
from graph.view import GraphView

AXES = ("education", "environment", "health", "peace")
BIG = 14  # members of Big School besides Ana: more than a team (TEAM_SIZE)
DAVIS = Place(name="Davis", country="US", region="Northern America", lat=38.54, lon=-121.74)
SACRAMENTO = Place(name="Sacramento", country="US", region="Northern America",
                   lat=38.58, lon=-121.49)  # fmt: skip
NAIROBI = Place(name="Nairobi", country="KE", region="Africa", lat=-1.29, lon=36.82)


def vector(**weights: float) -> list[float]:
    return [weights.get(axis, 0.0) for axis in AXES]


def person(slug: str, **fields: object) -> Person:
    return Person(id=f"person:{slug}", name=slug.title(), **fields)


def records() -> list[Node | Edge]:
    """Ana (education, Davis) and the people around her."""
    people = [
        person("ana", interests=["youth mentoring", "peer tutoring"], needs=["grant writing"],
               offers=["curriculum design"], place=DAVIS),
        person("ben", interests=["youth mentoring"], place=SACRAMENTO),  # shares her initiative
        person("cai", interests=["peer tutoring"], offers=["grant writing"], place=NAIROBI),
        person("dee", interests=["climate action"], needs=["curriculum design"], place=DAVIS),
        person("eli", interests=["youth mentoring"]),  # knows Ana already
        person("fay", interests=["youth mentoring"], discoverable=False),
        person("gus", interests=["youth mentoring"], visibility="private"),
        person("hal", interests=["youth mentoring"], open_to_collaborate=False),
        person("ida", interests=["conflict resolution"], place=DAVIS),  # peace sector
        *[person(f"org-member-{n}", interests=["youth mentoring"]) for n in range(BIG)],
        person("kim", interests=["literacy"]),
        person("lee", interests=["youth mentoring", "after-school clubs"],
               place=SACRAMENTO),  # works with Ben, whom Ana works with
        person("max", interests=["youth mentoring"]),  # on Ana's small team
        person("ned", interests=["health education"], place=DAVIS),  # health sector
    ]  # fmt: skip
    nodes: list[Node | Edge] = [
        *people,
        Initiative(id="initiative:reading-buddies", name="Reading Buddies",
                   description="Volunteers tutor children after school.", needs=["tutoring"],
                   place=DAVIS),
        Initiative(id="initiative:green-schools", name="Green Schools",
                   description="Schools plant gardens and teach climate science.",
                   needs=["curriculum design"], place=SACRAMENTO),
        Initiative(id="initiative:old-archive", name="Old Archive", description="Closed.",
                   active=False),
        Initiative(id="initiative:night-school", name="Night School",
                   description="Evening classes for adults.", active=False),
        Organization(id="organization:big-school", name="Big School"),
        Organization(id="organization:tutor-team", name="Tutor Team"),
    ]  # fmt: skip
    edges = [
        ("works_on", "person:ana", "initiative:reading-buddies"),
        ("works_on", "person:ben", "initiative:reading-buddies"),
        ("works_on", "person:dee", "initiative:green-schools"),
        ("works_on", "person:kim", "initiative:green-schools"),
        ("knows", "person:ana", "person:eli"),
        ("knows", "person:ana", "person:fay"),  # Fay is not discoverable
        ("knows", "person:fay", "person:kim"),
        ("knows", "person:ana", "person:gus"),  # Gus is private
        ("knows", "person:ana", "person:hal"),
        ("interested_in", "person:ana", "sdg:4"),
        ("interested_in", "person:ana", "sector:education"),
        ("interested_in", "person:ben", "sdg:4"),
        ("interested_in", "person:cai", "sdg:4"),
        ("interested_in", "person:cai", "sector:education"),
        ("interested_in", "person:ida", "sector:peace"),
        ("interested_in", "person:ida", "sdg:4"),
        ("addresses", "initiative:reading-buddies", "sdg:4"),
        ("addresses", "initiative:green-schools", "sdg:4"),
        ("addresses", "initiative:green-schools", "sdg:13"),
        ("in_sector", "initiative:green-schools", "sector:education"),
        ("member_of", "person:ana", "organization:big-school"),
        *[("member_of", f"person:org-member-{n}", "organization:big-school") for n in range(BIG)],
        ("works_on", "person:ben", "initiative:night-school"),
        ("works_on", "person:lee", "initiative:night-school"),
        ("member_of", "person:ana", "organization:tutor-team"),
        ("member_of", "person:max", "organization:tutor-team"),
        ("interested_in", "person:lee", "sdg:4"),
        ("interested_in", "person:ned", "sector:health"),
        ("interested_in", "person:ned", "sdg:4"),
    ]
    nodes += [Edge(kind=k, source=s, target=t) for k, s, t in edges]
    return nodes


VECTORS = {
    "person:ana": vector(education=1.0, peace=0.1),
    "person:ben": vector(education=0.9, health=0.2),
    "person:cai": vector(education=1.0),
    "person:dee": vector(environment=1.0, education=0.3),
    "person:eli": vector(education=1.0),
    "person:fay": vector(education=1.0),
    "person:gus": vector(education=1.0),
    "person:hal": vector(education=1.0),
    "person:ida": vector(peace=1.0, education=0.4),
    "person:kim": vector(education=0.5, environment=0.5),
    "initiative:reading-buddies": vector(education=1.0),
    "initiative:green-schools": vector(environment=0.8, education=0.6),
    "initiative:old-archive": vector(education=1.0),
    **{f"person:org-member-{n}": vector(education=0.95, health=0.05 * n) for n in range(BIG)},
    "person:lee": vector(education=0.9, peace=0.1),
    "person:max": vector(education=1.0),
    "person:ned": vector(health=0.8, education=0.5),
    "initiative:night-school": vector(education=0.9, health=0.1),
}

CONSENTED = {
    "person:fay": False,  # not discoverable
    "person:gus": False,  # private
    "person:hal": False,  # not open to collaborate
}


@pytest.fixture
def store_with_people(store: Store) -> Store:
    store.write(records())
    return store


def context(store: Store, *, allow: set[str] | None = None) -> MatchContext:
    """What the service would build for a member: consent as the service applies it."""
    view = GraphView.from_store(store)
    profiles = ProfileIndex.from_store(store)
    nodes = view.graph.nodes

    def recommendable(node: str) -> bool:
        attrs = nodes[node]
        if attrs["kind"] == "initiative":
            return bool(attrs["active"])
        profile = profiles.get(node)
        return (
            attrs["discoverable"]
            and attrs["visibility"] != "private"
            and profile is not None
            and profile.open_to_collaborate
        )

    hidden = {n for n, a in nodes(data=True) if a["kind"] == "person" and not a["discoverable"]}
    audience = Audience(
        allow=(lambda node: node not in hidden) if allow is None else allow.__contains__,
        recommendable=recommendable,
    )
    return MatchContext(view.graph, VectorSimilarity(VECTORS), profiles, audience)


def ids(result: Result) -> list[str]:
    return [item.id for item in result.items]


def describe(store: Store, result: Result) -> dict[str, Described]:
    nodes = store.get_nodes(ids_to_describe(result.pool, result.items))
    return {
        i: Described(
            i,
            n.kind,
            n.name,
            getattr(n, "number", None),
            "" if n.kind == "person" else node_text(n),
        )
        for i, n in nodes.items()
    }


def explain_all(store: Store, ctx: MatchContext, result: Result) -> Iterator[dict[str, Any]]:
    names = describe(store, result)
    for item in result.items:
        sides = (ctx.profiles.get(result.pool.seed.id), ctx.profiles.get(item.id))
        yield explanation(result.pool, item, names, sides, mode=result.mode)


def answers(ctx: MatchContext, store: Store, seeds: list[str]) -> list[Any]:
    """Everything a page of collaborators says for each seed: who, the score's parts,
    what each was computed from, and the explanation."""
    found = []
    for seed in seeds:
        result = recommend_collaborators(ctx, seed, limit=50)
        found.append((
            [(c.id, c.common, c.back, c.goals, c.groups, c.works, c.memberships, c.sectors,
              c.brings, c.offer_need) for c in result.pool.candidates],
            result.pool.features.tolist(),
            [(item.id, item.score, item.components) for item in result.items],
            list(explain_all(store, ctx, result)),
        ))  # fmt: skip
    return found


def test_shared_summaries_give_the_answers_read_alone(store_with_people: Store) -> None:
    """Candidates' summaries read once and shared by an audience's requests
    (``Neighbourhoods``) give every request the answer it gets reading them itself."""
    seeds = sorted(n for n in context(store_with_people).graph if n.startswith("person:"))
    alone = answers(context(store_with_people), store_with_people, seeds)
    shared = context(store_with_people)
    shared.shared = Neighbourhoods()
    first = answers(shared, store_with_people, seeds)
    held = dict(shared.shared.summaries)
    assert held and "person:lee" in held
    assert first == alone
    assert answers(shared, store_with_people, seeds) == alone  # read from what is held
    assert shared.shared.summaries == held
    for node, summary in held.items():
        assert summary == summarise(context(store_with_people), node), node


def test_summaries_share_their_sets(store_with_people: Store) -> None:
    """Equal sets of goals, groups or sectors are one object among the summaries."""
    ctx = context(store_with_people)
    people = sorted(n for n in ctx.graph if n.startswith("person:"))
    summaries = [summarise(ctx, node) for node in people]
    for name in ("goals", "groups", "sectors"):
        sets = [getattr(summary, name) for summary in summaries]
        assert len({id(found) for found in sets}) == len(set(sets)) < len(sets), name
    assert frozenset() in {s.groups for s in summaries}


def test_the_callers_own_summary_is_never_shared(store_with_people: Store) -> None:
    """Lee's owner sees a link of Lee's that Lee's audience does not (as a person sees
    their own finer places): what Lee's own request reads of Lee is never kept for the
    audience, and the audience's requests never see the link."""

    def hides_lees_team(source: str, kind: str, target: str) -> bool:
        return not (source == "person:lee" and target == "initiative:night-school")

    def lees_ctx(*, own: bool) -> MatchContext:
        ctx = context(store_with_people)
        edges = None if own else hides_lees_team
        ctx.audience = Audience(ctx.audience.allow, edges, ctx.audience.recommendable)
        ctx.shared = neighbourhoods
        ctx.personal = frozenset({"person:lee"}) if own else frozenset()
        return ctx

    neighbourhoods = Neighbourhoods()
    own = recommend_collaborators(lees_ctx(own=True), "person:ana", limit=50)
    lee = next(c for c in own.pool.candidates if c.id == "person:lee")
    assert "initiative:night-school" in lee.works
    assert "person:lee" not in neighbourhoods.summaries
    assert neighbourhoods.summaries  # the others' were kept
    theirs = recommend_collaborators(lees_ctx(own=False), "person:ana", limit=50)
    lee = next(c for c in theirs.pool.candidates if c.id == "person:lee")
    assert "initiative:night-school" not in lee.works
    assert "initiative:night-school" not in neighbourhoods.summaries["person:lee"].near


def test_collaborators_respect_consent_and_leave_out_people_already_known(
    store_with_people: Store,
) -> None:
    ctx = context(store_with_people)
    found = ids(recommend_collaborators(ctx, "person:ana", limit=50))
    assert found, "Ana has people to meet"
    assert "person:ana" not in found
    assert "person:eli" not in found  # known already
    assert not set(found) & set(CONSENTED)


EXISTING = {"person:ben", "person:eli", "person:max"}  # her initiative, knows, her team


@pytest.mark.parametrize("mode", ["similar", "complementary", "bridging"])
def test_no_recommended_collaborator_is_an_existing_collaborator(
    store_with_people: Store, mode: Mode
) -> None:
    """Same initiative (Ben), knows (Eli), same small organisation (Max): never new."""
    ctx = context(store_with_people)
    found = set(ids(recommend_collaborators(ctx, "person:ana", mode=mode, limit=50)))
    assert not found & EXISTING
    big_school = {f"person:org-member-{n}" for n in range(BIG)}
    if mode == "similar":
        assert found & big_school, "a large organisation is not one team"


def test_existing_collaborators_are_listed_apart(store_with_people: Store) -> None:
    ctx = context(store_with_people)
    result = recommend_collaborators(ctx, "person:ana", relation="existing", limit=50)
    assert set(ids(result)) == EXISTING  # Fay is hidden, Gus private, Hal not open
    assert all(item.candidate.existing for item in result.items)


def test_a_colleague_of_a_colleague_comes_first(store_with_people: Store) -> None:
    ctx = context(store_with_people)
    result = recommend_collaborators(ctx, "person:ana")
    assert ids(result)[0] == "person:lee"
    top = result.items[0]
    assert top.components["graph"] > 0 and top.components["text"] > 0
    assert math.isclose(sum(top.components.values()), top.score, rel_tol=1e-9)


def test_an_explanation_reads_and_names_the_path(store_with_people: Store) -> None:
    ctx = context(store_with_people)
    result = recommend_collaborators(ctx, "person:ana")
    first = next(explain_all(store_with_people, ctx, result))
    assert first["path"] == [
        {"id": "person:ana", "kind": "person", "name": "Ana"},
        {"edge": "works_on", "direction": "out"},
        {"id": "initiative:reading-buddies", "kind": "initiative", "name": "Reading Buddies"},
        {"edge": "works_on", "direction": "in"},
        {"id": "person:ben", "kind": "person", "name": "Ben"},
        {"edge": "works_on", "direction": "out"},
        {"id": "initiative:night-school", "kind": "initiative", "name": "Night School"},
        {"edge": "works_on", "direction": "in"},
        {"id": "person:lee", "kind": "person", "name": "Lee"},
    ]
    summary = str(first["summary"])
    assert summary.startswith("Lee: ")
    assert "SDG 4 Quality education" in summary
    assert "linked through Reading Buddies, Ben and Night School" in summary
    assert first["shared_sdgs"] == [{"id": "sdg:4", "number": 4, "name": "Quality education"}]
    assert first["phrases"] == {"yours": ["youth mentoring"], "theirs": ["youth mentoring"]}
    assert first["distance_band"] == "within 50 km"


def test_a_hidden_person_is_never_a_bridge(store_with_people: Store) -> None:
    """Kim is reachable only through Fay, who is not discoverable."""
    ctx = context(store_with_people)
    result = recommend_collaborators(ctx, "person:ana", limit=50)
    for item in result.items:
        walk = item.candidate.walk or ()
        assert "person:fay" not in [step[0] for step in walk]
        assert "person:fay" not in item.candidate.common
    for found in explain_all(store_with_people, ctx, result):
        assert "person:fay" not in str(found)


def test_a_hidden_colleague_makes_nobody_an_existing_collaborator(
    store_with_people: Store,
) -> None:
    """Without Ben (hidden), Lee is no colleague's colleague, and Ben's link to Ana's
    initiative keeps nobody out."""
    ctx = context(store_with_people)
    nodes = set(ctx.graph.nodes) - {"person:ben"}
    hidden = context(store_with_people, allow=nodes)
    result = recommend_collaborators(hidden, "person:ana", limit=50)
    row = next(n for n, c in enumerate(result.pool.candidates) if c.id == "person:lee")
    assert result.pool.candidates[row].walk is None
    assert result.pool.column("cowork")[row] == result.pool.column("cowork_aa")[row] == 0
    assert "person:ben" not in str(list(explain_all(store_with_people, hidden, result)))


def test_complementary_mode_keeps_offers_that_meet_needs(store_with_people: Store) -> None:
    ctx = context(store_with_people)
    result = recommend_collaborators(ctx, "person:ana", mode="complementary", limit=50)
    assert set(ids(result)) == {"person:cai", "person:dee"}
    pairs = {item.id: item.candidate.offer_need for item in result.items}
    assert [(p.offer, p.need, p.direction) for p in pairs["person:cai"]] == [
        ("grant writing", "grant writing", "theirs_meets_yours")
    ]
    assert [(p.offer, p.need, p.direction) for p in pairs["person:dee"]] == [
        ("curriculum design", "curriculum design", "yours_meets_theirs")
    ]


def test_bridging_mode_favours_another_sector(store_with_people: Store) -> None:
    ctx = context(store_with_people)
    similar = ids(recommend_collaborators(ctx, "person:ana", limit=50))
    bridging = ids(recommend_collaborators(ctx, "person:ana", mode="bridging", limit=50))
    assert bridging.index("person:ida") < similar.index("person:ida")
    assert "person:lee" not in bridging  # her colleague's colleague brings no other sector
    result = recommend_collaborators(ctx, "person:ana", mode="bridging", limit=3)
    assert all(item.components["graph"] == 0 for item in result.items)
    assert all(item.components["bridging"] > 0 for item in result.items)


def test_bridging_results_name_the_other_sector(store_with_people: Store) -> None:
    ctx = context(store_with_people)
    result = recommend_collaborators(ctx, "person:ana", mode="bridging", limit=10)
    assert {item.id for item in result.items} == {"person:ida", "person:ned"}
    names = {"person:ida": "Peace", "person:ned": "Health"}
    for item, found in zip(result.items, explain_all(store_with_people, ctx, result),
                           strict=True):  # fmt: skip
        other = names[item.id]
        assert found["bridges"] == {
            "yours": [{"id": "sector:education", "name": "Education"}],
            "theirs": [{"id": f"sector:{other.lower()}", "name": other}],
        }
        summary = str(found["summary"])
        assert summary.startswith(f"{item.id[7:].title()}: Bridges Education and {other};")


def test_local_scope_keeps_people_within_the_radius(store_with_people: Store) -> None:
    ctx = context(store_with_people)
    near = Near(DAVIS.lat or 0, DAVIS.lon or 0, 50)
    found = ids(recommend_collaborators(ctx, "person:ana", near=near, limit=50))
    assert found and "person:cai" not in found  # Nairobi
    assert set(found) <= {"person:dee", "person:ida", "person:lee", "person:ned"}


def test_one_organisation_does_not_fill_the_page(store_with_people: Store) -> None:
    ctx = context(store_with_people)
    result = recommend_collaborators(ctx, "person:ana", limit=10)
    members = [i for i in ids(result) if i.startswith("person:org-member")]
    assert len(members) < 8
    assert any(item.components["diversity"] < 0 for item in result.items)
    scores = [item.score for item in result.items]
    assert scores == sorted(scores, reverse=True)


def test_initiatives_to_join_are_active_and_new_to_her(store_with_people: Store) -> None:
    ctx = context(store_with_people)
    result = recommend_initiatives(ctx, "person:ana")
    assert ids(result) == ["initiative:green-schools"]
    found = next(explain_all(store_with_people, ctx, result))
    assert found["offer_need"] == [{"offer": "curriculum design", "need": "curriculum design",
                                    "direction": "yours_meets_theirs"}]  # fmt: skip
    assert "curriculum" in found["phrases"]["theirs"]  # type: ignore[index]


def test_people_for_an_initiative_come_from_its_needs_and_goals(store_with_people: Store) -> None:
    ctx = context(store_with_people)
    result = recommend_people(ctx, "initiative:green-schools", limit=20)
    found = ids(result)
    assert "person:dee" not in found and "person:kim" not in found  # already on it
    assert found[0] == "person:ana"  # offers what it needs, works on SDG 4 nearby
    assert not set(found) & set(CONSENTED)


def test_same_input_same_output(store_with_people: Store) -> None:
    first = recommend_collaborators(context(store_with_people), "person:ana", limit=20)
    again = recommend_collaborators(context(store_with_people), "person:ana", limit=20)
    assert [(i.id, i.score) for i in first.items] == [(i.id, i.score) for i in again.items]


def test_pages_follow_each_other(store_with_people: Store) -> None:
    ctx = context(store_with_people)
    whole = ids(recommend_collaborators(ctx, "person:ana", limit=8))
    first = ids(recommend_collaborators(ctx, "person:ana", limit=4))
    second = ids(recommend_collaborators(ctx, "person:ana", limit=4, offset=4))
    assert first + second == whole


def test_text_alone_still_finds_someone_for_a_newcomer(store_with_people: Store) -> None:
    store_with_people.write([person("newcomer", interests=["peer tutoring"])])
    ctx = context(store_with_people)
    ctx.similarity = VectorSimilarity({**VECTORS, "person:newcomer": vector(education=1.0)})
    result = recommend_collaborators(ctx, "person:newcomer")
    assert result.items
    assert all(item.components["graph"] == 0 for item in result.items)
    assert all(not item.candidate.common for item in result.items)


def test_complements_are_offers_and_needs_together_until_the_cap() -> None:
    """``complements`` gives what ``offering`` and ``needing`` give together, or None once
    that passes the cap (the reading stops there)."""
    seed = person("seed", needs=["grant writing", "translation"], offers=["bookkeeping"])
    others = [person(f"o{i}", offers=["grant writing"]) for i in range(4)]
    others += [person(f"t{i}", offers=["translation help"]) for i in range(3)]
    others += [person(f"n{i}", needs=["bookkeeping"]) for i in range(2)]
    others.append(person("both", offers=["translation"], needs=["bookkeeping"]))
    profiles = ProfileIndex.from_nodes([seed, *others])
    mine = profiles.get("person:seed")
    assert mine is not None
    together = profiles.offering(mine.need_keys.values()) | profiles.needing(
        mine.offer_keys.values()
    )
    assert together == {o.id for o in others}
    assert profiles.complements(mine, cap=len(together)) == together
    assert profiles.complements(mine, cap=len(together) - 1) is None
    assert profiles.complements(mine, cap=0) is None


def test_profile_index_follows_the_store(store_with_people: Store) -> None:
    profiles = ProfileIndex.from_store(store_with_people)
    feed = ChangeFeed(store_with_people, [profiles], seq=profiles.seq)
    ana = profiles.get("person:ana")
    assert ana is not None
    assert profiles.offering(ana.need_keys.values()) == {"person:cai"}
    cai = store_with_people.get_node("person:cai")
    assert isinstance(cai, Person)
    store_with_people.write([cai.model_copy(update={"offers": ["bookkeeping"]})])
    store_with_people.write([person("jo", offers=["Grant-writing help"])])
    assert feed.catch_up() == 2
    assert profiles.offering(ana.need_keys.values()) == {"person:jo"}
    store_with_people.delete_node("person:jo")
    feed.catch_up()
    assert profiles.offering(ana.need_keys.values()) == set()
    assert np.isclose(len(profiles), len(ProfileIndex.from_store(store_with_people)))


def test_profiles_read_from_records_equal_those_of_validated_nodes(
    store_with_people: Store,
) -> None:
    store_with_people.write([person("bare"), person("full", bio=" Two  words ", offers=["x y"])])
    nodes = list(store_with_people.iter_nodes())
    expected = ProfileIndex.from_nodes(nodes)
    read = ProfileIndex.from_store(store_with_people)
    assert len(read) == len(expected) > 10
    for node in nodes:
        mine, theirs = read.get(node.id), expected.get(node.id)
        assert mine == theirs
        if mine is not None and theirs is not None:
            assert (mine.offer_keys, mine.need_keys, mine.topic_keys) == (
                theirs.offer_keys, theirs.need_keys, theirs.topic_keys,
            )  # fmt: skip
    assert read.get("person:hal") is not None
    assert not read.get("person:hal").open_to_collaborate  # type: ignore[union-attr]
    assert read.get("person:full").words == 4  # type: ignore[union-attr]


def test_profiles_share_their_phrases_and_keys_and_still_meet(store_with_people: Store) -> None:
    store_with_people.write([
        person("ola", interests=["Youth mentoring"], offers=["grant writing"]),
        person("ivy", interests=["Youth mentoring"], offers=["grant writing", "Bookkeeping"]),
        person("kit", needs=["help with grant writing"]),
    ])  # fmt: skip
    for profiles in (ProfileIndex.from_store(store_with_people),
                     ProfileIndex.from_nodes(store_with_people.iter_nodes())):  # fmt: skip
        ola, ivy = profiles.get("person:ola"), profiles.get("person:ivy")
        assert ola is not None and ivy is not None
        # One copy of each phrase, one of its key; one offer's words are its key itself.
        assert ola.interests[0] is ivy.interests[0] and ola.offers[0] is ivy.offers[0]
        assert ola.offer_keys["grant writing"] is ivy.offer_keys["grant writing"]
        assert ola.offer_words is ola.offer_keys["grant writing"] == {"grant", "writ"}
        assert ivy.offer_words == {"grant", "writ", "bookkeep"}
        assert ivy.need_words == frozenset() == ivy.need_keys.keys()
        assert profiles.offering(profiles.get("person:kit").need_keys.values()) == {  # type: ignore[union-attr]
            "person:ola", "person:ivy", "person:cai"}  # fmt: skip


def same_profiles(index: ProfileIndex, expected: ProfileIndex) -> None:
    """Every profile (with its phrase keys and words) and both posting lists equal."""
    assert set(index) == set(expected) and len(index) > 10
    for node_id in expected:
        mine, profile = index.get(node_id), expected.get(node_id)
        assert mine == profile and mine is not None and profile is not None
        fields = ("offer_keys", "need_keys", "topic_keys", "offer_words", "need_words")
        assert [getattr(mine, f) for f in fields] == [getattr(profile, f) for f in fields]
    for postings, others in ((index._offers, expected._offers), (index._needs, expected._needs)):
        assert postings.nodes == others.nodes and postings.keys_by_word == others.keys_by_word


def test_a_profile_index_made_again_from_its_saved_state_is_the_same(
    store_with_people: Store,
) -> None:
    read = ProfileIndex.from_store(store_with_people)
    again = ProfileIndex.from_state(pickle.loads(pickle.dumps(read.state())))
    same_profiles(again, read)
    assert again.seq == read.seq == store_with_people.last_seq()
    ana = again.get("person:ana")
    assert ana is not None and again.offering(ana.need_keys.values()) == {"person:cai"}
    with pytest.raises(SavedByOtherCode, match="of form 0"):
        ProfileIndex.from_state((0, *read.state()[1:]))
    with pytest.raises(SavedByOtherCode):  # whatever its shape
        ProfileIndex.from_state((0, read.seq, [], "a field of another form"))


def test_a_saved_profile_index_catches_up_with_the_changes_since(
    store_with_people: Store,
) -> None:
    state = ProfileIndex.from_store(store_with_people).state()
    cai = store_with_people.get_node("person:cai")
    assert isinstance(cai, Person)
    store_with_people.write([cai.model_copy(update={"offers": ["bookkeeping"]})])
    store_with_people.write([person("jo", offers=["Grant-writing help"])])
    store_with_people.write([Initiative(id="initiative:new", name="New", needs=["bookkeeping"])])
    store_with_people.delete_node("initiative:new")
    behind = ProfileIndex.from_state(state)
    assert not catch_up_saved(behind, store_with_people, most=3)  # four changes since
    assert behind.seq == state[1]
    assert catch_up_saved(behind, store_with_people, most=4)
    same_profiles(behind, ProfileIndex.from_store(store_with_people))
    assert behind.seq == store_with_people.last_seq()
    ana = behind.get("person:ana")
    assert ana is not None and behind.offering(ana.need_keys.values()) == {"person:jo"}


def test_a_saved_profile_index_is_not_caught_up_past_an_erasure(
    store_with_people: Store,
) -> None:
    state = ProfileIndex.from_store(store_with_people).state()
    store_with_people.write([person("jo", offers=["Grant-writing help"])])
    store_with_people.delete_node("person:cai")  # a person deleted is erased
    behind = ProfileIndex.from_state(state)
    assert "person:cai" in behind
    assert not catch_up_saved(behind, store_with_people, most=100)


def test_profiles_are_held_as_rows_and_made_again_from_the_row_held_now(
    store_with_people: Store,
) -> None:
    """The index holds each profile as a row of phrase numbers, not as objects: a profile
    asked for is made from the row held at that moment, never from one since replaced."""
    profiles = ProfileIndex.from_store(store_with_people)
    expected = ProfileIndex.from_nodes(store_with_people.iter_nodes())
    assert set(profiles) == set(expected) and len(profiles) > 10
    for node_id in expected:
        mine, theirs = profiles.get(node_id), expected.get(node_id)
        assert mine is not None and mine == theirs
        assert profiles.open_to_collaborate(node_id) == mine.open_to_collaborate
        assert profiles.words(node_id) == mine.words
    assert not profiles.open_to_collaborate("person:hal") and "person:hal" in profiles
    assert not profiles.open_to_collaborate("person:nobody")
    assert profiles.words("person:nobody") is None and profiles.get("person:nobody") is None
    assert all(type(row) is bytes for row in profiles._rows.values())
    before = profiles.get("person:ana")
    assert before is not None and profiles.get("person:ana") is before  # kept once made
    profiles.upsert([Profile.build("person:ana", "person", offers=["Bookkeeping"])])
    after = profiles.get("person:ana")
    assert after is not None and after.offers == ("Bookkeeping",) and after.needs == ()
    assert profiles.offering(before.need_keys.values()) == {"person:cai"}
    assert profiles.needing(after.offer_keys.values()) == {
        p for p in profiles if (q := profiles.get(p)) and "bookkeep" in q.need_words
    }
    profiles.remove(["person:ana"])
    assert profiles.get("person:ana") is None and "person:ana" not in profiles


@pytest.mark.parametrize("seed", range(4))
def test_pairs_read_from_rows_are_those_of_the_profiles(seed: int) -> None:
    """``pairs_with(mine)(id)`` gives ``offer_need_pairs(mine, theirs)`` for every pair of
    random profiles: repeated, nested, filler-only and unrelated phrases, in any order."""
    rng = random.Random(seed)
    words = ["grant", "writing", "youth", "mentoring", "mentors", "web", "design", "the", "help"]
    phrases = [" ".join(rng.sample(words, rng.randint(1, 3))) for _ in range(40)]
    people = [person(f"p{i}", offers=rng.choices(phrases, k=rng.randint(0, 4)),
                     needs=rng.choices(phrases, k=rng.randint(0, 4)))
              for i in range(60)]  # fmt: skip
    people.append(Initiative(id="initiative:i", name="I", needs=rng.choices(phrases, k=3)))
    index = ProfileIndex.from_nodes(people)
    met = 0
    for mine in (index.get(p.id) for p in people):
        assert mine is not None
        pairs = index.pairs_with(mine)
        for other in people:
            theirs = index.get(other.id)
            assert theirs is not None
            assert pairs(other.id) == offer_need_pairs(mine, theirs)
            met += bool(pairs(other.id))
        assert pairs("person:nobody") == []
    assert met > 100  # (the phrases do meet)


def test_a_saved_profile_index_leaves_out_the_phrases_no_one_holds(
    store_with_people: Store,
) -> None:
    profiles = ProfileIndex.from_store(store_with_people)
    profiles.upsert([Profile.build("person:zed", "person", needs=["a rare old phrase"])])
    profiles.upsert([Profile.build("person:zed", "person", needs=["a new phrase"])])
    state = profiles.state()
    assert "a rare old phrase" in profiles._phrases.numbers
    assert "a rare old phrase" not in state[2] and "a new phrase" in state[2]
    again = ProfileIndex.from_state(pickle.loads(pickle.dumps(state)))
    same_profiles(again, profiles)
    assert again.get("person:zed") == Profile.build("person:zed", "person", needs=["a new phrase"])


def test_a_profile_index_holds_a_fraction_of_the_bytes_of_its_profiles() -> None:
    """What 3,000 profiles take in the index, against the same profiles as objects (the
    index held them so until session 31: 168 MiB at 100,000 people in every process)."""
    rng = random.Random(3)
    phrases = [f"{a} {b}" for a in ("youth", "food", "water", "art", "peace", "care")
               for b in ("mentoring", "gardening", "training", "outreach", "design")]  # fmt: skip
    people = [person(f"p{i}", interests=rng.sample(phrases, 3), skills=rng.sample(phrases, 3),
                     offers=rng.sample(phrases, 2), needs=rng.sample(phrases, 2),
                     bio="a few words of a bio")
              for i in range(3_000)]  # fmt: skip
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        index = ProfileIndex.from_nodes(people)
        held = tracemalloc.get_traced_memory()[0] - base
        objects = {p.id: Profile.of(p) for p in people}
        as_objects = tracemalloc.get_traced_memory()[0] - base - held
    finally:
        tracemalloc.stop()
    assert len(index) == len(objects) == 3_000
    assert held < as_objects / 2, (held, as_objects)


def test_a_thin_person_on_an_initiative_counts_by_their_work_not_their_name() -> None:
    """``text_work`` of people for an initiative: a person on it whose text is a name only
    is read as the mean of what they work on, as everywhere else (their name's vector
    says nothing about the work)."""
    graph = nx.MultiDiGraph()
    for node in ("initiative:new", "initiative:past", "initiative:theirs-a",
                 "initiative:theirs-b"):  # fmt: skip
        graph.add_node(node, kind="initiative")
    names = {"person:lead": "Lead", "person:xena": "Xena", "person:yuri": "Yuri"}
    for node in names:
        graph.add_node(node, kind="person")
    for source, target in (("person:lead", "initiative:new"), ("person:lead", "initiative:past"),
                           ("person:xena", "initiative:theirs-a"),
                           ("person:yuri", "initiative:theirs-b")):  # fmt: skip
        graph.add_edge(source, target, "works_on")
    vectors = {
        "initiative:new": vector(education=1.0), "initiative:past": vector(education=1.0),
        "initiative:theirs-a": vector(education=1.0), "initiative:theirs-b": vector(health=1.0),
        "person:lead": vector(health=1.0),  # the vector of a bare name: noise
        "person:xena": vector(peace=1.0), "person:yuri": vector(peace=1.0),
    }  # fmt: skip
    profiles = ProfileIndex.from_nodes([Person(id=i, name=n) for i, n in names.items()])
    ctx = MatchContext(graph, VectorSimilarity(vectors), profiles)
    pool = gather(ctx, "initiative:new", "person")
    text_work = dict(zip((c.id for c in pool.candidates), pool.column("text_work"), strict=True))
    assert text_work["person:xena"] == pytest.approx(1.0)  # works on education, as Lead does
    assert text_work["person:yuri"] == pytest.approx(0.0)
