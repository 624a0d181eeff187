"""The evidence a tagger weighs: encoded reference texts, keyword matches, neighbour votes.

See :mod:`embeddings.tagging` for the features and how they are combined. Everything
here is a pure function of the encoded texts, except :func:`encode_cached`, which may
keep vectors in a folder between runs.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from embeddings.calibration import Flags, Floats
from embeddings.encoder import Encoder
from embeddings.ranking import Matrix
from embeddings.tagging_inputs import LabelledText, TaggingDataError, TaggingReference, TargetText
from embeddings.tokenize import terms

GOALS = 17
NEIGHBOURS, TEMPERATURE = 10, 0.05  # chosen by cross-validation on the training split


class KeywordMatcher:
    """Finds keyword phrases in texts by their folded terms (:mod:`embeddings.tokenize`).

    A keyword term of four letters or more matches as a prefix ("educ" finds
    "education"), as Aurora's ``*`` wildcards did; shorter ones must match whole.
    Each phrase weighs log(labels / labels listing it) + 0.1: specific words count more.
    """

    def __init__(self, labelled: Iterable[tuple[int, str]], labels: int) -> None:
        owners: dict[tuple[str, ...], set[int]] = {}
        self.written: dict[tuple[str, ...], str] = {}
        for label, keyword in labelled:
            phrase = tuple(terms(keyword))
            if phrase:
                owners.setdefault(phrase, set()).add(label)
                self.written.setdefault(phrase, keyword)
        self.labels = labels
        self.owners = {p: sorted(o) for p, o in owners.items()}
        self.weight = {p: math.log(labels / len(o)) + 0.1 for p, o in owners.items()}
        self._by_start: dict[str, list[tuple[str, ...]]] = {}
        for phrase in sorted(owners):
            self._by_start.setdefault(phrase[0][:4], []).append(phrase)

    def find(self, text: str) -> list[tuple[str, ...]]:
        """The distinct phrases found in the text, in order of first occurrence."""
        words = terms(text)
        found: dict[tuple[str, ...], None] = {}
        for i, word in enumerate(words):
            for phrase in self._by_start.get(word[:4], ()):
                window = words[i : i + len(phrase)]
                if len(window) == len(phrase) and all(
                    w.startswith(k) if len(k) >= 4 else w == k
                    for w, k in zip(window, phrase, strict=True)
                ):
                    found[phrase] = None
        return list(found)

    def scores(self, texts: Sequence[str]) -> tuple[Floats, list[list[list[str]]]]:
        """log1p of the summed weights per label, and the keywords found (five at most)."""
        out = np.zeros((len(texts), self.labels))
        shown: list[list[list[str]]] = []
        for row, text in enumerate(texts):
            hits: list[list[tuple[float, str]]] = [[] for _ in range(self.labels)]
            for phrase in self.find(text):
                for label in self.owners[phrase]:
                    out[row, label] += self.weight[phrase]
                    hits[label].append((-self.weight[phrase], self.written[phrase]))
            shown.append([[word for _, word in sorted(h)[:5]] for h in hits])
        return np.log1p(out), shown


@dataclass(frozen=True, slots=True)
class Space:
    """The encoded reference and training texts that features are computed against."""

    targets: tuple[TargetText, ...]  # sorted by goal
    items: Matrix  # each target's title then its indicators' titles, target by target
    item_start: npt.NDArray[np.int64]  # first item of each target
    goal_start: npt.NDArray[np.int64]  # first target of each goal, then the end
    sector_text: Matrix  # each sector's name and description
    sector_keys: Matrix  # each sector's name and keyword list
    examples: Matrix  # the training texts
    labels: Floats  # (examples, 17): 1 where the example carries the goal
    names: tuple[str, ...]  # of the examples, shown as evidence


def build_space(
    encoder: Encoder,
    reference: TaggingReference,
    training: Sequence[LabelledText],
    cache: Path | None = None,
) -> Space:
    """Encode the targets, indicators, sectors and training texts (in one batch)."""
    targets = tuple(sorted(reference.targets, key=lambda t: t.goal))
    goals = [t.goal for t in targets]
    if sorted(set(goals)) != list(range(1, GOALS + 1)) or not training:
        raise TaggingDataError("reference", "need targets of all 17 goals and SDG labels")
    items = [text for t in targets for text in (t.title, *t.indicators)]
    sectors = reference.sectors
    vectors = encode_cached(
        encoder,
        [
            *items,
            *(f"{s.name}. {s.description}" for s in sectors),
            *(f"{s.name}: {', '.join(s.keywords)}" for s in sectors),
            *(t.text for t in training),
        ],
        cache,
    )
    cut = np.cumsum([len(items), len(sectors), len(sectors)])
    labels = np.array([[g in t.sdgs for g in range(1, GOALS + 1)] for t in training], dtype=float)
    return Space(
        targets=targets,
        items=vectors[: cut[0]],
        item_start=np.cumsum([0] + [1 + len(t.indicators) for t in targets[:-1]]),
        goal_start=np.searchsorted(goals, np.arange(1, GOALS + 2)),
        sector_text=vectors[cut[0] : cut[1]],
        sector_keys=vectors[cut[1] : cut[2]],
        examples=vectors[cut[2] :],
        labels=labels,
        names=tuple(t.name or t.id for t in training),
    )


def sdg_features(
    space: Space,
    aurora: KeywordMatcher,
    vectors: Matrix,
    texts: Sequence[str],
    forbid: Flags | None = None,
) -> tuple[Floats, Floats, list[list[list[str]]], list[list[int]]]:
    """Features (texts, 17, 7), target cosines, Aurora keywords found, nearest examples.

    ``forbid[i, j]``: example j may not vote for text i.
    """
    similarity = vectors.astype(np.float64) @ space.items.T.astype(np.float64)
    target_scores = np.maximum.reduceat(similarity, space.item_start, axis=1)
    best, best3 = np.zeros((len(texts), GOALS)), np.zeros((len(texts), GOALS))
    for g in range(GOALS):
        part = -np.sort(-target_scores[:, space.goal_start[g] : space.goal_start[g + 1]])
        best[:, g], best3[:, g] = part[:, 0], part[:, :3].mean(axis=1)
    keywords, shown = aurora.scores(texts)
    votes, neighbours, closest = vote(vectors, space.examples, space.labels, forbid)
    behind = best - best.max(axis=1, keepdims=True)
    # No goal prior: the registry's share of goals (mostly software for schools and
    # clinics) is not the share of our users' texts, and it outvoted plain evidence.
    grounded = keywords * np.maximum(best, 0.0)  # keywords in a text about the goal
    cols = [best, best3, behind, keywords, votes, votes * closest[:, None], grounded]
    features = np.stack(cols, axis=-1)
    return features, target_scores, shown, neighbours


def sector_features(
    space: Space,
    words: KeywordMatcher,
    sector_goals: Sequence[Sequence[int]],
    vectors: Matrix,
    texts: Sequence[str],
    sdg_probability: Floats,
) -> tuple[Floats, Floats, list[list[list[str]]]]:
    """Features (texts, sectors, 6), cosines with the keyword lists, keywords found."""
    described = vectors.astype(np.float64) @ space.sector_text.T.astype(np.float64)
    listed = vectors.astype(np.float64) @ space.sector_keys.T.astype(np.float64)
    found, shown = words.scores(texts)
    link = np.zeros(listed.shape)
    for j, goals in enumerate(sector_goals):
        if goals:
            link[:, j] = sdg_probability[:, [g - 1 for g in goals]].max(axis=1)
    behind_described = described - described.max(axis=1, keepdims=True)
    behind_listed = listed - listed.max(axis=1, keepdims=True)
    features = np.stack([described, behind_described, listed, behind_listed, found, link], axis=-1)
    return features, listed, shown


def vote(
    vectors: Matrix, examples: Matrix, labels: Floats, forbid: Flags | None = None
) -> tuple[Floats, list[list[int]], Floats]:
    """Each text's similarity-weighted label shares among its nearest examples, those
    examples, and the cosine of the closest one."""
    similarity = vectors.astype(np.float64) @ examples.T.astype(np.float64)
    if forbid is not None:
        similarity[forbid] = -np.inf
    order = np.argsort(-similarity, axis=1, kind="stable")[:, :NEIGHBOURS]
    near = np.take_along_axis(similarity, order, axis=1)
    finite = np.isfinite(near)
    lead = np.where(finite[:, :1], near[:, :1], 0.0)
    weights = np.where(finite, np.exp((np.where(finite, near, lead) - lead) / TEMPERATURE), 0.0)
    votes = np.einsum("nk,nkl->nl", weights, labels[order])
    votes /= np.maximum(weights.sum(axis=1, keepdims=True), 1e-12)
    closest = np.where(finite[:, 0], near[:, 0], 0.0)
    return votes, [row[ok].tolist() for row, ok in zip(order, finite, strict=True)], closest


def encode_cached(encoder: Encoder, texts: Sequence[str], cache: Path | None) -> Matrix:
    """Encode texts, reusing and adding to the vectors kept in the folder ``cache``.

    The file ``tagging-vectors-<model>.npz`` keeps every text's vector by the sha1 of
    the text, for as long as the folder lives (delete it to start afresh); it is
    replaced atomically, so a concurrent reader sees the old or the new file.
    """
    if cache is None or not texts:
        return encoder.encode(texts)
    path = cache / f"tagging-vectors-{re.sub(r'[^A-Za-z0-9.-]+', '_', encoder.name)}.npz"
    keys = [hashlib.sha1(t.encode("utf-8"), usedforsecurity=False).hexdigest() for t in texts]
    known: dict[str, Matrix] = {}
    try:
        with np.load(path, allow_pickle=False) as saved:
            if saved["vectors"].shape[1:] == (encoder.dimension,):
                known = dict(zip(saved["keys"].tolist(), saved["vectors"], strict=True))
    except (OSError, ValueError, KeyError):
        pass  # no cache yet, or a broken one: only a slower start
    todo = {key: text for key, text in zip(keys, texts, strict=True) if key not in known}
    if todo:
        known.update(zip(todo, encoder.encode(list(todo.values())), strict=True))
        cache.mkdir(parents=True, exist_ok=True)
        staging = cache / f".{path.name}.{os.getpid()}"
        with staging.open("wb") as handle:
            np.savez(handle, keys=np.array(list(known)), vectors=np.stack(list(known.values())))
        os.replace(staging, path)
    return np.stack([known[key] for key in keys]).astype(np.float32)
