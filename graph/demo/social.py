"""Who knows whom and who works on what, dated so that the past predicts the future.

Every ``knows`` tie goes from a person ``i`` to an earlier person ``j < i`` (whose
node has already been yielded) and is recomputed from ``(seed, i)`` and the cores of
earlier people; nothing is stored but bounded caches. Three kinds of tie:

* **circle** ties join members of the same circle (same home, sector and focus
  initiative, most of the time); they are dated within eight months of the later
  of the two join days.
* **affinity** ties join ``i`` to the best of a few sampled earlier people, scored
  by complementarity (``i``'s needs met by ``j``'s offers, and the other way
  round), shared interests, goals, home and sector; they come 7 to 30 months
  after both joined.
* **closure** ties join ``i`` to a tie of one of its ties, dated 2 to 23 months
  after both edges of that wedge exist, so they close triangles.

``works_on`` follows the same pattern: the circle's focus initiative soon after
joining, a tie's initiative after the tie (closure), and later a local initiative
whose needs match the person's offers (complementarity), or a DPG initiative of the
person's sector. Edges dated after 2025-12-31 have not happened yet and are dropped.

So the edges before a cut-off date (say 2023-01-01) carry signal about the edges
after it: common neighbours predict closure ties and shared-tie initiatives, and
needs/offers and interest overlap predict affinity ties and complementary
``works_on`` edges, better than chance.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from graph.demo.latent import CIRCLE_SIZE, END_DAY, Draws, PersonCore, World

AFFINITY_SAMPLES = 6
AFFINITY_THRESHOLD = 3
MAX_TIES = 8
MAX_WORKS = 3


class Tie(NamedTuple):
    """A ``knows`` tie from a person to the earlier person ``other``."""

    other: int
    since: int  # days after 2015-01-01
    reason: str  # circle | affinity | closure


class Work(NamedTuple):
    """A ``works_on`` edge from a person to ``initiative``."""

    initiative: str
    since: int
    reason: str  # circle | closure | complement | sector


def affinity(a: PersonCore, b: PersonCore) -> int:
    """How much ``a`` and ``b`` have to give each other; needs met by offers count double."""
    score = 2 * sum(n in b.offers for n in a.needs) + 2 * sum(n in a.offers for n in b.needs)
    score += sum(t in b.interests for t in a.interests) + sum(g in b.sdgs for g in a.sdgs)
    return score + (a.home == b.home) + (a.sector == b.sector)


class Social:
    """Ties and work of people, recomputable for any index."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.base_ties = lru_cache(maxsize=1 << 12)(self._base_ties)

    def _base_ties(self, i: int) -> tuple[Tie, ...]:
        """Circle and affinity ties of ``i``: the ones that do not depend on other ties."""
        world = self.world
        me = world.person(i)
        d = Draws(f"{world.seed}:ties:{i}")
        start = me.circle * CIRCLE_SIZE
        ties: list[Tie] = []
        for offset in d.distinct(i - start, 1 + d.below(3)):
            other = world.person(start + offset)
            since = max(me.joined, other.joined) + d.below(240)
            ties.append(Tie(start + offset, since, "circle"))
        taken = {t.other for t in ties}
        scored: list[tuple[int, int]] = []
        for _ in range(AFFINITY_SAMPLES if i > 0 else 0):
            j = d.below(start) if start else d.below(i)
            if j not in taken:
                taken.add(j)
                scored.append((affinity(me, world.person(j)), j))
        scored.sort(key=lambda sj: (-sj[0], sj[1]))
        for rank, (score, j) in enumerate(scored[:2]):
            if score < AFFINITY_THRESHOLD or (rank == 1 and not d.chance(0.35)):
                break
            since = max(me.joined, world.person(j).joined) + 200 + d.below(700)
            if since <= END_DAY:
                ties.append(Tie(j, since, "affinity"))
        return tuple(ties)

    def ties(self, i: int) -> tuple[Tie, ...]:
        """All ``knows`` ties of ``i`` to earlier people (at most ``MAX_TIES``)."""
        base = self.base_ties(i)
        d = Draws(f"{self.world.seed}:close:{i}")
        want = 2 + d.below(MAX_TIES - 1)
        out = list(base)
        chosen = {t.other for t in base}
        for tie in base:
            for second in self.base_ties(tie.other):
                if len(out) >= want:
                    return tuple(out)
                if second.other in chosen or not d.chance(0.6):
                    continue
                since = max(tie.since, second.since) + 60 + d.below(640)
                if since <= END_DAY:
                    out.append(Tie(second.other, since, "closure"))
                    chosen.add(second.other)
        return tuple(out)

    def works(self, i: int, ties: tuple[Tie, ...]) -> tuple[Work, ...]:
        """The initiatives ``i`` works on (1 to ``MAX_WORKS``)."""
        world = self.world
        me = world.person(i)
        d = Draws(f"{world.seed}:works:{i}")
        focus = world.circle_focus(me.circle)
        out: dict[str, Work] = {}
        if d.chance(0.85):
            out[focus] = Work(focus, me.joined + d.below(180), "circle")
        for tie in ties:
            theirs = world.circle_focus(world.person(tie.other).circle)
            if theirs not in out and d.chance(0.35):
                since = tie.since + 60 + d.below(600)
                if since <= END_DAY:
                    out[theirs] = Work(theirs, since, "closure")
                break
        if d.chance(0.4):
            self._complement(me, d, out)
        fitting = world.dpg_by_sector[me.sector]
        if fitting and d.chance(0.2) and len(out) < MAX_WORKS:
            pick = fitting[d.below(len(fitting))]
            since = me.joined + d.below(1500)
            if pick not in out and since <= END_DAY:
                out[pick] = Work(pick, since, "sector")
        if not out:
            out[focus] = Work(focus, me.joined + d.below(180), "circle")
        return tuple(out.values())[:MAX_WORKS]

    def _complement(self, me: PersonCore, d: Draws, out: dict[str, Work]) -> None:
        """Join a local initiative that needs what ``me`` offers, preferring one nearby."""
        world = self.world
        best: tuple[int, int] | None = None
        for _ in range(4):
            k = d.below(world.n_local)
            circle = world.circle(2 * k)
            if any(n in me.offers for n in circle.needs):
                rank = 0 if circle.home == me.home else 1
                if best is None or (rank, k) < best:
                    best = (rank, k)
        since = me.joined + 300 + d.below(1200)
        if best is not None and since <= END_DAY and len(out) < MAX_WORKS:
            initiative = world.local_initiative_id(best[1])
            out.setdefault(initiative, Work(initiative, since, "complement"))
