"""Who may call the sector overlap, synergy, gap and council routes (see ``rule.py``).

Reads are public: each caller sees the figures of their audience (anonymous callers
the public one, keys the members' one). Proposing a council needs a member key; it
writes nothing.
"""

from __future__ import annotations

from tests.api.rule import Rule

READS_BY_POST: set[str] = {"/v1/councils/propose"}  # POST routes here that write nothing

COUNCIL = {"sector": "sector:peace", "size": 5}
WITH_PEOPLE = "with=sector:environment&kind=person"

# fmt: off
POLICY: list[Rule] = [
    #    anon mem  edit admin  request
    Rule(200, 200, 200, 200, "GET /v1/sectors/overlap"),
    Rule(200, 200, 200, 200, "GET /v1/sectors/overlap?detail=sector:peace,sector:environment"),
    Rule(200, 200, 200, 200, "GET /v1/sectors/sector:peace/synergies"),
    Rule(200, 200, 200, 200, f"GET /v1/sectors/sector:peace/synergies?{WITH_PEOPLE}"),
    Rule(200, 200, 200, 200, "GET /v1/sectors/sector:peace/bridges"),
    Rule(200, 200, 200, 200, "GET /v1/sectors/sector:peace/groups"),
    Rule(200, 200, 200, 200, "GET /v1/sectors/sector:peace/gaps"),
    Rule(200, 200, 200, 200, "GET /v1/sectors/sector:peace/council"),
    # The council assistant: members and up.
    Rule(401, 200, 200, 200, "POST /v1/councils/propose", COUNCIL),
]
# fmt: on
