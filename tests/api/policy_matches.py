"""Who may call my marks, my matches, my digest and the digest's unsubscribe link (see
``rule.py``).

They are the signed-in person's own: anonymous callers are asked to sign in (401) and
accounts without a profile (the editor's and the admin's here) to write it first (403).
The member (person:mem) may mark what they may find; a private or undiscoverable
person is missing (404). Marks live beside the graph, so writing one changes nothing in
the change log. The unsubscribe link needs no sign-in: a bad token is refused (422),
and its GET is only a page with a button.
"""

from __future__ import annotations

from tests.api.rule import Rule

READS_BY_POST: set[str] = {  # writes here that leave the graph's change log alone
    "/v1/me/marks/follow/initiative:hub",
    "/v1/me/marks/hide/person:pub",
    "/v1/me/marks/save/person:priv",
    "/v1/me/marks/hide/person:shy",
    "/v1/me/marks/save/wisdom_entry:circles",
    "/v1/account/unsubscribe",
}

# fmt: off
POLICY: list[Rule] = [
    #    anon mem  edit admin  request
    Rule(401, 201, 403, 403, "PUT /v1/me/marks/follow/initiative:hub"),
    Rule(401, 201, 403, 403, "PUT /v1/me/marks/hide/person:pub"),
    Rule(401, 201, 403, 403, "PUT /v1/me/marks/save/wisdom_entry:circles"),
    Rule(401, 404, 403, 403, "PUT /v1/me/marks/save/person:priv"),
    Rule(401, 404, 403, 403, "PUT /v1/me/marks/hide/person:shy"),
    Rule(401, 204, 403, 403, "DELETE /v1/me/marks/follow/initiative:hub"),
    Rule(401, 404, 403, 403, "DELETE /v1/me/marks/save/person:priv"),
    Rule(401, 200, 403, 403, "GET /v1/me/marks"),
    Rule(401, 200, 403, 403, "GET /v1/me/marks?kind=hide"),
    Rule(401, 200, 403, 403, "GET /v1/me/matches"),
    Rule(401, 200, 403, 403, "GET /v1/me/matches?kind=initiative&mode=bridging"),
    Rule(401, 200, 403, 403, "GET /v1/me/matches?kind=community"),
    Rule(401, 200, 403, 403, "GET /v1/me/digest"),
    Rule(401, 422, 403, 403, "GET /v1/me/digest?week=2026-W54"),
    Rule(200, 200, 200, 200, "GET /v1/account/unsubscribe?token=not-a-token"),
    Rule(422, 422, 422, 422, "POST /v1/account/unsubscribe?token=not-a-token"),
    Rule(200, 200, 200, 200, "GET /matches"),
    Rule(200, 200, 200, 200, "GET /digest"),
]
# fmt: on
