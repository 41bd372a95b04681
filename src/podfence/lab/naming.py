"""Names of everything a lab makes, all derived from the lab's name.

A lab called ``podfence`` (the default) owns exactly:

* network namespaces ``podfence-node`` (the node) and ``podfence-p<N>`` (pod N);
* links ``podfencev<N>`` in the node namespace (the node end of pod N's veth
  pair; the pod end is ``eth0`` inside the pod's namespace, as in Kubernetes);
* the nftables table ``inet podfence`` inside pod namespaces;
* NFLOG prefixes ``podfence <N> i`` / ``podfence <N> e`` (pod N dropped a packet
  at ingress / egress because no NetworkPolicy rule admits it), ``... t<K>`` (a
  cluster-wide rule dropped it) and ``... a<K>`` (a staged policy would have
  dropped it: audit only).

Nothing is created in the machine's own namespace, so removing a lab means
removing the namespaces that carry its prefix. Link names must fit Linux's 15
characters, so a lab name is at most 9 characters: a lowercase letter, then
lowercase letters and digits.

Every name here is made of the validated lab name and numbers the lab hands
out itself: no object name, label or annotation from a manifest ever becomes
part of a namespace, link, table, chain, file or log prefix name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from podfence.model import Direction

DEFAULT_LAB_NAME = "podfence"
MAX_NAME = 9
MAX_PODS = 99999
_NAME = re.compile(r"[a-z][a-z0-9]{0,8}")
LOG_GROUP = 7311
# Audit records (what staged policies would deny) go to LOG_GROUP and to this group too,
# so ``rollout apply --lab`` reads them while ``lab denials`` or ``monitor`` holds LOG_GROUP
# (the kernel lets one socket per namespace bind a group).
AUDIT_GROUP = 7312
POD_LINK = "eth0"
POD_LINK_INDEX = 2
# The node namespace's addresses every pod routes through (see topology.py).
GATEWAY_V4 = "169.254.1.1"
GATEWAY_V6 = "fe80::1"
# Health probes go from each pod to its node on this TCP port, where nothing
# listens: the node's reset proves both directions of the pod's path work.
HEALTH_PORT = 7311


_POD_NETNS = re.compile(r"[a-z][a-z0-9]{0,8}-p[0-9]+")


def is_lab_pod_netns(netns: str) -> bool:
    """True for the name of a pod namespace of any lab (``<lab>-p<N>``)."""
    return _POD_NETNS.fullmatch(netns) is not None


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a lab, or None when it can."""
    if not _NAME.fullmatch(name):
        return (f"lab name {name!r} must be 1 to {MAX_NAME} characters: a lowercase letter, "
                "then lowercase letters or digits")
    return None


@dataclass(frozen=True, slots=True)
class LabNames:
    """The names of one lab's namespaces, links, table and log prefixes.

    Raises:
        ValueError: ``lab`` is not a valid lab name (see :func:`name_problem`).
    """

    lab: str

    def __post_init__(self) -> None:
        problem = name_problem(self.lab) if isinstance(self.lab, str) else "a lab name must be text"
        if problem:
            raise ValueError(problem)

    @property
    def node_netns(self) -> str:
        return f"{self.lab}-node"

    def pod_netns(self, index: int) -> str:
        return f"{self.lab}-p{index}"

    def node_link(self, index: int) -> str:
        return f"{self.lab}v{index}"

    @property
    def table(self) -> str:
        return self.lab

    def owns_netns(self, netns: str) -> bool:
        """True for the namespaces this lab creates (and nothing else)."""
        if netns == self.node_netns:
            return True
        prefix = f"{self.lab}-p"
        return netns.startswith(prefix) and netns[len(prefix):].isdigit()

    def log_prefix(self, index: int, direction: Direction, tag: str = "") -> str:
        """``<lab> <N> i|e``, plus `` <tag>`` when a drop (``t<k>``) or an audit (``a<k>``) names
        the ``k``-th decider the compiler recorded for the pod (see :mod:`podfence.lab.compiler`)."""
        base = f"{self.lab} {index} {'i' if direction is Direction.INGRESS else 'e'}"
        return f"{base} {tag}" if tag else base

    def parse_log_prefix(self, prefix: str) -> tuple[int, Direction] | None:
        """The pod index and direction a log prefix names; None for another lab's prefix."""
        parsed = self.parse_log(prefix)
        return None if parsed is None else parsed[:2]

    def parse_log(self, prefix: str) -> tuple[int, Direction, str] | None:
        """The pod index, direction and tag ("" for a NetworkPolicy drop) of a log prefix;
        None for another lab's prefix or a tag the compiler never writes."""
        parts = prefix.strip().split(" ")
        if len(parts) not in (3, 4) or parts[0] != self.lab or not parts[1].isdigit() or parts[2] not in ("i", "e"):
            return None
        tag = parts[3] if len(parts) == 4 else ""
        if tag and not (tag[0] in "ta" and tag[1:].isdigit()):
            return None
        return int(parts[1]), Direction.INGRESS if parts[2] == "i" else Direction.EGRESS, tag
