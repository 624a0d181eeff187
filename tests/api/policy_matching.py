"""Who may call the matching routes (see ``rule.py``).

Anyone may ask for the recommendations of a person or initiative they may find; a
hidden profile is missing (404) to those who may not see it, exactly as
``GET /v1/nodes/{id}/similar``. Recommendations from a person who is not discoverable
(person:shy) are missing too, to all but themselves and admins: a direct link shows
their record, not what surrounds them. What comes back is filtered to recommendable
people for every role (``tests/api/test_matching_privacy.py``).
"""

from __future__ import annotations

from tests.api.rule import Rule

READS_BY_POST: set[str] = set()  # POST routes here that write nothing

# fmt: off
POLICY: list[Rule] = [
    #    anon mem  edit admin  request
    Rule(200, 200, 200, 200, "GET /v1/people/person:pub/collaborators"),
    Rule(200, 200, 200, 200, "GET /v1/people/person:pub/collaborators?scope=local&radius_km=50"),
    Rule(404, 404, 404, 200, "GET /v1/people/person:shy/collaborators"),
    Rule(404, 404, 404, 200, "GET /v1/people/person:shy/initiatives"),
    Rule(404, 200, 200, 200, "GET /v1/people/person:mem/collaborators?mode=complementary"),
    Rule(404, 404, 404, 200, "GET /v1/people/person:priv/collaborators"),
    Rule(200, 200, 200, 200, "GET /v1/people/person:pub/initiatives"),
    Rule(404, 200, 200, 200, "GET /v1/people/person:mem/initiatives"),
    Rule(404, 404, 404, 200, "GET /v1/people/person:priv/initiatives"),
    Rule(200, 200, 200, 200, "GET /v1/initiatives/initiative:hub/people?mode=bridging"),
]
# fmt: on
