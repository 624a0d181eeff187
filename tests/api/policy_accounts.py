"""Who may call the account and profile routes (see ``rule.py``).

The keys of the matrix are personal tokens of accounts (the member's account is linked
to person:mem; the editor's and the admin's have no profile yet). Anyone may sign up,
sign in or ask for a reset, and is answered the same whether or not the address is
known; an account's own routes need its session or one of its tokens.
"""

from __future__ import annotations

from tests.api.rule import Rule

SIGN_UP = {"email": "newcomer@example.org", "password": "a long passphrase", "name": "Nia"}
SIGN_IN = {"email": "nobody@example.org", "password": "not the password"}
BOGUS = {"token": "not-a-token"}

# POST routes here that write nothing to the graph (accounts live beside it)
READS_BY_POST: set[str] = {
    "/v1/account/signup",
    "/v1/account/verify",
    "/v1/account/login",
    "/v1/account/logout",
    "/v1/account/reset",
    "/v1/account/reset/confirm",
    "/v1/account",
    "/v1/account/tokens",
    "/v1/account/tokens/0123456789ab",
    "/v1/me/place-preview",
}

# fmt: off
POLICY: list[Rule] = [
    #    anon mem  edit admin  request
    Rule(202, 202, 202, 202, "POST /v1/account/signup", SIGN_UP),
    Rule(422, 422, 422, 422, "POST /v1/account/verify", BOGUS),
    Rule(401, 401, 401, 401, "POST /v1/account/login", SIGN_IN),
    Rule(202, 202, 202, 202, "POST /v1/account/reset", {"email": "nobody@example.org"}),
    Rule(422, 422, 422, 422, "POST /v1/account/reset/confirm",
         BOGUS | {"password": "a long passphrase"}),
    Rule(401, 200, 200, 200, "GET /v1/account"),
    Rule(200, 200, 200, 200, "GET /v1/account/session"),
    Rule(401, 200, 200, 200, "PATCH /v1/account", {"digest": True}),
    Rule(401, 200, 200, 200, "GET /v1/account/tokens"),
    Rule(401, 201, 201, 201, "POST /v1/account/tokens", {"label": "script"}),
    Rule(401, 404, 404, 404, "DELETE /v1/account/tokens/0123456789ab"),
    Rule(204, 204, 204, 204, "POST /v1/account/logout"),
    Rule(401, 200, 200, 200, "GET /v1/me"),
    Rule(401, 200, 200, 200, "PATCH /v1/me", {"bio": "Rewritten."}),
    Rule(200, 200, 200, 200, "POST /v1/me/place-preview",
         {"place": {"lat": 38.5, "lon": -121.4}, "location_precision": "region"}),
]
# fmt: on
