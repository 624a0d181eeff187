"""My matches: recommendations for the signed-in person, with reasons phrased to them.

People and initiatives come from the recommender (:class:`api.matching.MatchingService`),
which leaves out what the person hid. The recommender has no community target, so
communities are ranked here, as the similar-node code ranks nodes: by how close their
text is to the person's (the shared semantic index), plus the goals they share and
how near they are; the person's own communities and hidden ones are left out.

Reasons are short sentences built from the parts of the existing explanation ("You
both care about Quality education"), with no numbers but distances and no field names,
for volunteers who never see a score.
"""

from __future__ import annotations

from typing import Any, Literal

from api.auth import Caller
from api.marks import Marks
from api.matching import MatchingService
from api.services import Services
from graph.geo import distance_band, haversine_km, public_place
from graph.matching.scoring import Mode
from graph.model import Node, Person, Place, Sdg
from graph.visibility import present_recommended

MatchKind = Literal["person", "initiative", "community"]
COMMUNITY_GOAL_WEIGHT = 0.15
COMMUNITY_NEAR_KM = 100.0
COMMUNITY_NEAR_WEIGHT = 0.1
MEMBERSHIP_EDGES = frozenset({"member_of", "located_in"})


def listing(names: list[str], limit: int = 3) -> str:
    """ "A", "A and B", "A, B and C"."""
    names = names[:limit]
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def _band(band: str) -> str:
    if band.startswith("within "):
        return f"Within {band.removeprefix('within ')} of you"
    if band.startswith("over "):
        return f"More than {band.removeprefix('over ')} away"
    return band[:1].upper() + band[1:]


def _path_reason(path: list[dict[str, Any]], target: str) -> str | None:
    """The path in words: through someone ("Rosa knows both of you"), through shared work
    ("You both work on Safe Streets"), a place or group, or a longer chain."""
    nodes = [step for step in path if "id" in step]
    edges = [step["edge"] for step in path if "edge" in step]
    middle = nodes[1:-1]
    if not middle:
        return None
    if len(middle) > 1:
        return f"You are linked through {listing([n['name'] for n in middle])}"
    via, name = middle[0], middle[0]["name"]
    if via["kind"] == "person":
        if target == "person" and set(edges) == {"knows"}:
            return f"{name} knows both of you"
        if target == "initiative":
            return f"{name}, whom you know, works on it"
        return f"You both know {name}"
    if via["kind"] == "initiative":
        return f"You both work on {name}"
    if set(edges) <= MEMBERSHIP_EDGES:
        return f"You are both part of {name}"
    if target == "initiative":
        return f"It is linked to you through {name}"
    return f"You are both linked to {name}"


def reasons(found: dict[str, Any], target: str, mode: str = "similar") -> list[str]:
    """Plain sentences, phrased to me, from an explanation of the recommender."""
    said: list[str] = []
    theirs = [s["name"] for s in found.get("bridges", {}).get("theirs", [])]
    yours = [s["name"] for s in found.get("bridges", {}).get("yours", [])]
    if mode == "bridging" and theirs:
        who = "They bring" if target == "person" else "It brings"
        brings = listing(theirs, 2)
        said.append(f"{who} {brings} to your {listing(yours, 2)}" if yours
                    else f"{who} {brings}")  # fmt: skip
    topics = [g["name"] for g in found.get("shared_sdgs", [])]
    topics += [s["name"] for s in found.get("shared_sectors", [])]
    if topics:
        if target == "person":
            said.append(f"You both care about {listing(topics)}")
        else:
            said.append(f"It works on {listing(topics)}, which you care about")
    linked = _path_reason(found.get("path", []), target)
    if linked:
        said.append(linked)
    for met in found.get("offer_need", [])[:2]:
        if met["direction"] == "theirs_meets_yours":
            who = "They offer" if target == "person" else "It offers"
            said.append(f"{who} {met['offer']}, which you need")
        else:
            who = "they need" if target == "person" else "it needs"
            said.append(f"You offer {met['offer']}, which {who}")
    phrases = found.get("phrases", {})
    if not found.get("offer_need") and phrases.get("theirs") and len(said) < 3:
        mine, them = (phrases.get("yours") or [""])[0], phrases["theirs"][0]
        if mine and mine.casefold() != them.casefold():
            said.append(f"Your {mine} is close to their {them}")
        else:
            said.append(f"You both mention {them}")
    band = found.get("distance_band")
    if band:
        said.append(_band(band))
    if not said:
        what = "they wrote" if target == "person" else "it is about"
        said.append(f"What {what} is close to what you wrote")
    return said


def person_matches(
    matching: MatchingService,
    caller: Caller,
    person_id: str,
    kind: Literal["person", "initiative"],
    *,
    mode: Mode = "similar",
    limit: int = 10,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """People or initiatives for the person, each with reasons (hidden ones left out by
    the recommender itself)."""
    items = matching.recommend(caller, person_id, kind, mode=mode, limit=limit, offset=offset)
    return [
        {"node": item["node"], "reasons": reasons(item["explanation"], kind, mode),
         "explanation": item["explanation"]}
        for item in items
    ]  # fmt: skip


def community_matches(
    services: Services, caller: Caller, person_id: str, *, limit: int = 10, offset: int = 0
) -> list[dict[str, Any]]:
    """Communities for the person: close by text, sharing goals, or near; explained with
    an object of the recommender's explanation shape."""
    graph = services.view.graph
    if person_id not in graph:
        return []
    mine = set(graph._succ[person_id])
    goals_mine = {g for g in mine if g.startswith(("sdg:", "sector:"))}
    hidden = Marks(services.store.engine).hidden(person_id)
    communities = [
        node for node, attrs in graph.nodes(data=True)
        if attrs["kind"] == "community" and node not in mine and node not in hidden
    ]  # fmt: skip
    if not communities:
        return []
    texts = services.similarity.scores(person_id, communities)
    nodes = services.store.get_nodes([person_id, *communities])
    person = nodes.get(person_id)
    here = _place(person)
    ranked: list[tuple[float, str, set[str], float | None]] = []
    for community in communities:
        shared = goals_mine & set(graph._succ[community])
        there = _place(nodes.get(community))
        km = haversine_km(*here, *there) if here and there else None
        score = texts.get(community, 0.0) + COMMUNITY_GOAL_WEIGHT * len(shared)
        if km is not None and km <= COMMUNITY_NEAR_KM:
            score += COMMUNITY_NEAR_WEIGHT
        ranked.append((score, community, shared, km))
    ranked.sort(key=lambda r: (-r[0], r[1]))
    named = services.store.get_nodes({g for r in ranked for g in r[2]})
    items = []
    for _, community, shared, km in ranked[offset : offset + limit]:
        node = nodes.get(community)
        if node is None:
            continue
        goals = sorted((named[g] for g in shared if g.startswith("sdg:") and g in named),
                       key=lambda n: (n.number if isinstance(n, Sdg) else 0, n.id))  # fmt: skip
        sectors = sorted((named[g] for g in shared if g.startswith("sector:") and g in named),
                         key=lambda n: n.name)  # fmt: skip
        found: dict[str, Any] = {
            "summary": "",
            "components": {"text": round(texts.get(community, 0.0), 4),
                           "goals": round(COMMUNITY_GOAL_WEIGHT * len(shared), 4)},
            "shared_sectors": [{"id": s.id, "name": s.name} for s in sectors],
            "shared_sdgs": [{"id": g.id, "number": g.number if isinstance(g, Sdg) else None,
                             "name": g.name} for g in goals],
            "path": [], "phrases": {"yours": [], "theirs": []}, "offer_need": [],
            "bridges": {"yours": [], "theirs": []},
        }  # fmt: skip
        if km is not None:
            found["distance_band"] = distance_band(km)
        said = _community_reasons(found)
        found["summary"] = f"{node.name}: {'; '.join(said)}."
        items.append({"node": present_recommended(node, caller), "reasons": said,
                      "explanation": found})  # fmt: skip
    return items


def _community_reasons(found: dict[str, Any]) -> list[str]:
    said = []
    topics = [g["name"] for g in found["shared_sdgs"]]
    topics += [s["name"] for s in found["shared_sectors"]]
    if topics:
        said.append(f"It works on {listing(topics)}, which you care about")
    if found.get("distance_band"):
        said.append(_band(found["distance_band"]))
    if found["components"]["text"] > 0 and len(said) < 2:
        said.append("What it is about is close to what you wrote")
    return said or ["A community you could join"]


def _place(node: Node | None) -> tuple[float, float] | None:
    """A node's public place: a person's coarsened to their precision."""
    place: Place | None = getattr(node, "place", None)
    if place is None:
        return None
    if isinstance(node, Person):
        place = public_place(place, node.location_precision)
    lat, lon = place.lat, place.lon
    if lat is None or lon is None:
        return None
    return float(lat), float(lon)
