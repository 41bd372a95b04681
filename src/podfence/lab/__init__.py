"""podfence lab: NetworkPolicies enforced on real packets, on one Linux machine.

Every pod is a network namespace wired to a node namespace (:mod:`topology`),
one echo server process listens on every pod's ports (:mod:`server`), each
isolated pod's policies become an nftables table in its namespace
(:mod:`compiler`, :mod:`nft`), probes open real TCP and UDP connections from
every pod to every pod (:mod:`probe`), and dropped packets come back through
NFLOG as Hubble-shaped denial records (:mod:`denials`).

:mod:`control` holds the lifecycle (up, apply, probe, show, down, status); the
CLI is ``podfence lab``. The lab is an adapter: it reads model objects and uses
the engine's matching functions, so the lab and the engine share one semantics.
See ``README.md`` beside this file for the design decisions.
"""
