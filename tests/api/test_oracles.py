"""No existence oracles: a caller gets the same answer for an id hidden from them as for an
id that does not exist, on every route that takes an id, for every role.

The rule (docs/api.md, "Privacy"): authorization that depends only on who calls and on
the ids named (401, 403) comes before any lookup; then visibility, then existence.
Routes that show a person's surroundings (edges, neighbourhood, paths, recommendations,
more like this) need the person to be one the caller may find in listings; reading the
record itself only needs the record to be visible (a direct link works).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

import pytest
from fastapi.testclient import TestClient

from api.services import Services
from graph.edges import Edge

Headers = dict[str, dict[str, str]]
ROLES = ("anonymous", "member", "editor", "admin")  # the member key belongs to person:mem
ABSENT = "person:nobody-here"

# Who is hidden from each role, for reading a record (a direct link) ...
HIDDEN_RECORD = {
    "anonymous": ("person:mem", "person:priv"),
    "member": ("person:priv",),
    "editor": ("person:priv",),
    "admin": (),
}
# ... and for anything that shows a person's surroundings: people they may not list.
HIDDEN_SURROUNDINGS = {role: (*ids, "person:shy") for role, ids in HIDDEN_RECORD.items()}
HIDDEN_SURROUNDINGS["admin"] = ()


@dataclass(frozen=True)
class Probe:
    """One request with ``{id}`` standing for the id tried."""

    method: str
    url: str
    body: dict[str, Any] | None = None
    sense: Literal["record", "surroundings"] = "surroundings"

    def request(self, node_id: str) -> tuple[str, str, Any]:
        body = None
        if self.body is not None:
            body = json.loads(json.dumps(self.body).replace("{id}", node_id))
        return self.method, self.url.replace("{id}", node_id), body


PROBES = [
    Probe("GET", "/v1/nodes/{id}", sense="record"),
    Probe("PUT", "/v1/nodes/{id}", {"kind": "person", "id": "{id}", "name": "X"}, "record"),
    Probe("PATCH", "/v1/nodes/{id}", {"bio": "Overwritten."}, "record"),
    Probe("DELETE", "/v1/nodes/{id}", sense="record"),
    Probe("POST", "/v1/tags/suggest", {"id": "{id}"}, "record"),
    Probe("GET", "/v1/nodes/{id}/neighbors"),
    Probe("GET", "/v1/edges?node={id}"),
    Probe("GET", "/v1/paths?source={id}&target=initiative:hub"),
    Probe("GET", "/v1/paths?source=initiative:hub&target={id}"),
    Probe("GET", "/v1/nodes/{id}/similar"),
    Probe("GET", "/v1/nodes/initiative:hub/similar?like={id}"),
    Probe("GET", "/v1/nodes/initiative:hub/similar?unlike={id}"),
    Probe("GET", "/v1/people/{id}/collaborators"),
    Probe("GET", "/v1/people/{id}/collaborators?mode=complementary&scope=local"),
    Probe("GET", "/v1/people/{id}/initiatives"),
    Probe("POST", "/v1/edges", {"kind": "knows", "source": "person:mem", "target": "{id}"}),
    Probe("POST", "/v1/edges", {"kind": "knows", "source": "{id}", "target": "person:pub"}),
    Probe("POST", "/v1/edges", {"kind": "interested_in", "source": "{id}", "target": "sdg:4"}),
    Probe("DELETE", "/v1/edges/{id}/works_on/initiative:hub"),
    Probe("DELETE", "/v1/edges/{id}/knows/person:mem"),
    Probe("DELETE", "/v1/edges/{id}/knows/person:lena"),
    Probe("DELETE", "/v1/edges/person:pub/knows/{id}"),
    Probe("DELETE", "/v1/edges/person:mem/knows/{id}"),
    Probe("POST", "/v1/councils/propose", {"sector": "sector:peace", "exclude": ["{id}"]}),
]
# Links that exist to or from the hidden people, so that an oracle would have something
# to find: everyone works on initiative:hub, person:pub knows person:priv, who knows
# person:lena (the fixture), and these.
LINKS = [
    Edge(kind="knows", source="person:priv", target="person:mem"),
    Edge(kind="knows", source="person:shy", target="person:mem"),
    Edge(kind="knows", source="person:mem", target="person:shy"),
    Edge(kind="knows", source="person:shy", target="person:pub"),
]


def answer(client: TestClient, probe: Probe, node_id: str, headers: dict[str, str]) -> Any:
    method, url, body = probe.request(node_id)
    response = client.request(method, url, json=body, headers=headers)
    text = response.text.replace(node_id, "{id}")
    shown = json.loads(text) if text else None
    kept = ("content-type", "www-authenticate", "retry-after")
    return response.status_code, {h: response.headers.get(h) for h in kept}, shown


CASES = [
    pytest.param(probe, role, hidden, id=f"{probe.method} {probe.url} {hidden} as {role}")
    for probe in PROBES
    for role in ROLES
    for hidden in (HIDDEN_RECORD if probe.sense == "record" else HIDDEN_SURROUNDINGS)[role]
    if hidden not in f"{probe.url} {json.dumps(probe.body)}"  # an edge to itself is invalid
]


@pytest.mark.parametrize(("probe", "role", "hidden"), CASES)
def test_hidden_ids_are_answered_as_absent_ones(
    client: TestClient, services: Services, keys: Headers, probe: Probe, role: str, hidden: str
) -> None:
    services.store.write(LINKS)
    seq = services.store.last_seq()
    found = answer(client, probe, hidden, keys[role])
    missing = answer(client, probe, ABSENT, keys[role])
    assert found == missing, f"{hidden} is told apart from an id that does not exist"
    assert services.store.last_seq() == seq, "nothing was written"


def test_deleting_an_edge_tells_nothing_of_hidden_people(
    client: TestClient, services: Services, keys: Headers
) -> None:
    """The reported attack: anonymous DELETEs told an existing edge of a private person
    from a missing one, which recovered whom they know and what they work on."""
    pairs = [  # (an edge that exists, one that does not), from the private person
        ("person:priv/knows/person:lena", "person:priv/knows/person:maria"),
        ("person:priv/works_on/initiative:hub", "person:priv/works_on/initiative:green-lots"),
    ]
    for role in ("anonymous", "member", "editor"):
        for there, absent in pairs:
            found = client.delete(f"/v1/edges/{there}", headers=keys[role])
            missing = client.delete(f"/v1/edges/{absent}", headers=keys[role])
            assert found.status_code == missing.status_code, (role, there)
            told = found.text.replace(there.rpartition("/")[2], "{target}")
            assert told == missing.text.replace(absent.rpartition("/")[2], "{target}")
    assert client.delete("/v1/edges/person:priv/knows/person:lena").status_code == 401
    assert services.store.get_edge("person:priv", "knows", "person:lena")


@pytest.mark.parametrize("role", ROLES)
def test_authorization_comes_before_any_lookup(
    client: TestClient, keys: Headers, role: str
) -> None:
    """A write the caller could never make is refused the same way, whatever the ids."""
    never = {
        "anonymous": [("PATCH", "/v1/nodes/person:pub"), ("DELETE", "/v1/nodes/initiative:hub"),
                      ("DELETE", "/v1/edges/person:pub/knows/person:priv")],
        "member": [("PATCH", "/v1/nodes/person:pub"), ("DELETE", "/v1/nodes/person:priv"),
                   ("DELETE", "/v1/edges/person:pub/knows/person:priv")],
        "editor": [("PATCH", "/v1/nodes/person:pub"), ("DELETE", "/v1/nodes/person:priv"),
                   ("DELETE", "/v1/edges/person:pub/knows/person:priv")],
        "admin": [],
    }[role]  # fmt: skip
    for method, url in never:
        absent = url.replace("person:priv", ABSENT).replace("person:pub", ABSENT)
        absent = absent.replace("initiative:hub", "initiative:nothing-here")
        body = {"bio": "x"} if method == "PATCH" else None
        found = client.request(method, url, json=body, headers=keys[role])
        missing = client.request(method, absent, json=body, headers=keys[role])
        assert found.status_code == missing.status_code == (401 if role == "anonymous" else 403)
        assert found.json() == missing.json()
