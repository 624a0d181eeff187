"""The domain: node and edge models, the store, the networkx view, queries and data loading."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path


@functools.cache
def code_stamp() -> str:
    """A digest of this package's source (its migrations included), which a state saved
    for the next start carries: the graph view's attributes and the profiles' phrase keys
    are what the code of its time computed, so another version of the code does not read
    them (it builds them from the store again, once)."""
    digest = hashlib.sha256()
    root = Path(__file__).parent
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


code_stamp()  # at import: the code this process runs, not what the files hold later
