"""Who may call the routes of places by name (see ``rule.py``).

``GET /v1/places`` answers from the shipped gazetteer only (towns and countries), never
from the network, so it is the same for everyone. ``near=`` on search and on local
recommendations follows the rules of those routes: the seed must be findable.
"""

from __future__ import annotations

from tests.api.rule import Rule

READS_BY_POST: set[str] = set()  # no POST routes here

# fmt: off
POLICY: list[Rule] = [
    #    anon mem  edit admin  request
    Rule(200, 200, 200, 200, "GET /v1/places?q=Sacra"),
    Rule(200, 200, 200, 200, "GET /v1/search?q=near+Sacramento"),
    Rule(200, 200, 200, 200, "GET /v1/search?q=honey&near=Davis&country=United+States"),
    Rule(200, 200, 200, 200, "GET /v1/people/person:pub/collaborators?near=Sacramento"),
    Rule(404, 404, 404, 200, "GET /v1/people/person:shy/collaborators?near=Sacramento"),
]
# fmt: on
