"""The authorization matrix: every route of the app, called by every role, gets the status
the policy below says. A route the policy does not cover fails the suite, so no route can
be added without deciding who may call it. Each cell runs on a fresh store."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from api.auth import KeyRing, Role, read_audit
from api.services import Services
from tests.api import (
    policy_accounts,
    policy_admin,
    policy_analytics,
    policy_drafts,
    policy_editors,
    policy_loose,
    policy_matches,
    policy_matching,
    policy_places,
    policy_social,
    policy_web,
)
from tests.api.conftest import account_token
from tests.api.rule import Rule

Headers = dict[str, dict[str, str]]
ROLES = ("anonymous", "member", "editor", "admin")  # the member key belongs to person:mem
FRAMEWORK_ROUTES = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
PROBES = {"/health", "/ready", "/metrics"}  # they never ask who calls


INITIATIVE = {"kind": "initiative", "id": "initiative:night-library", "name": "Night Library"}
PERSON = {"kind": "person", "id": "person:newcomer", "name": "Nia Newcomer"}
SECTOR = {"kind": "sector", "id": "sector:night-life", "name": "Night life"}
HUB = {"kind": "initiative", "id": "initiative:hub", "name": "Hub", "description": "Rebuilt."}
OWN_PROFILE = {"kind": "person", "id": "person:mem", "name": "Mo M.", "visibility": "members"}
BIO = {"bio": "Rewritten."}
TAG = {"kind": "addresses", "source": "initiative:hub", "target": "sdg:4"}
OWN_LINK = {"kind": "interested_in", "source": "person:mem", "target": "sdg:4"}
OTHER_LINK = {"kind": "knows", "source": "person:pub", "target": "person:maria"}
TO_PRIVATE = {"kind": "knows", "source": "person:mem", "target": "person:priv"}
TO_UNDISCOVERABLE = {"kind": "knows", "source": "person:mem", "target": "person:shy"}

AREAS = (
    policy_matching,
    policy_analytics,
    policy_editors,
    policy_web,
    policy_accounts,
    policy_admin,
    policy_social,
    policy_matches,
    policy_drafts,
    policy_loose,
    policy_places,
)
# POST routes that write nothing (a body too large for a query string)
READS_BY_POST = {"/v1/tags/suggest"}.union(*(area.READS_BY_POST for area in AREAS))

# fmt: off
POLICY = [
    #    anon mem  edit admin  request
    # Probes and public reads: everyone, with or without a key.
    Rule(200, 200, 200, 200, "GET /health"),
    Rule(200, 200, 200, 200, "GET /ready"),
    Rule(200, 200, 200, 200, "GET /metrics"),
    Rule(200, 200, 200, 200, "GET /v1/stats"),
    Rule(200, 200, 200, 200, "GET /v1/nodes?kind=person"),
    Rule(200, 200, 200, 200, "GET /v1/nodes/initiative:hub"),
    Rule(200, 200, 200, 200, "GET /v1/nodes/initiative:hub/neighbors"),
    Rule(200, 200, 200, 200, "GET /v1/edges?node=initiative:hub"),
    Rule(200, 200, 200, 200, "GET /v1/paths?source=person:pub&target=initiative:hub"),
    Rule(200, 200, 200, 200, "GET /v1/search?q=mentoring"),
    Rule(200, 200, 200, 200, "POST /v1/tags/suggest", {"text": "clean water for villages"}),
    Rule(200, 200, 200, 200, "GET /v1/nodes/initiative:hub/similar"),
    # More like a hidden profile: missing to those who may not see it.
    Rule(404, 200, 200, 200, "GET /v1/nodes/person:mem/similar"),
    # A members-only profile is missing (not forbidden) to anonymous callers; a private
    # one to all but its owner and admins.
    Rule(404, 200, 200, 200, "GET /v1/nodes/person:mem"),
    Rule(404, 200, 200, 200, "GET /v1/nodes/person:mem/neighbors"),
    Rule(404, 404, 404, 200, "GET /v1/nodes/person:priv"),
    Rule(404, 404, 404, 200, "GET /v1/edges?node=person:priv"),
    # Someone who is not discoverable (person:shy, public): a direct link shows the
    # record, but nothing around it (edges, neighbourhood, paths, what is like them).
    Rule(200, 200, 200, 200, "GET /v1/nodes/person:shy"),
    Rule(404, 404, 404, 200, "GET /v1/nodes/person:shy/neighbors"),
    Rule(404, 404, 404, 200, "GET /v1/edges?node=person:shy"),
    Rule(404, 404, 404, 200, "GET /v1/paths?source=person:shy&target=initiative:hub"),
    Rule(404, 404, 404, 200, "GET /v1/nodes/person:shy/similar"),
    Rule(404, 404, 404, 200, "GET /v1/nodes/initiative:hub/similar?like=person:shy"),
    # The audit log and a worker's state: admins only.
    Rule(401, 403, 403, 200, "GET /v1/audit"),
    Rule(401, 403, 403, 200, "GET /v1/admin/state"),
    # Editors write content; people and reference data are for admins (and owners).
    Rule(401, 403, 201, 201, "POST /v1/nodes", INITIATIVE),
    Rule(401, 403, 403, 201, "POST /v1/nodes", PERSON),
    Rule(401, 403, 403, 201, "POST /v1/nodes", SECTOR),
    Rule(401, 403, 200, 200, "PUT /v1/nodes/initiative:hub", HUB),
    Rule(401, 403, 200, 200, "PATCH /v1/nodes/initiative:hub", {"description": "New."}),
    Rule(401, 403, 204, 204, "DELETE /v1/nodes/initiative:green-lots"),
    Rule(401, 403, 403, 204, "DELETE /v1/nodes/sdg:4"),
    # Members own their profile: they may change or erase it, and nobody else's. Who may
    # write is decided from the ids before anything is looked up, so anonymous callers
    # get 401 whether or not the profile exists or is hidden from them.
    Rule(401, 200, 403, 200, "PUT /v1/nodes/person:mem", OWN_PROFILE),
    Rule(401, 200, 403, 200, "PATCH /v1/nodes/person:mem", BIO),
    Rule(401, 204, 403, 204, "DELETE /v1/nodes/person:mem"),
    Rule(401, 403, 403, 200, "PATCH /v1/nodes/person:pub", BIO),
    Rule(401, 403, 403, 204, "DELETE /v1/nodes/person:priv"),
    # Fields that grant standing, or are the curators' word, are set by admins only,
    # even on one's own profile (docs/api.md, "Fields that grant standing").
    Rule(401, 403, 403, 200, "PATCH /v1/nodes/person:mem", {"board_member": True}),
    Rule(401, 403, 403, 200, "PUT /v1/nodes/person:mem", OWN_PROFILE | {"board_member": True}),
    Rule(401, 403, 403, 200, "PATCH /v1/nodes/person:mem", {"fictional": True}),
    Rule(401, 403, 403, 200, "PATCH /v1/nodes/person:mem", {"provenance": "The board"}),
    Rule(401, 200, 403, 200, "PATCH /v1/nodes/person:mem", BIO | {"board_member": False}),
    # Edges: editors tag content, members link their own profile, admins link anything.
    Rule(401, 403, 201, 201, "POST /v1/edges", TAG),
    Rule(401, 201, 403, 201, "POST /v1/edges", OWN_LINK),
    Rule(401, 403, 403, 201, "POST /v1/edges", OTHER_LINK),
    # A link to someone the member may not find in listings: as if they did not exist.
    Rule(401, 404, 403, 201, "POST /v1/edges", TO_PRIVATE),
    Rule(401, 404, 403, 201, "POST /v1/edges", TO_UNDISCOVERABLE),
    Rule(401, 403, 204, 204, "DELETE /v1/edges/initiative:safe-streets/addresses/sdg:16"),
    Rule(401, 204, 403, 204, "DELETE /v1/edges/person:mem/works_on/initiative:hub"),
    Rule(401, 403, 403, 204, "DELETE /v1/edges/person:pub/works_on/initiative:hub"),
    Rule(401, 403, 403, 204, "DELETE /v1/edges/person:pub/knows/person:priv"),
    *(rule for area in AREAS for rule in area.POLICY),
]
# fmt: on


def routes_of(client: TestClient) -> list[Any]:
    """Every route the app serves, bar the framework's own (flattening included routers)."""
    app_routes = client.app.routes  # type: ignore[attr-defined]
    return [r for r in iter_route_contexts(app_routes) if r.path not in FRAMEWORK_ROUTES]


def test_every_route_has_a_policy(client: TestClient) -> None:
    routes = routes_of(client)
    declared = {(m, r.path) for r in routes for m in (r.methods or {"ANY"}) - {"HEAD"}}
    covered = set()
    for rule in POLICY:
        served = [
            r.path
            for r in routes
            if rule.method in (r.methods or ()) and r.path_regex.match(rule.path)
        ]
        assert served, f"the policy names '{rule.request}', which no route serves"
        covered.add((rule.method, served[0]))
    assert declared - covered == set(), "routes for which nobody decided who may call them"


def assert_problem(response: httpx.Response) -> None:
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert set(body) == {"type", "title", "status", "detail", "errors"}
    assert body["status"] == response.status_code
    if response.status_code == 401:
        assert response.headers.get("www-authenticate") == "Bearer"


def audited(services: Services) -> list[dict[str, Any]]:
    return read_audit(services.store.engine, limit=200)


def call(client: TestClient, rule: Rule, headers: dict[str, str]) -> httpx.Response:
    return client.request(rule.method, rule.url, headers=headers, json=rule.body)


def rule_id(rule: Rule) -> str:
    if not rule.body:
        return rule.request
    named = rule.body.get("id") or rule.body.get("target") or ",".join(sorted(rule.body))
    return f"{rule.request} {named}"


@pytest.mark.parametrize(
    ("rule", "role"),
    [
        pytest.param(rule, role, id=f"{rule_id(rule)} as {role}")
        for rule in POLICY
        for role in ROLES
    ],
)
def test_authorization_matrix(
    client: TestClient, services: Services, keys: Headers, rule: Rule, role: str
) -> None:
    seq, log = services.store.last_seq(), audited(services)
    response = call(client, rule, keys[role])
    assert response.status_code == rule.expected(role), response.text
    if response.status_code >= 400:
        assert_problem(response)
    wrote = rule.method != "GET" and rule.path not in READS_BY_POST and response.is_success
    assert (services.store.last_seq() != seq) is wrote, "refused writes change nothing"
    assert (audited(services) != log) is wrote, "every write, and only a write, is audited"


@pytest.mark.parametrize("rule", POLICY, ids=rule_id)
def test_a_revoked_key_is_refused_everywhere(
    client: TestClient, services: Services, rule: Rule
) -> None:
    ring = KeyRing(services.store.engine)
    key_id, secret = account_token(services, Role.admin)
    leaked = {"Authorization": f"Bearer {secret}"}
    # the key worked until it was revoked
    assert call(client, rule, leaked).status_code == rule.expected("admin")
    # Signing out revokes the token it was made with; any other call leaves it live.
    assert ring.revoke(key_id) is (rule.request != "POST /v1/account/logout")
    seq = services.store.last_seq()
    response = call(client, rule, leaked)
    if rule.path in PROBES:  # probes never read the key, so they cannot refuse it
        assert response.status_code == 200
        return
    assert response.status_code == 401, response.text
    assert_problem(response)
    assert services.store.last_seq() == seq
