"""Who may call the matching routes (see ``rule.py``)."""

from __future__ import annotations

from tests.api.rule import Rule

READS_BY_POST: set[str] = set()  # POST routes here that write nothing

# fmt: off
POLICY: list[Rule] = [
    #    anon mem  edit admin  request
]
# fmt: on
