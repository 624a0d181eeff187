"""One cell row of the authorization matrix (``test_authorization.py``).

Each area keeps its rules in ``policy_<area>.py``: adding a route means deciding there
who may call it. A POST that only reads (a body too large for a query string) is listed
in that area's ``READS_BY_POST``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Rule:
    """The status each role gets for one concrete request."""

    anonymous: int
    member: int
    editor: int
    admin: int
    request: str  # "<METHOD> <url>", with real fixture ids
    body: dict[str, Any] | None = None

    @property
    def method(self) -> str:
        return self.request.split()[0]

    @property
    def url(self) -> str:
        return self.request.split()[1]

    @property
    def path(self) -> str:
        return self.url.partition("?")[0]

    def expected(self, role: str) -> int:
        return int(getattr(self, role))
