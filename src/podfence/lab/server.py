"""The lab's echo server: one process serving every pod of a lab.

``python -m podfence.lab.server --lab NAME`` reads the lab's state, opens a
listening socket for each container port of each pod *inside that pod's
namespace* (the thread steps into each namespace just to create the socket),
then serves them all from one epoll loop: TCP connections get their bytes back,
UDP datagrams are answered to their sender.

The command daemonises itself: it prints the server's pid once every socket is
open (or one error line, exit 1) and returns. The server stops on SIGTERM, or by
itself once its lab's node namespace has gone (``lab down``, or a later
``lab up`` cleaning a stale lab), so a crashed lab never leaves it behind.
"""

from __future__ import annotations

import argparse
import errno
import os
import selectors
import signal
import socket
import sys
import time

from podfence.lab import linux
from podfence.lab import state as lab_state
from podfence.lab.naming import LabNames
from podfence.lab.topology import netns_of
from podfence.sets import Protocol

Listener = tuple[str, str, Protocol, int]  # namespace, bind address, protocol, port
_BUFFER = 65536


def listeners(state: lab_state.LabState) -> list[Listener]:
    """Every socket the server opens: per namespace, address, protocol and port.

    A pod in its own namespace listens on the wildcard addresses of the families
    it has; hostNetwork pods share the node namespace and listen on their own
    addresses (once per address and port, however many pods share them).
    SCTP ports are left out: the lab probes TCP and UDP.
    """
    names = LabNames(state.name)
    out: dict[Listener, None] = {}
    for pod in state.pods:
        netns = netns_of(names, pod)
        for protocol in (Protocol.TCP, Protocol.UDP):
            for port in pod.ports(protocol):
                for version in (4, 6):
                    ip = pod.ip(version)
                    if ip is None:
                        continue
                    bind = ip if pod.host_network else ("0.0.0.0" if version == 4 else "::")
                    out[(netns, bind, protocol, port)] = None
    return list(out)


def open_listener(spec: Listener) -> socket.socket:
    netns, bind, protocol, port = spec
    family = socket.AF_INET6 if ":" in bind else socket.AF_INET
    kind = socket.SOCK_STREAM if protocol is Protocol.TCP else socket.SOCK_DGRAM
    with linux.in_netns(linux.netns_path(netns)):
        sock = socket.socket(family, kind | socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((bind, port))
        if protocol is Protocol.TCP:
            sock.listen(4096)
    except OSError:
        sock.close()
        raise
    return sock


class EchoServer:
    """The epoll loop over every listener of a lab."""

    def __init__(self, sockets: list[tuple[socket.socket, Protocol]]) -> None:
        self.selector = selectors.DefaultSelector()
        for sock, protocol in sockets:
            self.selector.register(sock, selectors.EVENT_READ, ("listen" if protocol is Protocol.TCP else "udp"))
        self.running = True

    def serve(self, alive: callable, check_every: float = 1.0) -> None:  # type: ignore[valid-type]
        last_check = time.monotonic()
        while self.running:
            for key, _ in self.selector.select(timeout=check_every):
                role = key.data
                if role == "listen":
                    self._accept(key.fileobj)  # type: ignore[arg-type]
                elif role == "udp":
                    self._echo_datagrams(key.fileobj)  # type: ignore[arg-type]
                else:
                    self._echo_stream(key.fileobj)  # type: ignore[arg-type]
            now = time.monotonic()
            if now - last_check >= check_every:
                last_check = now
                if not alive():
                    return

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ECONNABORTED):
                    return
                raise
            conn.setblocking(False)
            self.selector.register(conn, selectors.EVENT_READ, "conn")

    def _echo_stream(self, conn: socket.socket) -> None:
        try:
            data = conn.recv(_BUFFER)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if data:
            try:
                conn.send(data)
                return
            except OSError:
                pass
        self.selector.unregister(conn)
        conn.close()

    def _echo_datagrams(self, sock: socket.socket) -> None:
        for _ in range(256):
            try:
                data, peer = sock.recvfrom(_BUFFER)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            try:
                sock.sendto(data, peer)
            except OSError:
                pass


def same_namespace_check(path: str):  # type: ignore[no-untyped-def]
    """A callable that stays true while ``path`` pins the namespace it pins now.

    A later lab of the same name makes a new namespace at the same path; the
    inode tells them apart, so a daemon of the old lab still stops.
    """
    try:
        first = os.stat(path)
    except OSError:
        return lambda: False

    def alive() -> bool:
        try:
            now = os.stat(path)
        except OSError:
            return False
        return (now.st_dev, now.st_ino) == (first.st_dev, first.st_ino)

    return alive


def _daemonise() -> int:
    """Fork; the parent waits for the child's first line and relays it. Returns the child's write fd."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid:
        os.close(write_fd)
        with os.fdopen(read_fd) as pipe:
            line = pipe.readline().strip()
        if line.startswith("ready"):
            print(pid)
            os._exit(0)
        print(line or "the lab server stopped before it was ready", file=sys.stderr)
        os._exit(1)
    os.close(read_fd)
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    return write_fd


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m podfence.lab.server")
    parser.add_argument("--lab", required=True)
    parser.add_argument("--foreground", action="store_true")
    args = parser.parse_args(argv)
    ready_fd = None if args.foreground else _daemonise()

    def report(line: str) -> None:
        if ready_fd is not None:
            os.write(ready_fd, (line + "\n").encode())
            os.close(ready_fd)
        else:
            print(line, file=sys.stderr if line.startswith("error") else sys.stdout, flush=True)

    current = lab_state.load(args.lab)
    if current is None:
        report(f"error: lab {args.lab!r} has no state: run podfence lab up")
        return 1
    specs = listeners(current)
    linux.raise_nofile(len(specs) + 65536)
    opened: list[tuple[socket.socket, Protocol]] = []
    try:
        for spec in specs:
            opened.append((open_listener(spec), spec[2]))
    except OSError as exc:
        report(f"error: cannot listen on {spec[2]} {spec[1]}:{spec[3]} in {spec[0]}: {exc.strerror}")
        return 1
    server = EchoServer(opened)
    try:  # answer within the probes' timeout even on a busy machine
        os.setpriority(os.PRIO_PROCESS, 0, -5)
    except OSError:
        pass
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    report("ready")
    server.serve(same_namespace_check(linux.netns_path(LabNames(args.lab).node_netns)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
