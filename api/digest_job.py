"""The weekly digest: what it says, the mail, and the job that sends it (``cocreate digest``).

A digest tells a person, in plain words, of the people and initiatives added that week
(by the change log's first entry for them) that they may find as a member would, and
that are near them (same country, or within ``NEAR_KM`` of their public place) or share
a sector or goal they follow; then their top matches with reasons. Nothing is mailed to
an account without the digest on or without a profile, nor twice for one week
(:func:`api.digest.claim`), nor when there is nothing to say.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from api.accounts import Account
from api.auth import Caller
from api.digest import claim, unsubscribe_token, was_sent, week_bounds
from api.mail import Mail
from api.marks import Marks
from api.matches import listing, person_matches
from api.matching import MatchingService
from api.services import Services
from graph import schema
from graph.geo import haversine_km, public_place
from graph.model import Initiative, Node, Person
from graph.store import WRITES, transaction
from graph.visibility import Role, Viewer, may_see_node, present_recommended

NEAR_KM = 100.0
EACH = 5  # new people, and new initiatives, at most
MATCHES = 3
TOPIC_EDGES = frozenset({"interested_in", "in_sector", "addresses"})


@dataclass(frozen=True)
class New:
    """A node added in the week, with what the digest compares: its public place and
    country, and the sectors and goals it is linked to."""

    node: Node
    at: float
    place: tuple[float, float] | None
    country: str | None
    topics: frozenset[str]


def added_in(services: Services, week: str) -> list[New]:
    """People and initiatives whose first change-log entry falls in the week, newest first."""
    return list(iter_added(services, week))


def iter_added(services: Services, week: str, *, batch: int = 500) -> Iterator[New]:
    """:func:`added_in` read lazily, ``batch`` nodes at a time: a digest page that has
    found enough stops early even in the week a whole network was imported."""
    start, end = week_bounds(week)
    t = schema.changes
    first = func.min(t.c.at)
    query = (
        select(t.c.ref, first.label("first"))
        .where(t.c.entity == "node", t.c.op.in_(sorted(WRITES)))
        .where(t.c.ref.like("person:%") | t.c.ref.like("initiative:%"))
        .group_by(t.c.ref)
        .having(first >= start, first < end)
    )
    with services.store.engine.connect() as conn:
        rows = sorted(((row.first, row.ref) for row in conn.execute(query)),
                      key=lambda row: (-row[0], row[1]))  # fmt: skip
    for offset in range(0, len(rows), batch):
        chunk = rows[offset : offset + batch]
        nodes = services.store.get_nodes(node_id for _, node_id in chunk)
        linked = services.store.targets_of(nodes, TOPIC_EDGES)
        for at, node_id in chunk:
            node = nodes.get(node_id)
            if node is None or (isinstance(node, Initiative) and not node.active):
                continue
            place, country = _public(node)
            yield New(node, at, place, country, frozenset(linked.get(node_id, ())))


def _public(node: Node) -> tuple[tuple[float, float] | None, str | None]:
    place = getattr(node, "place", None)
    if place is None:
        return None, None
    if isinstance(node, Person):
        place = public_place(place, node.location_precision)
    if place.lat is None or place.lon is None:
        return None, place.country
    return (float(place.lat), float(place.lon)), place.country


def followed(services: Services, person_id: str) -> set[str]:
    """The sectors and goals the person follows: in their profile, and by follow marks."""
    found = {
        edge.target
        for edge in services.store.edges_of(person_id)
        if edge.source == person_id and edge.kind == "interested_in"
    }
    found |= {m.node_id for m in Marks(services.store.engine).of(person_id, "follow")
              if m.node_id.startswith(("sector:", "sdg:"))}  # fmt: skip
    return found


def content(
    services: Services,
    matching: MatchingService,
    account: Account,
    week: str,
    new: Iterable[New] | None = None,
) -> dict[str, Any]:
    """The digest of one account with a profile, as the /digest page and the mail show it."""
    assert account.person_id is not None
    person_id = account.person_id
    viewer = Caller(role=Role.member, person_id=person_id, account_id=account.id)
    me = services.store.find_node(person_id)
    here, country = _public(me) if me is not None else (None, None)
    topics = followed(services, person_id)
    names = {n.id: n.name for n in services.store.get_nodes(topics).values()}
    hidden = Marks(services.store.engine).hidden(person_id)
    start, end = week_bounds(week)
    people: list[dict[str, Any]] = []
    initiatives: list[dict[str, Any]] = []
    for item in new if new is not None else iter_added(services, week):
        node = item.node
        if node.id == person_id or node.id in hidden:
            continue
        if not may_see_node(Viewer(role=Role.member, person_id=person_id), node, listing=True):
            continue
        why = _why(item, here, country, topics, names)
        if why is None:
            continue
        bucket = people if isinstance(node, Person) else initiatives
        if len(bucket) < EACH:
            bucket.append({"node": present_recommended(node, viewer), "why": why})
        if len(people) == len(initiatives) == EACH:
            break
    matches = []
    if me is not None and person_id in services.view.graph:
        matches = [
            {"node": m["node"], "reasons": m["reasons"]}
            for m in person_matches(matching, viewer, person_id, "person", limit=MATCHES)
        ]
    return {
        "week": week, "starts": start, "ends": end, "people": people,
        "initiatives": initiatives, "matches": matches, "digest": account.digest,
    }  # fmt: skip


def _why(
    item: New,
    here: tuple[float, float] | None,
    country: str | None,
    topics: set[str],
    names: dict[str, str],
) -> str | None:
    """Why a new node is in the digest, in words; None when it is not for this person."""
    shared = sorted(names[t] for t in item.topics & topics if t in names)
    if shared:
        return f"Also cares about {listing(shared, 2)}"
    if here is not None and item.place is not None:
        km = haversine_km(*here, *item.place)
        if km <= NEAR_KM:
            return f"Within {max(10, int(round(km, -1)))} km of you" if km > 10 else "Close to you"
    if country is not None and item.country == country:
        return "In your country"
    return None


def empty(found: dict[str, Any]) -> bool:
    return not (found["people"] or found["initiatives"] or found["matches"])


def mail_of(services: Services, account: Account, found: dict[str, Any]) -> Mail:
    """The plain-text mail, with a one-click unsubscribe (RFC 8058)."""
    base = services.settings.base_url
    token = unsubscribe_token(services.store.engine, account.id)
    stop = f"{base}/v1/account/unsubscribe?token={token}"
    lines = [f"Hello {account.name},", "", "Here is what is new on Cocreate this week."]
    for title, key in (("New people", "people"), ("New initiatives", "initiatives")):
        if found[key]:
            lines += ["", f"{title}:"]
            lines += [f"- {item['node']['name']}: {item['why']}" for item in found[key]]
    if found["matches"]:
        lines += ["", "People you could work with:"]
        for item in found["matches"]:
            lines.append(f"- {item['node']['name']}")
            lines += [f"    {reason}" for reason in item["reasons"]]
    lines += [
        "", f"See it all on the web: {base}/digest", "",
        "You get this mail because you asked for the weekly digest.",
        f"Stop these mails with one click: {stop}",
    ]  # fmt: skip
    headers = (
        ("List-Unsubscribe", f"<{stop}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
    )
    return Mail(account.email, "Your week on Cocreate", "\n".join(lines) + "\n", headers)


@dataclass
class Tally:
    sent: int = 0
    skipped: int = 0


def run(
    services: Services, matching: MatchingService, week: str, *, dry_run: bool = False
) -> Tally:
    """Send the week's digest to every account that asked for it, once.

    An account is skipped when it has no profile, has nothing new to read, or was sent
    this week's digest already; the row saying it was sent is written in the transaction
    that decides to send, so a run repeated, or two at once, send one mail each.
    """
    tally = Tally()
    new = added_in(services, week)
    for account in services.accounts.digest_subscribers():
        if account.person_id is None:
            tally.skipped += 1
            continue
        found = content(services, matching, account, week, new)
        if empty(found):
            tally.skipped += 1
            continue
        if dry_run:
            if was_sent(services.store.engine, account.id, week):
                tally.skipped += 1
            else:
                tally.sent += 1
            continue
        mail = mail_of(services, account, found)
        with transaction(services.store.engine) as conn:
            fresh = claim(conn, account.id, week)
        if not fresh:
            tally.skipped += 1
            continue
        services.mailer.send(mail)
        tally.sent += 1
    return tally
