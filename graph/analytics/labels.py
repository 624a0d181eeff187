"""Distinguishing terms of a group of nodes, against the rest of its sector.

Terms are words and two-word phrases of the members' own short fields (a person's
interests; an initiative's name, types and description; an entry's title), counted
once per node. A term's weight is its log-odds ratio between the
group and the rest of the sector with an informative Dirichlet prior (Monroe, Colaresi
and Quinn, 2008), divided by its standard error: frequent everywhere scores low, typical
of the group scores high. A term must come from at least two members, so no label
repeats what only one person wrote.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from itertools import pairwise

from graph.model import Initiative, Node, Person, WisdomEntry

MIN_MEMBERS = 2
PRIOR = 100.0
PHRASE_RATIO = 0.75
MIN_WEIGHT = 0.5
"""A label term must stand out by at least this z-score."""
"""Strength of the background prior, in pseudo-counts."""
_WORD = re.compile(r"[a-z][a-z'-]*[a-z]")
STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each
    few for from further had has have having he her here hers him his how i if in into is
    it its itself just me more most my no nor not now of off on once only or other our
    ours out over own same she should so some such than that the their theirs them then
    there these they this those through to too under until up very was we were what when
    where which while who whom why will with would you your yours
    new help helps helping work works working people one two way ways make makes use uses
    using across around among within without well get gets like need needs based""".split()  # noqa: SIM905 - a word list reads better as text
)


def node_terms(node: Node) -> set[str]:
    """The distinct terms of a node's short fields (words and two-word phrases).

    A person's skills are left out: "event planning" or "translation" say what someone
    can do anywhere, not which part of the sector they work in.
    """
    texts: list[str] = []
    if isinstance(node, Person):
        texts = list(node.interests)
    elif isinstance(node, Initiative):
        texts = [node.name, *node.types, node.description[:600]]
    elif isinstance(node, WisdomEntry):
        texts = [node.name]
    found: set[str] = set()
    for text in texts:
        words = _WORD.findall(text.lower())
        found.update(w for w in words if w not in STOPWORDS)
        found.update(
            f"{a} {b}" for a, b in pairwise(words) if a not in STOPWORDS and b not in STOPWORDS
        )
    return found


def distinguishing_terms(
    groups: Sequence[Iterable[str]], terms: Mapping[str, set[str]], *, k: int = 5
) -> list[list[tuple[str, float]]]:
    """The top ``k`` (term, z-score) of each group against the other groups' members."""
    counts = [Counter(t for node in group for t in terms.get(node, ())) for group in groups]
    total = Counter[str]()
    for count in counts:
        total.update(count)
    grand = sum(total.values()) or 1
    labels = []
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
        labels.append(_without_repeats(scored, k))
    return labels


def _without_repeats(scored: list[tuple[str, float]], k: int) -> list[tuple[str, float]]:
    """The best ``k`` terms, none repeating another.

    A term sharing a word with one chosen before it is dropped (``circles`` or ``circles
    schools`` after ``restorative circles``), except that a phrase nearly as strong as a
    word it contains (at least :data:`PHRASE_RATIO` of its weight) takes that word's
    place, since it says more.
    """
    chosen: list[tuple[str, float]] = []
    for term, weight in scored:
        words = set(term.split())
        holder = next((i for i, (t, _) in enumerate(chosen) if set(t.split()) < words), None)
        if holder is not None:
            if weight >= PHRASE_RATIO * chosen[holder][1]:
                chosen[holder] = (term, round(weight, 3))
                chosen = [(t, w) for t, w in chosen if t == term or not set(t.split()) < words]
        elif (
            weight >= MIN_WEIGHT
            and len(chosen) < k
            and not any(words & set(t.split()) for t, _ in chosen)
        ):
            chosen.append((term, round(weight, 3)))
    return chosen
