"""Stable node ids of the form ``<kind>:<slug>``."""

from __future__ import annotations

import re
import unicodedata

NODE_KINDS: tuple[str, ...] = (
    "person",
    "initiative",
    "organization",
    "community",
    "council",
    "sector",
    "sdg",
    "sdg_target",
    "wisdom_entry",
    "event",
)

_SLUG = r"[a-z0-9](?:[a-z0-9._-]{0,118}[a-z0-9])?"
ID_PATTERN = rf"^(?:{'|'.join(NODE_KINDS)}):{_SLUG}$"
_ID_RE = re.compile(ID_PATTERN)


def id_pattern(kind: str) -> str:
    """The pattern of the ids of one kind of node (``sector:<slug>``, ...)."""
    return rf"^{kind}:{_SLUG}$"


_NON_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str, *, max_length: int = 80) -> str:
    """Lower-case ASCII slug of ``text``: letters and digits joined by ``-``.

    Accents are folded (``São Paulo`` -> ``sao-paulo``); text with no letter or
    digit at all gives ``"x"`` so that the result is always a valid slug.
    """
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = _NON_SLUG.sub("-", folded.lower()).strip("-")
    slug = slug[:max_length].rstrip("-")
    return slug or "x"


def make_id(kind: str, slug_source: str) -> str:
    """Id for a node of ``kind`` named ``slug_source``."""
    if kind not in NODE_KINDS:
        raise ValueError(f"unknown node kind '{kind}'")
    return f"{kind}:{slugify(slug_source)}"


def is_valid_id(node_id: str) -> bool:
    """Whether ``node_id`` has the form ``<kind>:<slug>`` with a known kind."""
    return bool(_ID_RE.match(node_id))


def kind_of(node_id: str) -> str:
    """The node kind encoded in ``node_id`` (the part before the first colon)."""
    kind, sep, _ = node_id.partition(":")
    if not sep or kind not in NODE_KINDS:
        raise ValueError(f"'{node_id}' is not a node id of the form <kind>:<slug>")
    return kind
