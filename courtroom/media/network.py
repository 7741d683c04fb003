"""Which networks the hub's media is reachable on.

A fusion courtroom's hub sits on several networks at once (the internet,
the courts' private network, the dedicated three-party line). Each is named
with the hub's address on it; ICE host candidates are gathered on exactly
those addresses, so every peer is offered each network and connects over
whichever reaches it. Internet parties behind NAT can be given a TURN
server (coturn) as well.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import aioice.ice
from aiortc import RTCConfiguration, RTCIceServer


@dataclass(frozen=True, slots=True)
class Network:
    name: str
    address: str

    @classmethod
    def parse(cls, spec: str) -> Network:
        """``NAME=ADDRESS``, e.g. ``court=10.1.2.3``."""
        name, sep, address = spec.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"{spec!r}: a network is NAME=ADDRESS, e.g. court=10.1.2.3")
        try:
            ip = ipaddress.ip_address(address.strip())
        except ValueError:
            raise ValueError(f"{spec!r}: {address!r} is not an IP address") from None
        return cls(name.strip(), str(ip))


def use_networks(networks: list[Network]) -> None:
    """Gather host candidates on these addresses only (aioice otherwise takes
    every interface but 127.0.0.1). Replaces ``aioice.ice.get_host_addresses``;
    aioice is pinned with aiortc and tests/media/test_network.py checks it."""
    addresses = [n.address for n in networks]

    def host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [a for a in addresses if (use_ipv6 if ":" in a else use_ipv4)]

    if not hasattr(aioice.ice, "get_host_addresses"):
        raise RuntimeError("this aioice version gathers addresses differently; see pyproject.toml")
    aioice.ice.get_host_addresses = host_addresses


def rtc_configuration(stun: str | None = None, turn: str | None = None, turn_user: str | None = None,
                      turn_password: str | None = None) -> RTCConfiguration:
    servers = []
    if stun:
        servers.append(RTCIceServer(urls=stun))
    if turn:
        servers.append(RTCIceServer(urls=turn, username=turn_user, credential=turn_password))
    return RTCConfiguration(iceServers=servers)
