"""The NeurIPS co-authorship files as Cocreate nodes and edges (``evaluate_coauthor.py``).

Each author is a person (a name and nothing else), each paper an initiative whose text is
its title, each person ``works_on`` their papers and is ``member_of`` the institution of
each affiliation they gave; every edge is dated by its paper.
"""

from __future__ import annotations

import csv
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from graph.edges import Edge
from graph.ids import slugify
from graph.model import Initiative, Node, Organization, Person

_NAMED = re.compile(
    r"universi|institut|college|school|[ée]cole|inria|cnrs|\blabs?\b|laborator|research|"
    r"\binc\b|corporation|google|microsoft|facebook|\bibm\b|deepmind|amazon|\bnec\b|riken|"
    r"max planck|\beth\b|epfl|technion|polytechn|politecnico",
    re.IGNORECASE,
)


def institutions(affiliation: str) -> list[str]:
    """The institutions named by an affiliation string, one per ``+``-separated part: of
    its comma-separated pieces without digits (street addresses), the last that reads as
    an institution ("Dept. of CS, Carnegie Mellon University" -> "Carnegie Mellon
    University"), else the first piece."""
    found: list[str] = []
    for part in affiliation.split("+"):
        pieces = [p.strip() for p in part.split(",") if p.strip()]
        pieces = [p for p in pieces if not re.search(r"\d", p)]
        if not pieces:
            continue
        named = [p for p in pieces if _NAMED.search(p)]
        name = _clean(named[-1] if named else pieces[0])
        if name and name not in found:
            found.append(name)
    return found


def _clean(text: str) -> str:
    """One line, without control characters (a few affiliations hold C1 codes)."""
    return " ".join("".join(c for c in text if unicodedata.category(c)[0] != "C").split())


def _id(kind: str, name: str) -> str:
    digest = hashlib.sha1(name.casefold().encode("utf-8"), usedforsecurity=False).hexdigest()
    return f"{kind}:{slugify(name, max_length=60)}-{digest[:6]}"


@dataclass
class Network:
    """Every person, paper and organisation, and the dated edges between them."""

    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    year: dict[str, int] = field(default_factory=dict)  # paper id -> year
    authors: dict[str, list[str]] = field(default_factory=dict)  # paper id -> person ids


def load_network(folder: Path) -> Network:
    """The NeurIPS files as Cocreate nodes and edges (each edge dated by its paper)."""
    network = Network()
    with (folder / "papers.csv").open(encoding="utf-8", newline="") as stream:
        for row in csv.DictReader(stream):
            paper = f"initiative:paper-{slugify(row['paper_id'])}"
            network.year[paper] = int(row["year"])
            network.nodes[paper] = Initiative(
                id=paper, name=_clean(row["title"])[:300] or "untitled",
                provenance="neurips", active=True,
            )  # fmt: skip
    with (folder / "authorships.csv").open(encoding="utf-8", newline="") as stream:
        rows = sorted(csv.DictReader(stream), key=lambda r: (r["paper_id"], int(r["position"])))
    seen: set[tuple[str, str, str]] = set()
    for row in rows:
        paper = f"initiative:paper-{slugify(row['paper_id'])}"
        name = _clean(row["author"])
        if paper not in network.nodes or not name:
            continue
        year = network.year[paper]
        since = date(year, 1, 1)
        person = _id("person", name)
        network.nodes.setdefault(person, Person(id=person, name=name[:300], provenance="neurips"))
        network.authors.setdefault(paper, [])
        if person not in network.authors[paper]:
            network.authors[paper].append(person)
            network.edges.append(Edge(kind="works_on", source=person, target=paper, since=since))
        for institution in institutions(row["affiliation"]):
            org = _id("organization", institution)
            network.nodes.setdefault(org, Organization(id=org, name=institution[:300],
                                                       provenance="neurips"))  # fmt: skip
            key = (person, org, str(year))
            if key not in seen:
                seen.add(key)
                network.edges.append(Edge(kind="member_of", source=person, target=org,
                                          since=since))  # fmt: skip
    return network
