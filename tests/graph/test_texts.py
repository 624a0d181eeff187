from __future__ import annotations

from graph.model import Contact, Person, Place, SdgTarget, WisdomEntry
from graph.texts import node_passages, node_text


def test_a_person_is_indexed_by_what_they_care_about_never_by_private_fields() -> None:
    person = Person(
        id="person:rosa", name="Rosa Diaz", bio="Teacher.", interests=["youth mentoring"],
        offers=["tutoring"], needs=["grant writing", "a venue"],
        contact=Contact(email="rosa@example.org", phone="+1 555 0100"),
        place=Place(name="Midtown", lat=38.57, lon=-121.48),
    )  # fmt: skip
    assert node_passages(person) == [
        ("name", "Rosa Diaz"),
        ("bio", "Teacher."),
        ("interests", "youth mentoring"),
        ("offers", "tutoring"),
        ("needs", "grant writing; a venue"),
    ]
    text = node_text(person)
    for private in ("rosa@example.org", "555", "Midtown", "38.57"):
        assert private not in text


def test_targets_and_entries_carry_their_official_or_written_text() -> None:
    target = SdgTarget(id="sdg_target:4.1", name="Target 4.1", code="4.1", goal=4,
                       title="Free primary and secondary education")  # fmt: skip
    assert node_text(target) == "Target 4.1\n\nFree primary and secondary education"
    entry = WisdomEntry(id="wisdom_entry:circles", name="Circles", body="  How we began.  ")
    assert node_passages(entry) == [("name", "Circles"), ("body", "How we began.")]
