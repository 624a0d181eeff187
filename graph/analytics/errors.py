"""Errors of the sector analytics (all of them :class:`graph.errors.GraphError`)."""

from __future__ import annotations

from graph.errors import NodeNotFound


class NotASector(NodeNotFound):
    """The id names no sector (no node at all, or a node of another kind)."""

    def __init__(self, node_id: str) -> None:
        super().__init__(node_id)
        self.args = (f"no sector with id '{node_id}'",)
