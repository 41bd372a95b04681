"""A minimal rtnetlink client: just the messages the lab's topology needs.

Links, addresses and routes are made by sending many requests on one netlink
socket and then collecting their acknowledgements, so wiring hundreds of pods
costs a few system calls per pod and no process per link. Messages are built
with :mod:`struct`; each request asks for an ACK and a failing one raises
:class:`NetlinkError` naming what was being done.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import struct
from dataclasses import dataclass, field

NETLINK_ROUTE = 0
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLM_F_REPLACE = 0x100
NLM_F_EXCL = 0x200
NLM_F_CREATE = 0x400
NLMSG_ERROR = 2
NLMSG_DONE = 3

RTM_NEWLINK = 16
RTM_NEWADDR = 20
RTM_NEWROUTE = 24

IFLA_IFNAME = 3
IFLA_LINKINFO = 18
IFLA_NET_NS_FD = 28
IFLA_INFO_KIND = 1
IFLA_INFO_DATA = 2
VETH_INFO_PEER = 1
NLA_F_NESTED = 0x8000
IFF_UP = 0x1

IFA_ADDRESS = 1
IFA_LOCAL = 2
IFA_FLAGS = 8
IFA_F_NODAD = 0x02

RTA_DST = 1
RTA_OIF = 4
RTA_GATEWAY = 5
RTNH_F_ONLINK = 4
RT_TABLE_MAIN = 254
RTPROT_STATIC = 4
RT_SCOPE_UNIVERSE = 0
RT_SCOPE_LINK = 253
RT_SCOPE_HOST = 254
RTN_UNICAST = 1

_NLMSGHDR = struct.Struct("=IHHII")
_IFINFOMSG = struct.Struct("=BxHiII")
_IFADDRMSG = struct.Struct("=BBBBI")
_RTMSG = struct.Struct("=BBBBBBBBI")
_BATCH = 64


class NetlinkError(OSError):
    """A request was refused; ``what`` says which."""


def _align(n: int) -> int:
    return (n + 3) & ~3


def attr(kind: int, payload: bytes) -> bytes:
    """One netlink attribute (type-length-value), padded to 4 bytes."""
    length = 4 + len(payload)
    return struct.pack("=HH", length, kind) + payload + b"\0" * (_align(length) - length)


def nested(kind: int, *attrs: bytes) -> bytes:
    return attr(kind | NLA_F_NESTED, b"".join(attrs))


def _cstr(text: str) -> bytes:
    return text.encode() + b"\0"


def _family(address: str) -> tuple[int, bytes, int]:
    ip = ipaddress.ip_address(address)
    if ip.version == 4:
        return socket.AF_INET, ip.packed, 32
    return socket.AF_INET6, ip.packed, 128


@dataclass(slots=True)
class Request:
    """One rtnetlink request, and what it is for (used in error messages)."""

    kind: int
    flags: int
    body: bytes
    what: str


def veth_pair(name: str, index: int, peer_name: str, peer_netns_fd: int, mtu: int | None = None) -> Request:
    """A veth pair: ``name`` (ifindex ``index``, up) here, ``peer_name`` (down) in another namespace.

    The peer cannot be brought up in the same request (it has no partner yet);
    bring it up from its own namespace.
    """
    peer = _IFINFOMSG.pack(0, 0, 0, 0, 0) + attr(IFLA_IFNAME, _cstr(peer_name)) + attr(
        IFLA_NET_NS_FD, struct.pack("=I", peer_netns_fd)
    )
    body = _IFINFOMSG.pack(0, 0, index, IFF_UP, IFF_UP) + attr(IFLA_IFNAME, _cstr(name)) + nested(
        IFLA_LINKINFO, attr(IFLA_INFO_KIND, _cstr("veth")), nested(IFLA_INFO_DATA, attr(VETH_INFO_PEER, peer))
    )
    return Request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, body, f"create link {name}")


def link_up(index: int) -> Request:
    body = _IFINFOMSG.pack(0, 0, index, IFF_UP, IFF_UP)
    return Request(RTM_NEWLINK, 0, body, f"bring up link #{index}")


def address(index: int, address: str, prefix: int | None = None, scope: int = RT_SCOPE_UNIVERSE) -> Request:
    """Add ``address/prefix`` (a host prefix by default) to link ``index``, skipping IPv6 DAD."""
    family, packed, bits = _family(address)
    prefix = bits if prefix is None else prefix
    body = _IFADDRMSG.pack(family, prefix, IFA_F_NODAD, scope, index) + attr(IFA_LOCAL, packed) + attr(
        IFA_ADDRESS, packed
    ) + attr(IFA_FLAGS, struct.pack("=I", IFA_F_NODAD))
    return Request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, body, f"add address {address}/{prefix}")


def route_to_link(destination: str, index: int) -> Request:
    """A host route to ``destination`` straight out of link ``index``."""
    family, packed, bits = _family(destination)
    body = _RTMSG.pack(family, bits, 0, 0, RT_TABLE_MAIN, RTPROT_STATIC, RT_SCOPE_LINK, RTN_UNICAST, 0) + attr(
        RTA_DST, packed
    ) + attr(RTA_OIF, struct.pack("=I", index))
    return Request(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, body, f"add route {destination}")


def default_route(gateway: str, index: int) -> Request:
    """A default route via ``gateway`` on link ``index``, which need not share a subnet (onlink)."""
    family, packed, _ = _family(gateway)
    body = _RTMSG.pack(family, 0, 0, 0, RT_TABLE_MAIN, RTPROT_STATIC, RT_SCOPE_UNIVERSE, RTN_UNICAST,
                       RTNH_F_ONLINK) + attr(RTA_GATEWAY, packed) + attr(RTA_OIF, struct.pack("=I", index))
    return Request(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, body, f"add default route via {gateway}")


@dataclass
class RouteSocket:
    """An rtnetlink socket bound to the namespace it was created in."""

    sock: socket.socket = field(default_factory=lambda: _open(NETLINK_ROUTE))
    seq: int = 0

    def run(self, requests: list[Request]) -> None:
        """Send ``requests`` in batches and wait for every ACK; raise on the first refusal."""
        for start in range(0, len(requests), _BATCH):
            chunk = requests[start:start + _BATCH]
            pending: dict[int, str] = {}
            buffer = bytearray()
            for req in chunk:
                self.seq += 1
                pending[self.seq] = req.what
                length = _NLMSGHDR.size + len(req.body)
                buffer += _NLMSGHDR.pack(length, req.kind, NLM_F_REQUEST | NLM_F_ACK | req.flags, self.seq, 0)
                buffer += req.body
            self.sock.send(bytes(buffer))
            self._collect(pending)

    def _collect(self, pending: dict[int, str]) -> None:
        failure: NetlinkError | None = None
        while pending:
            data = self.sock.recv(1 << 20)
            for kind, seq, payload in messages(data):
                if kind != NLMSG_ERROR or seq not in pending:
                    continue
                what = pending.pop(seq)
                (code,) = struct.unpack_from("=i", payload)
                if code != 0 and failure is None:
                    failure = NetlinkError(-code, f"{what}: {os.strerror(-code)}")
        if failure is not None:
            raise failure

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RouteSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _open(protocol: int) -> socket.socket:
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, protocol)
    for option in (33, 32):  # SO_RCVBUFFORCE, SO_SNDBUFFORCE: root may exceed the default cap
        try:
            sock.setsockopt(socket.SOL_SOCKET, option, 1 << 22)
        except OSError:
            pass
    sock.bind((0, 0))
    return sock


def messages(data: bytes) -> list[tuple[int, int, bytes]]:
    """Split a netlink datagram into ``(type, seq, payload)`` triples."""
    out = []
    offset = 0
    while offset + _NLMSGHDR.size <= len(data):
        length, kind, _flags, seq, _pid = _NLMSGHDR.unpack_from(data, offset)
        if length < _NLMSGHDR.size:
            break
        out.append((kind, seq, bytes(data[offset + _NLMSGHDR.size:offset + length])))
        offset += _align(length)
    return out


def attributes(data: bytes, offset: int = 0) -> dict[int, bytes]:
    """Parse a run of netlink attributes (the nested flag stripped from the type)."""
    out: dict[int, bytes] = {}
    while offset + 4 <= len(data):
        length, kind = struct.unpack_from("=HH", data, offset)
        if length < 4:
            break
        out[kind & ~NLA_F_NESTED & 0x3FFF] = bytes(data[offset + 4:offset + length])
        offset += _align(length)
    return out


__all__ = [
    "NetlinkError", "Request", "RouteSocket", "address", "attr", "attributes", "default_route", "link_up",
    "messages", "nested", "route_to_link", "veth_pair",
]
