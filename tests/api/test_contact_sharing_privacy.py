"""Who sees a person's contact details, per what they chose to share and who they are.

The visibility matrix (``test_visibility_matrix.py``) holds subjects who share their
contact with nobody but those introduced, and never introduces anyone, so it cannot say
what an accepted introduction opens. Here one store holds a subject per
(``share_contact``, visibility) pair, all discoverable and open to collaborate, and
viewers who stand in every relation to each of them: a stranger (a member with a
profile who asked nothing), one whose request waits, one whose request was declined,
one introduced with consent (the request accepted), an editor and an admin (accounts
without a profile), the subject's owner, and an anonymous caller. A private subject
cannot be found to be asked, so they ask each viewer instead, and the viewer answers.

The rule, written out (not asked of :mod:`graph.visibility`): the owner and admins see
the contact; the introduced see it unless the subject shares with nobody (and may read
even a private subject's record, by a direct link); any other signed-in viewer sees it
when the subject shares with members and the viewer may read the record. The map,
recommendations, the inbox and the export of one's own data never carry anyone else's
contact, whatever they chose; search and listings give each record as a direct link
would (docs/api.md: contact details are kept from recommendations, not from records), so
never a contact that the record would not show.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import Role
from api.services import Services
from graph.edges import Edge
from graph.model import Contact, Initiative, Person, Place
from tests.api.conftest import _settings, account_token

SHARES = ("nobody", "introduced", "members")
VISIBILITIES = ("public", "members", "private")
ASKERS = ("waiting", "declined", "introduced")
"""Viewers with a request between them and each subject, by how it was answered."""
VIEWERS = ("anonymous", "stranger", *ASKERS, "editor", "admin", "owner")
HUB, NEED, SECTOR = "initiative:cs-hub", "initiative:cs-need", "sector:environment"
ANCHOR = "person:cs-anchor"
PHONE = "+1 916 555 0100"  # every subject's
PLACE = Place(name="Midtown Sacramento", country="US", region="Northern America",
              lat=38.5741, lon=-121.4831)  # fmt: skip


@dataclass(frozen=True)
class Subject:
    share: str
    visibility: str

    @property
    def id(self) -> str:
        return f"person:cs-{self.share}-{self.visibility}"

    @property
    def email(self) -> str:
        return f"cs-{self.share}-{self.visibility}@hidden.example.org"

    def __str__(self) -> str:
        return f"{self.visibility}, shares with {self.share}"


SUBJECTS = [Subject(share, vis) for share, vis in itertools.product(SHARES, VISIBILITIES)]


def expected(viewer: str, s: Subject) -> bool | None:
    """Whether ``viewer`` sees the subject's contact on their record; None when the record
    itself is hidden from them (answered 404)."""
    if viewer in ("owner", "admin"):
        return True
    if viewer == "introduced":
        return s.share != "nobody"
    signed_in = viewer != "anonymous"
    if not (s.visibility == "public" or (s.visibility == "members" and signed_in)):
        return None
    return signed_in and s.share == "members"


# -- the network ----------------------------------------------------------------------


def network() -> list[Any]:
    records: list[Any] = [
        Person(
            id=ANCHOR,
            name="Ana Anchor",
            bio="Beekeeping teacher, urban honey.",
            interests=["beekeeping"],
            needs=["hive building"],
            place=PLACE,
        ),
        Initiative(id=HUB, name="Roof Hives", description="Hives on the roofs of the city."),
        Initiative(
            id=NEED,
            name="Pollinator Corridor",
            description="Gardens for bees.",
            needs=["hive building", "beekeeping"],
        ),
        Edge(kind="works_on", source=ANCHOR, target=HUB),
        Edge(kind="in_sector", source=HUB, target=SECTOR),
        Edge(kind="in_sector", source=NEED, target=SECTOR),
    ]
    for viewer in ("stranger", *ASKERS):
        records.append(Person(id=f"person:cs-{viewer}", name=f"{viewer.title()} Viewer",
                              contact=Contact(email=f"{viewer}@viewer.example.org")))  # fmt: skip
    for s in SUBJECTS:
        records += [
            Person(
                id=s.id,
                name=f"Subject {s.share.title()} {s.visibility.title()}",
                bio="Beekeeper: hives on city roofs, urban honey and pollinator gardens.",
                interests=["beekeeping", "urban honey"],
                offers=["hive building"],
                place=PLACE,
                visibility=s.visibility,
                share_contact=s.share,
                contact=Contact(email=s.email, phone=PHONE),
            ),
            Edge(kind="works_on", source=s.id, target=HUB),
            Edge(kind="interested_in", source=s.id, target=SECTOR),
        ]
    return records


@dataclass(frozen=True)
class World:
    client: TestClient
    headers: dict[str, dict[str, str]]  # viewers by name, and each subject's owner by id
    before: dict[str, tuple[int, Any]]  # the introduced viewer's view before the accept

    def viewer_headers(self, viewer: str, s: Subject) -> dict[str, str]:
        return self.headers[s.id if viewer == "owner" else viewer]


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def read(client: TestClient, node_id: str, headers: dict[str, str]) -> tuple[int, Any]:
    """The status of a subject's record and the contact it shows."""
    answer = client.get(f"/v1/nodes/{node_id}", headers=headers)
    return answer.status_code, answer.json().get("contact") if answer.is_success else None


def request_between(world: World, viewer: str, s: Subject) -> tuple[str, dict[str, str]]:
    """Ask, between a viewer and a subject (the subject asks when they cannot be found),
    and give the request's id and the headers of the one who may answer it."""
    client, mine, theirs = world.client, world.headers[viewer], world.headers[s.id]
    if s.visibility == "private":
        to, asker, answerer = f"person:cs-{viewer}", theirs, mine
    else:
        to, asker, answerer = s.id, mine, theirs
    answer = client.post("/v1/introductions", json={"to": to, "message": "Hello!"},
                         headers=asker)  # fmt: skip
    assert answer.status_code == 201, (viewer, str(s), answer.text)
    return answer.json()["id"], answerer


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, reference_index: Path) -> Iterator[World]:
    root = tmp_path_factory.mktemp("contact-sharing")
    shutil.copytree(reference_index, root / "var" / "index")
    settings = _settings(root / "var").model_copy(update={"introductions_per_day": 1_000})
    services = Services.start(settings)
    services.store.write(network())
    services.catch_up()
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    for name, role, person in [
        *((v, Role.member, f"person:cs-{v}") for v in ("stranger", *ASKERS)),
        ("editor", Role.editor, None),
        ("admin", Role.admin, None),
        *((s.id, Role.member, s.id) for s in SUBJECTS),
    ]:
        headers[name] = bearer(account_token(services, role, person)[1])
    with TestClient(create_app(services=services)) as client:
        world = World(client, headers, {})
        for s in SUBJECTS:
            request_between(world, "waiting", s)
            declined, answerer = request_between(world, "declined", s)
            done = client.post(f"/v1/introductions/{declined}/decline", headers=answerer)
            assert done.status_code == 200, done.text
            accepted, answerer = request_between(world, "introduced", s)
            world.before[s.id] = read(client, s.id, headers["introduced"])
            done = client.post(f"/v1/introductions/{accepted}/accept", headers=answerer)
            assert done.status_code == 200, done.text
        yield world
    services.close()


# -- the record, by a direct link ------------------------------------------------------


@pytest.mark.parametrize("s", SUBJECTS, ids=str)
def test_the_record_shows_the_contact_as_the_subject_chose(world: World, s: Subject) -> None:
    wrong = []
    for viewer in VIEWERS:
        status, contact = read(world.client, s.id, world.viewer_headers(viewer, s))
        shown = expected(viewer, s)
        if shown is None:
            if status != 404:
                wrong.append(f"{viewer} gets {status}, not 404")
            continue
        if status != 200:
            wrong.append(f"{viewer} gets {status}, not 200")
        elif shown and contact != {"email": s.email, "phone": PHONE}:
            wrong.append(f"{viewer} is not shown the contact")
        elif not shown and contact is not None:
            wrong.append(f"{viewer} is shown the contact")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("s", SUBJECTS, ids=str)
def test_before_the_accept_nothing_more_is_shared(world: World, s: Subject) -> None:
    """Until the request is accepted, the one asked (or asking) is a stranger."""
    shown = expected("waiting", s)
    status, contact = world.before[s.id]
    assert status == (404 if shown is None else 200)
    assert (contact is not None) == bool(shown)


def test_the_answer_is_not_the_share_setting(world: World) -> None:
    """What a subject chose is theirs to know: no other viewer learns it."""
    s = Subject("members", "public")
    for viewer in VIEWERS:
        answer = world.client.get(f"/v1/nodes/{s.id}", headers=world.viewer_headers(viewer, s))
        assert ("share_contact" in answer.json()) == (viewer in ("owner", "admin")), viewer


# -- everything else ------------------------------------------------------------------

NEVER = [
    "/v1/map?kind=person",
    f"/v1/map?sector={SECTOR}",
    f"/v1/people/{ANCHOR}/collaborators?relation=existing&limit=50",
    f"/v1/initiatives/{NEED}/people?limit=50",
    f"/v1/initiatives/{NEED}/people?mode=bridging&limit=50",
]
"""Map points and recommendations: the subjects are there, their contact details never
are, not even for admins (docs/api.md, docs/matching.md)."""

AS_THE_RECORD = [
    "/v1/search?q=beekeeping+urban+honey&limit=100",
    "/v1/search?q=beekeeping&lat=38.57&lon=-121.48&radius_km=50&limit=100",
    f"/v1/nodes/{ANCHOR}/similar?limit=100&kind=person",
    f"/v1/nodes/{HUB}/neighbors?limit=200",
    "/v1/nodes?kind=person&limit=200",
    "/v1/nodes?q=subject&limit=200",
]
"""Search and listings give each person's record as a direct link would: never a contact
that the record would not show this viewer."""

MINE = ["/v1/introductions", "/v1/me/export"]
"""A viewer's own pages: the people they asked, never those people's contact details."""


def contacts_in(text: str) -> list[Subject]:
    return [s for s in SUBJECTS if s.email in text]


def shown_subjects(text: str) -> int:
    return sum(f'"{s.id}"' in text for s in SUBJECTS)


@pytest.mark.parametrize("url", NEVER + MINE)
def test_no_recommendation_map_or_page_of_mine_carries_a_contact(world: World, url: str) -> None:
    wrong, shown = [], 0
    viewers = ASKERS if url in MINE else VIEWERS[:-1]
    for viewer in viewers:
        answer = world.client.get(url, headers=world.headers[viewer])
        assert answer.status_code == 200, (viewer, answer.text)
        shown += shown_subjects(answer.text)
        wrong += [f"{viewer} is shown the contact of {s}" for s in contacts_in(answer.text)]
        if PHONE in answer.text:
            wrong.append(f"{viewer} is shown the subjects' phone")
    assert not wrong, "\n".join(wrong)
    if url != "/v1/me/export":  # the export has no section of requests (yet)
        assert shown, "the answer shows no subject: this check checks nothing"


@pytest.mark.parametrize("url", AS_THE_RECORD)
def test_search_and_listings_carry_no_more_than_the_record(world: World, url: str) -> None:
    wrong, shown = [], 0
    for viewer in VIEWERS[:-1]:
        answer = world.client.get(url, headers=world.headers[viewer])
        assert answer.status_code == 200, (viewer, answer.text)
        shown += shown_subjects(answer.text)
        wrong += [
            f"{viewer} is shown the contact of {s}"
            for s in contacts_in(answer.text)
            if not expected(viewer, s)
        ]
    assert not wrong, "\n".join(wrong)
    assert shown, "the answer shows no subject: this check checks nothing"


def test_a_block_withdraws_what_the_introduction_opened(world: World) -> None:
    """Last (it changes the world): once the introduced viewer is blocked, they see what
    a stranger sees, and a private subject's record is closed to them again."""
    client = world.client
    for s in (Subject("introduced", "public"), Subject("introduced", "private")):
        assert read(client, s.id, world.headers["introduced"])[1] is not None
        done = client.post("/v1/blocks", json={"person": "person:cs-introduced"},
                           headers=world.headers[s.id])  # fmt: skip
        assert done.status_code == 201, done.text
        status, contact = read(client, s.id, world.headers["introduced"])
        assert contact is None
        assert status == (404 if s.visibility == "private" else 200)
