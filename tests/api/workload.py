"""The mixed traffic of the concurrency test over the demo network: reads of every derived
structure, some of them of nodes being written, and writes by admins, editors and members.

Every writer writes ids of its own, so no two of them meet on one record: a correct
service answers every write with 201, 200 or 204 whatever the others do.
"""

from __future__ import annotations

import random
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

from graph.model import Person
from graph.store import Store
from tests.api.traffic import Job, Session

QUERIES = [
    "youth mentoring", "clean water for villages", "community health workers",
    "open source learning platform", "climate adaptation for farmers", "food security",
    "digital identity", "violence prevention", "renewable energy cooperative",
]  # fmt: skip
BIOS = [
    "Teacher who runs reading circles for teenagers after school.",
    "Nurse organising home visits for elderly neighbours.",
    "Engineer building solar pumps with farming cooperatives.",
    "Librarian teaching digital skills to newcomers.",
]
DESCRIPTIONS = [
    "Neighbours repair bicycles together and lend them to students.",
    "A food bank that delivers fresh vegetables from community gardens.",
    "Volunteers map safe walking routes to school.",
    "Open data on air quality, measured by residents.",
]


# --- the ids it works on ---------------------------------------------------------------------


class Recent:
    """The last few ids a writer created, shared with the readers."""

    def __init__(self, size: int = 20) -> None:
        self._ids: deque[str] = deque(maxlen=size)
        self._lock = threading.Lock()

    def add(self, node_id: str) -> None:
        with self._lock:
            self._ids.append(node_id)

    def ids(self) -> list[str]:
        with self._lock:
            return list(self._ids)


@dataclass(frozen=True)
class Network:
    """Ids of the demo network that the traffic reads (none of them is deleted by it)."""

    people: list[str]  # public and discoverable
    initiatives: list[str]
    sectors: list[str]
    goals: list[str]
    wisdom: list[str]
    communities: list[str]
    free_interests: dict[str, list[str]]  # person -> goals they are not interested in yet
    untagged: list[tuple[str, str]]  # (initiative, goal) pairs with no `addresses` edge
    # by kind: nodes the traffic created lately (some deleted again since)
    recent: dict[str, Recent] = field(
        default_factory=lambda: {"person": Recent(), "initiative": Recent()}
    )


def network_of(db: Path, *, members: int = 2) -> Network:
    """The ids of the store in this SQLite file; ``members`` people get free goals."""
    store = Store.open(db)
    try:
        ids: dict[str, list[str]] = defaultdict(list)
        for node in store.iter_nodes():
            if isinstance(node, Person) and not (node.visibility == "public" and node.discoverable):
                continue
            ids[node.kind].append(node.id)
        people = sorted(ids["person"])
        addressed = {(e.source, e.target) for e in store.iter_edges(kind="addresses")}
        untagged = [(i, f"sdg:{n}") for i in sorted(ids["initiative"])[:40] for n in range(1, 18)
                    if (i, f"sdg:{n}") not in addressed]  # fmt: skip
        free = {}
        for person in people[:members]:
            linked = {e.target for e in store.edges_of(person) if e.kind == "interested_in"}
            free[person] = [f"sdg:{n}" for n in range(1, 18) if f"sdg:{n}" not in linked]
            assert free[person], person
    finally:
        store.close()
    network = Network(people, sorted(ids["initiative"]), sorted(ids["sector"]),
                      sorted(ids["sdg"]), sorted(ids["wisdom_entry"]), sorted(ids["community"]),
                      free, untagged)  # fmt: skip
    assert all((network.people, network.initiatives, network.wisdom, network.communities))
    assert (len(network.sectors), len(network.goals)) == (12, 17)
    assert network.untagged
    return network


# --- reads -----------------------------------------------------------------------------------


class Read(NamedTuple):
    """A read: its route, the pool its ``{id}`` is drawn from, its query parameters or body
    (a list stands for one of its items, "@pool" for one id of that pool), and the statuses
    a correct service may answer."""

    route: str
    pool: str | None = None
    request: dict[str, Any] = {}  # noqa: RUF012 - never changed
    expected: tuple[int, ...] = (200,)


GONE = (200, 404)  # nodes written meanwhile: not there yet, or deleted again
# Many requests, each walking the graph or the index.
QUICK_READS = [
    Read("GET /v1/search", None, {"params": {"q": QUERIES, "mode": ["dense", "lexical"]}}),
    Read("GET /v1/search", None, {"params": {"q": QUERIES}}),
    Read("GET /v1/search", None, {"params": {"q": QUERIES, "kind": "person",
                                             "sector": "@sectors"}}),
    Read("GET /v1/search", None, {"params": {"q": QUERIES, "sdg": "@goals"}}),
    Read("GET /v1/search", None, {"params": {"q": QUERIES, "lat": 38.6, "lon": -121.5,
                                             "radius_km": 20_000}}),
    Read("GET /v1/nodes/{id}/similar", "initiatives"),
    Read("GET /v1/nodes/{id}/similar", "people"),
    Read("GET /v1/nodes/{id}/similar", "recent:initiative", expected=GONE),
    Read("GET /v1/people/{id}/collaborators", "people",
         {"params": {"mode": ["similar", "complementary", "bridging"]}}),
    Read("GET /v1/people/{id}/collaborators", "recent:person", expected=GONE),
    Read("GET /v1/people/{id}/initiatives", "people"),
    Read("GET /v1/initiatives/{id}/people", "initiatives"),
    Read("GET /v1/initiatives/{id}/people", "recent:initiative", expected=GONE),
    Read("GET /v1/map"),
    Read("GET /v1/map", None, {"params": {"kind": "person"}}),
    Read("GET /v1/map", None, {"params": {"sdg": "@goals"}}),
    Read("GET /v1/nodes/{id}", "people"),
    Read("GET /v1/nodes/{id}/neighbors", "people"),
    Read("GET /v1/nodes/{id}/neighbors", "recent:person", expected=GONE),
    Read("GET /v1/nodes/{id}/neighbors", "sectors", {"params": {"depth": 2, "limit": 200}}),
    Read("GET /v1/nodes/{id}/neighbors", "goals", {"params": {"depth": 2, "limit": 200}}),
    Read("GET /v1/edges", None, {"params": {"node": "@people"}}),
    Read("GET /v1/edges", None, {"params": {"node": "@recent:initiative"}}, GONE),
    Read("GET /v1/paths", None, {"params": {"source": "@recent:person", "target": "@people"}},
         GONE),
    Read("GET /v1/nodes", None, {"params": {"kind": "person", "limit": 200}}),
]  # fmt: skip
# The councils' analytics and the editors' routes: seconds each.
SLOW_READS = [
    Read("GET /v1/sectors/overlap"),
    Read("GET /v1/sectors/{id}/synergies", "sectors"),
    Read("GET /v1/sectors/{id}/bridges", "sectors"),
    Read("GET /v1/sectors/{id}/groups", "sectors"),
    Read("GET /v1/sectors/{id}/gaps", "sectors"),
    Read("POST /v1/councils/propose", None, {"json": {"sector": "@sectors"}}),  # members and up
    Read("POST /v1/wisdom/related", None, {"json": {"id": "@wisdom"}}),
    Read("POST /v1/wisdom/related", None,
         {"json": {"title": "Growing food together", "body": DESCRIPTIONS}}),
    Read("POST /v1/communities/learn", None,
         {"json": {"community": "@communities", "issues": QUERIES}}),
]  # fmt: skip
MEMBERS_AND_UP = {"POST /v1/councils/propose"}


class NoneYet(Exception):
    """A pool of recently written ids is still empty."""


def _pool(network: Network, name: str) -> list[str]:
    if name.startswith("recent:"):
        ids = network.recent[name.partition(":")[2]].ids()
        if not ids:
            raise NoneYet(name)
        return ids
    ids = getattr(network, name)
    assert isinstance(ids, list)
    return ids


def _drawn(value: Any, rng: random.Random, network: Network) -> Any:
    """``value`` with each list replaced by one of its items and each "@pool" by an id."""
    if isinstance(value, dict):
        return {key: _drawn(item, rng, network) for key, item in value.items()}
    if isinstance(value, list):
        return rng.choice(value)
    if isinstance(value, str) and value.startswith("@"):
        return rng.choice(_pool(network, value[1:]))
    return value


def read_forever(
    session: Session,
    rng: random.Random,
    stop: threading.Event,
    *,
    network: Network,
    role: str,
    among: list[Read],
) -> None:
    reads = [r for r in among if role != "anonymous" or r.route not in MEMBERS_AND_UP]
    while not stop.is_set():
        read = rng.choice(reads)
        url = read.route.split()[1]
        try:
            if read.pool is not None:
                url = url.replace("{id}", rng.choice(_pool(network, read.pool)))
            request = _drawn(read.request, rng, network)
        except NoneYet:
            continue
        session(read.route, url, expected=read.expected, **request)


# --- writes ----------------------------------------------------------------------------------


def admin_writes(
    session: Session, rng: random.Random, stop: threading.Event, *, network: Network
) -> None:
    """People: created, changed, linked and unlinked; every other one deleted again."""
    n = 0
    while not stop.is_set():
        person = f"person:concurrent-{n}"
        friend, goal = rng.choice(network.people), rng.choice(network.goals)
        body = {"kind": "person", "id": person, "name": f"Concurrent Person {n}",
                "bio": rng.choice(BIOS), "interests": ["mentoring", "gardens"]}  # fmt: skip
        session("POST /v1/nodes", "/v1/nodes", json=body, expected=(201,))
        network.recent["person"].add(person)
        session("PATCH /v1/nodes/{id}", f"/v1/nodes/{person}", json={"bio": rng.choice(BIOS)})
        knows = {"kind": "knows", "source": person, "target": friend}
        session("POST /v1/edges", "/v1/edges", json=knows, expected=(201,))
        interest = {"kind": "interested_in", "source": person, "target": goal}
        session("POST /v1/edges", "/v1/edges", json=interest, expected=(201,))
        session("DELETE /v1/edges/{source}/{kind}/{target}", f"/v1/edges/{person}/knows/{friend}",
                expected=(204,))  # fmt: skip
        if n % 2:
            session("DELETE /v1/nodes/{id}", f"/v1/nodes/{person}", expected=(204,))
        n += 1


def editor_writes(
    session: Session, rng: random.Random, stop: threading.Event, *, network: Network
) -> None:
    """Initiatives: created, changed, tagged and untagged; every other one deleted again."""
    n = 0
    while not stop.is_set():
        initiative = f"initiative:concurrent-{n}"
        sector, goal = rng.choice(network.sectors), rng.choice(network.goals)
        body = {"kind": "initiative", "id": initiative, "name": f"Concurrent Initiative {n}",
                "description": rng.choice(DESCRIPTIONS)}  # fmt: skip
        session("POST /v1/nodes", "/v1/nodes", json=body, expected=(201,))
        network.recent["initiative"].add(initiative)
        change = {"description": rng.choice(DESCRIPTIONS), "needs": ["volunteers"]}
        session("PATCH /v1/nodes/{id}", f"/v1/nodes/{initiative}", json=change)
        tag = {"kind": "in_sector", "source": initiative, "target": sector}
        session("POST /v1/edges", "/v1/edges", json=tag, expected=(201,))
        addresses = {"kind": "addresses", "source": initiative, "target": goal}
        session("POST /v1/edges", "/v1/edges", json=addresses, expected=(201,))
        session("DELETE /v1/edges/{source}/{kind}/{target}",
                f"/v1/edges/{initiative}/addresses/{goal}", expected=(204,))  # fmt: skip
        if n % 2:
            session("DELETE /v1/nodes/{id}", f"/v1/nodes/{initiative}", expected=(204,))
        n += 1


def editor_tags(
    session: Session, rng: random.Random, stop: threading.Event, *, network: Network
) -> None:
    """Demo initiatives tagged with goals and untagged again (no text changes: quick)."""
    while not stop.is_set():
        initiative, goal = rng.choice(network.untagged)
        tag = {"kind": "addresses", "source": initiative, "target": goal}
        session("POST /v1/edges", "/v1/edges", json=tag, expected=(201,))
        session("DELETE /v1/edges/{source}/{kind}/{target}",
                f"/v1/edges/{initiative}/addresses/{goal}", expected=(204,))  # fmt: skip


def churn(session: Session, rng: random.Random, stop: threading.Event, *, kind: str) -> None:
    """Nodes of ``kind`` with a name only (quick to index), created and deleted at once:
    the node set changes size as often as it can."""
    n = 0
    while not stop.is_set():
        node = f"{kind}:churn-{n}"
        body = {"kind": kind, "id": node, "name": f"Churn {rng.choice(QUERIES)} {n}"}
        session("POST /v1/nodes", "/v1/nodes", json=body, expected=(201,))
        session("DELETE /v1/nodes/{id}", f"/v1/nodes/{node}", expected=(204,))
        n += 1


def member_writes(
    session: Session, rng: random.Random, stop: threading.Event, *, network: Network, person: str
) -> None:
    """A member rewrites their own profile and links it to goals, then unlinks them."""
    goals = network.free_interests[person]
    n = 0
    while not stop.is_set():
        goal = goals[n % len(goals)]
        session("PATCH /v1/nodes/{id}", f"/v1/nodes/{person}",
                json={"bio": f"{rng.choice(BIOS)} Week {n}."})  # fmt: skip
        link = {"kind": "interested_in", "source": person, "target": goal}
        session("POST /v1/edges", "/v1/edges", json=link, expected=(201,))
        session("DELETE /v1/edges/{source}/{kind}/{target}",
                f"/v1/edges/{person}/interested_in/{goal}", expected=(204,))  # fmt: skip
        n += 1


def account_churn(session: Session, rng: random.Random, stop: threading.Event) -> None:
    """Sign-ups of new addresses, failed sign-ins and reset requests, which write the
    accounts' tables (and their attempt counts) beside the graph's writers; a spent
    attempt limit (429) is a right answer too."""
    n = 0
    tag = rng.randrange(10**9)
    while not stop.is_set():
        email = f"churn-{tag}-{n}@example.org"
        body = {"email": email, "password": "a long passphrase", "name": f"Churn {n}"}
        session("POST /v1/account/signup", "/v1/account/signup", json=body, expected=(202, 429))
        wrong = {"email": email, "password": "not the passphrase"}
        session("POST /v1/account/login", "/v1/account/login", json=wrong, expected=(401, 429))
        session("POST /v1/account/reset", "/v1/account/reset", json={"email": email},
                expected=(202, 429))  # fmt: skip
        n += 1


def workload(
    network: Network,
    headers: dict[str, dict[str, str]],
    members: list[tuple[str, dict[str, str]]],
    *,
    quick_readers: tuple[str, ...],
    slow_readers: tuple[str, ...],
) -> list[tuple[dict[str, str], Job]]:
    """Every thread's headers and job: readers of these roles, and one writer per kind of
    write (``headers`` by role; ``members``: each member key with the person it owns)."""
    jobs: list[tuple[dict[str, str], Job]] = [
        (headers[role], partial(read_forever, network=network, role=role, among=reads))
        for roles, reads in ((quick_readers, QUICK_READS), (slow_readers, SLOW_READS))
        for role in roles
    ]
    admin, editor = headers["admin"], headers["editor"]
    jobs += [
        (admin, partial(admin_writes, network=network)),
        (editor, partial(editor_writes, network=network)),
        (editor, partial(editor_tags, network=network)),
        (admin, partial(churn, kind="organization")),
        (editor, partial(churn, kind="event")),
        ({}, account_churn),
    ]
    jobs += [(key, partial(member_writes, network=network, person=p)) for p, key in members]
    return jobs
