"""Who may call the routes of issue 13's loose ends (see ``rule.py``).

The Communities page is the app shell like every page: the same for everyone, since the
list it shows comes from ``GET /v1/nodes?kind=community`` with the visitor's own access.
``/docs`` is a framework route (test_authorization.FRAMEWORK_ROUTES): public, no caller.
"""

from __future__ import annotations

from tests.api.rule import Rule

READS_BY_POST: set[str] = set()  # POST routes here that write nothing

# fmt: off
POLICY: list[Rule] = [
    #    anon mem  edit admin  request
    Rule(200, 200, 200, 200, "GET /communities"),
    Rule(200, 200, 200, 200, "GET /v1/nodes?kind=community"),
]
# fmt: on
