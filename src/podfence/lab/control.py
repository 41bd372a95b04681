"""The lab's lifecycle: up, down and status (apply, probe and show build on it).

Every function here needs root and nftables and raises :class:`LabError` with a
one-line message when something stands in the way; the CLI prints that line.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from typing import Callable

from podfence.lab import linux, topology
from podfence.lab import state as lab_state
from podfence.lab.naming import DEFAULT_LAB_NAME, LabNames, name_problem
from podfence.lab.plan import DEFAULT_POD_CIDR, PlanError, plan
from podfence.model import Cluster, Settings

Progress = Callable[[int], None]


class LabError(Exception):
    """Something stops the lab; the message is one line for the user."""


def preflight(name: str) -> LabNames:
    """Check root, nftables and the lab name; return the lab's names."""
    problem = name_problem(name) or linux.missing_requirement()
    if problem:
        raise LabError(problem)
    return LabNames(name)


def require_state(name: str) -> lab_state.LabState:
    current = lab_state.load(name)
    if current is None or not topology.lab_netns(LabNames(name)):
        raise LabError(f"no lab named {name!r} is up: run podfence lab up -f ...")
    return current


@dataclass(frozen=True, slots=True)
class UpResult:
    state: lab_state.LabState
    notes: tuple[str, ...]
    cleaned: tuple[str, ...]


def up(cluster: Cluster, settings: Settings, *, name: str = DEFAULT_LAB_NAME, pod_cidr: str = DEFAULT_POD_CIDR,
       extra_ports: tuple[int, ...] = (), progress: Progress | None = None,
       on_plan: Callable[[int], None] | None = None) -> UpResult:
    """Create the lab for ``cluster``: clean a stale lab of the same name, wire pods, start servers.

    ``on_plan`` hears how many steps ``progress`` will count (two per routed pod).
    """
    names = preflight(name)
    try:
        layout = plan(cluster, settings, pod_cidr, extra_ports)
    except PlanError as exc:
        raise LabError(str(exc)) from None
    cleaned = tuple(clean(names))
    if on_plan:
        on_plan(2 * sum(1 for p in layout.pods if not p.host_network))
    current = lab_state.LabState(name=name, pod_cidr=layout.pod_cidr, pods=layout.pods)
    lab_state.save(current)
    try:
        topology.create(names, layout.pods, progress)
        current = current.evolve(server_pid=start_server(name))
    except (OSError, LabError) as exc:
        clean(names)
        raise LabError(f"lab up failed: {exc}") from None
    lab_state.save(current)
    return UpResult(current, layout.notes, cleaned)


def start_server(name: str) -> int:
    """Start the lab's echo server (it daemonises); return its pid."""
    done = subprocess.run(
        [sys.executable, "-m", "podfence.lab.server", "--lab", name],
        capture_output=True, text=True, check=False,
    )
    if done.returncode != 0 or not done.stdout.strip().isdigit():
        message = (done.stderr.strip().splitlines() or ["the echo server did not start"])[-1]
        raise LabError(message.removeprefix("error: "))
    return int(done.stdout.strip())


def clean(names: LabNames) -> list[str]:
    """Remove whatever a lab of this name left (state or not); return the namespaces removed."""
    old = lab_state.load(names.lab)
    removed = topology.destroy(names, old.server_pid if old else 0)
    lab_state.forget(names.lab)
    return removed


def down(name: str = DEFAULT_LAB_NAME) -> list[str]:
    """Remove the lab: its namespaces (and so its links and tables), its server, its state."""
    return clean(preflight(name))


@dataclass(frozen=True, slots=True)
class Status:
    name: str
    up: bool
    pods: int
    namespaces: int
    server_running: bool
    isolated_pods: int
    policies: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name, "up": self.up, "pods": self.pods, "namespaces": self.namespaces,
            "server_running": self.server_running, "isolated_pods": self.isolated_pods,
            "policies": list(self.policies),
        }


def status(name: str = DEFAULT_LAB_NAME) -> Status:
    names = preflight(name)
    current = lab_state.load(name)
    present = topology.lab_netns(names)
    if current is None:
        return Status(name, False, 0, len(present), False, 0, ())
    return Status(
        name=name,
        up=bool(present),
        pods=len(current.pods),
        namespaces=len(present),
        server_running=topology.is_lab_process(current.server_pid, name) if current.server_pid else False,
        isolated_pods=sum(1 for h in current.rules.values() if h),
        policies=current.policies,
    )
