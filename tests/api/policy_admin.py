"""Who may call the admin routes, my data and the settings and admin pages (see ``rule.py``).

Admin routes are for admins only, refused before anything is looked up (401 without a
key, 403 for other roles). Account changes live beside the graph, so only appointing
or dismissing a coordinator writes it. My data is for the signed-in account itself; the
matrix deletes nobody (its confirmation is wrong), which test_mydata.py covers.
"""

from __future__ import annotations

from tests.api.rule import Rule

NO_ACCOUNT = "0123456789abcdef"
NO_KEY = "0123456789ab"
APPOINTMENT = {"person": "person:pub", "node": "initiative:hub"}

# POST, PATCH and DELETE routes here that write nothing to the graph
READS_BY_POST: set[str] = {
    "/v1/admin/invitations",
    f"/v1/admin/accounts/{NO_ACCOUNT}",
    f"/v1/admin/tokens/{NO_KEY}",
}

# fmt: off
POLICY: list[Rule] = [
    #    anon mem  edit admin  request
    Rule(401, 200, 200, 200, "GET /v1/me/export"),
    Rule(401, 422, 422, 422, "DELETE /v1/me", {"confirm": "nobody@example.org"}),
    Rule(401, 403, 403, 202, "POST /v1/admin/invitations",
         {"email": "new@example.org", "role": "editor"}),
    Rule(401, 403, 403, 200, "GET /v1/admin/accounts?q=adm"),
    Rule(401, 403, 403, 404, f"PATCH /v1/admin/accounts/{NO_ACCOUNT}", {"role": "editor"}),
    Rule(401, 403, 403, 404, f"GET /v1/admin/accounts/{NO_ACCOUNT}/tokens"),
    Rule(401, 403, 403, 404, f"DELETE /v1/admin/tokens/{NO_KEY}"),
    Rule(401, 403, 403, 200, "PUT /v1/admin/coordinators", APPOINTMENT),
    # Nobody coordinates the hub yet: nothing to dismiss.
    Rule(401, 403, 403, 404, "DELETE /v1/admin/coordinators", APPOINTMENT),
    Rule(200, 200, 200, 200, "GET /settings"),
    Rule(200, 200, 200, 200, "GET /admin"),
    # The account pages (the shell only, like every page).
    Rule(200, 200, 200, 200, "GET /verify?token=x&invite=1"),
]
# fmt: on
