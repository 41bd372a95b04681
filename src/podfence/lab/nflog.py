"""NFLOG over netlink: subscribe to a log group and decode the packets it delivers.

The lab's drop rules end in ``log prefix "<lab> <pod> <i|e>" group N drop``.
The kernel hands each logged packet to whoever bound group N *in that network
namespace*, so the denial reader holds one NFLOG socket per pod namespace.
Decoding is pure (bytes in, :class:`LogEvent` out) and unit-tested without root.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
from dataclasses import dataclass

from podfence.lab import netlink

NETLINK_NETFILTER = 12
NFNL_SUBSYS_ULOG = 4
NFULNL_MSG_PACKET = 0
NFULNL_MSG_CONFIG = 1
MSG_PACKET = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET
MSG_CONFIG = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG

NFULA_CFG_CMD = 1
NFULA_CFG_MODE = 2
NFULA_CFG_QTHRESH = 5
NFULNL_CFG_CMD_BIND = 1
NFULNL_COPY_PACKET = 2

NFULA_PACKET_HDR = 1
NFULA_TIMESTAMP = 3
NFULA_PAYLOAD = 9
NFULA_PREFIX = 10

COPY_RANGE = 128  # headers are all we read
_NFGENMSG = struct.Struct("=BBH")
PROTOCOL_NAMES = {1: "ICMPv4", 6: "TCP", 17: "UDP", 58: "ICMPv6", 132: "SCTP"}
_TCP_FLAGS = ((0x01, "FIN"), (0x02, "SYN"), (0x04, "RST"), (0x08, "PSH"), (0x10, "ACK"), (0x20, "URG"),
              (0x40, "ECE"), (0x80, "CWR"))


@dataclass(frozen=True, slots=True)
class LogEvent:
    """One logged packet, decoded.

    ``protocol`` is the IP protocol number; ports are 0 for protocols without
    them, where ``icmp_type``/``icmp_code`` are set instead. ``time`` is the
    kernel's timestamp when it gave one (seconds since the epoch), else None.
    """

    prefix: str
    version: int
    protocol: int
    source: str
    destination: str
    source_port: int = 0
    destination_port: int = 0
    tcp_flags: tuple[str, ...] = ()
    icmp_type: int = 0
    icmp_code: int = 0
    time: float | None = None

    @property
    def five_tuple(self) -> tuple[int, str, int, str, int]:
        if self.protocol in (1, 58):
            return (self.protocol, self.source, self.icmp_type, self.destination, self.icmp_code)
        return (self.protocol, self.source, self.source_port, self.destination, self.destination_port)


def config_request(group: int, attrs: bytes) -> bytes:
    """The body of one NFULNL_MSG_CONFIG request for ``group``."""
    return _NFGENMSG.pack(socket.AF_UNSPEC, 0, socket.htons(group)) + attrs


def bind_requests(group: int) -> list[netlink.Request]:
    """Bind ``group``, copy the first bytes of each packet, deliver every packet at once."""
    return [
        netlink.Request(MSG_CONFIG, 0, config_request(group, netlink.attr(NFULA_CFG_CMD, bytes([NFULNL_CFG_CMD_BIND]))),
                        f"bind NFLOG group {group}"),
        netlink.Request(MSG_CONFIG, 0, config_request(
            group, netlink.attr(NFULA_CFG_MODE, struct.pack(">IBB", COPY_RANGE, NFULNL_COPY_PACKET, 0))
            + netlink.attr(NFULA_CFG_QTHRESH, struct.pack(">I", 1))), "set NFLOG copy mode"),
    ]


def open_socket(group: int) -> socket.socket:
    """An NFLOG socket bound to ``group`` in the calling thread's namespace."""
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, NETLINK_NETFILTER)
    try:
        try:
            sock.setsockopt(socket.SOL_SOCKET, 33, 1 << 22)  # SO_RCVBUFFORCE
        except OSError:
            pass
        sock.bind((0, 0))
        runner = netlink.RouteSocket(sock=sock)
        runner.run(bind_requests(group))
        sock.setblocking(False)
        return sock
    except OSError:
        sock.close()
        raise


def decode(data: bytes) -> list[LogEvent]:
    """Every packet event in one netlink datagram (other messages are skipped)."""
    out = []
    for kind, _seq, payload in netlink.messages(data):
        if kind != MSG_PACKET or len(payload) < _NFGENMSG.size:
            continue
        event = decode_packet(netlink.attributes(payload, _NFGENMSG.size))
        if event is not None:
            out.append(event)
    return out


def decode_packet(attrs: dict[int, bytes]) -> LogEvent | None:
    """A packet event from its NFLOG attributes; None when the payload is not IP."""
    packet = attrs.get(NFULA_PAYLOAD, b"")
    prefix = attrs.get(NFULA_PREFIX, b"").split(b"\0", 1)[0].decode(errors="replace")
    when = None
    stamp = attrs.get(NFULA_TIMESTAMP)
    if stamp and len(stamp) >= 16:
        sec, usec = struct.unpack(">QQ", stamp[:16])
        when = sec + usec / 1e6
    if not packet:
        return None
    version = packet[0] >> 4
    if version == 4 and len(packet) >= 20:
        header = (packet[0] & 0x0F) * 4
        protocol = packet[9]
        source, destination = str(ipaddress.IPv4Address(packet[12:16])), str(ipaddress.IPv4Address(packet[16:20]))
    elif version == 6 and len(packet) >= 40:
        header = 40
        protocol = packet[6]
        source, destination = str(ipaddress.IPv6Address(packet[8:24])), str(ipaddress.IPv6Address(packet[24:40]))
    else:
        return None
    l4 = packet[header:]
    event = LogEvent(prefix, version, protocol, source, destination, time=when)
    if protocol in (6, 17, 132) and len(l4) >= 4:
        sport, dport = struct.unpack(">HH", l4[:4])
        flags: tuple[str, ...] = ()
        if protocol == 6 and len(l4) >= 14:
            flags = tuple(name for bit, name in _TCP_FLAGS if l4[13] & bit)
        return LogEvent(prefix, version, protocol, source, destination, sport, dport, flags, time=when)
    if protocol in (1, 58) and len(l4) >= 2:
        return LogEvent(prefix, version, protocol, source, destination, icmp_type=l4[0], icmp_code=l4[1], time=when)
    return event
