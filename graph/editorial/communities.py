"""What a community can learn from others: similar communities, initiatives, connectors near it.

Given a community and the issues it faces, in its own words:

- **communities**: the ones closest in meaning to the issues (nearest-k over the
  communities, not counting the asking community, the ones it is part of or the ones
  part of it), ranked by ``0.4 text + 0.45 issues + 0.15 goals``: ``text`` compares the
  whole texts; ``issues`` is how well the community's own issues cover the asked ones
  (the mean, over the asked phrases, of the best cosine with one of its issues);
  ``goals`` is the share of the issues' goals (read from the text by the caller, each
  weighted by its confidence) that the community addresses;
- **what they did**: each similar community lists its deeds (:mod:`graph.editorial.deeds`:
  the initiatives in it, the Wisdom Book entries that tell of it or of them), the
  :data:`DID_PER_KIND` of each kind closest to the issues, each with its reason;
- **initiatives** and **entries**: the ones closest to the issues, together with the
  deeds of the asking community's campaign and of the similar communities found,
  ranked by ``0.8 text + 0.1 goals + 0.1 place``; ``place`` is 1 in the asking
  community's campaign and the similar community's text similarity elsewhere;
- **connectors**: people who work on those initiatives, or belong to (are members of,
  or located in) the asking community's campaign or a similar community, through
  links the caller may see; only ids in ``people`` (the caller's recommendable people).
  Their relevance is ``0.6 link + 0.4 text``; they are ordered **local first**: by the
  distance band between the community and their public (coarsened) place, nearest
  band first, then by relevance. No distance finer than a band is given.

Every item shows the passages of its text closest to the issues asked about.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import networkx as nx

from graph.editorial.deeds import Deed, deed_json, deeds_of
from graph.editorial.explain import (
    Hop,
    Item,
    NodeSource,
    listing,
    node_ref,
    path_ids,
    path_json,
    quoted,
    rounded,
    split_topics,
    topic_links,
    topic_name,
    topic_order,
)
from graph.editorial.passages import PassageMatch, PassageVectors, coverage, match_passages
from graph.editorial.text import Tokenizer, phrases, shared_words
from graph.geo import DISTANCE_BANDS_KM, distance_band, haversine_km
from graph.model import Community, Node
from graph.queries import EdgeFilter
from graph.similarity import TextSimilarity
from graph.texts import node_passages

DEPTH = 30
PER_NODE = 200
DID_PER_KIND = 3
COMMUNITY_WEIGHTS = {"text": 0.4, "issues": 0.45, "goals": 0.15}
INITIATIVE_WEIGHTS = {"text": 0.8, "goals": 0.1, "place": 0.1}
CONNECTOR_WEIGHTS = {"link": 0.6, "text": 0.4}
BELONGING = ("member_of", "located_in")


@dataclass(frozen=True, slots=True)
class Learning:
    """Similar communities, initiatives that addressed similar issues, connectors near."""

    communities: list[Item]
    initiatives: list[Item]
    connectors: list[Item]
    entries: list[Item]


@dataclass(frozen=True, slots=True)
class _Asked:
    community: str
    issues: str
    phrases: tuple[str, ...]
    goals: Mapping[str, float]
    home: frozenset[str]


def learn_from_communities(
    graph: nx.MultiDiGraph,
    nodes: NodeSource,
    similarity: TextSimilarity,
    community: str,
    issues: str,
    *,
    communities: Collection[str],
    initiatives: Collection[str],
    people: Collection[str],
    goals: Mapping[str, float],
    tokens: Tokenizer,
    entries: Collection[str] = (),
    allow_edge: EdgeFilter | None = None,
    limit: int = 5,
    cache: PassageVectors | None = None,
) -> Learning:
    """Communities (with what they did), initiatives, entries and connectors, explained.

    ``communities``, ``initiatives``, ``people``, ``entries``: the ids that may be
    returned of each kind; ``goals``: the goals of the issues (``sdg:<n>``), each with
    how confident its reading is; ``allow_edge``: which links of people to communities
    the caller may see.
    """
    home = {community}
    home.update(t for _, t, k in graph.out_edges(community, keys=True) if k == "part_of")
    home.update(s for s, _, k in graph.in_edges(community, keys=True) if k == "part_of")
    asked = _Asked(community, issues, tuple(phrases(issues)), dict(goals), frozenset(home))
    similar = _similar_communities(graph, nodes, similarity, asked, communities, limit, cache)
    places = [(c, 1.0) for c in sorted(asked.home)] + [(r[0], r[2]["text"]) for r in similar]
    deeds = {c: deeds_of(graph, c, initiatives=initiatives, entries=entries) for c, _ in places}
    found = _works(graph, similarity, asked, initiatives, places, deeds, limit)
    told = _works(graph, similarity, asked, entries, places, deeds, limit)
    linked = _connectors(graph, similarity, asked, people, similar, found, allow_edge, limit)
    did = {row[0]: _did(similarity, asked, deeds[row[0]], initiatives) for row in similar}
    wanted = {i for i, *_ in [*similar, *found, *told]}
    matches = match_passages(
        similarity, [("issues", "; ".join(asked.phrases))],
        {i: node_passages(n) for i, n in nodes.get_nodes(wanted).items()}, cache=cache,
    )  # fmt: skip
    names = nodes.get_nodes(
        {community, *wanted}
        | {t for row in [*similar, *found, *told]
           for t in [*row[3], *([row[4]] if row[4] else [])]}
        | {i for _, person, _, hops, _ in linked for i in path_ids(person, hops)}
        | {d for c, ranked in did.items() for i, _ in ranked
           for d in (i, deeds[c][i].community, deeds[c][i].initiative) if d}
    )  # fmt: skip
    return Learning(
        [_community_item(asked, row, matches.get(row[0], []), names, tokens,
                         [(deeds[row[0]][i], cos) for i, cos in did[row[0]]])
         for row in similar],
        [_initiative_item(asked, row, matches.get(row[0], []), names, tokens) for row in found],
        [_connector_item(asked, row, names) for row in linked],
        [_initiative_item(asked, row, matches.get(row[0], []), names, tokens) for row in told],
    )  # fmt: skip


# -- ranking ------------------------------------------------------------------

Ranked = tuple[str, float, dict[str, float], frozenset[str], str | None]
"""(id, score, components, shared goals, the similar community it is in, if any)."""


def _goals(graph: nx.MultiDiGraph, node_id: str, asked: _Asked) -> frozenset[str]:
    return frozenset(asked.goals.keys() & topic_links(graph, node_id).keys())


def _share(shared: frozenset[str], asked: _Asked) -> float:
    total = sum(asked.goals.values())
    return sum(asked.goals[g] for g in shared) / total if total > 0 else 0.0


def _ranked(rows: list[Ranked], limit: int) -> list[Ranked]:
    return sorted(rows, key=lambda row: (-row[1], row[0]))[:limit]


def _similar_communities(
    graph: nx.MultiDiGraph, nodes: NodeSource, similarity: TextSimilarity, asked: _Asked,
    communities: Collection[str], limit: int, cache: PassageVectors | None,
) -> list[Ranked]:  # fmt: skip
    near = similarity.nearest_text(asked.issues, max(DEPTH, 3 * limit), among=communities,
                                   exclude=asked.home)  # fmt: skip
    found = nodes.get_nodes(node_id for node_id, _ in near)
    theirs = {i: list(n.issues) if isinstance(n, Community) else [] for i, n in found.items()}
    covered = coverage(similarity, asked.phrases, theirs, cache=cache)
    rows: list[Ranked] = []
    for node_id, cosine in near:
        shared = _goals(graph, node_id, asked)
        parts = {"text": cosine, "issues": covered.get(node_id, 0.0),
                 "goals": _share(shared, asked)}  # fmt: skip
        score = sum(COMMUNITY_WEIGHTS[k] * v for k, v in parts.items())
        rows.append((node_id, score, parts, shared, None))
    return _ranked(rows, limit)


def _works(
    graph: nx.MultiDiGraph, similarity: TextSimilarity, asked: _Asked,
    allowed: Collection[str], places: Sequence[tuple[str, float]],
    deeds: Mapping[str, Mapping[str, Deed]], limit: int,
) -> list[Ranked]:  # fmt: skip
    """Initiatives (or entries) of ``allowed``: the closest to the issues and the deeds."""
    if not allowed:
        return []
    text = dict(similarity.nearest_text(asked.issues, max(DEPTH, 3 * limit), among=allowed))
    place: dict[str, tuple[float, str]] = {}
    for community, weight in places:
        here = [i for i in deeds[community] if i in allowed]
        for node_id in here[:PER_NODE]:
            if node_id not in place or place[node_id][0] < weight:
                place[node_id] = (weight, community)
    missing = [i for i in place if i not in text]
    if missing:
        text |= dict(similarity.nearest_text(asked.issues, len(missing), among=missing))
    rows: list[Ranked] = []
    for node_id, cosine in text.items():
        shared = _goals(graph, node_id, asked)
        weight, located = place.get(node_id, (0.0, ""))
        where = located or None
        parts = {"text": cosine, "goals": _share(shared, asked), "place": max(weight, 0.0)}
        score = sum(INITIATIVE_WEIGHTS[k] * v for k, v in parts.items())
        rows.append((node_id, score, parts, shared, where))
    return _ranked(rows, limit)


Connector = tuple[int, str, dict[str, float], tuple[Hop, ...], str | None]
"""(distance band rank, person, components, hops to what links them, distance band)."""


def _connectors(
    graph: nx.MultiDiGraph, similarity: TextSimilarity, asked: _Asked,
    people: Collection[str], similar: Sequence[Ranked], found: Sequence[Ranked],
    allow_edge: EdgeFilter | None, limit: int,
) -> list[Connector]:  # fmt: skip
    links: dict[str, tuple[float, tuple[Hop, ...]]] = {}

    def offer(person: str, strength: float, hop: Hop) -> None:
        if person in people and (person not in links or links[person][0] < strength):
            links[person] = (strength, (hop,))

    top = max((row[1] for row in found), default=0.0)
    for initiative, score, *_ in found:
        workers = sorted(s for s, _, k in graph.in_edges(initiative, keys=True) if k == "works_on")
        for person in workers[:PER_NODE]:
            offer(person, score / top if top > 0 else 0.0, ("works_on", True, initiative))
    places = [(c, 1.0) for c in sorted(asked.home)] + [(r[0], r[2]["text"]) for r in similar]
    for where, strength in places:
        members = sorted(
            (s, k) for s, _, k in graph.in_edges(where, keys=True)
            if k in BELONGING and graph.nodes[s]["kind"] == "person"
            and (allow_edge is None or allow_edge(s, k, where))
        )  # fmt: skip
        for person, kind in members[:PER_NODE]:
            offer(person, max(strength, 0.0), (kind, True, where))
    if not links:
        return []
    text = dict(similarity.nearest_text(asked.issues, len(links), among=list(links)))
    origin = graph.nodes[asked.community]
    rows: list[Connector] = []
    for person, (strength, hops) in links.items():
        parts = {"link": strength, "text": max(text.get(person, 0.0), 0.0)}
        km = _distance_km(origin, graph.nodes[person])
        if km is None:
            rank, band = len(DISTANCE_BANDS_KM) + 1, None
        else:
            rank = next((i for i, most in enumerate(DISTANCE_BANDS_KM) if km <= most),
                        len(DISTANCE_BANDS_KM))  # fmt: skip
            band = distance_band(km)
        rows.append((rank, person, parts, hops, band))
    rows.sort(key=lambda row: (row[0], -_connector_score(row[2]), row[1]))
    return rows[:limit]


def _did(
    similarity: TextSimilarity, asked: _Asked, deeds: Mapping[str, Deed],
    initiatives: Collection[str],
) -> list[tuple[str, float]]:  # fmt: skip
    """A community's deeds closest to the issues: initiatives first, then entries."""
    ranked: list[tuple[str, float]] = []
    doing = [i for i in deeds if i in initiatives]
    telling = [i for i in deeds if i not in initiatives]
    for of_kind in (doing, telling):
        if of_kind:
            ranked += similarity.nearest_text(asked.issues, DID_PER_KIND, among=of_kind)
    return ranked


def _connector_score(parts: Mapping[str, float]) -> float:
    return sum(CONNECTOR_WEIGHTS[k] * v for k, v in parts.items())


def _distance_km(origin: Mapping[str, object], person: Mapping[str, object]) -> float | None:
    """Kilometres between two public positions, or None when either has none."""
    points = [origin.get("lat"), origin.get("lon"), person.get("lat"), person.get("lon")]
    if not all(isinstance(v, float | int) for v in points):
        return None
    lat1, lon1, lat2, lon2 = (float(v) for v in points)  # type: ignore[arg-type]
    return haversine_km(lat1, lon1, lat2, lon2)


# -- explaining -----------------------------------------------------------------


def _words(matches: Sequence[PassageMatch], tokens: Tokenizer) -> list[str]:
    words: list[str] = []
    for match in matches:
        words += [w for w in shared_words(match.query_text, match.text, tokens) if w not in words]
    return words[:10]


def _closest(matches: Sequence[PassageMatch]) -> str:
    if not matches:
        return ""
    best = matches[0]
    return f": their {quoted(best.text)} is closest to your {quoted(best.query_text, 60)}"


def _goal_clause(shared: frozenset[str], names: Mapping[str, Node]) -> str:
    about = [topic_name(names[g]) for g in sorted(shared, key=topic_order) if g in names]
    return f"; it addresses {listing(about)}, as your issues do" if about else ""


def _explanation(
    summary: str, row: Ranked, matches: Sequence[PassageMatch], names: Mapping[str, Node],
    tokens: Tokenizer,
) -> dict[str, object]:  # fmt: skip
    return {
        "summary": summary,
        "components": {k: rounded(v) for k, v in row[2].items()},
        "passages": [part for match in matches for part in match.as_json()],
        "matched_terms": _words(matches, tokens),
        **split_topics(row[3], names),
    }


def _community_item(
    asked: _Asked, row: Ranked, matches: Sequence[PassageMatch], names: Mapping[str, Node],
    tokens: Tokenizer, did: Sequence[tuple[Deed, float]],
) -> Item:  # fmt: skip
    parts = row[2]
    done = [(deed, names[deed.node_id], cos) for deed, cos in did if deed.node_id in names]
    shown = [quoted(node.name, 60) for _, node, _ in done[:2]]
    what = f"; what they did: {listing(shown)}" if shown else ""
    # In words only: the numbers stay in ``components`` (issue 13: no raw scores shown).
    alike = "very like yours" if parts["issues"] >= 0.7 else "like yours"
    summary = f"Faces issues {alike}{_closest(matches)}{_goal_clause(row[3], names)}{what}."
    explanation = _explanation(summary, row, matches, names, tokens)
    explanation["did"] = [deed_json(deed, node, names, row[0], cos) for deed, node, cos in done]
    return Item(row[0], rounded(row[1]), explanation)


def _initiative_item(
    asked: _Asked, row: Ranked, matches: Sequence[PassageMatch], names: Mapping[str, Node],
    tokens: Tokenizer,
) -> Item:  # fmt: skip
    where = row[4]
    entry = row[0] in names and names[row[0]].kind == "wisdom_entry"
    located = ""
    if where is not None and where in names:
        kin = "your own campaign" if where in asked.home else "a community with similar issues"
        located = f"; it {'tells of work' if entry else 'is'} in {names[where].name}, {kin}"
    lead = "Tells of work on issues like yours" if entry else "Works on issues like yours"
    summary = f"{lead}{_closest(matches)}{located}{_goal_clause(row[3], names)}."
    explanation = _explanation(summary, row, matches, names, tokens)
    if where is not None and where in names:
        explanation["community"] = node_ref(names[where])
    return Item(row[0], rounded(row[1]), explanation)


def _connector_item(asked: _Asked, row: Connector, names: Mapping[str, Node]) -> Item:
    _, person, parts, hops, band = row
    origin = names[asked.community]
    community = origin.name
    if band is None and not _placed(origin):
        near = f"{community} has no coordinates to measure a distance from"
    elif band is None:
        near = f"Their distance from {community} is not shared"
    elif band.startswith("within"):
        near = f"{band.capitalize()} of {community}"
    else:
        near = f"{band.capitalize()} from {community}"
    kind, _, target = hops[0]
    if kind == "works_on":
        link = f"works on {names[target].name}, one of the initiatives found"
    elif target == asked.community:
        link = f"belongs to {community}"
    elif target in asked.home:
        link = f"belongs to {names[target].name}, part of the same campaign"
    else:
        link = f"belongs to {names[target].name}, a community with similar issues"
    explanation = {
        "summary": f"{near}; {link}.",
        "components": {k: rounded(v) for k, v in parts.items()},
        "distance_band": band,
        "path": path_json(person, hops, names),
    }
    return Item(person, rounded(_connector_score(parts)), explanation)


def _placed(node: Node) -> bool:
    place = getattr(node, "place", None)
    return place is not None and place.lat is not None
