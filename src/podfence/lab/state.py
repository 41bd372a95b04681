"""What a running lab remembers between commands.

One JSON file per lab, ``/run/podfence/<name>/state.json`` (or under
``$PODFENCE_LAB_STATE_DIR``), written atomically (a temporary file, then a
rename) so a killed command never leaves half a state behind. The state is a
convenience: cleanup never depends on it, it finds a lab's leftovers by their
names (see :mod:`podfence.lab.naming`).

The file is read back as untrusted input: a lab name that is not valid, an
address that is not one, or a pod number that is not a positive integer makes
the whole state unreadable (no state), so nothing read from it can reach a
path, a namespace name or nftables text.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from podfence.lab.naming import name_problem
from podfence.lab.plan import LabPod

STATE_DIR_ENV = "PODFENCE_LAB_STATE_DIR"
DEFAULT_STATE_DIR = "/run/podfence"
FORMAT = 1


def state_root() -> Path:
    return Path(os.environ.get(STATE_DIR_ENV) or DEFAULT_STATE_DIR)


def lab_dir(name: str) -> Path:
    """The lab's own directory under the state root (``name`` must be a valid lab name)."""
    problem = name_problem(name)
    if problem:
        raise ValueError(problem)
    return state_root() / name


@dataclass(frozen=True, slots=True)
class LabState:
    """A lab's pods and what has been applied to them.

    Attributes:
        name: the lab's name (its prefix).
        pod_cidr: the range pods without a manifest address were given one from.
        pods: the lab's pods, by index order.
        server_pid: the echo server's process id (0: not running).
        rules: pod key -> hash of the ruleset applied in its namespace.
        isolation: pod key -> direction -> keys of the policies isolating it there.
        deciders: pod key -> the policies each tagged log line of its rules names
            (:attr:`podfence.lab.compiler.PodRules.deciders`).
        policies: keys of the policies applied last.
        manifests: the files ``lab up`` read (``lab apply`` rereads them by default).
        one_shot: made by a command that removes it again (``lab matrix``).
    """

    name: str
    pod_cidr: str
    pods: tuple[LabPod, ...]
    server_pid: int = 0
    rules: dict[str, str] = field(default_factory=dict)
    isolation: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    deciders: dict[str, list[list[dict[str, object]]]] = field(default_factory=dict)
    policies: tuple[str, ...] = ()
    manifests: tuple[str, ...] = ()
    one_shot: bool = False

    def pod(self, key: str) -> LabPod | None:
        for pod in self.pods:
            if pod.key == key:
                return pod
        return None

    def pod_by_index(self, index: int) -> LabPod | None:
        if 1 <= index <= len(self.pods) and self.pods[index - 1].index == index:
            return self.pods[index - 1]
        return next((p for p in self.pods if p.index == index), None)

    def evolve(self, **changes: object) -> LabState:
        return replace(self, **changes)  # type: ignore[arg-type]

    def to_json(self) -> dict[str, object]:
        return {
            "format": FORMAT, "name": self.name, "pod_cidr": self.pod_cidr,
            "pods": [p.to_json() for p in self.pods], "server_pid": self.server_pid,
            "rules": self.rules, "isolation": self.isolation, "deciders": self.deciders,
            "policies": list(self.policies),
            "manifests": list(self.manifests), "one_shot": self.one_shot,
        }

    @classmethod
    def from_json(cls, raw: dict) -> LabState:  # type: ignore[type-arg]
        """The state written by :meth:`to_json`; ValueError (or KeyError, TypeError) when it is not."""
        problem = name_problem(raw["name"]) if isinstance(raw["name"], str) else "the lab name is not text"
        if problem:
            raise ValueError(problem)
        return cls(
            name=raw["name"], pod_cidr=raw["pod_cidr"],
            pods=tuple(LabPod.from_json(p) for p in raw["pods"]), server_pid=int(raw.get("server_pid", 0)),
            rules=dict(raw.get("rules", {})), isolation=dict(raw.get("isolation", {})),
            deciders=_deciders(raw.get("deciders", {})),
            policies=tuple(raw.get("policies", ())), manifests=tuple(raw.get("manifests", ())),
            one_shot=bool(raw.get("one_shot", False)),
        )


def _deciders(raw: object) -> dict[str, list[list[dict[str, object]]]]:
    """What tagged log lines name, as written by :meth:`LabState.to_json` (ValueError otherwise)."""
    if not isinstance(raw, dict):
        raise ValueError("deciders")
    out: dict[str, list[list[dict[str, object]]]] = {}
    for key, lists in raw.items():
        if not isinstance(key, str) or not isinstance(lists, list):
            raise ValueError("deciders")
        for entries in lists:
            if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
                raise ValueError("deciders")
        out[key] = lists
    return out


def save(state: LabState) -> None:
    directory = lab_dir(state.name)
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".state-", dir=directory)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(state.to_json(), fh, indent=1, sort_keys=True)
        os.replace(tmp, directory / "state.json")
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(name: str) -> LabState | None:
    """The lab's state, or None when there is none (or it cannot be read)."""
    try:
        raw = json.loads((lab_dir(name) / "state.json").read_text())
        if raw.get("format") != FORMAT or raw.get("name") != name:
            return None
        return LabState.from_json(raw)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def forget(name: str) -> None:
    shutil.rmtree(lab_dir(name), ignore_errors=True)
