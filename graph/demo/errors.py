"""Errors raised by the demo generator."""

from __future__ import annotations

from pathlib import Path

from graph.errors import GraphError


class DemoInputError(GraphError):
    """An input file of the demo generator is missing or malformed."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")
