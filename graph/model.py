"""Node models: one pydantic class per node kind of the Cocreate graph.

Every node has a stable id ``<kind>:<slug>``, a ``kind`` matching the id, a
``name``, a ``fictional`` flag (demo records are marked) and an optional
``provenance`` saying where the record came from. Free text is bounded so that
one record cannot grow without limit.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    TypeAdapter,
    ValidationInfo,
    field_validator,
    model_validator,
)

from graph.ids import ID_PATTERN, kind_of

BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
"""Unicode's Bidi_Control characters: marks, embeddings, overrides and isolates."""
_NOT_ONE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{BIDI_CONTROLS}]")
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _named(char: str) -> str:
    code = f"U+{ord(char):04X}"
    if char in BIDI_CONTROLS:
        return f"the bidirectional control character {code}"
    if char in "\u2028\u2029\n\r":
        return f"a line break ({code})"
    return f"the control character {code}"


def _one_line(value: str, info: ValidationInfo) -> str:
    """A single line of plain text: no control, line-break or bidi control characters."""
    if info.context and info.context.get("stored"):
        return value  # checked when it was written
    found = _NOT_ONE_LINE.search(value)
    if found:
        raise ValueError(f"must not contain {_named(found.group())}")
    return value


def _text(value: str, info: ValidationInfo) -> str:
    """Free text: line breaks and tabs, but no other control character (NUL included)."""
    if info.context and info.context.get("stored"):
        return value
    found = _NOT_TEXT.search(value)
    if found:
        raise ValueError(f"must not contain {_named(found.group())}")
    return value


OneLine = AfterValidator(_one_line)
"""Names, phrases, places, codes and the like: one line of plain text, without the
characters that can hide or reorder what a reader sees (docs/api.md, "Text")."""
PlainText = AfterValidator(_text)
"""Free text (bios, descriptions, bodies): lines and tabs, nothing else invisible."""

ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300), OneLine
]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20_000), PlainText]
Phrase = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), OneLine
]
Phrases = Annotated[list[Phrase], Field(max_length=100)]
Url = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2_000), OneLine]
LanguageCode = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
]
CountryCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Z]{2}$")]
NodeId = Annotated[str, StringConstraints(pattern=ID_PATTERN)]


def _iso_date_only(value: object) -> object:
    # Lax date parsing would take a number as a Unix time: only ISO strings and dates.
    if isinstance(value, str | date):
        return value
    raise ValueError("must be an ISO date (YYYY-MM-DD)")


IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]
"""A date given as an ISO string (or a date); numbers are refused rather than read as Unix time."""


NodeKind = Literal[
    "person", "initiative", "organization", "community", "council", "sector", "sdg",
    "sdg_target", "wisdom_entry", "event",
]  # fmt: skip


class LocationPrecision(StrEnum):
    """How precisely a person lets others see where they are."""

    exact = "exact"
    city = "city"
    region = "region"
    country = "country"


class Visibility(StrEnum):
    """Who may see a profile: anyone, signed-in members, or only its owner and admins."""

    public = "public"
    members = "members"
    private = "private"


class ShareContact(StrEnum):
    """With whom a person shares their contact details (always their owner and admins)."""

    nobody = "nobody"
    introduced = "introduced"
    members = "members"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Place(_Model):
    """Where something is: a place name, a country, a world region and coordinates."""

    name: ShortText | None = None
    country: CountryCode | None = Field(default=None, description="ISO 3166-1 alpha-2 code")
    region: ShortText | None = Field(
        default=None, description="World region (UN M49 style), e.g. 'Northern America'"
    )
    lat: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False, strict=True)
    lon: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False, strict=True)

    @model_validator(mode="after")
    def _both_coordinates(self) -> Place:
        if (self.lat is None) != (self.lon is None):
            missing = "lon" if self.lon is None else "lat"
            raise ValueError(f"{missing} is required when the other coordinate is given")
        return self


class Contact(_Model):
    """Contact details: shown to the person themselves and admins, and to others only as
    the person's ``share_contact`` allows."""

    email: (
        Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"), OneLine] | None
    ) = None
    phone: Annotated[str, StringConstraints(max_length=40), OneLine] | None = None
    website: Url | None = None


class NodeBase(_Model):
    """Fields every node has."""

    id: NodeId
    name: ShortText
    fictional: StrictBool = Field(default=False, description="True for generated demo records")
    provenance: ShortText | None = Field(default=None, description="Where the record came from")

    @model_validator(mode="after")
    def _id_matches_kind(self) -> NodeBase:
        kind = getattr(self, "kind")  # noqa: B009 - every concrete subclass declares it
        if kind_of(self.id) != kind:
            raise ValueError(f"id '{self.id}' does not start with '{kind}:'")
        return self


class Person(NodeBase):
    """A co-creator: someone who cares and may want to collaborate."""

    kind: Literal["person"] = "person"
    bio: LongText = ""
    interests: Phrases = []
    skills: Phrases = []
    offers: Phrases = []
    needs: Phrases = []
    languages: Annotated[list[LanguageCode], Field(max_length=20)] = []
    place: Place | None = None
    location_precision: LocationPrecision = LocationPrecision.city
    visibility: Visibility = Visibility.public
    discoverable: StrictBool = True
    open_to_collaborate: StrictBool = True
    board_member: StrictBool = Field(
        default=False, description="Serves on the network's board (councils need one)"
    )
    contact: Contact | None = None
    share_contact: ShareContact = Field(
        default=ShareContact.introduced,
        description="Who else sees the contact details: nobody, people introduced with "
        "their consent, or any signed-in member",
    )


class Initiative(NodeBase):
    """A project, programme or digital public good that people work on."""

    kind: Literal["initiative"] = "initiative"
    description: LongText = ""
    website: Url | None = None
    active: StrictBool = True
    stage: ShortText | None = None
    types: Phrases = []
    licenses: Phrases = []
    needs: Phrases = []
    place: Place | None = None


class Organization(NodeBase):
    """An organisation: owner, funder or partner of initiatives, or a sector partner."""

    kind: Literal["organization"] = "organization"
    description: LongText = ""
    website: Url | None = None
    place: Place | None = None


class CommunityScope(StrEnum):
    city = "city"
    county = "county"
    region = "region"
    neighbourhood = "neighbourhood"
    country = "country"


class Community(NodeBase):
    """A compassionate community: a city, county, region or neighbourhood."""

    kind: Literal["community"] = "community"
    description: LongText = ""
    scope: CommunityScope = CommunityScope.city
    issues: Phrases = []
    place: Place | None = None
    proclaimed: IsoDate | None = Field(default=None, description="When it affirmed the Charter")


class CouncilScope(StrEnum):
    global_sector = "global_sector"
    sub_sector = "sub_sector"
    regional = "regional"


class Council(NodeBase):
    """A global sector council, or a sub-sector or regional council."""

    kind: Literal["council"] = "council"
    description: LongText = ""
    scope: CouncilScope = CouncilScope.global_sector


class Sector(NodeBase):
    """One of the twelve sectors the network works in."""

    kind: Literal["sector"] = "sector"
    description: LongText = ""
    aliases: Phrases = []


class Translation(_Model):
    short: ShortText | None = None
    title: LongText


class Sdg(NodeBase):
    """A UN Sustainable Development Goal (official wording)."""

    kind: Literal["sdg"] = "sdg"
    number: int = Field(ge=1, le=17, strict=True)
    title: LongText
    translations: dict[LanguageCode, Translation] = {}


class Indicator(_Model):
    code: Annotated[str, StringConstraints(pattern=r"^\d{1,2}\.[0-9a-z]{1,2}\.\d{1,2}$")]
    title: LongText


class SdgTarget(NodeBase):
    """One of the 169 SDG targets, with its indicators (official wording)."""

    kind: Literal["sdg_target"] = "sdg_target"
    code: Annotated[str, StringConstraints(pattern=r"^\d{1,2}\.[0-9a-z]{1,2}$")]
    goal: int = Field(ge=1, le=17, strict=True)
    title: LongText
    indicators: Annotated[list[Indicator], Field(max_length=20)] = []
    translations: dict[LanguageCode, Translation] = {}

    @field_validator("code")
    @classmethod
    def _code_in_range(cls, code: str) -> str:
        if not 1 <= int(code.split(".")[0]) <= 17:
            raise ValueError(f"target code '{code}' does not belong to goals 1-17")
        return code


class WisdomEntry(NodeBase):
    """An entry of the Grassroots Wisdom Book; ``name`` is its title."""

    kind: Literal["wisdom_entry"] = "wisdom_entry"
    body: LongText = ""
    summary: LongText | None = None
    published: IsoDate | None = None


class EventFormat(StrEnum):
    webinar = "webinar"
    conference = "conference"
    meeting = "meeting"
    workshop = "workshop"


class Event(NodeBase):
    """A webinar, conference, meeting or workshop."""

    kind: Literal["event"] = "event"
    description: LongText = ""
    format: EventFormat = EventFormat.webinar
    starts: IsoDate | None = None
    ends: IsoDate | None = None
    place: Place | None = None

    @model_validator(mode="after")
    def _ends_after_start(self) -> Event:
        if self.starts and self.ends and self.ends < self.starts:
            raise ValueError("ends is before starts")
        return self


Node = Annotated[
    Person
    | Initiative
    | Organization
    | Community
    | Council
    | Sector
    | Sdg
    | SdgTarget
    | WisdomEntry
    | Event,
    Field(discriminator="kind"),
]
NODE_ADAPTER: TypeAdapter[Node] = TypeAdapter(Node)

NODE_CLASSES: dict[str, type[NodeBase]] = {
    cls.model_fields["kind"].default: cls
    for cls in (
        Person,
        Initiative,
        Organization,
        Community,
        Council,
        Sector,
        Sdg,
        SdgTarget,
        WisdomEntry,
        Event,
    )
}
