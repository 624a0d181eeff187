"""People to ask about a draft: those linked to the related entries, their initiatives and topics.

Candidates are bounded: the authors of the related entries, the people who work on
the initiatives (or take part in the events) those entries describe, at most
:data:`PER_NODE` of each, and the :data:`TEXT_DEPTH` people closest in meaning to the
draft. Only the ids in ``people`` are ever considered: the service passes the people
the caller may be recommended (discoverable, visible to them), so consent is applied
before anything is ranked.

Each candidate scores ``0.4 text + 0.35 link + 0.25 topics``:

- ``text``: the cosine of the person's indexed text with the draft's;
- ``link``: how related the best entry they wrote, or whose initiative or event they
  are part of, is (the most related entry counts 1);
- ``topics``: the share of the related entries' goals and sectors (weighted by how
  related each entry is) that they care about or work on through an initiative.

A person with neither a link nor a shared topic is not a practitioner, however close
their words: every practitioner comes with the path that connects them to a related
entry.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

import networkx as nx

from graph.editorial.explain import (
    Hop,
    Item,
    NodeSource,
    listing,
    path_ids,
    path_json,
    quoted,
    reverse,
    rounded,
    split_topics,
    topic_links,
    topic_name,
)
from graph.editorial.related import Draft
from graph.model import Node
from graph.similarity import TextSimilarity

TEXT_DEPTH = 40
PER_NODE = 200
WEIGHTS = {"text": 0.4, "link": 0.35, "topics": 0.25}
TAKING_PART = {"initiative": "works_on", "event": "participates_in"}


@dataclass(frozen=True, slots=True)
class _Link:
    strength: float
    hops: tuple[Hop, ...]  # from the person to a related entry


def find_practitioners(
    graph: nx.MultiDiGraph,
    nodes: NodeSource,
    similarity: TextSimilarity,
    draft: Draft,
    entries: Mapping[str, float],
    *,
    people: Collection[str],
    limit: int = 5,
) -> list[Item]:
    """The ``limit`` people best placed to tell about the draft's practice, explained.

    ``entries``: the related entries and how related each is (the best at 1);
    ``people``: the only people who may be returned.
    """
    if not entries or limit <= 0:
        return []
    order = sorted(entries, key=lambda e: (-entries[e], e))
    topics = _entry_topics(graph, order, entries)
    links = _links(graph, order, entries, people)
    text = _text_scores(similarity, draft, people, links)
    total = sum(weight for weight, _ in topics.values())
    scored: list[tuple[float, str, dict[str, float], tuple[Hop, ...], list[str]]] = []
    for person in text.keys() | links.keys():
        reached = _reached_topics(graph, person, topics)
        link = links.get(person)
        if link is None and not reached:
            continue
        parts = {
            "text": max(text.get(person, 0.0), 0.0),
            "link": link.strength if link else 0.0,
            "topics": sum(topics[t][0] for t in reached) / total if total else 0.0,
        }
        best = sorted(reached, key=lambda t: (-topics[t][0], len(reached[t]), t))
        hops = link.hops if link else (*reached[best[0]], *topics[best[0]][1])
        score = sum(WEIGHTS[name] * value for name, value in parts.items())
        scored.append((score, person, parts, hops, best))
    scored.sort(key=lambda row: (-row[0], row[1]))
    chosen = scored[:limit]
    names = nodes.get_nodes(
        {i for _, person, _, hops, best in chosen for i in [*path_ids(person, hops), *best]}
    )
    return [
        _explained(person, score, parts, hops, best, names)
        for score, person, parts, hops, best in chosen
    ]


def _entry_topics(
    graph: nx.MultiDiGraph, order: list[str], entries: Mapping[str, float]
) -> dict[str, tuple[float, tuple[Hop, ...]]]:
    """Each goal and sector of the related entries: its weight, and hops from it to the
    most related entry that has it."""
    found: dict[str, tuple[float, tuple[Hop, ...]]] = {}
    for entry in order:
        for topic, hops in topic_links(graph, entry).items():
            weight, back = found.get(topic, (0.0, reverse(entry, hops)))
            found[topic] = (weight + entries[entry], back)
    return found


def _links(
    graph: nx.MultiDiGraph, order: list[str], entries: Mapping[str, float],
    people: Collection[str],
) -> dict[str, _Link]:  # fmt: skip
    """People who wrote a related entry or take part in what it describes, best link kept."""
    found: dict[str, _Link] = {}

    def offer(person: str, strength: float, hops: tuple[Hop, ...]) -> None:
        if person in people and person not in found:  # entries come most related first
            found[person] = _Link(strength, hops)

    for entry in order:
        strength = entries[entry]
        for author, _, kind in sorted(graph.in_edges(entry, keys=True)):
            if kind == "authored":
                offer(author, strength, (("authored", True, entry),))
        for _, described, kind in sorted(graph.out_edges(entry, keys=True)):
            edge = TAKING_PART.get(graph.nodes[described]["kind"])
            if kind != "describes" or edge is None:
                continue
            part = sorted(s for s, _, k in graph.in_edges(described, keys=True) if k == edge)
            for person in part[:PER_NODE]:
                offer(person, strength, ((edge, True, described), ("describes", False, entry)))
    return found


def _text_scores(
    similarity: TextSimilarity, draft: Draft, people: Collection[str], links: Mapping[str, _Link]
) -> dict[str, float]:
    """Cosine with the draft: of the closest people, and of every linked person."""
    if draft.node_id is not None:
        near = dict(similarity.nearest(draft.node_id, TEXT_DEPTH, among=people))
        missing = [p for p in links if p not in near]
        return near | similarity.scores(draft.node_id, missing)
    near = dict(similarity.nearest_text(draft.text, TEXT_DEPTH, among=people))
    missing = [p for p in links if p not in near]
    if missing:
        near |= dict(similarity.nearest_text(draft.text, len(missing), among=missing))
    return near


def _reached_topics(
    graph: nx.MultiDiGraph, person: str, topics: Mapping[str, tuple[float, tuple[Hop, ...]]]
) -> dict[str, tuple[Hop, ...]]:
    """The entries' topics the person cares about or works on, with the shortest hops there."""
    reached: dict[str, tuple[Hop, ...]] = {}
    for topic, hops in topic_links(graph, person).items():
        if topic in topics:
            reached[topic] = hops
    for _, initiative, kind in sorted(graph.out_edges(person, keys=True)):
        if kind != "works_on":
            continue
        for topic, hops in topic_links(graph, initiative).items():
            via = (("works_on", True, initiative), *hops)
            if topic in topics and (topic not in reached or len(via) < len(reached[topic])):
                reached[topic] = via
    return reached


def _explained(
    person: str,
    score: float,
    parts: dict[str, float],
    hops: tuple[Hop, ...],
    topics: list[str],
    nodes: Mapping[str, Node],
) -> Item:
    on_path = set(path_ids(person, hops))
    others = [topic_name(nodes[t]) for t in topics if t in nodes and t not in on_path]
    summary = _reason(hops, nodes)
    if others:
        summary += f"; also linked to {listing(others[:3])}"
    explanation = {
        "summary": summary + ".",
        "components": {name: rounded(value) for name, value in parts.items()},
        "path": path_json(person, hops, nodes),
        **split_topics(topics, nodes),
    }
    return Item(person, rounded(score), explanation)


def _reason(hops: tuple[Hop, ...], nodes: Mapping[str, Node]) -> str:
    """The path in words, from the person's side."""
    entry = quoted(nodes[hops[-1][2]].name)
    first_kind, _, first = hops[0]
    if first_kind == "authored":
        return f"Wrote the related entry {entry}"
    if hops[-1][0] == "describes":
        verb = "Works on" if first_kind == "works_on" else "Takes part in"
        return f"{verb} {nodes[first].name}, which the related entry {entry} describes"
    topic = next(t for _, _, t in hops if nodes[t].kind in ("sdg", "sector"))
    about = topic_name(nodes[topic])
    if first_kind == "works_on":
        verb = "addresses" if nodes[topic].kind == "sdg" else "is in"
        return f"Works on {nodes[first].name}, which {verb} {about}, like the related entry {entry}"
    return f"Cares about {about}, like the related entry {entry}"
