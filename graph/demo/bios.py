"""Short biographies composed from a person's profile.

Two to four sentences: an opening (who, where, what they care about), then some of
a sentence on other interests, one on what they offer, one on what they need, and one
on their second sector. The templates avoid pronouns so they fit anyone.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

_OPENINGS = (
    "{first} is {a_role} in {place} who cares deeply about {i1}.",
    "Based in {place}, {first} works as {a_role} with a focus on {i1}.",
    "{first} has spent {years} years as {a_role} in {place}, much of it on {i1}.",
    "As {a_role} in {place}, {first} sees {i1} as the heart of {sector}.",
    "{first} came to {sector} through {i1} and now works as {a_role} in {place}.",
    "In {place}, {first} is the {role} everyone calls about {i1}.",
    "{first} lives in {place} and has worked in {sector} for {years} years, lately on {i1}.",
)
_INTERESTS = (
    "Lately the work has turned towards {more}.",
    "Other passions include {more}.",
    "{first} also follows {more} closely.",
    "Recent projects touched on {more}.",
    "Friends know {first} for long conversations about {more}.",
)
_OFFERS = (
    "{first} can offer {offers} to groups that need it.",
    "Happy to help others with {offers}.",
    "Brings practical experience in {offers}.",
    "Offers {offers} to local initiatives, mostly on weekends.",
    "Glad to lend a hand with {offers}.",
)
_NEEDS = (
    "Currently looking for help with {needs}.",
    "Would love to meet someone who knows {needs}.",
    "The next step needs support with {needs}.",
    "Searching for partners who can bring {needs}.",
    "Could use a hand with {needs}.",
)
_SECOND = (
    "Also curious how {sector2} and {sector} can work hand in hand.",
    "Builds bridges between {sector} and {sector2}.",
    "Keeps one foot in {sector2} as well.",
)


@dataclass(frozen=True, slots=True)
class BioFacts:
    """What a biography may mention."""

    first: str
    role: str
    place: str
    sector: str
    sector2: str | None
    interests: tuple[str, ...]
    offers: tuple[str, ...]
    needs: tuple[str, ...]


def join_words(words: tuple[str, ...] | list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def with_article(noun: str) -> str:
    """``a teacher``, ``an imam``."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def compose_bio(facts: BioFacts, rng: random.Random) -> str:
    """A 2-4 sentence biography; the wording varies with ``rng``."""
    values = {
        "first": facts.first,
        "role": facts.role,
        "a_role": with_article(facts.role),
        "place": facts.place,
        "sector": facts.sector,
        "sector2": facts.sector2 or "",
        "i1": facts.interests[0],
        "more": join_words(list(facts.interests[1:3])),
        "offers": join_words(list(facts.offers)),
        "needs": join_words(list(facts.needs)),
        "years": str(rng.randint(2, 25)),
    }
    optional = [_INTERESTS, _OFFERS, _NEEDS] + ([_SECOND] if facts.sector2 else [])
    keep = sorted(rng.sample(range(len(optional)), rng.randint(1, 3)))
    sentences = [rng.choice(_OPENINGS)] + [rng.choice(optional[k]) for k in keep]
    text = " ".join(template.format(**values) for template in sentences)
    return text[:1].upper() + text[1:]
