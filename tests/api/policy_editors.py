"""Who may call the related wisdom, community learning routes (see ``rule.py``).

Both are open to everyone: what they return is public content, and people only as the
recommendation rules of ``api/editors.py`` allow (whoever asks). Both only read.
"""

from __future__ import annotations

from tests.api.rule import Rule

READS_BY_POST: set[str] = {"/v1/wisdom/related", "/v1/communities/learn"}

DRAFT = {"title": "Circles in schools", "body": "We began restorative circles in two schools."}
LEARN = {"community": "community:sacramento", "issues": "gang violence, young people"}

# fmt: off
POLICY: list[Rule] = [
    #    anon mem  edit admin  request
    Rule(200, 200, 200, 200, "POST /v1/wisdom/related", DRAFT),
    Rule(200, 200, 200, 200, "POST /v1/wisdom/related", {"id": "wisdom_entry:circles"}),
    Rule(200, 200, 200, 200, "POST /v1/communities/learn", LEARN),
]
# fmt: on
