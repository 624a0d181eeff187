"""What the tagger answers: ranked goals with targets and evidence, sectors, and the
tags a text's node already has (see :mod:`embeddings.tagging`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple


class TargetMatch(NamedTuple):
    code: str
    title: str
    score: float  # cosine of the text with the target's title or its closest indicator


@dataclass(frozen=True, slots=True)
class SdgSuggestion:
    """One goal for a text: confidence, closest targets, and what pointed to it."""

    goal: int
    confidence: float
    suggested: bool  # proposed as a new tag: never one the text's node already has
    targets: tuple[TargetMatch, ...]  # only under a goal suggested or already tagged
    keywords: tuple[str, ...]  # Aurora keywords found in the text, most specific first
    similar: tuple[str, ...]  # the closest training texts labelled with this goal
    existing: bool = False  # the node already carries this goal

    @property
    def evidence(self) -> list[str]:
        """The evidence in words."""
        out = ["already tagged"] if self.existing else []
        out += [f"target {t.code} (similarity {t.score:.2f})" for t in self.targets[:1]]
        out += [f"keywords: {', '.join(self.keywords)}"] if self.keywords else []
        return out + ([f"similar: {'; '.join(self.similar)}"] if self.similar else [])


@dataclass(frozen=True, slots=True)
class SectorSuggestion:
    """One sector for a text: confidence, and what pointed to it."""

    slug: str
    confidence: float
    suggested: bool  # proposed as a new tag: never one the text's node already has
    similarity: float  # cosine of the text with the sector's keyword list
    keywords: tuple[str, ...]  # the sector's keywords found in the text
    via_sdgs: tuple[int, ...]  # the sector's typical SDGs among the suggested ones
    existing: bool = False  # the node already carries this sector

    @property
    def evidence(self) -> list[str]:
        """The evidence in words."""
        out = ["already tagged"] if self.existing else []
        out += [f"similarity {self.similarity:.2f}"]
        out += [f"keywords: {', '.join(self.keywords)}"] if self.keywords else []
        return out + ([f"via SDG {', '.join(map(str, self.via_sdgs))}"] if self.via_sdgs else [])


@dataclass(frozen=True, slots=True)
class Tags:
    """The goals and sectors a text's node already has: never suggested again as new."""

    goals: frozenset[int] = frozenset()
    sectors: frozenset[str] = frozenset()


NO_TAGS = Tags()


@dataclass(frozen=True, slots=True)
class Suggestions:
    """The SDGs and the sectors suggested for one text, most confident first."""

    sdgs: tuple[SdgSuggestion, ...]
    sectors: tuple[SectorSuggestion, ...]
