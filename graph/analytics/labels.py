"""Labels of groups of nodes: the key phrases that set a group apart from the rest of its sector.

The phrases are those of :mod:`graph.analytics.phrases` (whole phrases, as written),
counted once per member. A phrase's weight is its log-odds ratio between the group and
the other groups with an informative Dirichlet prior (Monroe, Colaresi and Quinn,
2008), divided by its standard error: frequent everywhere scores low, typical of the
group scores high. A phrase must come from at least :data:`MIN_MEMBERS` members, so no
label repeats what only one person wrote. The phrase leading a label is the group's
strongest (below); the others must stand out by at least :data:`MIN_WEIGHT`, so a group
that differs from the rest only by its ties is still named by what its members share.

A label is read, so it must not repeat itself and must tell groups apart:

- no two phrases of a label share a word (up to plurals and hyphens: "open source"
  after "open-source", "gardens" after "community gardens"), except that a longer
  phrase nearly as strong (:data:`PHRASE_RATIO` of the weight) takes the place of a
  shorter one it contains, since it says more;
- each group is led by a phrase no other group is led by: leads are handed out
  strongest first (the group's weight for the phrase), so when Louvain splits one
  theme in two, each half is named by what is most its own.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Sequence

from graph.analytics.phrases import Phrases

MIN_MEMBERS = 2
PRIOR = 100.0
"""Strength of the background prior, in pseudo-counts."""
PHRASE_RATIO = 0.75
MIN_WEIGHT = 0.5
"""A label phrase after the first must stand out by at least this z-score."""
LEAD_DEPTH = 10
"""How many of a group's best phrases may lead its label."""

Scored = list[tuple[str, float]]


def distinguishing_terms(
    groups: Sequence[Collection[str]], phrases: Phrases, *, k: int = 5
) -> list[Scored]:
    """The top ``k`` (phrase as written, z-score) of each group against the other groups."""
    scored = [_without_repeats(ranked, phrases) for ranked in _weights(groups, phrases)]
    leads = _unique_leads(scored, phrases)
    labels: list[Scored] = []
    for group, ranked, lead in zip(groups, scored, leads, strict=True):
        if lead is None:
            labels.append([])
            continue
        chosen = [ranked[lead]]
        taken = phrases.words(ranked[lead][0])
        for key, weight in ranked:
            words = phrases.words(key)
            if len(chosen) < k and weight >= MIN_WEIGHT and not words & taken:
                chosen.append((key, weight))
                taken |= words
        members = list(group)
        labels.append([(phrases.written_by(key, members), round(w, 3)) for key, w in chosen])
    return labels


def _weights(groups: Sequence[Collection[str]], phrases: Phrases) -> list[Scored]:
    """Each group's phrases (keys) with their z-scores, strongest first."""
    counts = [Counter(t for node in group for t in phrases.of.get(node, ())) for group in groups]
    total = Counter[str]()
    for count in counts:
        total.update(count)
    grand = sum(total.values()) or 1
    found = []
    for count in counts:
        size = sum(count.values())
        rest = grand - size
        scored = []
        for term, inside in count.items():
            if inside < MIN_MEMBERS:
                continue
            outside = total[term] - inside
            alpha = PRIOR * total[term] / grand
            odds_in = math.log((inside + alpha) / (size + PRIOR - inside - alpha))
            odds_out = math.log((outside + alpha) / (rest + PRIOR - outside - alpha))
            variance = 1.0 / (inside + alpha) + 1.0 / (outside + alpha)
            scored.append((term, (odds_in - odds_out) / math.sqrt(variance)))
        # A phrase beats its own words at the same weight: it says more.
        scored.sort(key=lambda p: (-round(p[1], 3), -p[0].count(" "), p[0]))
        found.append(scored)
    return found


def _without_repeats(scored: Scored, phrases: Phrases) -> Scored:
    """The phrases in order, none sharing a word with a stronger one.

    A phrase that contains the words of a stronger one and is at least
    :data:`PHRASE_RATIO` as strong takes its place.
    """
    chosen: Scored = []
    for term, weight in scored:
        words = phrases.words(term)
        holder = next((i for i, (t, _) in enumerate(chosen) if phrases.words(t) < words), None)
        if holder is not None:
            if weight >= PHRASE_RATIO * chosen[holder][1]:
                chosen[holder] = (term, weight)
                chosen = [(t, w) for t, w in chosen if t == term or not phrases.words(t) & words]
        elif not any(words & phrases.words(t) for t, _ in chosen):
            chosen.append((term, weight))
    return chosen


def _unique_leads(scored: Sequence[Scored], phrases: Phrases) -> list[int | None]:
    """For each group, the index of the phrase leading its label; no phrase leads twice."""
    offers = sorted(
        ((-weight, g, i, term) for g, ranked in enumerate(scored)
         for i, (term, weight) in enumerate(ranked[:LEAD_DEPTH])),
    )  # fmt: skip
    leads: list[int | None] = [None] * len(scored)
    used: set[frozenset[str]] = set()
    for _, g, i, term in offers:
        words = phrases.words(term)
        if leads[g] is None and words not in used:
            leads[g] = i
            used.add(words)
    return leads
