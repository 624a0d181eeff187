"""Places people name in words: towns and countries, and distances told in words.

A volunteer types "near Sacramento" or "Mexico", not coordinates or ISO codes. The
gazetteer (``data/gazetteer.json.gz``, built by ``scripts/build_gazetteer.mjs`` from
GeoNames) turns a town or country name into a place, offline, biggest town first when a
name is shared ("Sacramento" is the Californian one; "Sacramento, BR" the Brazilian).

:func:`distance_phrase` says how far a node is from such a place ("in Sacramento",
"about 50 km away", "in the same region"). It must only ever be given a node's public
(coarsened) place (see :func:`graph.geo.public_place`), and it never words a distance
more finely than the node's precision: a region-precision person is "in the same region"
or some hundreds of km away, never "about 20 km away".
"""

from __future__ import annotations

import bisect
import gzip
import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from graph.geo import haversine_km
from graph.model import Place

GAZETTEER_FILE = Path(__file__).resolve().parent.parent / "data" / "gazetteer.json.gz"

COUNTRY_ALIASES = {
    # names and codes people use that CLDR's English names are not
    "usa": "US", "united states of america": "US", "america": "US", "us": "US",
    "uk": "GB", "great britain": "GB", "britain": "GB", "england": "GB", "scotland": "GB",
    "wales": "GB", "northern ireland": "GB", "gbr": "GB", "czech republic": "CZ",
    "ivory coast": "CI", "cote d ivoire": "CI", "holland": "NL", "burma": "MM",
    "swaziland": "SZ", "east timor": "TL", "drc": "CD", "congo kinshasa": "CD",
    "congo brazzaville": "CG", "korea": "KR", "russian federation": "RU", "turkiye": "TR",
    "vatican": "VA", "uae": "AE", "the netherlands": "NL", "the gambia": "GM",
    "can": "CA", "mex": "MX", "bra": "BR", "ind": "IN", "deu": "DE", "fra": "FR",
    "esp": "ES", "ita": "IT", "aus": "AU", "nzl": "NZ", "zaf": "ZA", "ken": "KE",
    "nga": "NG", "chn": "CN", "jpn": "JP",
}  # fmt: skip
_PLACE_WORD = re.compile(r"(?:^|\s)(?:near|in|around|close to)\s+", re.IGNORECASE)


def fold(text: str) -> str:
    """A name as compared: accents dropped, case folded, punctuation as spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^\w]+", " ", bare).split())


@dataclass(frozen=True, slots=True)
class Found:
    """A place found by name: a town (with coordinates) or a whole country (without)."""

    kind: str  # "town" or "country"
    name: str
    country: str
    country_name: str
    admin: str | None = None
    lat: float | None = None
    lon: float | None = None
    population: int | None = None

    @property
    def label(self) -> str:
        """How the place is written for people: "Sacramento, California, United States"."""
        if self.kind == "country":
            return self.country_name
        return ", ".join(p for p in (self.name, self.admin, self.country_name) if p)

    def as_json(self) -> dict[str, object]:
        return {
            "kind": self.kind, "name": self.name, "region": self.admin,
            "country": self.country, "country_name": self.country_name,
            "lat": self.lat, "lon": self.lon, "label": self.label,
        }  # fmt: skip


class Gazetteer:
    """Towns of at least 15,000 people and every country, looked up by name."""

    def __init__(self, data: dict[str, object]) -> None:
        countries = data["countries"]
        assert isinstance(countries, dict)
        self.countries: dict[str, str] = dict(countries)
        self.country_codes: dict[str, str] = {fold(code): code for code in self.countries}
        self.country_codes |= {fold(name): code for code, name in self.countries.items()}
        self.country_codes |= COUNTRY_ALIASES
        rows = data["towns"]
        assert isinstance(rows, list)
        self.towns: list[Found] = [
            Found("town", name, cc, self.countries.get(cc, cc), admin or None, lat, lon, pop)
            for name, cc, admin, lat, lon, pop in rows
        ]  # biggest first, as shipped
        codes = data.get("admin_codes", {})
        assert isinstance(codes, dict)
        self.admin_codes: dict[tuple[str, str], str] = {
            (country, fold(code)): name
            for country, names in codes.items()
            for code, name in names.items()
        }  # ("US", "ca") -> "California", for "Davis, CA"
        self._by_name: dict[str, list[int]] = {}
        for index, town in enumerate(self.towns):
            self._by_name.setdefault(fold(town.name), []).append(index)
        self._names = sorted(self._by_name)

    # -- countries -----------------------------------------------------------------

    def country_code(self, text: str) -> str | None:
        """The ISO code of a country named by code ("MX", "usa") or name ("México")."""
        key = fold(text)
        return self.country_codes.get(key) or self.country_codes.get(key.removeprefix("the "))

    def country(self, code: str) -> Found:
        name = self.countries.get(code, code)
        return Found("country", name, code, name)

    # -- towns -----------------------------------------------------------------------

    def find(self, text: str) -> Found | None:
        """The place a name means: "Sacramento" (the biggest of that name), "Sacramento,
        California", "Sacramento, BR", "Davis, United States", a label as
        :meth:`suggest` gives it, or a country ("Mexico")."""
        name, _, qualifier = text.partition(",")
        key = fold(name)
        if not key:
            return None
        indices = self._by_name.get(key, [])
        parts = [(fold(p), self.country_code(p)) for p in qualifier.split(",") if fold(p)]
        if parts:  # "Sacramento, California, United States": every part must hold
            for index in indices:
                if all(self._in(self.towns[index], wanted, code) for wanted, code in parts):
                    return self.towns[index]
            return None
        code = self.country_code(name)
        if code is not None and (len(key) > 2 or not indices):  # "Mexico": the country
            return self.country(code)
        return self.towns[indices[0]] if indices else None

    def _in(self, town: Found, wanted: str, code: str | None) -> bool:
        """Whether a town is in the country or region a qualifier names."""
        if town.country == code:
            return True
        if town.admin is None:
            return False
        admin = fold(town.admin)
        return admin == wanted or fold(self.admin_codes.get((town.country, wanted), "")) == admin

    def suggest(self, text: str, limit: int = 10) -> list[Found]:
        """Towns and countries whose name starts with the text, countries and big towns first."""
        name, _, qualifier = text.partition(",")
        key = fold(name)
        if not key:
            return []
        wanted = fold(qualifier)
        found: list[Found] = [
            self.country(code)
            for folded, code in sorted(self.country_codes.items())
            if folded.startswith(key) and len(folded) > 3 and not wanted
            and fold(self.countries.get(code, "")) == folded
        ]  # fmt: skip
        start = bisect.bisect_left(self._names, key)
        towns: list[int] = []
        for folded in self._names[start:]:
            if not folded.startswith(key):
                break
            towns.extend(self._by_name[folded])
        for index in sorted(towns):
            town = self.towns[index]
            if wanted and not (
                fold(town.country_name).startswith(wanted)
                or fold(town.country) == wanted
                or (town.admin and fold(town.admin).startswith(wanted))
            ):
                continue
            found.append(town)
            if len(found) >= limit:
                break
        return found[:limit]

    def split_query(self, query: str) -> tuple[str, Found | None]:
        """Words to search and the place at the end of a query: "food bank near Sacramento"
        is ("food bank", Sacramento). A tail that names no place ("help in schools") is
        left in the words."""
        for words, tail in _tails(query):  # from the leftmost; the first place wins
            place = self.find(tail)
            if place is not None:
                return words.strip(), place
        return query, None


def _tails(query: str) -> list[tuple[str, str]]:
    """(words before, place text) for each "near/in/around X" in the query."""
    found = []
    for match in _PLACE_WORD.finditer(query):
        place = query[match.end() :].strip().rstrip("?.!")
        if place:
            found.append((query[: match.start()], place))
    return found


@cache
def gazetteer() -> Gazetteer:
    """The shipped gazetteer, loaded once per process."""
    with gzip.open(GAZETTEER_FILE, "rt", encoding="utf-8") as f:
        return Gazetteer(json.load(f))


def _about(km: float, step: int) -> str:
    rounded = max(step, round(km / step) * step)
    return f"about {rounded:,} km away"


def distance_phrase(place: Place | None, precision: str, origin: Found) -> str | None:
    """How far a public place is from ``origin``, in words no finer than ``precision``.

    ``place`` must be the public (coarsened) place. ``precision`` is the person's
    location precision ("exact", "city", "region", "country"); other nodes are "exact".
    """
    if place is None:
        return None
    if origin.kind == "country" or precision == "country" or place.lat is None:
        if place.country is None:
            return None
        if place.country == origin.country:
            return "in the same country" if origin.kind == "town" else f"in {origin.name}"
        return f"in {gazetteer().countries.get(place.country, place.country)}"
    assert place.lat is not None and place.lon is not None
    assert origin.lat is not None and origin.lon is not None
    km = haversine_km(origin.lat, origin.lon, place.lat, place.lon)
    if precision == "region":  # a 1° cell: its centre may be 80 km from the person
        return "in the same region" if km < 100 else _about(km, 100)
    same_name = place.name is not None and fold(place.name) == fold(origin.name)
    if km < 15 and (same_name or km < 5):
        return f"in {origin.name}" if origin.name else "less than 10 km away"
    if km < 10:
        return "less than 10 km away"
    if km < 100:
        return _about(km, 10)
    if km < 1000:
        return _about(km, 50)
    return _about(km, 100)
