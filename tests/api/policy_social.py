"""Who may call the routes of introductions, blocks, reports and join requests (``rule.py``).

Asking and answering are between people: they need an account with a profile (the
member's, person:mem); the editor's and the admin's accounts have none yet, and are told
to write it first (403). Anyone signed in may report what they can see; admins read the
reports. Join requests are answered by coordinators and admins; the fixture has no
coordinator, so asking is refused with the reason, and no request id exists to answer.
"""

from __future__ import annotations

from tests.api.rule import Rule

NO_SUCH = "0123456789abcdef"
ASK = {"to": "person:pub", "message": "We both care about mentoring; could we talk?"}
JOIN = {"target": "initiative:green-lots", "message": "I can help on Saturdays."}

# POST and DELETE routes here that write nothing to the graph (their tables live beside it);
# accepting a join request writes an edge, so it is not listed.
READS_BY_POST: set[str] = {
    "/v1/introductions",
    f"/v1/introductions/{NO_SUCH}/accept",
    f"/v1/introductions/{NO_SUCH}/decline",
    "/v1/blocks",
    "/v1/blocks/person:pub",
    "/v1/reports",
    f"/v1/admin/reports/{NO_SUCH}/resolve",
    "/v1/join-requests",
    f"/v1/join-requests/{NO_SUCH}/decline",
}

# fmt: off
POLICY: list[Rule] = [
    #    anon mem  edit admin  request
    Rule(401, 201, 403, 403, "POST /v1/introductions", ASK),
    Rule(401, 200, 403, 403, "GET /v1/introductions"),
    Rule(401, 404, 403, 403, f"POST /v1/introductions/{NO_SUCH}/accept"),
    Rule(401, 404, 403, 403, f"POST /v1/introductions/{NO_SUCH}/decline"),
    # A hidden person is missing, as anywhere else.
    Rule(401, 404, 403, 403, "POST /v1/introductions", ASK | {"to": "person:priv"}),
    Rule(401, 201, 403, 403, "POST /v1/blocks", {"person": "person:pub"}),
    Rule(401, 404, 403, 403, "DELETE /v1/blocks/person:pub"),
    Rule(401, 200, 403, 403, "GET /v1/blocks"),
    Rule(401, 201, 201, 201, "POST /v1/reports", {"node": "initiative:hub", "reason": "Spam."}),
    Rule(401, 403, 403, 200, "GET /v1/admin/reports"),
    Rule(401, 403, 403, 404, f"POST /v1/admin/reports/{NO_SUCH}/resolve"),
    Rule(401, 422, 403, 403, "POST /v1/join-requests", JOIN),
    Rule(401, 200, 200, 200, "GET /v1/join-requests"),
    Rule(401, 404, 404, 404, f"POST /v1/join-requests/{NO_SUCH}/accept"),
    Rule(401, 404, 404, 404, f"POST /v1/join-requests/{NO_SUCH}/decline"),
]
# fmt: on
