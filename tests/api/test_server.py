"""The service as deployed: ``cocreate demo``, ``cocreate keys create`` and a real
``cocreate serve`` (uvicorn) process on the loopback interface, driven over HTTP.

The tests share one server and run in file order; the ones that write come last.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.server import Server, cocreate, cocreate_env, create_key, serving

pytestmark = pytest.mark.slow

PEOPLE = 300
PROBLEM_JSON = "application/problem+json"


@dataclass
class Demo:
    """The demo network as exported right after loading it: the ground truth."""

    nodes: dict[str, dict[str, Any]]
    edges: list[dict[str, Any]]

    def people(
        self, *, visibility: str | None = None, discoverable: bool | None = None
    ) -> list[str]:
        return sorted(
            node_id
            for node_id, node in self.nodes.items()
            if node["kind"] == "person"
            and (visibility is None or node.get("visibility", "public") == visibility)
            and (discoverable is None or node.get("discoverable", True) == discoverable)
        )

    def linked(self, node_id: str) -> set[str]:
        """Ids joined to ``node_id`` by an edge in either direction."""
        return {
            e["target"] if e["source"] == node_id else e["source"]
            for e in self.edges
            if node_id in (e["source"], e["target"])
        }


@dataclass
class Deployment:
    server: Server
    demo: Demo
    admin: dict[str, str]
    member: dict[str, str]
    owner: str  # the private person the member key belongs to
    env: dict[str, str] = field(repr=False)

    def client(self, headers: dict[str, str] | None = None) -> httpx.Client:
        return httpx.Client(base_url=self.server.url, headers=headers or {}, timeout=30)


def _read_export(path: Path) -> Demo:
    nodes: dict[str, dict[str, Any]] = {}
    edges: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if record["type"] == "node":
                nodes[record["id"]] = record
            else:
                edges.append(record)
    return Demo(nodes, edges)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    root = tmp_path_factory.mktemp("served")
    env = cocreate_env(root / "var", rate_limit_per_minute="100000", rate_limit_burst="10000")
    loaded = cocreate(env, "demo", "--people", str(PEOPLE))
    assert "demo network loaded" in loaded, loaded
    cocreate(env, "export", str(root / "demo.jsonl"))
    demo = _read_export(root / "demo.jsonl")
    owner = demo.people(visibility="private", discoverable=True)[0]
    admin = create_key(env, "admin")
    member = create_key(env, "member", person=owner)
    with serving(env, root / "logs") as server:
        yield Deployment(
            server, demo, {"Authorization": f"Bearer {admin}"},
            {"Authorization": f"Bearer {member}"}, owner, env,
        )  # fmt: skip


@pytest.fixture
def anonymous(deployment: Deployment) -> Iterator[httpx.Client]:
    with deployment.client() as client:
        yield client


@pytest.fixture
def admin(deployment: Deployment) -> Iterator[httpx.Client]:
    with deployment.client(deployment.admin) as client:
        yield client


@pytest.fixture
def member(deployment: Deployment) -> Iterator[httpx.Client]:
    with deployment.client(deployment.member) as client:
        yield client


def assert_problem(
    response: httpx.Response, status: int, field: str | None = None
) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    body: dict[str, Any] = response.json()
    assert set(body) == {"type", "title", "status", "detail", "errors"}, body
    assert body["status"] == status
    if field is not None:
        assert field in {e["field"] for e in body["errors"]}, body
    return body


def pages(client: httpx.Client, params: dict[str, Any]) -> Iterator[httpx.Response]:
    """Every page of ``GET /v1/nodes`` with these filters, following ``next_cursor``."""
    cursor = None
    for _ in range(1_000):
        page = client.get("/v1/nodes", params={**params, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.text
        yield page
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return
    raise AssertionError("next_cursor never ends")


def walk(client: httpx.Client, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The bodies of :func:`pages`."""
    for page in pages(client, params):
        body: dict[str, Any] = page.json()
        yield body


def listed_ids(client: httpx.Client, params: dict[str, Any]) -> list[str]:
    return [node["id"] for page in walk(client, params) for node in page["items"]]


# --- the process -------------------------------------------------------------------------


def test_serve_prints_the_store_and_the_address_it_listens_on(
    deployment: Deployment, anonymous: httpx.Client
) -> None:
    lines = deployment.server.output().splitlines()
    url = deployment.server.url
    assert f"serving at {url}/ (API docs at {url}/docs)" in lines, lines
    summary = next(line for line in lines if line.startswith("Cocreate: "))
    found = re.fullmatch(r"Cocreate: ([\d,]+) nodes, ([\d,]+) edges in (\S+)", summary)
    assert found, summary
    nodes, edges = (int(found.group(i).replace(",", "")) for i in (1, 2))
    assert nodes == len(deployment.demo.nodes)
    assert edges == len(deployment.demo.edges)
    on_postgresql = deployment.env.get("COCREATE_DATABASE_URL")  # tests/postgres.py
    if on_postgresql is None:
        assert found.group(3).startswith("sqlite:///") and found.group(3).endswith("cocreate.db")
    else:
        assert found.group(3) == on_postgresql  # the tests' server has no password
    assert anonymous.get("/docs").status_code == 200


def test_health_and_readiness(deployment: Deployment, anonymous: httpx.Client) -> None:
    health = anonymous.get("/health")
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    ready = anonymous.get("/ready")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ready"
    assert isinstance(body["seq"], int) and body["seq"] > 0
    assert set(body) == {"status", "seq"}  # a probe tells no counts
    with deployment.client(deployment.admin) as admin:
        stats = admin.get("/v1/stats").json()  # admins count everyone
    assert stats["nodes"]["person"] == PEOPLE
    assert sum(stats["nodes"].values()) == len(deployment.demo.nodes)
    assert sum(stats["edges"].values()) == len(deployment.demo.edges)
    listable = deployment.demo.people(visibility="public", discoverable=True)
    assert anonymous.get("/v1/stats").json()["nodes"]["person"] == len(listable)
    metrics = anonymous.get("/metrics")
    assert metrics.status_code == 200
    assert 'route="/ready",status="200"' in metrics.text


# --- reading -----------------------------------------------------------------------------


def test_read_a_node(deployment: Deployment, anonymous: httpx.Client) -> None:
    goal = anonymous.get("/v1/nodes/sdg:4")
    assert goal.status_code == 200
    assert goal.headers["content-type"] == "application/json"
    assert goal.json()["title"].startswith("Ensure inclusive and equitable quality education")
    initiative = min(i for i, n in deployment.demo.nodes.items() if n["kind"] == "initiative")
    body = anonymous.get(f"/v1/nodes/{initiative}").json()
    expected = {k: v for k, v in deployment.demo.nodes[initiative].items() if k != "type"}
    assert body == expected
    assert_problem(anonymous.get("/v1/nodes/initiative:no-such-thing"), 404)
    assert_problem(anonymous.get("/v1/nodes/Not An Id"), 422, "path.node_id")


def test_cursor_paging_walks_every_page_and_agrees_with_the_total(
    deployment: Deployment, anonymous: httpx.Client
) -> None:
    pages = list(walk(anonymous, {"kind": "person", "limit": 37}))
    ids = [node["id"] for page in pages for node in page["items"]]
    expected = deployment.demo.people(visibility="public", discoverable=True)
    assert ids == expected  # every visible person once, in id order
    assert {page["total"] for page in pages} == {len(expected)}
    assert len(pages) == -(-len(expected) // 37)
    assert all(len(page["items"]) == 37 for page in pages[:-1])
    assert all(node["kind"] == "person" for page in pages for node in page["items"])
    # offset paging gives the same pages
    second = anonymous.get("/v1/nodes", params={"kind": "person", "limit": 37, "offset": 37})
    assert [n["id"] for n in second.json()["items"]] == ids[37:74]
    assert_problem(
        anonymous.get("/v1/nodes", params={"cursor": ids[0], "offset": 1}), 400, "query.cursor"
    )


def test_listing_filters(deployment: Deployment, anonymous: httpx.Client) -> None:
    demo = deployment.demo
    in_health = listed_ids(anonymous, {"kind": "initiative", "sector": "sector:health",
                                       "limit": 200})  # fmt: skip
    expected = sorted(
        n for n in demo.linked("sector:health") if demo.nodes[n]["kind"] == "initiative"
    )
    assert in_health == expected and expected
    several = listed_ids(anonymous, {"kind": ["sector", "sdg"], "limit": 200})
    assert several == sorted(n for n, r in demo.nodes.items() if r["kind"] in ("sector", "sdg"))
    prefix = demo.nodes[demo.people(visibility="public", discoverable=True)[0]]["name"][:3]
    named = anonymous.get("/v1/nodes", params={"q": prefix.lower(), "kind": "person"}).json()
    assert named["items"]
    assert all(n["name"].lower().startswith(prefix.lower()) for n in named["items"])
    in_country = anonymous.get("/v1/nodes", params={"country": "US", "limit": 200}).json()
    assert in_country["total"] > 0
    assert_problem(anonymous.get("/v1/nodes", params={"kind": "robot"}), 422, "query.kind.0")
    assert_problem(anonymous.get("/v1/nodes", params={"limit": 201}), 422, "query.limit")


def test_a_private_person_is_hidden_from_anonymous_callers_but_not_from_admins(
    deployment: Deployment, anonymous: httpx.Client, admin: httpx.Client, member: httpx.Client
) -> None:
    everyone = [n for page in walk(admin, {"kind": "person", "limit": 200}) for n in page["items"]]
    assert len(everyone) == PEOPLE  # admins see every profile, discoverable or not
    private = [n for n in everyone if n.get("visibility") == "private"]
    assert {n["id"] for n in private} == set(deployment.demo.people(visibility="private"))
    for person in private:
        url = f"/v1/nodes/{person['id']}"
        assert_problem(anonymous.get(url), 404)
        shown = admin.get(url)
        assert shown.status_code == 200
        assert shown.json() == person
        assert "contact" in shown.json()  # admins see contact details
    # the member key belongs to one private person: they see themselves, not the others
    own = member.get(f"/v1/nodes/{deployment.owner}")
    assert own.status_code == 200
    assert own.json()["visibility"] == "private" and "contact" in own.json()
    other = next(n["id"] for n in private if n["id"] != deployment.owner)
    assert_problem(member.get(f"/v1/nodes/{other}"), 404)
    assert deployment.owner in listed_ids(member, {"kind": "person", "limit": 200})
    hidden = {n["id"] for n in private}
    assert not hidden & set(listed_ids(anonymous, {"kind": "person", "limit": 200}))


def test_no_anonymous_listing_shows_contact_details(
    deployment: Deployment, anonymous: httpx.Client
) -> None:
    with_contact = [n for n, r in deployment.demo.nodes.items() if "contact" in r]
    assert with_contact  # the demo has contact details to leak
    emails = [
        deployment.demo.nodes[n]["contact"]["email"]
        for n in with_contact
        if "email" in deployment.demo.nodes[n]["contact"]
    ]
    assert emails
    seen = 0
    for params in ({"limit": 200}, {"kind": "person", "limit": 50},
                   {"community": "community:sacramento", "limit": 100}):  # fmt: skip
        for page in pages(anonymous, params):
            assert '"contact"' not in page.text, params
            assert not [e for e in emails if e in page.text], params
            seen += len(page.json()["items"])
    assert seen > len(deployment.demo.nodes) // 2


# --- bad requests --------------------------------------------------------------------------


def test_malformed_json_is_a_422_problem_naming_the_body(admin: httpx.Client) -> None:
    response = admin.post(
        "/v1/nodes", content=b'{"kind": "person",', headers={"content-type": "application/json"}
    )
    body = assert_problem(response, 422, "body")
    assert body["errors"][0]["reason"].startswith("malformed JSON")


def test_a_body_over_the_limit_is_refused_with_413(
    deployment: Deployment, admin: httpx.Client
) -> None:
    seq = admin.get("/ready").json()["seq"]
    huge = b'{"kind":"person","id":"person:huge","name":"' + b"x" * 2_000_000 + b'"}'
    response = admin.post("/v1/nodes", content=huge, headers={"content-type": "application/json"})
    assert_problem(response, 413, "body")
    assert admin.get("/ready").json()["seq"] == seq
    assert_problem(admin.get("/v1/nodes/person:huge"), 404)


def test_a_streamed_body_over_the_limit_is_refused_with_413(admin: httpx.Client) -> None:
    """Without a Content-Length (chunked transfer) the limit is enforced while reading."""

    def chunks() -> Iterator[bytes]:
        yield b'{"kind":"person","id":"person:huge","name":"'
        for _ in range(40):
            yield b"x" * 50_000
        yield b'"}'

    response = admin.post(
        "/v1/nodes", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_problem(response, 413, "body")


def test_rate_limit_on_a_second_server(deployment: Deployment, tmp_path: Path) -> None:
    env = {**deployment.env, "COCREATE_RATE_LIMIT_PER_MINUTE": "60",
           "COCREATE_RATE_LIMIT_BURST": "3"}  # fmt: skip
    with serving(env, tmp_path) as limited, httpx.Client(base_url=limited.url) as client:
        statuses = [client.get("/v1/nodes/sdg:1").status_code for _ in range(6)]
        assert statuses[:3] == [200, 200, 200], statuses
        assert statuses[-1] == 429, statuses
        refused = client.get("/v1/nodes/sdg:1")
        body = assert_problem(refused, 429)
        assert "60 requests a minute" in body["detail"]
        assert int(refused.headers["Retry-After"]) >= 1
        assert client.get("/health").status_code == 200  # probes are not rate limited
        with httpx.Client(base_url=limited.url, headers=deployment.admin) as admin:
            assert admin.get("/v1/nodes/sdg:1").status_code == 200  # a key has its own bucket


def test_forwarded_addresses_and_bad_keys_on_a_real_server(
    deployment: Deployment, tmp_path: Path
) -> None:
    """Unknown keys have a budget of their own per client address (10, then 10 a minute),
    and uvicorn's default of believing X-Forwarded-For from anyone on loopback is off:
    the service believes it only from the proxies in COCREATE_TRUSTED_PROXIES."""

    def guesses(client: httpx.Client, forwarded: list[str]) -> list[httpx.Response]:
        return [
            client.get("/v1/nodes/sdg:1", headers={"Authorization": f"Bearer guess-{i}",
                                                   "X-Forwarded-For": address})
            for i, address in enumerate(forwarded)
        ]  # fmt: skip

    rotating = [f"198.51.100.{i}" for i in range(15)]
    with (
        serving(deployment.env, tmp_path / "direct") as direct,
        httpx.Client(base_url=direct.url) as client,
    ):
        statuses = [r.status_code for r in guesses(client, rotating)]
        assert statuses == [401] * 10 + [429] * 5, "rotating X-Forwarded-For lifted the limit"
        refused = client.get("/v1/nodes/sdg:1", headers=deployment.admin)
        assert_problem(refused, 429, "header.authorization")  # not even looked up
        assert client.get("/v1/nodes/sdg:1").status_code == 200  # anonymous reading goes on
    behind = {**deployment.env, "COCREATE_TRUSTED_PROXIES": "127.0.0.1"}
    with (
        serving(behind, tmp_path / "proxied") as proxied,
        httpx.Client(base_url=proxied.url) as client,
    ):
        assert {r.status_code for r in guesses(client, rotating)} == {401}  # 15 clients
        statuses = [r.status_code for r in guesses(client, ["203.0.113.9"] * 12)]
        assert statuses == [401] * 10 + [429] * 2
        assert client.get("/v1/nodes/sdg:1", headers=deployment.admin).status_code == 200


# --- writes (last: they change the shared store) ------------------------------------------


def test_an_admin_write_is_visible_to_anonymous_readers_and_in_the_graph(
    deployment: Deployment, anonymous: httpx.Client, admin: httpx.Client
) -> None:
    node = {"kind": "initiative", "id": "initiative:served-night-library",
            "name": "Served Night Library", "description": "Open late for teenagers."}  # fmt: skip
    seq = anonymous.get("/ready").json()["seq"]
    created = admin.post("/v1/nodes", json=node)
    assert created.status_code == 201, created.text
    assert created.json() == node
    assert anonymous.get(f"/v1/nodes/{node['id']}").json() == node
    assert anonymous.get("/ready").json()["seq"] > seq
    found = anonymous.get("/v1/nodes", params={"q": "served night", "kind": "initiative"})
    assert [n["id"] for n in found.json()["items"]] == [node["id"]]

    around = anonymous.get(f"/v1/nodes/{node['id']}/neighbors")
    assert around.status_code == 200
    assert around.json()["items"] == []
    edge = {"kind": "addresses", "source": node["id"], "target": "sdg:4"}
    linked = admin.post("/v1/edges", json=edge)
    assert linked.status_code == 201, linked.text
    around = anonymous.get(f"/v1/nodes/{node['id']}/neighbors").json()
    assert [(i["distance"], i["node"]["id"]) for i in around["items"]] == [(1, "sdg:4")]
    assert around["total"] == 1
    back = anonymous.get("/v1/nodes/sdg:4/neighbors", params={"kind": "initiative",
                                                               "limit": 200}).json()  # fmt: skip
    ids = [i["node"]["id"] for i in back["items"]]
    offset = 200
    while offset < back["total"]:
        more = anonymous.get("/v1/nodes/sdg:4/neighbors", params={
            "kind": "initiative", "limit": 200, "offset": offset}).json()  # fmt: skip
        ids += [i["node"]["id"] for i in more["items"]]
        offset += 200
    assert node["id"] in ids
    assert node["id"] in listed_ids(anonymous, {"sdg": "sdg:4", "kind": "initiative",
                                                "limit": 200})  # fmt: skip
    edges = anonymous.get("/v1/edges", params={"node": node["id"]}).json()
    assert edges["items"] == [edge] and edges["total"] == 1
    path = anonymous.get("/v1/paths", params={"source": node["id"], "target": "sdg:4"})
    assert path.json()["length"] == 1
    assert_problem(admin.post("/v1/nodes", json=node), 409, "body.id")
    assert_problem(anonymous.post("/v1/nodes", json=node | {"id": "initiative:other"}), 401)


def test_a_deleted_person_is_gone_everywhere(
    deployment: Deployment, anonymous: httpx.Client, admin: httpx.Client, member: httpx.Client
) -> None:
    demo = deployment.demo
    person = next(
        p for p in demo.people(visibility="public", discoverable=True)
        if len({demo.nodes[n]["kind"] for n in demo.linked(p)}) >= 2
    )  # fmt: skip
    name = demo.nodes[person]["name"]
    neighbours = sorted(demo.linked(person))
    assert anonymous.get(f"/v1/nodes/{person}").status_code == 200
    assert person in listed_ids(anonymous, {"q": name, "kind": "person"})
    before = admin.get("/v1/stats").json()
    seq = anonymous.get("/ready").json()["seq"]

    assert admin.delete(f"/v1/nodes/{person}").status_code == 204
    for client in (anonymous, member, admin):
        assert_problem(client.get(f"/v1/nodes/{person}"), 404)
        assert_problem(client.get(f"/v1/nodes/{person}/neighbors"), 404)
        assert_problem(client.get("/v1/edges", params={"node": person}), 404)
        assert_problem(client.get("/v1/paths", params={"source": person,
                                                       "target": neighbours[0]}), 404)  # fmt: skip
        assert person not in listed_ids(client, {"q": name, "kind": "person"})
        for other in neighbours:
            around = client.get(f"/v1/nodes/{other}/neighbors", params={"limit": 200})
            if around.status_code == 404:  # a private neighbour, hidden from this caller
                continue
            assert around.status_code == 200
            assert person not in around.text
            edges = client.get("/v1/edges", params={"node": other, "limit": 200})
            assert person not in edges.text
    assert_problem(admin.delete(f"/v1/nodes/{person}"), 404)
    after = admin.get("/v1/stats").json()
    assert after["nodes"]["person"] == before["nodes"]["person"] - 1
    assert anonymous.get("/ready").json()["seq"] > seq
