"""The client's address: the peer, or what a trusted reverse proxy says it forwarded.

``X-Forwarded-For`` is a list of addresses that anyone can send. It is believed only
from the proxies named in ``COCREATE_TRUSTED_PROXIES`` (default: none), and then only
as far as it stays within them: the address used is the nearest hop, reading from the
right, that is not itself a trusted proxy. Rate limits count per this address, so a
client that rotates the header gains nothing unless a trusted proxy set it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(spec: str) -> tuple[Network, ...]:
    """Comma-separated addresses or networks (``10.0.0.1``, ``10.0.0.0/8``, ``::1``).

    Raises ``ValueError`` naming an entry that is neither.
    """
    found: list[Network] = []
    for entry in (part.strip() for part in spec.split(",")):
        if not entry:
            continue
        try:
            found.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"'{entry}' is not an IP address or network") from None
    return tuple(found)


class TrustedProxies:
    """The reverse proxies whose ``X-Forwarded-For`` header is believed."""

    def __init__(self, networks: Sequence[Network] = ()) -> None:
        self.networks = tuple(networks)

    def __bool__(self) -> bool:
        return bool(self.networks)

    def trusts(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def client(self, peer: str, forwarded: Iterable[str]) -> str:
        """The client's address, given the peer's and the ``X-Forwarded-For`` headers."""
        if not self.trusts(peer):
            return peer
        hops = [hop.strip() for header in forwarded for hop in header.split(",")]
        hops = [hop for hop in hops if hop]
        for hop in reversed(hops):
            if not self.trusts(hop):
                return _valid(hop) or peer
        return _valid(hops[0]) or peer if hops else peer


def _valid(address: str) -> str | None:
    """The address, normalised, or None when it is not an IP address."""
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None
