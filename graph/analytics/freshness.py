"""When a figure computed from an older version of the view may still be answered.

A figure takes seconds at 100,000 people. After a write, the engine may answer the
figure of an older version at once while the new one is computed in the background, on
two conditions:

- **bounded staleness** (:class:`Staleness`): the older version is at most
  ``max_changes`` change-log entries behind, and the first change it misses was applied
  at most ``max_seconds`` ago; past either bound the request waits for the new figure;
- **privacy**: nothing its audience could see has been withdrawn since.
  :class:`PrivacyEpochs`, a projection of the change feed, keeps one counter per
  audience and moves it whenever a person that audience could list changes their
  visibility, discoverability, place or precision, loses a link to a community, is
  deleted, or when anyone is erased (an erasure names nobody, so every audience moves).
  A figure remembers the counter of the version it was computed from; once its
  audience's counter has moved, it is never answered again. Changes that only add what
  the audience may see (a new person, someone becoming public) move nothing: an older
  figure lacks them, it reveals nothing.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graph.feed import ChangeBatch
from graph.store import Change, split_edge_ref
from graph.view import GraphView, node_attributes
from graph.visibility import VISIBLE_TO, listable

PRIVATE_FIELDS = ("visibility", "discoverable", "locality", "country", "lat", "lon")
"""What the view keeps of a person that decides what others may see of them."""
PLACING_EDGES = frozenset({"located_in", "member_of"})


@dataclass(frozen=True, slots=True)
class Staleness:
    """How far behind an answered figure may be; zero for either bound: never behind."""

    max_changes: int = 0
    max_seconds: float = 0.0

    @property
    def allowed(self) -> bool:
        return self.max_changes > 0 and self.max_seconds > 0


class PrivacyEpochs:
    """Per audience, a counter moved by every change that withdraws something from it."""

    KEPT = 4096  # batches whose time of application is remembered

    def __init__(self, view: GraphView) -> None:
        self.view = view
        self._epochs: dict[str, int] = dict.fromkeys(VISIBLE_TO, 0)
        self._applied: deque[tuple[int, float]] = deque(maxlen=self.KEPT)
        self._withdrawals: deque[tuple[int, frozenset[str]]] = deque()
        """(version made, audiences it withdrew from) of the batches since ``_known_from``."""
        self._known_from: int | None = view.seq
        """The version after which every withdrawal is recorded (this process's load, or
        the start of the record :meth:`seed` took from an earlier process)."""
        self._lock = threading.Lock()

    def epoch(self, audience: str) -> int:
        return self._epochs[audience]

    def withdrawn_between(self, audience: str, since: int, until: int) -> bool | None:
        """Whether a change after version ``since`` up to ``until`` withdrew something
        from ``audience``; None when this process cannot tell (``since`` is older than
        what it applied and remembers). For a figure another process computed at
        ``since`` (:mod:`graph.analytics.shared`): counters are this process's own."""
        if since == until:
            return False
        with self._lock:
            if self._known_from is None or since < self._known_from or since > until:
                return None
            return any(
                since < seq <= until and audience in audiences
                for seq, audiences in self._withdrawals
            )

    def behind_since(self, seq: int) -> float | None:
        """When (``time.monotonic()``) the first change after ``seq`` was applied; None if
        none was, or if it is too long ago to be remembered."""
        with self._lock:
            for position, (last, at) in enumerate(self._applied):
                if last > seq:
                    # the batches before the oldest remembered one are forgotten
                    forgotten = position == 0 and len(self._applied) == self.KEPT
                    return None if forgotten else at
        return None

    # -- kept across a restart ----------------------------------------------------------

    def record(self, seq: int) -> dict[str, Any] | None:
        """What this process knows of the withdrawals up to version ``seq`` (the view's,
        read under the feed's lock), for the processes of a later start (:meth:`seed`):
        the figures written for them are of versions before their load."""
        with self._lock:
            if self._known_from is None or seq < self._known_from:
                return None
            withdrawals = [[at, sorted(audiences)] for at, audiences in self._withdrawals
                           if at <= seq]  # fmt: skip
            return {"known_from": self._known_from, "through": seq, "withdrawals": withdrawals}

    def seed(self, record: Mapping[str, Any], seq: int, gap: Sequence[Change] = ()) -> bool:
        """At a start (nothing applied yet, the view loaded at ``seq``): take the
        withdrawals a process of an earlier start judged (:meth:`record`, read by the caller
        from the shared folder and checked to be this store's), so that a figure it wrote
        before this load may be answered here when nothing was withdrawn from its audience
        since. ``gap``: the change-log entries after the record's last version up to
        ``seq``, which nobody judged: any that could have withdrawn something (an
        erasure, a person written or deleted, a placing link removed) counts as a
        withdrawal from every audience. Changes up to ``seq`` count as applied now, for
        the time bound of :class:`Staleness`. Whether the record was taken."""
        known_from, through = int(record["known_from"]), int(record["through"])
        if known_from > seq:
            return False
        withdrawals = [(int(at), frozenset(audiences)) for at, audiences in record["withdrawals"]
                       if known_from < int(at) <= min(through, seq)]  # fmt: skip
        if through < seq:
            if not gap or gap[0].seq <= through or gap[-1].seq != seq:
                return False  # the entries between are not all there
            if any(_may_withdraw(change) for change in gap):
                withdrawals.append((seq, frozenset(VISIBLE_TO)))
        with self._lock:
            if self._applied or self._known_from != seq:
                return False  # not at a start
            self._known_from = known_from
            self._withdrawals.extend(sorted(withdrawals, key=lambda w: w[0]))
            while len(self._withdrawals) > self.KEPT:
                self._known_from = self._withdrawals.popleft()[0]
            if known_from < seq:
                self._applied.append((seq, time.monotonic()))
        return True

    # -- a projection of the change feed (graph.feed) -------------------------------

    def prepare(self, batch: ChangeBatch) -> set[str]:
        """The audiences the batch withdraws something from, judged on the view before it."""
        if batch.erasures:
            return set(VISIBLE_TO)
        nodes = self.view.graph._node
        moved: set[str] = set()
        for node_id in batch.touched_nodes:
            before = nodes.get(node_id)
            if before is None or before["kind"] != "person":
                continue
            node = batch.nodes.get(node_id)
            after = node_attributes(node) if node is not None else None
            if after is None or any(before.get(f) != after.get(f) for f in PRIVATE_FIELDS):
                moved |= _seeing(before)
        for change in batch.changes:
            if change.entity == "edge" and change.op != "upsert":
                source, kind, _ = split_edge_ref(change.ref)
                person = nodes.get(source)
                if kind in PLACING_EDGES and person is not None and person["kind"] == "person":
                    moved |= _seeing(person)
        return moved

    def apply(self, batch: ChangeBatch, prepared: set[str]) -> None:
        for audience in prepared:
            self._epochs[audience] += 1
        with self._lock:
            if self._known_from is None:
                self._known_from = batch.changes[0].seq - 1
            if prepared:
                self._withdrawals.append((batch.last_seq, frozenset(prepared)))
                if len(self._withdrawals) > self.KEPT:
                    self._known_from = self._withdrawals.popleft()[0]
            if not self._applied or batch.last_seq > self._applied[-1][0]:
                self._applied.append((batch.last_seq, time.monotonic()))


def _may_withdraw(change: Change) -> bool:
    """Whether a change-log entry could have withdrawn something from an audience, judged
    without the view before it (a person's entry names no field)."""
    if change.op == "erase":
        return True
    if change.entity == "node":
        return change.ref.partition(":")[0] == "person"
    kind = split_edge_ref(change.ref)[1]
    return change.op != "upsert" and kind in PLACING_EDGES


def _seeing(person: Mapping[str, Any]) -> set[str]:
    """The audiences that may list a person with these view attributes."""
    return {a for a in VISIBLE_TO if listable(a, person["visibility"], person["discoverable"])}
