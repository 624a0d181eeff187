"""Who may call the web app's pages and assets routes, and the map (see ``rule.py``).

Pages and assets are the same for everyone (what a page shows comes from the API with
the visitor's own access); they still ask for the caller, so a bad key is refused.
"""

from __future__ import annotations

from tests.api.rule import Rule

READS_BY_POST: set[str] = set()  # POST routes here that write nothing

# fmt: off
POLICY: list[Rule] = [
    #    anon mem  edit admin  request
    Rule(200, 200, 200, 200, "GET /"),
    Rule(200, 200, 200, 200, "GET /search?q=mentoring"),
    Rule(200, 200, 200, 200, "GET /people/maria"),
    Rule(200, 200, 200, 200, "GET /initiatives/hub"),
    Rule(200, 200, 200, 200, "GET /nodes/sdg:4"),
    Rule(200, 200, 200, 200, "GET /sectors"),
    Rule(200, 200, 200, 200, "GET /sectors/health"),
    Rule(200, 200, 200, 200, "GET /map"),
    Rule(200, 200, 200, 200, "GET /graph"),
    Rule(200, 200, 200, 200, "GET /graph/initiative:hub"),
    Rule(200, 200, 200, 200, "GET /editor"),
    Rule(200, 200, 200, 200, "GET /inbox"),
    Rule(200, 200, 200, 200, "GET /join"),
    Rule(200, 200, 200, 200, "GET /signin"),
    Rule(200, 200, 200, 200, "GET /verify"),
    Rule(200, 200, 200, 200, "GET /reset"),
    # My profile: the page itself asks GET /v1/me, which needs an account.
    Rule(200, 200, 200, 200, "GET /me"),
    # A file of web/public, served with or without a build.
    Rule(200, 200, 200, 200, "GET /assets/icon.svg"),
    # The map's positions: everyone, each seeing whom they may list.
    Rule(200, 200, 200, 200, "GET /v1/map?kind=person&kind=initiative"),
    # One view of it, clustered: the same for everyone, each counting whom they may list.
    Rule(200, 200, 200, 200, "GET /v1/map?bbox=-180,-85,180,85&zoom=3"),
]
# fmt: on
