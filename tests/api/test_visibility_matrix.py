"""The visibility matrix: every route x viewer x the subject's visibility x discoverable.

One store, built once for the module, holds six subjects, one per (visibility,
discoverable) pair, all alike otherwise: each works on ``initiative:mx-hub``, is interested
in ``sector:environment``, offers what ``initiative:mx-need`` needs, shares only their city
(``location_precision: city``) though their stored place is exact, sits on the sector's
global council ``council:mx-environment``, is linked to a neighbourhood (finer than they
share) and has a contact email of their own. Viewers: an
anonymous caller, and personal tokens of accounts (so that the account routes answer per
viewer): a member (whose account's profile is ``person:mx-viewer``, not a subject), the
subject's owner (a member account whose profile is the subject), an editor and an admin
(whose accounts have no profile, so the routes between people refuse them). The member
asked to be introduced to the subjects they may find (no one answered yet), blocked and
reported those they may read; the admin reported every subject.

``MATRIX`` says, per route, what the subject's settings and the viewer's role decide
(the rules below are written out as tables, not asked of :mod:`graph.visibility`):

- ``named``: the request names the subject; where the rule allows it the answer is a
  success, elsewhere exactly the answer for an id that does not exist;
- ``listed``: the subject is in the answer exactly when the rule allows it;
- ``mentioned``: the subject may be in the answer only when the rule allows it (a
  ranking may leave them out);
- ``counted``: the answer's count of people holds the subject exactly when the rule
  allows it;
- ``write``: the status each role gets, on a fresh subject of these settings (also for
  the requests between people, which change what the next one is answered);
- ``none``: the answer names no subject.

``answers`` pins the status of roles whatever the subject (the editor and the admin have
no profile to ask with; an id nobody has), ``found`` the statuses that are not a success
but tell that the subject was found (an absent id never gets them).

Every answer, to every viewer, is also searched for each subject's email and exact
coordinates (only their owner and admins may see them) and for their link to the
neighbourhood. A route of the app without an entry here fails the suite.
"""

from __future__ import annotations

import itertools
import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import Role
from api.services import Services
from graph.codec import node_record
from graph.edges import Edge
from graph.model import Community, Contact, Council, Initiative, Person, Place
from tests.api.conftest import _settings, account_token

Role_ = Literal["anonymous", "member", "owner", "editor", "admin"]
ROLES: tuple[Role_, ...] = ("anonymous", "member", "owner", "editor", "admin")
ROLES_UP: tuple[Role_, ...] = ("anonymous", "member", "editor", "admin")
"""The roles of keys, lowest first (a subject's owner is a member)."""
VISIBILITIES = ("public", "members", "private")
HUB, NEED, HOOD, SECTOR = "initiative:mx-hub", "initiative:mx-need", "community:mx-hood", \
    "sector:environment"  # fmt: skip
VIEWER = "person:mx-viewer"  # the member key's own profile (public, discoverable)
ANCHOR = "person:mx-anchor"  # someone everyone may find, to ask about
ABSENT = "person:mx-nobody"
COUNCIL = "council:mx-environment"  # the sector's global council: every subject sits on it
FRAMEWORK_ROUTES = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


@dataclass(frozen=True)
class Subject:
    visibility: str
    discoverable: bool
    index: int
    named: str | None = None  # a fresh subject's id (writes)

    @property
    def id(self) -> str:
        return self.named or f"person:mx-{self.visibility}-{'d' if self.discoverable else 'u'}"

    @property
    def email(self) -> str:
        return f"{self.id.partition(':')[2]}@secret.example.org"

    @property
    def lat(self) -> str:  # exact coordinates, as JSON writes them
        return str(float(f"38.57{413 + 101 * self.index}"))

    @property
    def lon(self) -> str:
        return str(float(f"-121.48{317 + 101 * self.index}"))

    def __str__(self) -> str:
        return f"{self.visibility}/{'discoverable' if self.discoverable else 'undiscoverable'}"


SHARED = (38.55, -121.45)
"""Where the subjects are to those who may only know their city: the 0.1° cell's centre."""

SUBJECTS = [
    Subject(vis, disc, i)
    for i, (vis, disc) in enumerate(itertools.product(VISIBILITIES, (True, False)))
]

# -- the rule, written out ------------------------------------------------------------

# Who may read a record of each visibility by a direct link.
READS = {
    "public": {"anonymous", "member", "owner", "editor", "admin"},
    "members": {"member", "owner", "editor", "admin"},
    "private": {"owner", "admin"},
}
# Whose figures and recommendations count a discoverable person of each visibility
# (consent holds for owners and admins too; undiscoverable people count for nobody).
CONSENTS = {
    "public": {"anonymous", "member", "owner", "editor", "admin"},
    "members": {"member", "owner", "editor", "admin"},
    "private": set(),
}
Rule = Callable[[Role_, Subject], bool]


def reads(role: Role_, s: Subject) -> bool:
    """The record, by a direct link."""
    return role in READS[s.visibility]


def finds(role: Role_, s: Subject) -> bool:
    """The person in listings, and what surrounds them."""
    return reads(role, s) and (s.discoverable or role in ("owner", "admin"))


def consents(role: Role_, s: Subject) -> bool:
    """The person in recommendations and figures."""
    return s.discoverable and role in CONSENTS[s.visibility]


def counts(role: Role_, s: Subject) -> bool:
    """The person in /v1/stats: the audience's figures (admins count everyone)."""
    return role == "admin" or consents(role, s)


def recommended_to(role: Role_, s: Subject) -> bool:
    """Practitioners and connectors: as figures, and never oneself."""
    return consents(role, s) and role != "owner"


def privileged(role: Role_, s: Subject) -> bool:
    """Contact details, exact places and links finer than the place shared."""
    return role in ("owner", "admin")


def admins(role: Role_, s: Subject) -> bool:
    return role == "admin"


def unknown(role: Role_, s: Subject) -> bool:
    """Nobody: the answer never tells the subject apart from an id that does not exist."""
    return False


def owns(role: Role_, s: Subject) -> bool:
    """The account's own profile."""
    return role == "owner"


def own_records(role: Role_, s: Subject) -> bool:
    """What one's own data names: oneself, and those one asked, blocked or reported (the
    member asked, blocked and reported subjects; the admin reported every one)."""
    return owns(role, s) or kept_by_member(role, s) or met_by_member(role, s) or role == "admin"


def met_by_member(role: Role_, s: Subject) -> bool:
    """Those the member asked to be introduced to: whom they may find."""
    return role == "member" and finds(role, s)


def kept_by_member(role: Role_, s: Subject) -> bool:
    """Those the member blocked or reported: whom they may read."""
    return role == "member" and reads(role, s)


# -- the matrix -------------------------------------------------------------------------

Check = Literal["named", "listed", "mentioned", "counted", "write", "none"]


@dataclass(frozen=True)
class Entry:
    """One request (``{s}`` stands for the subject's id) and what decides its answer."""

    request: str
    check: Check
    rule: Rule | None = None  # None: the subject's settings change nothing (writes, none)
    body: dict[str, Any] | None = None
    statuses: tuple[int, int, int, int, int] | None = None  # write: per role, as ROLES
    least: Role_ = "anonymous"  # reads: those below get 401 (anonymous) or 403
    answers: dict[str, int] | None = None  # reads: these roles' status, whatever the subject
    found: tuple[int, ...] = ()  # named: not a success, but only for someone found
    fresh: bool = False  # the request spends the key (reads) or account (writes) it is made with

    @property
    def method(self) -> str:
        return self.request.split()[0]

    @property
    def url(self) -> str:
        return self.request.split()[1]

    def bound(self, subject_id: str) -> tuple[str, str, Any]:
        body = None
        if self.body is not None:
            body = json.loads(json.dumps(self.body).replace("{s}", subject_id))
        return self.method, self.url.replace("{s}", subject_id), body


DRAFT = {"title": "Hives on roofs", "body": "Beekeeping on city roofs: hive building, honey."}
LEARN = {"community": HOOD, "issues": "beekeeping, urban honey, pollinators"}
EDGE_TO = {"kind": "knows", "source": VIEWER, "target": "{s}"}
A, M, O, E, AD = 401, 403, 403, 403, 200  # noqa: E741 - column names, as ROLES
ASK = "I keep bees on roofs too; could we talk?"
NO_ID = "0123456789abcdef"  # no request, report or account has it
NO_KEY = "0123456789ab"  # no token has it
PROFILED = {"anonymous": 401, "editor": 403, "admin": 403}
"""Requests between people need a profile, which the editor and the admin here lack."""
ADMIN_404 = {"anonymous": 401, "member": 403, "editor": 403, "admin": 404}
"""Admins only, and the id is nobody's."""
EDITOR_404 = {"anonymous": 401, "member": 403, "editor": 404, "admin": 404}
"""Editors and admins only, and the id is nobody's."""
PASSPHRASE = "a long passphrase"


def everyone(status: int, *, anonymous: int | None = None) -> dict[str, int]:
    """The same status for every role (but the anonymous one, if given)."""
    found = dict.fromkeys(ROLES_UP, status)
    return found | ({"anonymous": anonymous} if anonymous is not None else {})


# fmt: off
MATRIX = [
    # The subject's record, by a direct link, and writes that need it to be visible.
    Entry("GET /v1/nodes/{s}", "named", reads),
    Entry("POST /v1/tags/suggest", "named", reads, {"id": "{s}"}),
    # What surrounds the subject: only for someone the viewer may find.
    Entry("GET /v1/nodes/{s}/neighbors", "named", finds),
    Entry("GET /v1/edges?node={s}", "named", finds),
    Entry(f"GET /v1/paths?source={{s}}&target={HUB}", "named", finds),
    Entry(f"GET /v1/paths?source={ANCHOR}&target={{s}}", "named", finds),
    Entry("GET /v1/nodes/{s}/similar", "named", finds),
    Entry(f"GET /v1/nodes/{HUB}/similar?like={{s}}", "named", finds),
    Entry(f"GET /v1/nodes/{HUB}/similar?unlike={{s}}", "named", finds),
    Entry("GET /v1/people/{s}/collaborators", "named", finds),
    Entry("GET /v1/people/{s}/collaborators?scope=local&radius_km=50", "named", finds),
    Entry("GET /v1/people/{s}/collaborators?near=Davis", "named", finds),
    Entry("GET /v1/people/{s}/initiatives", "named", finds),
    # Listings: the subject is there exactly when the viewer may find them.
    Entry("GET /v1/nodes?kind=person&limit=200", "listed", finds),
    Entry("GET /v1/nodes?q=subject&limit=200", "listed", finds),
    Entry(f"GET /v1/nodes?sector={SECTOR}&limit=200", "listed", finds),
    Entry(f"GET /v1/nodes/{HUB}/neighbors?limit=200", "listed", finds),
    Entry(f"GET /v1/edges?node={HUB}&limit=200", "listed", finds),
    Entry("GET /v1/search?q=beekeeping+urban+honey&limit=100", "listed", finds),
    Entry("GET /v1/search?q=beekeeping&lat=38.57&lon=-121.48&radius_km=50&limit=100",
          "listed", finds),
    Entry("GET /v1/search?q=beekeeping+near+Sacramento&limit=100", "listed", finds),
    Entry("GET /v1/search?q=near+Sacramento&limit=100", "listed", finds),
    Entry(f"GET /v1/nodes/{ANCHOR}/similar?limit=100&kind=person", "listed", finds),
    Entry("GET /v1/map?kind=person", "listed", finds),
    Entry(f"GET /v1/map?sector={SECTOR}", "listed", finds),
    # A link finer than the place they share: only their owner and admins see it.
    Entry(f"GET /v1/edges?node={HOOD}&limit=200", "listed", privileged),
    Entry(f"GET /v1/nodes/{HOOD}/neighbors?limit=200", "listed", privileged),
    Entry(f"GET /v1/nodes?community={HOOD}&limit=200", "listed", privileged),
    # Recommendations: consent, whoever asks.
    # The subjects share an initiative with the anchor: existing collaborators, listed
    # apart from the new ones that are recommended.
    Entry(f"GET /v1/people/{ANCHOR}/collaborators?relation=existing&limit=50", "listed",
          consents),
    Entry(f"GET /v1/people/{ANCHOR}/collaborators?limit=50", "mentioned", consents),
    Entry(f"GET /v1/people/{ANCHOR}/collaborators?mode=complementary&limit=50", "mentioned",
          consents),
    Entry(f"GET /v1/people/{ANCHOR}/initiatives", "mentioned", finds),
    Entry(f"GET /v1/initiatives/{NEED}/people?limit=50", "listed", consents),
    Entry(f"GET /v1/initiatives/{NEED}/people?mode=bridging&limit=50", "mentioned", consents),
    Entry("POST /v1/wisdom/related", "mentioned", recommended_to, {**DRAFT, "limit": 20}),
    Entry("POST /v1/communities/learn", "mentioned", recommended_to, {**LEARN, "limit": 20}),
    # Figures: the audience's, never the caller's own view.
    Entry("GET /v1/stats", "counted", counts),
    Entry("GET /v1/sectors/overlap", "counted", consents),
    Entry(f"GET /v1/sectors/overlap?detail={SECTOR},sector:peace", "mentioned", consents),
    Entry(f"GET /v1/sectors/{SECTOR}/synergies?with=sector:peace&kind=person", "mentioned",
          consents),
    Entry(f"GET /v1/sectors/{SECTOR}/synergies", "mentioned", consents),
    Entry(f"GET /v1/sectors/{SECTOR}/bridges", "mentioned", consents),
    Entry(f"GET /v1/sectors/{SECTOR}/groups?members=10", "mentioned", consents),
    Entry(f"GET /v1/sectors/{SECTOR}/gaps", "mentioned", consents),
    # The current council lists its members as the caller may find them.
    Entry(f"GET /v1/sectors/{SECTOR}/council", "listed", finds),
    Entry("POST /v1/councils/propose", "mentioned", consents, {"sector": SECTOR, "size": 8},
          least="member"),
    # Accounts: before signing in, answered alike whoever asks (and no one is shown).
    Entry("POST /v1/account/signup", "none",
          body={"email": "newcomer@example.org", "password": PASSPHRASE, "name": "Nia"}),
    Entry("POST /v1/account/verify", "none", body={"token": "not-a-token"},
          answers=everyone(422)),
    Entry("POST /v1/account/login", "none",
          body={"email": "nobody@example.org", "password": "not the password"},
          answers=everyone(401)),
    Entry("POST /v1/account/reset", "none", body={"email": "nobody@example.org"}),
    Entry("POST /v1/account/reset/confirm", "none",
          body={"token": "not-a-token", "password": PASSPHRASE}, answers=everyone(422)),
    Entry("POST /v1/account/logout", "none", fresh=True),
    # The account itself: its own profile only, to its owner.
    Entry("GET /v1/account/session", "listed", owns),
    Entry("GET /v1/account", "listed", owns, least="member"),
    Entry("PATCH /v1/account", "listed", owns, {"digest": False}, least="member"),
    Entry("GET /v1/account/tokens", "none", least="member"),
    Entry("POST /v1/account/tokens", "none", body={"label": "matrix"}, least="member"),
    Entry(f"DELETE /v1/account/tokens/{NO_KEY}", "none", answers=everyone(404, anonymous=401)),
    Entry("GET /v1/me", "listed", owns, least="member"),
    Entry("GET /v1/me/export", "mentioned", own_records, least="member"),
    Entry("DELETE /v1/me", "none", body={"confirm": "nobody@example.org"},
          answers=everyone(422, anonymous=401)),
    Entry("POST /v1/me/place-preview", "none",
          body={"place": {"lat": 38.5, "lon": -121.4}, "location_precision": "region"}),
    # Between people: what the member asked, blocked and reported (the seeded requests).
    Entry("GET /v1/introductions", "mentioned", met_by_member, answers=PROFILED),
    Entry(f"POST /v1/introductions/{NO_ID}/accept", "none", answers=PROFILED | {"member": 404}),
    Entry(f"POST /v1/introductions/{NO_ID}/decline", "none", answers=PROFILED | {"member": 404}),
    Entry("GET /v1/blocks", "mentioned", kept_by_member, answers=PROFILED),
    Entry("POST /v1/join-requests", "named", finds, {"target": "{s}", "message": ASK},
          answers=PROFILED, found=(422,)),  # a person is found, but takes no join requests
    Entry("GET /v1/join-requests", "none", least="member"),
    Entry(f"POST /v1/join-requests/{NO_ID}/accept", "none",
          answers=everyone(404, anonymous=401)),
    Entry(f"POST /v1/join-requests/{NO_ID}/decline", "none",
          answers=everyone(404, anonymous=401)),
    # My marks, matches and digest: only people the member may find, or who consented.
    Entry("GET /v1/me/marks", "mentioned", unknown, answers=PROFILED),
    Entry("GET /v1/me/matches", "mentioned", recommended_to, answers=PROFILED),
    Entry("GET /v1/me/matches?kind=person&mode=bridging", "mentioned", recommended_to,
          answers=PROFILED),
    Entry("GET /v1/me/matches?kind=community", "mentioned", unknown, answers=PROFILED),
    Entry("GET /v1/me/digest", "mentioned", recommended_to, answers=PROFILED),
    Entry("GET /v1/account/unsubscribe?token=not-a-token", "none"),
    Entry("POST /v1/account/unsubscribe?token=not-a-token", "none", answers=everyone(422)),
    # Drafts: kept apart from the graph until published, by editors; they name no one.
    Entry("GET /v1/drafts", "none", least="editor"),
    Entry("POST /v1/drafts", "none", body=DRAFT, least="editor"),
    Entry(f"GET /v1/drafts/{NO_ID}", "none", answers=EDITOR_404),
    Entry(f"PUT /v1/drafts/{NO_ID}", "none", body=DRAFT, answers=EDITOR_404),
    Entry(f"DELETE /v1/drafts/{NO_ID}", "none", answers=EDITOR_404),
    Entry(f"POST /v1/drafts/{NO_ID}/publish", "none", answers=EDITOR_404),
    # Admins: every account (with its profile) and every report.
    Entry("GET /v1/admin/accounts?limit=200", "listed", admins, least="admin"),
    Entry(f"PATCH /v1/admin/accounts/{NO_ID}", "none", body={"role": "member"},
          answers=ADMIN_404),
    Entry(f"GET /v1/admin/accounts/{NO_ID}/tokens", "none", answers=ADMIN_404),
    Entry(f"DELETE /v1/admin/tokens/{NO_KEY}", "none", answers=ADMIN_404),
    Entry("POST /v1/admin/invitations", "none", body={"email": "guest@example.org"},
          least="admin"),
    Entry("GET /v1/admin/reports", "listed", admins, least="admin"),
    Entry(f"POST /v1/admin/reports/{NO_ID}/resolve", "none", answers=ADMIN_404),
    # Writes, on a fresh subject each: who may is decided before visibility, then a
    # hidden end is answered as a missing one.
    #                                                       anon mem owner edit admin
    Entry("PUT /v1/nodes/{s}", "write", body={"record": True}, statuses=(A, M, 200, E, 200)),
    Entry("PATCH /v1/nodes/{s}", "write", body={"bio": "New."}, statuses=(A, M, 200, E, 200)),
    Entry("DELETE /v1/nodes/{s}", "write", statuses=(A, M, 204, E, 204)),
    Entry("POST /v1/nodes", "write", body={"record": True}, statuses=(A, M, 409, E, 409)),
    Entry("POST /v1/edges", "write", finds, EDGE_TO, statuses=(A, 201, O, E, 201)),
    Entry(f"DELETE /v1/edges/{{s}}/works_on/{HUB}", "write", statuses=(A, M, 204, E, 204)),
    # Between people, on a fresh subject each (a request changes what the next is
    # answered): only someone the asker may find, or read, is there to ask or block.
    Entry("POST /v1/introductions", "write", finds, {"to": "{s}", "message": ASK},
          statuses=(A, 201, 422, 403, 403)),
    Entry("POST /v1/blocks", "write", reads, {"person": "{s}"}, statuses=(A, 201, 422, 403, 403)),
    Entry("DELETE /v1/blocks/{s}", "write", unknown, statuses=(A, 404, 404, 403, 403)),
    Entry("POST /v1/reports", "write", reads, {"node": "{s}", "reason": "Not a real person."},
          statuses=(A, 201, 201, 201, 201)),
    Entry("PUT /v1/admin/coordinators", "write", body={"person": "{s}", "node": HUB},
          statuses=(A, M, O, E, 200)),
    Entry("DELETE /v1/admin/coordinators", "write", body={"person": "{s}", "node": HUB},
          statuses=(A, M, O, E, 404)),
    # Marks: only on someone the member may find (never oneself).
    Entry("PUT /v1/me/marks/follow/{s}", "write", finds, statuses=(A, 201, 422, 403, 403)),
    Entry("PUT /v1/me/marks/hide/{s}", "write", finds, statuses=(A, 201, 422, 403, 403)),
    Entry("DELETE /v1/me/marks/save/{s}", "write", finds, statuses=(A, 204, 204, 403, 403)),
    # My profile: the owner's is the subject; the others' is made by their first change.
    Entry("PATCH /v1/me", "write", body={"bio": "New."}, statuses=(A, 200, 200, 200, 200),
          fresh=True),
    # Routes that show no one: probes, the admin's own views, the web pages.
    Entry("GET /health", "none"),
    Entry("GET /ready", "none"),
    Entry("GET /metrics", "none"),
    Entry("GET /v1/audit", "mentioned", admins, least="admin"),
    Entry("GET /v1/admin/state", "none", least="admin"),
    Entry("POST /v1/tags/suggest", "none", body={"text": "beekeeping and urban honey"}),
    Entry("GET /v1/places?q=Sacra", "none"),
    Entry("GET /", "none"),
    Entry("GET /search?q=beekeeping", "none"),
    Entry("GET /people/mx-private-u", "none"),
    Entry("GET /initiatives/mx-hub", "none"),
    Entry("GET /nodes/person:mx-private-u", "none"),
    Entry("GET /sectors", "none"),
    Entry("GET /sectors/environment", "none"),
    Entry("GET /map", "none"),
    Entry("GET /graph", "none"),
    Entry("GET /graph/person:mx-private-u", "none"),
    Entry("GET /editor", "none"),
    Entry("GET /matches", "none"),
    Entry("GET /digest", "none"),
    Entry("GET /communities", "none"),
    Entry("GET /assets/icon.svg", "none"),
    *(Entry(f"GET {page}", "none")
      for page in ("/join", "/signin", "/verify", "/reset", "/me", "/settings", "/admin",
                   "/inbox")),
]
# fmt: on


# -- the network and the viewers ----------------------------------------------------------


def subject_person(s: Subject) -> Person:
    place = Place(name="Midtown Sacramento", country="US", region="Northern America",
                  lat=float(s.lat), lon=float(s.lon))  # fmt: skip
    return Person(
        id=s.id,
        name=f"Subject {s.visibility.title()} {'D' if s.discoverable else 'U'}",
        bio="Beekeeper: hives on city roofs, urban honey and pollinator gardens.",
        interests=["beekeeping", "urban honey"],
        offers=["hive building"],
        place=place,
        location_precision="city",
        visibility=s.visibility,
        discoverable=s.discoverable,
        contact=Contact(email=s.email),
    )


def subject_links(person_id: str) -> list[Edge]:
    return [
        Edge(kind="works_on", source=person_id, target=HUB),
        Edge(kind="interested_in", source=person_id, target=SECTOR),
        Edge(kind="located_in", source=person_id, target=HOOD),
        Edge(kind="member_of", source=person_id, target=COUNCIL),
    ]


def network() -> list[Any]:
    sac = Place(name="Sacramento", country="US", region="Northern America", lat=38.58,
                lon=-121.49)  # fmt: skip
    anchor = Person(id=ANCHOR, name="Ana Anchor", bio="Beekeeping teacher, urban honey.",
                    interests=["beekeeping"], needs=["hive building"], place=sac)  # fmt: skip
    viewer = Person(id=VIEWER, name="Vic Viewer", interests=["community gardens"])
    records: list[Any] = [
        anchor,
        viewer,
        Initiative(id=HUB, name="Roof Hives", description="Hives on the roofs of the city."),
        Initiative(
            id=NEED,
            name="Pollinator Corridor",
            description="Gardens for bees.",
            needs=["hive building", "beekeeping"],
        ),
        Community(id=HOOD, name="Midtown", scope="neighbourhood", place=sac),
        Council(id=COUNCIL, name="Environment Council"),
        Edge(kind="in_sector", source=COUNCIL, target=SECTOR),
        Edge(kind="works_on", source=ANCHOR, target=HUB),
        Edge(kind="interested_in", source=ANCHOR, target=SECTOR),
        Edge(kind="in_sector", source=HUB, target=SECTOR),
        Edge(kind="in_sector", source=NEED, target=SECTOR),
        Edge(kind="in_sector", source=NEED, target="sector:peace"),
    ]
    for s in SUBJECTS:
        records += [subject_person(s), *subject_links(s.id)]
    return records


PEOPLE_BESIDES_SUBJECTS = {"/v1/stats": 2, "/v1/sectors/overlap": 1}
"""People every audience counts besides the subjects: the anchor (in the sector) and the
viewer (in no sector)."""


@dataclass(frozen=True)
class World:
    services: Services
    client: TestClient
    headers: dict[str, dict[str, str]]  # "anonymous", "member", "editor", "admin", subject ids
    accounts: dict[str, str]  # the account id of each viewer but the anonymous one

    def viewers(self) -> Iterator[tuple[str, dict[str, str]]]:
        """Every viewer: the four roles, and each subject's owner (named by the subject)."""
        for name in ("anonymous", "member", "editor", "admin", *(s.id for s in SUBJECTS)):
            yield name, self.headers[name]

    def owner_key(self, person_id: str) -> dict[str, str]:
        """A token of a new member account whose profile is ``person_id``."""
        return bearer(account_token(self.services, Role.member, person_id)[1])

    def new_account(self, role: Role_) -> dict[str, str]:
        """A token of a new account of ``role``, without a profile."""
        return bearer(account_token(self.services, Role[role])[1])

    def fresh_key(self, viewer: str) -> dict[str, str]:
        """Another token of the viewer's account (none for the anonymous viewer)."""
        if viewer == "anonymous":
            return {}
        key = self.services.keys.issue(self.accounts[viewer], "token", label="matrix",
                                       lifetime=None)  # fmt: skip
        return bearer(key[1])


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def role_of(viewer: str, s: Subject) -> Role_:
    """What a viewer is to a subject: a subject's owner is a plain member to the others."""
    if viewer.startswith("person:"):
        return "owner" if viewer == s.id else "member"
    return viewer  # type: ignore[return-value]


def seed_requests(services: Services, accounts: dict[str, str]) -> None:
    """What the member did, as the routes let them: asked to be introduced to every
    subject they may find (nobody answered), blocked and reported every one they may
    read; and the admin reported every subject."""
    with services.store.engine.begin() as conn:
        for s in SUBJECTS:
            if finds("member", s):
                services.social.ask(conn, VIEWER, s.id, ASK)
    for s in SUBJECTS:
        if reads("member", s):
            services.social.block(VIEWER, s.id)
            services.social.report(accounts["member"], VIEWER, s.id, "Seems made up.")
        services.social.report(accounts["admin"], None, s.id, "Checking this one.")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, reference_index: Path) -> Iterator[World]:
    root = tmp_path_factory.mktemp("visibility-matrix")
    shutil.copytree(reference_index, root / "var" / "index")
    # The limits on attempts are not what the matrix is about: every viewer asks alike.
    settings = _settings(root / "var").model_copy(
        update={"signups_per_hour": 1_000, "logins_per_quarter_hour": 1_000,
                "introductions_per_day": 1_000}
    )  # fmt: skip
    services = Services.start(settings)
    services.store.write(network())
    services.catch_up()
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    accounts: dict[str, str] = {}
    for name, role, person in [("member", Role.member, VIEWER), ("editor", Role.editor, None),
                               ("admin", Role.admin, None),
                               *((s.id, Role.member, s.id) for s in SUBJECTS)]:  # fmt: skip
        _, secret = account_token(services, role, person)
        found = services.keys.credential(secret)
        assert found is not None and found.caller.account_id is not None
        headers[name], accounts[name] = bearer(secret), found.caller.account_id
    seed_requests(services, accounts)
    with TestClient(create_app(services=services)) as client:
        yield World(services, client, headers, accounts)
    services.close()


# -- the checks ---------------------------------------------------------------------------


def call(world: World, entry: Entry, subject_id: str, headers: dict[str, str]) -> httpx.Response:
    method, url, body = entry.bound(subject_id)
    return world.client.request(method, url, json=body, headers=headers)


def as_absent(response: httpx.Response, subject_id: str) -> tuple[int, str]:
    return response.status_code, response.text.replace(subject_id, "{s}")


def leaks(response: httpx.Response, viewer: str, subjects: list[Subject]) -> list[str]:
    """What an answer shows of subjects that this viewer may not see of them: contact
    details, exact coordinates, and their link to the neighbourhood."""
    text = response.text
    body = response.json() if text.startswith(("{", "[")) else None
    linked = placing_links(body)
    found = []
    for s in subjects:
        if privileged(role_of(viewer, s), s):
            continue
        found += [f"{s}: {secret}" for secret in (s.email, s.lat, s.lon) if secret in text]
        if s.id in linked:
            found.append(f"{s}: the link to {HOOD}")
        found += [f"{s}: placed at {at}" for at in places_of(body, s.id) if at != SHARED]
    return found


def places_of(body: Any, node_id: str) -> list[tuple[Any, Any]]:
    """The coordinates given for a node anywhere in a JSON body (its record's place, or a
    map point)."""
    found: list[tuple[Any, Any]] = []
    if isinstance(body, dict):
        if body.get("id") == node_id:
            place = body.get("place") if isinstance(body.get("place"), dict) else body
            if "lat" in place or "lon" in place:
                found.append((place.get("lat"), place.get("lon")))
        for value in body.values():
            found += places_of(value, node_id)
    elif isinstance(body, list):
        for value in body:
            found += places_of(value, node_id)
    return found


def placing_links(body: Any) -> set[str]:
    """Sources of every link to the neighbourhood anywhere in a JSON body."""
    found: set[str] = set()
    if isinstance(body, dict):
        if body.get("target") == HOOD and isinstance(body.get("source"), str):
            found.add(body["source"])
        for value in body.values():
            found |= placing_links(value)
    elif isinstance(body, list):
        for value in body:
            found |= placing_links(value)
    return found


def mentions(text: str, s: Subject) -> bool:
    return f'"{s.id}"' in text


def people_counted(entry: Entry, body: Any) -> int:
    if entry.url == "/v1/stats":
        return int(body["nodes"].get("person", 0))
    at = [sector["id"] for sector in body["sectors"]].index(SECTOR)
    return int(body["people"][at])


def refused(entry: Entry, viewer: str) -> int | None:
    """The status the entry pins for the viewer, or the one a viewer below its least role
    gets (None: they may call it, and what they get depends on the rule)."""
    role = "member" if viewer.startswith("person:") else viewer
    if entry.answers and role in entry.answers:
        return entry.answers[role]
    if ROLES_UP.index(role) >= ROLES_UP.index(entry.least):
        return None
    return 401 if role == "anonymous" else 403


def entry_id(entry: Entry) -> str:
    if entry.body and entry.check != "write":
        return f"{entry.request} {','.join(sorted(entry.body))}"
    return entry.request


READS_ENTRIES = [e for e in MATRIX if e.check != "write"]
WRITE_ENTRIES = [e for e in MATRIX if e.check == "write"]


def test_every_route_is_in_the_matrix(world: World) -> None:
    routes = [r for r in iter_route_contexts(world.client.app.routes)  # type: ignore[attr-defined]
              if r.path not in FRAMEWORK_ROUTES]  # fmt: skip
    declared = {(m, r.path) for r in routes for m in (r.methods or {"ANY"}) - {"HEAD"}}
    covered = set()
    for entry in MATRIX:
        path = entry.bound(SUBJECTS[0].id)[1].partition("?")[0]
        served = [r.path for r in routes if entry.method in (r.methods or ())
                  and r.path_regex.match(path)]  # fmt: skip
        assert served, f"the matrix names '{entry.request}', which no route serves"
        covered.add((entry.method, served[0]))
    assert declared - covered == set(), "routes nobody decided the visibility of"


@pytest.mark.parametrize("entry", READS_ENTRIES, ids=entry_id)
def test_reads_follow_the_visibility_rule(world: World, entry: Entry) -> None:
    rule, wrong = entry.rule or (lambda role, s: False), []
    for viewer, headers in world.viewers():
        if entry.fresh:
            headers = world.fresh_key(viewer)
        status = refused(entry, viewer)
        if entry.check == "named":
            for s in SUBJECTS:
                role = role_of(viewer, s)
                response = call(world, entry, s.id, headers)
                wrong += [f"{viewer} sees {leak}" for leak in leaks(response, viewer, SUBJECTS)]
                if status is not None:
                    if response.status_code != status:
                        wrong.append(f"{role} gets {response.status_code}, not {status}")
                elif rule(role, s):
                    if not (response.is_success or response.status_code in entry.found):
                        wrong.append(f"{role} gets {response.status_code} for {s}")
                elif as_absent(response, s.id) != as_absent(
                    call(world, entry, ABSENT, headers), ABSENT
                ):
                    wrong.append(f"{role} tells {s} apart from an absent id")
            continue
        response = call(world, entry, "", headers)
        if status is not None:
            assert response.status_code == status, (viewer, response.text)
            wrong += [f"{viewer} sees {leak}" for leak in leaks(response, viewer, SUBJECTS)]
            continue
        assert response.is_success, (viewer, response.text)
        wrong += [f"{viewer} sees {leak}" for leak in leaks(response, viewer, SUBJECTS)]
        if entry.check == "counted":
            got = people_counted(entry, response.json())
            expected = PEOPLE_BESIDES_SUBJECTS[entry.url] + sum(
                rule(role_of(viewer, s), s) for s in SUBJECTS
            )
            if got != expected:
                wrong.append(f"{viewer} counts {got} people, not {expected}")
            continue
        for s in SUBJECTS:
            role, shown = role_of(viewer, s), mentions(response.text, s)
            if shown and not rule(role, s):
                wrong.append(f"{role} is shown {s}")
            if entry.check == "listed" and rule(role, s) and not shown:
                wrong.append(f"{role} is not shown {s}")
    assert not wrong, "\n".join(sorted(set(wrong)))


@pytest.mark.parametrize("entry", WRITE_ENTRIES, ids=entry_id)
def test_writes_follow_the_visibility_rule(world: World, entry: Entry) -> None:
    """Each cell on a fresh subject of the settings, so that one cell's write (a deletion,
    an erasure) leaves the others, and the reads above, as they were."""
    assert entry.statuses is not None
    services, wrong = world.services, []
    for n, ((role, status), settings) in enumerate(
        itertools.product(zip(ROLES, entry.statuses, strict=True), SUBJECTS)
    ):
        fresh = f"person:mx-w-{WRITE_ENTRIES.index(entry)}-{n}"
        s = Subject(settings.visibility, settings.discoverable, 100 + n, fresh)
        person = subject_person(s)
        services.store.write([person, *subject_links(s.id)])
        services.catch_up()
        if role == "owner":
            headers = world.owner_key(s.id)
        elif entry.fresh and role != "anonymous":
            headers = world.new_account(role)
        else:
            headers = world.headers[role]
        bound = entry
        if entry.body == {"record": True}:
            record = node_record(person)
            del record["type"]
            bound = replace(entry, body=record)
        response = call(world, bound, s.id, headers)
        viewer = s.id if role == "owner" else role
        wrong += [f"{role} sees {leak}" for leak in leaks(response, viewer, [*SUBJECTS, s])]
        hidden = entry.rule is not None and not entry.rule(role, s)
        expected = 404 if hidden and status < 400 else status
        if response.status_code != expected:
            wrong.append(f"{role} gets {response.status_code}, not {expected}, for {s}")
        if hidden and expected == 404:
            absent = call(world, bound, ABSENT, headers)
            if as_absent(response, s.id) != as_absent(absent, ABSENT):
                wrong.append(f"{role} tells {s} apart from an absent id")
    assert not wrong, "\n".join(sorted(set(wrong)))
