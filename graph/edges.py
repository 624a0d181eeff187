"""Edge kinds, the (source kind, target kind) pairs each allows, and the edge model."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from graph.errors import InvalidEdge
from graph.ids import ID_PATTERN, kind_of
from graph.model import IsoDate, OneLine, PlainText

EdgeKind = Literal[
    "works_on",
    "member_of",
    "interested_in",
    "knows",
    "in_sector",
    "addresses",
    "located_in",
    "authored",
    "describes",
    "partners_with",
    "part_of",
    "participates_in",
]

# kind -> {source kind: allowed target kinds}
EDGE_RULES: dict[str, dict[str, frozenset[str]]] = {
    "works_on": {"person": frozenset({"initiative"})},
    "member_of": {"person": frozenset({"council", "organization", "community"})},
    "interested_in": {"person": frozenset({"sector", "sdg", "sdg_target"})},
    "knows": {"person": frozenset({"person"})},
    "in_sector": {
        kind: frozenset({"sector"})
        for kind in ("initiative", "wisdom_entry", "organization", "council", "event")
    },
    "addresses": {
        kind: frozenset({"sdg", "sdg_target"})
        for kind in ("initiative", "wisdom_entry", "organization", "event", "community")
    },
    "located_in": {
        kind: frozenset({"community"})
        for kind in ("person", "initiative", "organization", "community", "event", "council")
    },
    "authored": {"person": frozenset({"wisdom_entry"})},
    "describes": {"wisdom_entry": frozenset({"initiative", "community", "event"})},
    "partners_with": {
        "organization": frozenset({"sector", "initiative", "organization", "community"})
    },
    "part_of": {
        "sdg_target": frozenset({"sdg"}),
        "community": frozenset({"community"}),
        "council": frozenset({"council"}),
    },
    "participates_in": {
        "person": frozenset({"event"}),
        "organization": frozenset({"event"}),
        "initiative": frozenset({"event"}),
    },
}
EDGE_KINDS: tuple[str, ...] = tuple(EDGE_RULES)

EDGE_DESCRIPTIONS: dict[str, str] = {
    "works_on": "a person works on an initiative",
    "member_of": "a person is a member of a council, organisation or community",
    "interested_in": "a person cares about a sector, goal or target",
    "knows": "a person knows another person",
    "in_sector": "content or an organisation belongs to a sector",
    "addresses": "an initiative, entry, organisation, event or community addresses an SDG",
    "located_in": "something is located in a community",
    "authored": "a person wrote a Wisdom Book entry",
    "describes": "a Wisdom Book entry describes an initiative, community or event",
    "partners_with": "an organisation partners with a sector, initiative, organisation, community",
    "part_of": "a target belongs to its goal; a community or council to a larger one",
    "participates_in": "a person, organisation or initiative takes part in an event",
}


def allowed_pairs(kind: str) -> str:
    """Readable list of the pairs ``kind`` allows, e.g. ``person -> initiative``."""
    rules = EDGE_RULES[kind]
    return ", ".join(f"{src} -> {tgt}" for src in sorted(rules) for tgt in sorted(rules[src]))


def check_pair(kind: str, source_kind: str, target_kind: str) -> None:
    """Raise :class:`InvalidEdge` unless ``kind`` may join ``source_kind`` to ``target_kind``."""
    if target_kind not in EDGE_RULES[kind].get(source_kind, frozenset()):
        raise InvalidEdge(kind, source_kind, target_kind, allowed_pairs(kind))


class Edge(BaseModel):
    """A typed, directed edge; (source, kind, target) is its identity."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    kind: EdgeKind
    source: Annotated[str, StringConstraints(pattern=ID_PATTERN)]
    target: Annotated[str, StringConstraints(pattern=ID_PATTERN)]
    weight: float | None = Field(default=None, ge=0, le=1_000_000, allow_inf_nan=False, strict=True)
    since: IsoDate | None = None
    until: IsoDate | None = None
    role: Annotated[str, StringConstraints(min_length=1, max_length=100), OneLine] | None = None
    evidence: Annotated[str, StringConstraints(max_length=5_000), PlainText] | None = None
    provenance: Annotated[str, StringConstraints(min_length=1, max_length=300), OneLine] | None = (
        None
    )

    @model_validator(mode="after")
    def _valid_edge(self) -> Edge:
        if self.source == self.target:
            raise ValueError("an edge cannot join a node to itself")
        check_pair(self.kind, kind_of(self.source), kind_of(self.target))
        if self.since and self.until and self.until < self.since:
            raise ValueError("until is before since")
        return self

    @property
    def key(self) -> tuple[str, str, str]:
        """The edge's identity: (source, kind, target)."""
        return (self.source, self.kind, self.target)

    @property
    def ref(self) -> str:
        """The edge's identity as one string, as used in the change log."""
        return f"{self.source}|{self.kind}|{self.target}"
