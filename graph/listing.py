"""Filtered, paged listings of nodes, evaluated in SQL so that totals and pages agree.

Who may see what is decided by :mod:`graph.visibility` and passed in as a
:class:`~graph.visibility.ListingAudience`; this module only writes it as SQL conditions,
applied before paging.
"""

from __future__ import annotations

import functools
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, and_, case, exists, false, func, literal, or_, select, union

from graph import schema
from graph.codec import node_from_row
from graph.ids import kind_of
from graph.model import Node
from graph.store import (
    LOCALITY_RANK,
    WRITES,
    Store,
    last_seq_read,
    prefix_range,
    split_edge_ref,
)
from graph.visibility import PLACING_EDGES, ListingAudience

if TYPE_CHECKING:
    from graph.feed import ChangeBatch


@dataclass(frozen=True, slots=True)
class NodeFilter:
    """Filters of a listing; every one given must hold."""

    kinds: frozenset[str] | None = None
    sector: str | None = None
    sdg: str | None = None
    community: str | None = None
    country: str | None = None
    name_prefix: str | None = None


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Node]
    total: int
    next_after: str | None
    total_is_estimate: bool = False
    """Whether ``total`` is a recent count rather than one made at this version."""


EXACT_UP_TO = 10_000
"""A total is counted with a scan that stops past this; a larger one, in full."""
ESTIMATE_ABOVE = 1_000
"""A total above this, counted less than :data:`ESTIMATE_FOR` seconds ago, is reused
while the store changes, said to be an estimate. Recounting a hundred thousand rows on
every request is what made large listings slow; under a write a second, recounting each
sector's people (7,000 of them at 100,000 people, 20 to 35 ms a count) after every write
took most of both workers' time; and "about 7,000" is as useful as the exact figure."""
ESTIMATE_FOR = 60.0
"""Seconds a count above :data:`ESTIMATE_ABOVE` may be reused as an estimate."""
_REMEMBERED = 2_048
ROW_COST = 8
"""A row checked for its links costs about this many entries of a set of links (both
measured at 100,000 people: 7 us a row passed over, 0.9 us an edge collected)."""
PAGES_HOLD = 4_096
"""Nodes held in the pages remembered per store, each page counting one more (an empty
page is held too), the least recently asked for going first (a node of a page took 3.3
KiB at 100,000 people: 13 MiB in all). A page is remembered with the version of the
store it was read at and given again while no change since can alter it. The first pages
of the filters people browse (a country's people, a sector's, a goal's initiatives) are
asked for again and again; reading one again cost 2 to 4 ms of SQL and decoding at
100,000 people."""
SIZES_FOR = 60.0
"""Seconds the sizes that choose how links are read (:func:`_row_by_row`) are reused:
they only weigh two ways of reading the same rows, so a minute-old figure is as good."""


@dataclass(frozen=True, slots=True)
class _Count:
    total: int
    seq: int
    at: float


class _Totals:
    """Recent counts of one store, per filter and audience (never shared between
    audiences, so a count is only ever reused for a viewer allowed the same rows)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[tuple[NodeFilter, ListingAudience], _Count] = {}

    def get(self, key: tuple[NodeFilter, ListingAudience]) -> _Count | None:
        with self.lock:
            return self.counts.get(key)

    def put(self, key: tuple[NodeFilter, ListingAudience], count: _Count) -> None:
        self.put_unless_later(key, count, always=True)

    def put_unless_later(
        self, key: tuple[NodeFilter, ListingAudience], count: _Count, *, always: bool = False
    ) -> bool:
        """Hold ``count`` unless a later one (by version, then time) is held; whether it
        was put (``always``: whatever is held)."""
        with self.lock:
            known = self.counts.pop(key, None)
            if not always and known is not None and (known.seq, known.at) >= (count.seq, count.at):
                self.counts[key] = known
                return False
            self.counts[key] = count
            while len(self.counts) > _REMEMBERED:
                self.counts.pop(next(iter(self.counts)))
            return True


PageKey = tuple[NodeFilter, ListingAudience, int, int, str | None]
"""A page asked for: filter, audience, limit, offset, after."""


class _Pages:
    """Recent pages of one store, per filter, audience and position, each with the
    version it was read at (never shared between audiences, as :class:`_Totals`)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pages: OrderedDict[PageKey, tuple[int, Page]] = OrderedDict()
        self.held = 0  # nodes in the pages held, and one for each page

    def get(self, key: PageKey) -> tuple[int, Page] | None:
        """The page held for ``key`` with the version it was read at, if one is held."""
        with self.lock:
            found = self.pages.get(key)
            if found is not None:
                self.pages.move_to_end(key)
            return found

    def put(self, key: PageKey, seq: int, page: Page) -> None:
        """Hold ``page``, read at ``seq``, unless one read at a later version is held."""
        with self.lock:
            known = self.pages.get(key)
            if (known is not None and known[0] > seq) or _cost(page) > PAGES_HOLD:
                return
            if known is not None:
                self.held -= _cost(known[1])
            self.pages[key] = (seq, page)
            self.pages.move_to_end(key)
            self.held += _cost(page)
            while self.held > PAGES_HOLD:
                self.held -= _cost(self.pages.popitem(last=False)[1][1])

    def clear(self) -> None:
        with self.lock:
            self.pages.clear()
            self.held = 0


def _cost(page: Page) -> int:
    """What a page held counts towards :data:`PAGES_HOLD`."""
    return len(page.items) + 1


_TOTALS: weakref.WeakKeyDictionary[Store, _Totals] = weakref.WeakKeyDictionary()
_PAGES: weakref.WeakKeyDictionary[Store, _Pages] = weakref.WeakKeyDictionary()
_TOTALS_LOCK = threading.Lock()


def _of_store(registry: weakref.WeakKeyDictionary[Store, Any], store: Store, make: Any) -> Any:
    """What ``registry`` holds for ``store``, made by ``make()`` the first time."""
    with _TOTALS_LOCK:
        found = registry.get(store)
        if found is None:
            found = registry[store] = make()
        return found


def _totals(store: Store) -> _Totals:
    found: _Totals = _of_store(_TOTALS, store, _Totals)
    return found


class _Sizes:
    """Recent sizes of one store (nodes per kind, edges at a sector or goal), to choose
    how a filter's links are read; never shown to anyone."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sizes: dict[Any, tuple[float, Any]] = {}

    def get(self, key: Any, measure: Any) -> Any:
        now = time.monotonic()
        with self.lock:
            found = self.sizes.get(key)
        if found is not None and now - found[0] < SIZES_FOR:
            return found[1]
        value = measure()
        with self.lock:
            self.sizes[key] = (now, value)
            while len(self.sizes) > _REMEMBERED:
                self.sizes.pop(next(iter(self.sizes)))
        return value


_SIZES: weakref.WeakKeyDictionary[Store, _Sizes] = weakref.WeakKeyDictionary()


def _sizes(store: Store) -> _Sizes:
    found: _Sizes = _of_store(_SIZES, store, _Sizes)
    return found


class HeldPages:
    """A projection of the change feed (:mod:`graph.feed`) that drops every page held of
    a store when an erasure comes: no page is given after it anyway (it is a change to
    every listing), but the erased person's record is not to stay in memory until their
    page is asked for again."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def prepare(self, batch: ChangeBatch) -> None:
        return None

    def apply(self, batch: ChangeBatch, prepared: None) -> None:
        if batch.erasures:
            forget_pages(self.store)


def forget_pages(store: Store) -> None:
    """Drop every page held of ``store``."""
    with _TOTALS_LOCK:
        pages = _PAGES.get(store)
    if pages is not None:
        pages.clear()


CHANGES_READ = 64
"""Changes read at most to tell whether a page or a count is still what it was; past
this many since it was read, it is read again."""


def unchanged_since(
    conn: Any, flt: NodeFilter, since: int, seq: int, shown: frozenset[str] = frozenset()
) -> bool:
    """Whether no change after version ``since`` up to ``seq`` can alter which rows
    ``flt`` lists and counts, for any audience, nor what it shows of the rows in
    ``shown`` (a page's; none for a total): :func:`alters`."""
    changes = changes_between(conn, since, seq)
    return changes is not None and not any(alters(flt, *c, shown=shown) for c in changes)


def changes_between(conn: Any, since: int, seq: int) -> list[tuple[str, str, str]] | None:
    """The (op, entity, ref) of each change after version ``since`` up to ``seq``; None
    when there are more than :data:`CHANGES_READ` or some are gone from the log (an
    erasure removes those naming the person): then anything may have changed."""
    if since >= seq or seq - since > CHANGES_READ:
        return [] if since == seq else None
    c = schema.changes
    query = select(c.c.op, c.c.entity, c.c.ref).where(c.c.seq > since, c.c.seq <= seq)
    changes = [(r.op, r.entity, r.ref) for r in conn.execute(query)]
    return changes if len(changes) == seq - since else None


def alters(
    flt: NodeFilter, op: str, entity: str, ref: str, *, shown: frozenset[str] = frozenset()
) -> bool:
    """Whether one change can alter which rows ``flt`` lists or counts, or what it shows
    of those in ``shown``.

    Which rows a filter lists are read from the columns of the nodes of its kinds (their
    visibility, country, name, place) and, for a sector or a goal, from the edges at it
    or at a goal's target; what it shows of a row, from the row's fields too. So a node
    written of another kind, or an edge elsewhere, changes nothing of it, and a node
    whose fields alone changed (``edit``: the columns as they were,
    :data:`graph.store.FILTER_COLUMNS`) changes only what is shown of it. Everything
    else is taken to change it: a node deleted (its edges go with it), an erasure (it
    names no one), and any change for a filter on a community (whose people are placed
    by the localities of both ends of their links).
    """
    if flt.community is not None or (op not in WRITES and op != "delete"):
        return True
    try:
        if entity == "node":
            if op == "edit":
                return ref in shown
            return op == "delete" or flt.kinds is None or kind_of(ref) in flt.kinds
        source, _, target = split_edge_ref(ref)
        ends = (source, target)
        if flt.sector is not None and flt.sector in ends:
            return True
        if flt.sdg is not None:
            return flt.sdg in ends or any(kind_of(end) == "sdg_target" for end in ends)
        return False
    except ValueError:  # a reference this code cannot read: taken to change everything
        return True


def _topics(flt: NodeFilter) -> list[tuple[str, str]]:
    """The sector and goal of a filter, as ("sector" | "sdg", id)."""
    named = [("sector", flt.sector), ("sdg", flt.sdg)]
    return [(kind, topic) for kind, topic in named if topic is not None]


def _row_by_row(conn: Any, store: Store, flt: NodeFilter, share: float) -> bool:
    """Whether a filter's links to a sector or goal are best checked row by row, for a
    read that needs ``share`` (0 to 1) of the rows of its kinds in id order, rather
    than read as the set of every node linked to them.

    Row by row costs two probes of the edges for each row of the kinds passed over
    (:data:`ROW_COST` times an entry of the set); the set, one entry for each edge at
    the sector or goal, whatever kind of node is at its other end: a goal has a few
    hundred initiatives and over ten thousand people's interests, so a page of a goal's
    initiatives is found faster by passing over initiatives than by first collecting
    every node linked to it.
    """
    topics = _topics(flt)
    if not topics:
        return False
    sizes = _sizes(store)
    per_kind: dict[str, int] = sizes.get("kinds", lambda: _rows_per_kind(conn))
    kinds = flt.kinds if flt.kinds is not None else per_kind.keys()
    passed = share * sum(per_kind.get(kind, 0) for kind in kinds)
    linked: int = sum(sizes.get(topic, lambda t=topic: _edges_at(conn, *t)) for topic in topics)
    return passed * ROW_COST * len(topics) < linked


def _rows_per_kind(conn: Any) -> dict[str, int]:
    n = schema.nodes
    query = select(n.c.kind, func.count()).group_by(n.c.kind)
    return {kind: int(count) for kind, count in conn.execute(query)}


def _edges_at(conn: Any, kind: str, topic: str) -> int:
    """Edges at a sector or at a goal and its targets (either direction)."""
    e = schema.edges
    targets: Any = [topic]
    if kind == "sdg":
        parts = select(e.c.source).where(e.c.kind == "part_of", e.c.target == topic)
        targets = union(select(literal(topic)), parts)
    into = select(func.count()).select_from(e).where(e.c.target.in_(targets))
    out = select(func.count()).select_from(e).where(e.c.source.in_(targets))
    return int(conn.execute(into).scalar_one()) + int(conn.execute(out).scalar_one())


def _links_to(node: Any, targets: Any) -> Any:
    """The condition that the row ``node`` of ``nodes`` is joined by an edge (either
    direction) to any of ``targets``: two probes of an edge index per row, so a page in
    id order stops after its last row instead of first collecting every linked id (tens
    of thousands for a sector)."""
    e = schema.edges
    # ``target || ''``: not the index on ``target``, which SQLite's planner would pick,
    # thinking a target has few edges; a sector has tens of thousands.
    return or_(
        exists().where(e.c.source == node.c.id, (e.c.target + literal("")).in_(targets)),
        exists().where(e.c.target == node.c.id, e.c.source.in_(targets)),
    )


def _linked_to(targets: Any) -> Any:
    """Ids of nodes joined by an edge (either direction) to any of ``targets``."""
    e = schema.edges
    return union(
        select(e.c.source.label("id")).where(e.c.target.in_(targets)),
        select(e.c.target.label("id")).where(e.c.source.in_(targets)),
    )


def ranked(column: Any) -> Any:
    """A locality column as its rank (exact 0 ... country 3), to compare precisions in SQL
    as :func:`graph.visibility.places_no_finer` does."""
    return case(LOCALITY_RANK, value=column, else_=0)


def _placed_within(communities: Any, own: frozenset[str]) -> Any:
    """Like :func:`_linked_to`, but a person only through a community no finer than they
    share (``own``: people whose every link counts, as edge lists show them their own)."""
    e, person, place = schema.edges, schema.nodes.alias("person"), schema.nodes.alias("place")
    within = or_(
        person.c.kind != "person",
        person.c.locality.is_(None),
        ranked(place.c.locality) >= ranked(person.c.locality),
        *([person.c.id.in_(sorted(own))] if own else []),
    )
    people = (
        select(e.c.source.label("id"))
        .join(person, person.c.id == e.c.source)
        .join(place, place.c.id == e.c.target)
        .where(e.c.target.in_(communities), within)
    )
    return union(people, select(e.c.target.label("id")).where(e.c.source.in_(communities)))


def filter_conditions(
    flt: NodeFilter, audience: ListingAudience, *, per_row: bool = False
) -> list[Any]:
    """The SQL conditions on ``nodes`` of a filter for an audience (the map uses them too).

    ``per_row``: links to a sector or goal checked row by row (a page of a filter with
    many matches, which stops at its last row; or a filter on kinds with few rows)
    rather than as the set of every linked id (:func:`_row_by_row` chooses).

    Built once per filter, audience and form (the last :data:`_REMEMBERED`): building
    the expressions cost more than running the statement of a page.
    """
    return list(_conditions(flt, audience, per_row))


@functools.lru_cache(maxsize=_REMEMBERED)
def _conditions(flt: NodeFilter, audience: ListingAudience, per_row: bool) -> tuple[Any, ...]:
    n, e = schema.nodes, schema.edges
    found: list[Any] = []
    if flt.kinds is not None:
        found.append(n.c.kind.in_(sorted(flt.kinds)))
    linked = _links_to if per_row else lambda node, targets: node.c.id.in_(_linked_to(targets))
    if flt.sector is not None:
        found.append(linked(n, [flt.sector]))
    if flt.sdg is not None:
        # A goal also matches what addresses or cares about one of its targets.
        targets = select(e.c.source).where(e.c.kind == "part_of", e.c.target == flt.sdg)
        found.append(linked(n, union(select(literal(flt.sdg)), targets)))
    if flt.community is not None:
        # A community also covers the communities that are part of it (one level).
        parts = select(e.c.source).where(e.c.kind == "part_of", e.c.target == flt.community)
        communities = union(select(literal(flt.community)), parts)
        linked = _linked_to(communities)
        if audience.respect_locality:
            linked = _placed_within(communities, audience.own)
        found.append(n.c.id.in_(linked))
    if flt.country is not None:
        found.append(n.c.country == flt.country.upper())
    if flt.name_prefix:
        bounds = prefix_range(flt.name_prefix)
        if bounds is not None:
            found.append(and_(n.c.name_key >= bounds[0], n.c.name_key < bounds[1]))
    visible = _visible(n, audience)
    if visible is not None:
        found.append(visible)
    return tuple(found)


def _visible(table: Any, audience: ListingAudience) -> Any:
    """The condition for a row of ``nodes`` (or an alias) the audience may list (None: all)."""
    visible: list[Any] = []
    if audience.visibilities is not None:
        visible.append(table.c.visibility.in_(sorted(audience.visibilities)))
    if not audience.include_undiscoverable:
        visible.append(table.c.discoverable.is_(True))
    if not visible:
        return None
    allowed = and_(*visible)
    return or_(allowed, table.c.id.in_(sorted(audience.own))) if audience.own else allowed


def list_nodes(
    store: Store,
    flt: NodeFilter,
    audience: ListingAudience,
    *,
    limit: int = 50,
    offset: int = 0,
    after: str | None = None,
) -> Page:
    """The nodes passing ``flt`` that ``audience`` may see, by id, with the total count.

    Page with ``offset`` or with ``after`` (the last id of the previous page). The total
    is exact up to :data:`ESTIMATE_ABOVE`; beyond it, while the store changes, it may be
    a count made up to :data:`ESTIMATE_FOR` seconds ago, and the page says so.

    A page read with an exact total is remembered with the store's version (the last
    asked for, up to :data:`PAGES_HOLD` nodes) and given again, the same object, while no
    change since can alter it (:func:`unchanged_since`; every write adds a change to the
    log, so a page is never answered after one that could). Callers must not change it.
    """
    n = schema.nodes
    key: PageKey = (flt, audience, limit, offset, after)
    pages: _Pages = _of_store(_PAGES, store, _Pages)
    with store.engine.connect() as conn:
        seq = last_seq_read(conn)
        held = pages.get(key)
        if held is not None and unchanged_since(
            conn, flt, held[0], seq, frozenset(node.id for node in held[1].items)
        ):
            if held[0] != seq:
                pages.put(key, seq, held[1])
            return held[1]
        total, estimate = _shared_total(conn, store, flt, audience, seq)
        # Few matches: a page read row by row in id order would pass over most nodes of
        # the kind to find them; many: row by row stops at the page's last row.
        share = min(1.0, (offset + limit + 1) / total) if total else 1.0
        per_row = _row_by_row(conn, store, flt, share)
        conditions = filter_conditions(flt, audience, per_row=per_row)
        # The page's ids first, from the indexes alone (they hold what the filters
        # test), then only their rows: not the row of every match before the sort.
        ids = select(n.c.id).where(*conditions)
        if after is not None:
            ids = ids.where(n.c.id > after)
        chosen = ids.order_by(n.c.id).offset(offset).limit(limit + 1).subquery()
        query = (
            select(n.c.id, n.c.kind, n.c.name, n.c.data)
            .join_from(n, chosen, n.c.id == chosen.c.id)
            .order_by(n.c.id)
        )
        rows = conn.execute(query).all()
    items = [node_from_row(r.id, r.kind, r.name, r.data) for r in rows[:limit]]
    next_after = items[-1].id if len(rows) > limit and items else None
    page = Page(items, total, next_after, estimate)
    if not estimate:  # (an estimate is counted again once it is too old)
        pages.put(key, seq, page)
    return page


def _shared_total(
    conn: Any, store: Store, flt: NodeFilter, audience: ListingAudience, seq: int
) -> tuple[int, bool]:
    """The total of a listing, and whether it is an estimate.

    A viewer's own profile is listed to them whatever its visibility, so each member
    with a profile is an audience of their own. Their total is counted as that of the
    audience without it (counted once for every member, and by the warmer) plus their
    own profile where it passes the filter but not the audience's rule (two lookups by
    id). Not for a filter on a community: whose links place someone there depends on
    who is asking.
    """
    if audience.own and flt.community is None:
        base = replace(audience, own=frozenset())
        total, estimate = _shared_total(conn, store, flt, base, seq)
        # The two audiences list the same rows but for the viewer's own.
        for sign, which in ((1, audience), (-1, base)):
            own = (
                select(func.count())
                .select_from(schema.nodes)
                .where(*filter_conditions(flt, which, per_row=True))
                .where(schema.nodes.c.id.in_(sorted(audience.own)))
            )
            total += sign * int(conn.execute(own).scalar_one())
        return total, estimate
    counting = filter_conditions(flt, audience, per_row=_row_by_row(conn, store, flt, 1.0))
    return _total(conn, store, (flt, audience), counting, seq)


def _total(
    conn: Any,
    store: Store,
    key: tuple[NodeFilter, ListingAudience],
    conditions: list[Any],
    seq: int,
) -> tuple[int, bool]:
    """The number of rows passing ``conditions`` at version ``seq``, and whether it is an
    estimate.

    A count no change since can alter is reused as it is; a recent one above
    :data:`ESTIMATE_ABOVE` is reused as an estimate; otherwise the rows are counted with a
    scan that stops past :data:`EXACT_UP_TO`, and in full beyond, and the count is
    remembered.
    """
    n, totals = schema.nodes, _totals(store)
    known, now = totals.get(key), time.monotonic()
    if known is not None and unchanged_since(conn, key[0], known.seq, seq):
        if known.seq != seq:
            totals.put_unless_later(key, replace(known, seq=seq))
        return known.total, False
    if known is not None and now - known.at < ESTIMATE_FOR and known.total > ESTIMATE_ABOVE:
        return known.total, True
    if known is None or known.total <= 2 * EXACT_UP_TO:  # else surely large: count it all
        bounded = select(literal(1)).select_from(n).where(*conditions).limit(EXACT_UP_TO + 1)
        query = select(func.count()).select_from(bounded.subquery())
        counted = int(conn.execute(query).scalar_one())
        if counted <= EXACT_UP_TO:
            totals.put_unless_later(key, _Count(counted, seq, now))
            return counted, False
    everything: Select[Any] = select(func.count()).select_from(n).where(*conditions)
    total = int(conn.execute(everything).scalar_one())
    totals.put_unless_later(key, _Count(total, seq, now))
    return total, False


Counted = dict[tuple[NodeFilter, ListingAudience], _Count]
"""Counts of listings by filter and audience, as one process hands them to another."""


def warm_totals(
    store: Store, filters: Iterable[NodeFilter], audiences: Iterable[ListingAudience]
) -> Counted:
    """Count each filter for each audience now, as a listing does, so that no request pays
    for a first count (a sector's people at 100,000 people: 20 to 50 ms); the counts held
    after it, for other processes (:func:`adopt_totals`).

    A count made at the store's current version, or a large one still fresh enough to
    answer as an estimate, costs no query (:func:`_total`).
    """
    totals = _totals(store)
    held: Counted = {}
    for flt in filters:
        for audience in audiences:
            with store.engine.connect() as conn:
                _shared_total(conn, store, flt, audience, last_seq_read(conn))
            found = totals.get((flt, audience))
            if found is not None:
                held[(flt, audience)] = found
    return held


def adopt_totals(store: Store, counted: Counted) -> int:
    """Hold counts another process of this machine made of this store (:func:`warm_totals`)
    as if counted here, each unless a later one is held; how many were taken. A count
    keeps the version and the time it was made (the machine's monotonic clock, which
    every process reads alike), so it is reused exactly as one made here would be."""
    totals = _totals(store)
    return sum(totals.put_unless_later(key, count) for key, count in counted.items())


def count_nodes(store: Store, audience: ListingAudience) -> dict[str, int]:
    """Nodes per kind, counting only those the audience may list."""
    n = schema.nodes
    query = select(n.c.kind, func.count()).group_by(n.c.kind)
    visible = _visible(n, audience)
    if visible is not None:
        query = query.where(visible)
    with store.engine.connect() as conn:
        return dict(sorted((kind, int(count)) for kind, count in conn.execute(query)))


def count_edges(store: Store, audience: ListingAudience) -> dict[str, int]:
    """Edges per kind, counting only those the audience may list: both ends visible to it
    in listings and, with ``respect_locality``, no link placing a person more precisely
    than they share (as edge lists show them)."""
    e = schema.edges
    query = select(e.c.kind, func.count()).group_by(e.c.kind)
    source, target = schema.nodes.alias("source"), schema.nodes.alias("target")
    ends = (_visible(source, audience), _visible(target, audience))
    conditions = [c for c in ends if c is not None]
    if audience.respect_locality:
        finer = and_(
            e.c.kind.in_(sorted(PLACING_EDGES)),
            source.c.kind == "person",
            target.c.kind == "community",
            source.c.locality.is_not(None),
            target.c.locality.is_not(None),
            ranked(target.c.locality) < ranked(source.c.locality),
        )
        own = source.c.id.in_(sorted(audience.own)) if audience.own else false()
        conditions.append(or_(~finer, own))
    if conditions:
        query = query.select_from(
            e.join(source, source.c.id == e.c.source).join(target, target.c.id == e.c.target)
        ).where(*conditions)
    with store.engine.connect() as conn:
        return dict(sorted((kind, int(count)) for kind, count in conn.execute(query)))
