"""GET /v1/sectors/{id}/council: the sector's council today, its board member, and privacy.

A small network: the peace sector's global council with a board member, two public
members, one members-only, one private and one undiscoverable member, and one whose seat
ended; a sub-sector council of peace (not the global one); the health sector with no
council at all.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import Role
from api.services import Services
from graph.edges import Edge
from graph.model import Contact, Council, CouncilScope, Person, Place
from tests.api.conftest import _settings, account_token

SECTOR, COUNCIL, SUB = "sector:peace", "council:peace-global", "council:peace-schools"
NAIROBI = Place(name="Nairobi", country="KE", lat=-1.29, lon=36.82)


def person(slug: str, name: str, **extra: Any) -> Person:
    return Person(id=f"person:{slug}", name=name, place=NAIROBI,
                  contact=Contact(email=f"{slug}@secret.example.org"), **extra)  # fmt: skip


def seat(slug: str, **extra: Any) -> Edge:
    return Edge(kind="member_of", source=f"person:{slug}", target=COUNCIL, **extra)


def network() -> list[Any]:
    return [
        Council(id=COUNCIL, name="Global Peace Council", description="The peace sector's council."),
        Council(id=SUB, name="Peace Schools Council", scope=CouncilScope.sub_sector),
        Edge(kind="in_sector", source=COUNCIL, target=SECTOR),
        Edge(kind="in_sector", source=SUB, target=SECTOR),
        person("amani", "Amani Board", board_member=True),
        person("bea", "Bea Public"),
        person("cyrus", "Cyrus Public"),
        person("dana", "Dana Members", visibility="members"),
        person("eli", "Eli Private", visibility="private"),
        person("fay", "Fay Hidden", discoverable=False),
        person("gus", "Gus Former"),
        person("hal", "Hal Schools"),
        seat("amani", since="2022-01-01", role="board_member"),
        seat("bea", since="2023-05-01"),
        seat("cyrus"),
        seat("dana"),
        seat("eli"),
        seat("fay"),
        seat("gus", since="2021-01-01", until="2022-01-01"),
        Edge(kind="member_of", source="person:hal", target=SUB),
        Edge(kind="interested_in", source="person:bea", target="sector:education"),
    ]


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, reference_index: Path
) -> Iterator[tuple[Services, TestClient, dict[str, dict[str, str]]]]:
    data_dir = tmp_path_factory.mktemp("council") / "var"
    shutil.copytree(reference_index, data_dir / "index")
    services = Services.start(_settings(data_dir))
    services.store.write(network())
    services.catch_up()
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    for name, role, profile in (
        ("member", Role.member, None),
        ("owner", Role.member, "person:eli"),
        ("admin", Role.admin, None),
    ):
        _, secret = account_token(services, role, profile)
        headers[name] = {"Authorization": f"Bearer {secret}"}
    with TestClient(create_app(services=services)) as client:
        yield services, client, headers
    services.close()


def council(world: Any, who: str, sector: str = SECTOR) -> dict[str, Any]:
    _, client, headers = world
    response = client.get(f"/v1/sectors/{sector}/council", headers=headers[who])
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def names(body: dict[str, Any]) -> list[str]:
    return [m["node"]["name"] for m in body["members"]]


def test_the_current_global_council_is_named_with_its_board_member_first(world: Any) -> None:
    body = council(world, "anonymous")
    assert body["council"] == {"id": COUNCIL, "name": "Global Peace Council",
                               "description": "The peace sector's council."}  # fmt: skip
    assert body["board_member"] == {"id": "person:amani", "name": "Amani Board"}
    assert names(body) == ["Amani Board", "Bea Public", "Cyrus Public"]
    first = body["members"][0]
    assert first["board_member"] is True and first["since"] == "2022-01-01"
    assert first["region"] == "Africa"
    assert [m["board_member"] for m in body["members"]] == [True, False, False]
    bea = body["members"][1]
    assert [s["name"] for s in bea["sectors"]] == ["Peace", "Education"]
    summary = body["explanation"]["summary"]
    assert summary == (
        "Amani Board is the board member of the Global Peace Council, with Bea Public and "
        "Cyrus Public."
    )


def test_a_seat_that_ended_and_a_sub_sector_council_are_not_the_current_council(
    world: Any,
) -> None:
    shown = names(council(world, "admin"))
    assert "Gus Former" not in shown and "Hal Schools" not in shown


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", {"Amani Board", "Bea Public", "Cyrus Public"}),
        ("member", {"Amani Board", "Bea Public", "Cyrus Public", "Dana Members"}),
        ("owner", {"Amani Board", "Bea Public", "Cyrus Public", "Dana Members", "Eli Private"}),
        ("admin", {"Amani Board", "Bea Public", "Cyrus Public", "Dana Members", "Eli Private",
                   "Fay Hidden"}),
    ],
)  # fmt: skip
def test_members_are_only_those_the_caller_may_find_and_the_rest_are_not_counted(
    world: Any, who: str, expected: set[str]
) -> None:
    _, client, headers = world
    raw = client.get(f"/v1/sectors/{SECTOR}/council", headers=headers[who]).text
    body = council(world, who)
    assert set(names(body)) == expected
    hidden = {"Dana Members", "Eli Private", "Fay Hidden"} - expected
    for name in hidden:
        assert name not in raw and name.split()[0].lower() not in raw
    assert "secret.example.org" not in raw  # no contact details, whoever asks
    if who in ("anonymous", "member"):  # owners and admins see the exact place
        assert "-1.29" not in raw  # the place as each person shares it (their city cell)
    assert str(len(expected)) not in body["explanation"]["summary"]


def test_a_sector_without_a_council_says_so(world: Any) -> None:
    body = council(world, "anonymous", "sector:health")
    assert body["council"] is None and body["members"] == [] and body["board_member"] is None
    assert body["explanation"]["summary"] == "The Health sector has no global council yet."


def test_a_sector_that_does_not_exist_is_refused_naming_the_path(world: Any) -> None:
    _, client, _ = world
    response = client.get("/v1/sectors/sector:nowhere/council")
    assert response.status_code in (404, 422)
    assert "sector:nowhere" in response.text
    assert client.get("/v1/sectors/person:amani/council").status_code == 422
