from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from graph.codec import edge_from_row, node_from_row
from graph.edges import EDGE_RULES, Edge
from graph.ids import is_valid_id, kind_of, make_id, slugify
from graph.model import NODE_ADAPTER, NODE_CLASSES, Person, Place


def test_every_node_kind_of_the_product_brief_has_a_model() -> None:
    assert set(NODE_CLASSES) == {
        "person", "initiative", "organization", "community", "council", "sector",
        "sdg", "sdg_target", "wisdom_entry", "event",
    }  # fmt: skip


def test_person_carries_the_fields_of_the_brief() -> None:
    fields = set(Person.model_fields)
    assert {
        "bio", "interests", "skills", "offers", "needs", "languages", "place",
        "location_precision", "visibility", "discoverable", "open_to_collaborate", "contact",
    } <= fields  # fmt: skip
    assert set(Place.model_fields) >= {"name", "country", "lat", "lon"}


@pytest.mark.parametrize(
    ("text", "slug"),
    [("São Paulo", "sao-paulo"), ("  Youth  Works!! ", "youth-works"), ("¿?", "x")],
)
def test_slugify(text: str, slug: str) -> None:
    assert slugify(text) == slug
    assert is_valid_id(make_id("community", text))


def test_ids_name_their_kind() -> None:
    assert kind_of("sdg_target:4.1") == "sdg_target"
    assert not is_valid_id("robot:r2d2")
    assert not is_valid_id("person:Upper")
    with pytest.raises(ValueError, match="not a node id"):
        kind_of("nocolon")


@pytest.mark.parametrize(
    ("record", "location"),
    [
        ({"place": {"lat": 91, "lon": 0}}, ("person", "place", "lat")),
        ({"place": {"lat": 10, "lon": -181}}, ("person", "place", "lon")),
        ({"place": {"lat": 10}}, ("person", "place")),
        ({"place": {"country": "usa"}}, ("person", "place", "country")),
        ({"visibility": "secret"}, ("person", "visibility")),
        ({"contact": {"email": "not-an-email"}}, ("person", "contact", "email")),
        ({"interests": ["x" * 201]}, ("person", "interests", 0)),
        ({"nickname": "M"}, ("person", "nickname")),
    ],
)
def test_bad_person_fields_are_named(record: dict[str, Any], location: tuple[Any, ...]) -> None:
    with pytest.raises(ValidationError) as caught:
        NODE_ADAPTER.validate_python({"id": "person:m", "kind": "person", "name": "M", **record})
    assert caught.value.errors()[0]["loc"] == location


def test_node_id_must_match_kind() -> None:
    with pytest.raises(ValidationError, match="does not start with 'person:'"):
        NODE_ADAPTER.validate_python({"id": "sector:m", "kind": "person", "name": "M"})


def test_wrong_edge_pair_names_both_kinds() -> None:
    with pytest.raises(ValidationError) as caught:
        Edge(kind="works_on", source="sector:arts", target="person:maria")
    message = str(caught.value)
    assert "'sector'" in message
    assert "'person'" in message
    assert "person -> initiative" in message


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"source": "person:a", "target": "person:a"}, "to itself"),
        ({"since": date(2020, 1, 2), "until": date(2020, 1, 1)}, "until is before since"),
        ({"weight": -1}, "greater than or equal to 0"),
    ],
)
def test_bad_edges(fields: dict[str, Any], message: str) -> None:
    base: dict[str, Any] = {"kind": "knows", "source": "person:a", "target": "person:b"}
    with pytest.raises(ValidationError, match=message):
        Edge.model_validate(base | fields)


@pytest.mark.parametrize("kind", sorted(EDGE_RULES))
def test_every_allowed_pair_is_accepted(kind: str) -> None:
    for source_kind, targets in EDGE_RULES[kind].items():
        for target_kind in targets:
            edge = Edge.model_validate(
                {"kind": kind, "source": f"{source_kind}:a", "target": f"{target_kind}:b"}
            )
            assert edge.ref == f"{source_kind}:a|{kind}|{target_kind}:b"


@pytest.mark.parametrize(
    ("record", "location", "reason"),
    [
        ({"name": "Ana\x00"}, ("person", "name"), "control character U+0000"),
        ({"name": "Bo \u202egnp.exe"}, ("person", "name"), "bidirectional control"),
        ({"name": "Cy\u2067"}, ("person", "name"), "bidirectional control character U+2067"),
        ({"name": "Di\u061cana"}, ("person", "name"), "bidirectional control character U+061C"),
        ({"name": "Ed\tWard"}, ("person", "name"), "control character U+0009"),
        ({"name": "Fay\u0085e"}, ("person", "name"), "control character U+0085"),
        ({"interests": ["a\nb"]}, ("person", "interests", 0), "line break"),
        ({"place": {"name": "Da\u2029vis"}}, ("person", "place", "name"), "line break"),
        ({"contact": {"phone": "555\x07"}}, ("person", "contact", "phone"), "U+0007"),
        ({"bio": "ok\x00"}, ("person", "bio"), "control character U+0000"),
        ({"bio": "ok\x1b[2J"}, ("person", "bio"), "control character U+001B"),
    ],
)
def test_text_refuses_invisible_characters(
    record: dict[str, Any], location: tuple[Any, ...], reason: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        NODE_ADAPTER.validate_python({"id": "person:m", "kind": "person", "name": "M", **record})
    error = caught.value.errors()[0]
    assert error["loc"] == location
    assert reason in error["msg"]


def test_free_text_keeps_lines_tabs_and_bidi_formatting() -> None:
    bio = "Line one.\n\tLine two, \u202bשלום\u202c."
    person = NODE_ADAPTER.validate_python({"id": "person:m", "kind": "person", "name": "M",
                                           "bio": bio})  # fmt: skip
    assert isinstance(person, Person) and person.bio == bio


def test_edge_text_refuses_invisible_characters() -> None:
    base: dict[str, Any] = {"kind": "knows", "source": "person:a", "target": "person:b"}
    for field in ("role", "provenance"):
        with pytest.raises(ValidationError, match=r"bidirectional control character U\+202E"):
            Edge.model_validate(base | {field: "x\u202ey"})
    assert Edge.model_validate(base | {"evidence": "Met twice.\nWorked together."})


def test_stored_records_stay_readable() -> None:
    """Text written before the check existed is read back as it is (not re-checked)."""
    node = node_from_row("person:old", "person", "Old\u202eName", "{}")
    assert node.name == "Old\u202eName"
    edge = edge_from_row("person:a", "knows", "person:b", '{"role": "x\\u0000"}')
    assert edge.role == "x\x00"
