"""Who may write what: one rule per role, checked by every write route."""

from __future__ import annotations

from api.auth import Caller, Role
from api.errors import Forbidden, Unauthorized
from graph.edges import Edge
from graph.ids import kind_of

CONTENT_KINDS = frozenset({"initiative", "organization", "community", "wisdom_entry", "event"})
"""What editors write: content and its tags (sectors, SDGs, places, descriptions)."""


def may_write_node(caller: Caller, node_id: str) -> bool:
    """Create, change or delete the node ``node_id``."""
    if caller.role is Role.admin:
        return True
    kind = kind_of(node_id)
    if caller.role is Role.editor and kind in CONTENT_KINDS:
        return True
    return kind == "person" and caller.owns(node_id)


MEMBER_LINKS = {
    "interested_in": None,
    "works_on": None,
    "knows": None,
    "participates_in": None,
    "located_in": None,
    "member_of": frozenset({"community", "organization"}),  # councils are appointed
}
"""The edges a member may add from their own profile (and, for some, to which kinds)."""


def may_write_edge(caller: Caller, edge: Edge, *, deleting: bool = False) -> bool:
    """Create or delete ``edge``: editors tag content, members link their own profile.

    Anyone may remove a ``knows`` edge that points at their own profile: a connection
    claimed by someone else is not theirs to keep.
    """
    if caller.role is Role.admin:
        return True
    source_kind, target_kind = kind_of(edge.source), kind_of(edge.target)
    if caller.role is Role.editor and source_kind in CONTENT_KINDS and target_kind != "person":
        return True
    if deleting and edge.kind == "knows" and caller.owns(edge.target):
        return True
    if not caller.owns(edge.source) or edge.kind not in MEMBER_LINKS:
        return False
    targets = MEMBER_LINKS[edge.kind]
    return targets is None or target_kind in targets


def require(allowed: bool, caller: Caller, what: str) -> None:
    """Raise 401 for anonymous callers and 403 for others unless ``allowed``."""
    if allowed:
        return
    if caller.role is Role.anonymous:
        raise Unauthorized(f"{what} needs an API key", headers={"WWW-Authenticate": "Bearer"})
    raise Forbidden(f"a {caller.role.name} key may not {what}")
