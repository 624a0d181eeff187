from __future__ import annotations

from pathlib import Path

import pytest

from graph.errors import ImportRejected
from graph.importer import import_records
from graph.model import Person
from graph.spreadsheet import Spreadsheet
from graph.store import Store

PEOPLE = """\
name,bio,interests,offers,needs,place,country,lat,lon,location_precision,email,sectors,sdgs,communities,initiatives
Rosa Diaz,Teacher.,youth mentoring; reading circles,tutoring,grant writing,Sacramento,US,38.58,-121.49,city,rosa@example.org,Education;Women and Girls,4;5.1,community:sacramento,Safe Streets
Tom Berg,,restorative circles,,,,SE,,,country,,Restorative Justice,16,,
"""  # noqa: E501

INITIATIVES = """\
name,description,active,needs,sectors,sdgs,organizations,communities
Night Library,For teens.,yes,volunteers; books,education,4,Youth Works;City Library,sacramento
"""


def sheet(tmp_path: Path, store: Store, text: str, table: str = "people") -> Spreadsheet:
    path = tmp_path / f"{table}.csv"
    path.write_text(text, encoding="utf-8")
    return Spreadsheet(path, "people" if table == "people" else "initiatives", store)


def test_people_rows_become_people_and_links(network: Store, tmp_path: Path) -> None:
    report = import_records(sheet(tmp_path, network, PEOPLE).records, network)
    assert report.validation.nodes == 2
    rosa = network.get_node("person:rosa-diaz")
    assert isinstance(rosa, Person)
    assert rosa.interests == ["youth mentoring", "reading circles"]
    assert rosa.contact is not None and rosa.contact.email == "rosa@example.org"
    assert rosa.place is not None and rosa.place.lon == -121.49
    targets = {(e.kind, e.target) for e in network.edges_of("person:rosa-diaz")}
    assert targets == {
        ("interested_in", "sector:education"),
        ("interested_in", "sector:gender-partnerships"),  # found by its former name
        ("interested_in", "sdg:4"),
        ("interested_in", "sdg_target:5.1"),
        ("located_in", "community:sacramento"),
        ("works_on", "initiative:safe-streets"),
    }


def test_initiative_rows_create_missing_organisations_once(network: Store, tmp_path: Path) -> None:
    import_records(sheet(tmp_path, network, INITIATIVES, "initiatives").records, network)
    edges = {(e.source, e.kind) for e in network.edges_of("initiative:night-library")}
    assert ("organization:youth-works", "partners_with") in edges
    assert network.get_node("organization:city-library").name == "City Library"
    assert network.get_node("organization:youth-works").name == "Youth Works"  # kept as it was


@pytest.mark.parametrize(
    ("old", "new", "column", "reason"),
    [
        ("38.58", "north", "lat", "not a number"),
        ("-121.49", "-200", "lon", "greater than or equal to -180"),
        ("Safe Streets", "Unknown Project", "initiatives", "initiative:unknown-project"),
        ("community:sacramento", "community:atlantis", "communities", "community:atlantis"),
        ("rosa@example.org", "rosa-at-example", "email", "should match pattern"),
    ],
)
def test_bad_cells_name_line_and_column(
    network: Store, tmp_path: Path, old: str, new: str, column: str, reason: str
) -> None:
    before = network.last_seq()
    spreadsheet = sheet(tmp_path, network, PEOPLE.replace(old, new, 1))
    with pytest.raises(ImportRejected) as caught:
        import_records(spreadsheet.records, network)
    problems = [spreadsheet.column_of(p) for p in caught.value.problems]
    assert [(p.line, p.field) for p in problems] == [(2, column)]
    assert reason in problems[0].reason
    assert network.last_seq() == before


def test_unknown_columns_are_refused(network: Store, tmp_path: Path) -> None:
    spreadsheet = sheet(tmp_path, network, "name,favourite colour\nAna,blue\n")
    with pytest.raises(ImportRejected) as caught:
        import_records(spreadsheet.records, network)
    assert caught.value.problems[0].field == "favourite colour"
