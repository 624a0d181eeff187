"""The latent structure of the demo network, regenerable from (seed, index).

Nothing here grows with the number of people. A person's *core* (home place,
sectors, goals, interests, offers, needs, join day) is a pure function of
``(seed, index)`` computed from one BLAKE2b digest, so it is cheap enough to
recompute for any earlier person when choosing whom someone knows. People are
grouped into *circles* of ``CIRCLE_SIZE`` consecutive indices (a local team that
joined the network together): a circle has a home, a sector and a focus
initiative, and its members follow them with high probability. Bounded LRU caches
make recomputing recent people free without holding everyone.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from datetime import date, timedelta
from functools import lru_cache
from hashlib import blake2b
from struct import Struct
from typing import NamedTuple

from graph.demo.inputs import PlaceInfo, SectorInfo
from graph.demo.vocabulary import SECTOR_WEIGHTS, SKILLS, sector_themes
from graph.ids import slugify

START = date(2015, 1, 1)
END = date(2025, 12, 31)
END_DAY = (END - START).days
JOIN_SPAN = END_DAY - 240  # everyone joins early enough to make a first tie before END
CIRCLE_SIZE = 20
CAPITAL_REGION = "capital-region"
CAPITAL_MEMBERS = (
    "sacramento-county", "yolo-county", "placer-county", "sutter-county", "yuba-county",
    "el-dorado-county", "sacramento", "davis",
)  # fmt: skip
_UINT16S = Struct("<32H")
_SMALL_WORDS = frozenset({"a", "an", "and", "as", "at", "for", "in", "of", "on", "the", "to"})
CAPITAL_SHARE = 0.3  # share of people living in the Capital Region, for local density


def title_case(phrase: str) -> str:
    """``community gardens`` -> ``Community Gardens``; short joining words stay lower-case."""
    words = phrase.split()
    return " ".join(
        w if n and w in _SMALL_WORDS else "-".join(p[:1].upper() + p[1:] for p in w.split("-"))
        for n, w in enumerate(words)
    )


def day(offset: int) -> date:
    """The date ``offset`` days after 2015-01-01."""
    return START + timedelta(days=offset)


class Draws:
    """Deterministic uniform draws from the BLAKE2b digest of a key (16 bits each)."""

    __slots__ = ("_key", "_round", "_values")

    def __init__(self, key: str) -> None:
        self._key = key
        self._round = 0
        self._values: list[int] = []

    def _take(self) -> int:
        if not self._values:
            digest = blake2b(f"{self._key}#{self._round}".encode(), digest_size=64).digest()
            self._values = list(_UINT16S.unpack(digest))
            self._round += 1
        return self._values.pop()

    def uniform(self) -> float:
        """A float in [0, 1)."""
        return self._take() / 65536.0

    def below(self, n: int) -> int:
        """An int in [0, n); 32 bits of randomness when ``n`` is large."""
        if n <= 4096:
            return (self._take() * n) >> 16
        return (((self._take() << 16) | self._take()) * n) >> 32

    def chance(self, p: float) -> bool:
        """True with probability ``p``."""
        return self._take() < p * 65536.0

    def weighted(self, cumulative: Sequence[float]) -> int:
        """An index drawn with the weights whose running totals are ``cumulative``."""
        return min(bisect_right(cumulative, self.uniform() * cumulative[-1]), len(cumulative) - 1)

    def distinct(self, n: int, k: int, exclude: tuple[int, ...] = ()) -> tuple[int, ...]:
        """``k`` distinct ints in [0, n) avoiding ``exclude`` (fewer if not enough)."""
        k = min(k, n - len({x for x in exclude if 0 <= x < n}) if exclude else n)
        picked: list[int] = []
        while len(picked) < k:  # rejection: k is small next to n wherever this is used
            x = self.below(n)
            if x not in picked and x not in exclude:
                picked.append(x)
        return tuple(picked)


class PersonCore(NamedTuple):
    """What other people's choices depend on; see the module docstring."""

    idx: int
    circle: int
    home: int  # index into World.places
    sector: int  # index into World.sectors
    sector2: int  # -1 when the person has no second sector
    sdgs: tuple[int, ...]
    interests: tuple[tuple[int, int], ...]  # (sector index, theme index)
    offers: tuple[int, ...]  # indices into SKILLS
    needs: tuple[int, ...]
    joined: int  # days after START


class CircleCore(NamedTuple):
    """A local team of consecutive people: shared home, sector, goals and focus."""

    idx: int
    home: int
    sector: int
    sdgs: tuple[int, ...]
    theme: int
    needs: tuple[int, ...]  # what its local initiative asks for
    dpg_pick: float  # which sector-fitting DPG initiative an odd circle works on


def _running(weights: Sequence[float]) -> tuple[float, ...]:
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total)
    return tuple(out)


class World:
    """Reference data and latent draws shared by every part of the generator."""

    def __init__(
        self,
        *,
        seed: int,
        people: int,
        sectors: tuple[SectorInfo, ...],
        places: tuple[PlaceInfo, ...],
        targets: dict[int, tuple[str, ...]],
        dpg_by_sector: tuple[tuple[str, ...], ...],
        taken_ids: frozenset[str],
    ) -> None:
        self.seed, self.people, self.sectors, self.places = seed, people, sectors, places
        self.targets, self.dpg_by_sector, self.taken_ids = targets, dpg_by_sector, taken_ids
        self.themes = tuple(sector_themes(s.slug, s.keywords) for s in sectors)
        self.sector_sdgs = tuple(s.sdgs or (17,) for s in sectors)
        self.sector_cum = _running([SECTOR_WEIGHTS.get(s.slug, 1.0) for s in sectors])
        self.place_index = {p.slug: i for i, p in enumerate(places)}
        self.capital = frozenset(
            self.place_index[slug]
            for slug in (CAPITAL_REGION, *CAPITAL_MEMBERS)
            if slug in self.place_index
        )
        self.homes = tuple(i for i, p in enumerate(places) if p.kind != "region")
        self.home_cum = _running(self._home_weights())
        self.n_circles = -(-people // CIRCLE_SIZE)
        self.n_local = -(-self.n_circles // 2)  # one local initiative per two circles
        self.n_orgs = -(-self.n_circles // 10)
        self.person = lru_cache(maxsize=1 << 12)(self._person)
        self.circle = lru_cache(maxsize=1 << 12)(self._circle)
        self.local_initiative_id = lru_cache(maxsize=1 << 12)(self._local_initiative_id)

    def _home_weights(self) -> list[float]:
        # sqrt damps megacities so small places still get people; the Capital Region
        # is then scaled to CAPITAL_SHARE so the local scenario has density.
        weights = [math.sqrt(self.places[i].population) for i in self.homes]
        local = sum(w for i, w in zip(self.homes, weights, strict=True) if i in self.capital)
        other = sum(weights) - local
        if local == 0 or other == 0:
            return weights
        scale = CAPITAL_SHARE / (1 - CAPITAL_SHARE) * other / local
        return [
            w * scale if i in self.capital else w for i, w in zip(self.homes, weights, strict=True)
        ]

    def fresh_id(self, kind: str, name: str, index: int) -> str:
        """Id ``<kind>:<slug of name>-<index>``, kept clear of the real (DPG) ids."""
        node_id = f"{kind}:{slugify(name, max_length=60)}-{index}"
        return (
            node_id if node_id not in self.taken_ids else f"{kind}:demo-{node_id[len(kind) + 1 :]}"
        )

    def _circle(self, c: int) -> CircleCore:
        d = Draws(f"{self.seed}:circle:{c}")
        sector = d.weighted(self.sector_cum)
        goals = self.sector_sdgs[sector]
        sdgs = tuple(goals[g] for g in d.distinct(len(goals), 1 + d.below(2)))
        needs = d.distinct(len(SKILLS), 1 + d.below(3))
        home = self.homes[d.weighted(self.home_cum)]
        return CircleCore(
            c, home, sector, sdgs, d.below(len(self.themes[sector])), needs, d.uniform()
        )

    def _person(self, i: int) -> PersonCore:
        c = i // CIRCLE_SIZE
        circle = self.circle(c)
        d = Draws(f"{self.seed}:core:{i}")
        home = circle.home if d.chance(0.7) else self.homes[d.weighted(self.home_cum)]
        sector = circle.sector if d.chance(0.6) else d.weighted(self.sector_cum)
        sector2 = d.weighted(self.sector_cum) if d.chance(0.45) else -1
        if sector2 == sector:
            sector2 = -1
        goals = self.sector_sdgs[sector]
        sdgs = tuple(goals[g] for g in d.distinct(len(goals), 1 + d.below(3)))
        themes = self.themes[sector]
        n_primary = 3 + d.below(3)
        first = (circle.theme,) if sector == circle.sector and d.chance(0.5) else ()
        picked = first + d.distinct(len(themes), n_primary - len(first), exclude=first)
        interests = tuple((sector, t) for t in picked)
        if sector2 >= 0:
            extra = d.distinct(len(self.themes[sector2]), min(1 + d.below(2), 6 - n_primary))
            interests += tuple((sector2, t) for t in extra)
        offers = d.distinct(len(SKILLS), 1 + d.below(3))
        needs = d.distinct(len(SKILLS), 1 + d.below(2), exclude=offers)
        # the network grows (join density rises gently over time), so more people join later
        joined = int(JOIN_SPAN * d.uniform() ** 0.8)
        return PersonCore(i, c, home, sector, sector2, sdgs, interests, offers, needs, joined)

    def circle_focus(self, c: int) -> str:
        """The initiative circle ``c`` works on: its local one, or a DPG one for odd circles."""
        circle = self.circle(c)
        fitting = self.dpg_by_sector[circle.sector]
        if c % 2 and fitting:
            return fitting[int(circle.dpg_pick * len(fitting))]
        return self.local_initiative_id(c // 2)

    def local_initiative_name(self, k: int) -> str:
        """Name of fictional local initiative ``k`` (run by circle ``2k``)."""
        circle = self.circle(2 * k)
        theme = self.themes[circle.sector][circle.theme]
        suffix = ("Network", "Project", "Circle", "Collective", "Alliance", "Lab")[k % 6]
        place = self.places[circle.home].name.removesuffix(" County")
        return f"{place} {title_case(theme)} {suffix}"

    def _local_initiative_id(self, k: int) -> str:
        """Id of fictional local initiative ``k``."""
        return self.fresh_id("initiative", self.local_initiative_name(k), k)
