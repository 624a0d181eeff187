"""Who may write what: one rule per role, checked by every write route.

Every rule here depends only on who calls and on the ids named, never on what the
store holds, so that a route can refuse (401, 403) before it looks anything up: a
caller who could never make a write learns nothing from trying it.
"""

from __future__ import annotations

from api.auth import Caller, Role
from api.errors import Forbidden, Unauthorized
from graph.ids import kind_of
from graph.model import Node

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


def may_write_edge(
    caller: Caller, source: str, kind: str, target: str, *, deleting: bool = False
) -> bool:
    """Create or delete the edge ``source -kind-> target``: editors tag content, members
    link their own profile.

    Anyone may remove a ``knows`` edge that points at their own profile: a connection
    claimed by someone else is not theirs to keep.
    """
    if caller.role is Role.admin:
        return True
    source_kind, target_kind = kind_of(source), kind_of(target)
    if caller.role is Role.editor and source_kind in CONTENT_KINDS and target_kind != "person":
        return True
    if deleting and kind == "knows" and caller.owns(target):
        return True
    if not caller.owns(source) or kind not in MEMBER_LINKS:
        return False
    targets = MEMBER_LINKS[kind]
    return targets is None or target_kind in targets


ADMIN_FIELDS: dict[str, tuple[str, ...]] = {"person": ("board_member", "fictional", "provenance")}
"""Fields of a record only admins may set, per node kind (docs/api.md, "Fields that grant
standing"): ``board_member`` seats a person on councils; ``fictional`` and ``provenance``
are the curators' statements of where a record came from, not the person's own."""


def require_fields(caller: Caller, new: Node, stored: Node | None) -> None:
    """403 naming each admin-only field a non-admin's write would change.

    ``stored`` is the record as it is (None for a new node, whose fields then count as
    their defaults). A write that leaves such a field as stored passes.
    """
    if caller.role is Role.admin:
        return
    fields = type(new).model_fields
    changed = [
        name
        for name in ADMIN_FIELDS.get(new.kind, ())
        if getattr(new, name)
        != (getattr(stored, name) if stored is not None else fields[name].get_default())
    ]
    if changed:
        reason = "set by admins only"
        raise Forbidden(
            f"a {caller.role.name} key may not change {', '.join(changed)}",
            errors=[{"field": f"body.{name}", "reason": reason} for name in changed],
        )


def require(allowed: bool, caller: Caller, what: str) -> None:
    """Raise 401 for anonymous callers and 403 for others unless ``allowed``."""
    if allowed:
        return
    if caller.role is Role.anonymous:
        raise Unauthorized(
            f"{what} needs an API key",
            errors=[{"field": "header.authorization", "reason": "an API key is needed"}],
            headers={"WWW-Authenticate": "Bearer"},
        )
    refused = f"a {caller.role.name} key may not {what}"
    raise Forbidden(refused, errors=[{"field": "header.authorization", "reason": refused}])
