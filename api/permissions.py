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


def may_write_edge(caller: Caller, edge: Edge) -> bool:
    """Create or delete ``edge``: editors tag content, members link their own profile."""
    if caller.role is Role.admin:
        return True
    source_kind, target_kind = kind_of(edge.source), kind_of(edge.target)
    if caller.role is Role.editor and source_kind in CONTENT_KINDS and target_kind != "person":
        return True
    return caller.owns(edge.source)


def require(allowed: bool, caller: Caller, what: str) -> None:
    """Raise 401 for anonymous callers and 403 for others unless ``allowed``."""
    if allowed:
        return
    if caller.role is Role.anonymous:
        raise Unauthorized(f"{what} needs an API key", headers={"WWW-Authenticate": "Bearer"})
    raise Forbidden(f"a {caller.role.name} key may not {what}")
