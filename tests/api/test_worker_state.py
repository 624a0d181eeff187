"""``GET /v1/admin/state``: a worker's derived state, with or without the digests of its ids."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.services import Services
from tests.api.state import store_state

Headers = dict[str, dict[str, str]]


def test_the_state_without_digests_says_the_same_but_the_digests(
    client: TestClient, services: Services, keys: Headers
) -> None:
    """``digests=false`` answers what a benchmark polls for (positions, sizes, warm-up)
    without hashing every id, which takes seconds at a million nodes; the digests with
    them match the store."""
    whole = client.get("/v1/admin/state", headers=keys["admin"])
    light = client.get("/v1/admin/state", params={"digests": "false"}, headers=keys["admin"])
    assert whole.status_code == 200 and light.status_code == 200, (whole.text, light.text)
    full, brief = whole.json(), light.json()
    assert brief["graph"]["node_digest"] is None and brief["graph"]["edge_digest"] is None
    assert brief["index"]["digest"] is None
    for part in ("graph", "index"):
        for name, value in full[part].items():
            if "digest" not in name:
                assert brief[part][name] == value, (part, name)
    assert brief["seq"] == full["seq"] and brief["pid"] == full["pid"]
    expected = store_state(services.store.engine.url.render_as_string(hide_password=False))
    assert full["graph"] == expected["graph"]
    refused = client.get("/v1/admin/state", params={"digests": "false"}, headers=keys["member"])
    assert refused.status_code == 403
