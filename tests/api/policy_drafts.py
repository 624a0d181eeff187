"""Who may keep drafts on the editor desk (see ``rule.py``).

Editors and admins only: anonymous callers are asked to sign in (401), members are told
only editors can (403). Drafts live beside the graph, so saving or deleting one writes
nothing to its change log; only publishing does (and is audited). The fixture has no
draft: reading, saving, deleting or publishing one by its id is missing (404) to those
who may keep drafts.
"""

from __future__ import annotations

from tests.api.rule import Rule

NO_SUCH = "0123456789abcdef"
DRAFT = {"title": "Circles in schools", "body": "We began restorative circles in two schools.",
         "sectors": ["sector:peace"], "goals": ["sdg:16"]}  # fmt: skip

# routes here that write nothing to the graph (the drafts table lives beside it)
READS_BY_POST: set[str] = {"/v1/drafts", f"/v1/drafts/{NO_SUCH}"}

# fmt: off
POLICY: list[Rule] = [
    #    anon mem  edit admin  request
    Rule(401, 403, 200, 200, "GET /v1/drafts"),
    Rule(401, 403, 201, 201, "POST /v1/drafts", DRAFT),
    Rule(401, 403, 201, 201, "POST /v1/drafts", DRAFT | {"revises": "wisdom_entry:circles"}),
    Rule(401, 403, 404, 404, "POST /v1/drafts", DRAFT | {"revises": "wisdom_entry:nope"}),
    Rule(401, 403, 404, 404, f"GET /v1/drafts/{NO_SUCH}"),
    Rule(401, 403, 404, 404, f"PUT /v1/drafts/{NO_SUCH}", DRAFT),
    Rule(401, 403, 404, 404, f"DELETE /v1/drafts/{NO_SUCH}"),
    Rule(401, 403, 404, 404, f"POST /v1/drafts/{NO_SUCH}/publish"),
]
# fmt: on
