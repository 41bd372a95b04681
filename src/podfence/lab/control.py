"""The lab's lifecycle: up, down and status (apply, probe and show build on it).

Every function here needs root and nftables and raises :class:`LabError` with a
one-line message when something stands in the way; the CLI prints that line.
Each holds the lab's lock (:mod:`podfence.lab.lock`) while it works. A caller that
runs several of them as one command (``lab matrix``, ``test --lab``, the lab
benchmark) opens one :class:`LabSession`: preflight, the lock around them all,
and for a one-shot lab its removal at the end.
"""

from __future__ import annotations

import subprocess
import sys
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Callable, Iterable, Iterator

from podfence.engine import Connectivity, Engine, Matrix
from podfence.lab import linux, lock, neighbours, nft, probe as probing, topology
from podfence.lab import state as lab_state
from podfence.lab.compiler import Compiler, PodRules, comment_text, transaction
from podfence.lab.naming import DEFAULT_LAB_NAME, LabNames, name_problem
from podfence.lab.plan import DEFAULT_POD_CIDR, LabPlan, LabPod, PlanError, plan, unhostable, with_lab_addresses
from podfence.model import Cluster, Settings
from podfence.sets import Protocol

Progress = Callable[[int], None]


class LabError(Exception):
    """Something stops the lab; the message is one line for the user."""


def preflight(name: str) -> LabNames:
    """Check root, nftables and the lab name; return the lab's names."""
    problem = name_problem(name) or linux.missing_requirement()
    if problem:
        raise LabError(problem)
    return LabNames(name)


@contextmanager
def locked(name: str, wait: float = lock.DEFAULT_WAIT,
           on_wait: Callable[[int | None], None] | None = None) -> Iterator[None]:
    """Hold the lab's lock for the body: one command at a time per lab name.

    Waits up to ``wait`` seconds for a command that holds it (``on_wait`` hears
    its pid), then gives up with "lab NAME is in use by pid N".
    """
    try:
        with lock.hold(name, wait, on_wait):
            yield
    except lock.LockError as exc:
        raise LabError(str(exc)) from None


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
       extra_ports: tuple[int, ...] = (), manifests: tuple[str, ...] = (), progress: Progress | None = None,
       on_plan: Callable[[int], None] | None = None, one_shot: bool = False) -> UpResult:
    """Create the lab for ``cluster``: clean a stale lab of the same name, wire pods, start servers.

    ``on_plan`` hears how many steps ``progress`` will count (two per routed pod).
    ``one_shot`` marks a lab that its command removes again (``lab matrix``,
    ``test --lab``): such a run replaces a leftover of an earlier one-shot run,
    but never a lab that ``lab up`` made and someone may still be using.
    """
    names = preflight(name)
    problems = unhostable(cluster, settings)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise LabError(problems[0].diagnostic().one_line() + more)
    with locked(name):
        try:
            layout = plan(cluster, settings, pod_cidr, extra_ports)
        except PlanError as exc:
            raise LabError(str(exc)) from None
        old = lab_state.load(name)
        if one_shot and old is not None and not old.one_shot and topology.lab_netns(names):
            raise LabError(f"lab {name!r} is up (made by 'podfence lab up'): give this run another --name, "
                           f"or remove that lab first with podfence lab down --name {name}")
        return _up(cluster, settings, names, layout, manifests, progress, on_plan, one_shot)


def _up(cluster: Cluster, settings: Settings, names: LabNames, layout: LabPlan, manifests: tuple[str, ...],
        progress: Progress | None, on_plan: Callable[[int], None] | None, one_shot: bool) -> UpResult:
    name = names.lab
    cleaned = tuple(clean(names))
    routed = sum(1 for p in layout.pods if not p.host_network)
    try:
        sized = neighbours.size(coming=routed)
    except neighbours.TooSmall as exc:
        raise LabError(str(exc)) from None
    if on_plan:
        on_plan(2 * routed)
    current = lab_state.LabState(name=name, pod_cidr=layout.pod_cidr, pods=layout.pods,
                                 manifests=tuple(str(Path(m).resolve()) if m != "-" else m for m in manifests),
                                 one_shot=one_shot)
    lab_state.save(current)
    try:
        topology.create(names, layout.pods, progress)
        current = current.evolve(server_pid=start_server(name))
    except (OSError, LabError) as exc:
        clean(names)
        raise LabError(f"lab up failed: {exc}") from None
    lab_state.save(current)
    return UpResult(current, (*layout.notes, *sized), cleaned)


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
    names = preflight(name)
    with locked(name):
        return clean(names)


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
    with locked(name):
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


def lab_cluster(cluster: Cluster, current: lab_state.LabState, settings: Settings) -> Cluster:
    """``cluster`` with the lab's addresses, after checking it has exactly the lab's pods."""
    wanted = {p.key for p in current.pods}
    given = {p.key for p in cluster.pods if p.takes_part(settings)}
    if wanted != given:
        missing, extra = sorted(wanted - given), sorted(given - wanted)
        detail = "; ".join(
            part for part in (
                f"missing {', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''}" if missing else "",
                f"new {', '.join(extra[:3])}{' ...' if len(extra) > 3 else ''}" if extra else "",
            ) if part
        )
        raise LabError(f"these manifests do not have the lab's pods ({detail}): run podfence lab up -f ... again")
    return with_lab_addresses(cluster, LabPlan(current.pods, current.pod_cidr))


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """Which pods' rules changed, and how many pods are isolated now."""

    changed: tuple[str, ...]
    isolated: int
    pods: int
    rules: dict[str, PodRules]


def compile_rules(cluster: Cluster, settings: Settings, current: lab_state.LabState) -> dict[str, PodRules]:
    """Every lab pod's rules for ``cluster`` (which must carry the lab's addresses); its staged
    policies are enforced as audit only."""
    compiler = Compiler(cluster, settings, current.pods, current.name)
    return {p.key: compiler.compile(p) for p in current.pods}


def apply(cluster: Cluster, settings: Settings, *, name: str = DEFAULT_LAB_NAME,
          progress: Progress | None = None, on_plan: Callable[[int], None] | None = None) -> ApplyResult:
    """Enforce ``cluster``'s NetworkPolicies: update only the pods whose rules changed.

    Each changed pod gets one nft transaction in its namespace; they run side by
    side. The compiled text of every isolated pod is kept for ``lab show``.
    """
    names = preflight(name)
    with locked(name):
        return _apply(cluster, settings, names, progress, on_plan)


def _apply(cluster: Cluster, settings: Settings, names: LabNames, progress: Progress | None,
           on_plan: Callable[[int], None] | None) -> ApplyResult:
    name = names.lab
    current = require_state(name)
    compiled = compile_rules(lab_cluster(cluster, current, settings), settings, current)
    changed = [k for k, r in compiled.items() if r.digest != current.rules.get(k, "")]
    if on_plan:
        on_plan(len(changed))
    jobs = []
    for key in changed:
        pod = current.pod(key)
        assert pod is not None
        jobs.append((names.pod_netns(pod.index), transaction(names.table, compiled[key].ruleset)))
    failures = nft.run_many(jobs, progress)
    by_netns = {names.pod_netns(p.index): p.key for p in current.pods}
    failed = {by_netns[n]: why for n, why in failures.items()}
    rules_dir = lab_state.lab_dir(name) / "rules"
    rules_dir.mkdir(parents=True, exist_ok=True)
    digests = dict(current.rules)
    for key in changed:
        if key in failed:
            continue
        digests[key] = compiled[key].digest
        path = rules_dir / f"{current.pod(key).index}.nft"  # type: ignore[union-attr]
        if compiled[key].ruleset:
            path.write_text(compiled[key].ruleset)
        else:
            path.unlink(missing_ok=True)
    isolation = {
        k: {"ingress": list(r.ingress), "egress": list(r.egress)} for k, r in compiled.items() if r.ruleset
    }
    deciders = {k: [list(d) for d in r.deciders] for k, r in compiled.items() if r.deciders}
    lab_state.save(current.evolve(rules=digests, isolation=isolation, deciders=deciders,
                                  policies=tuple(p.key for p in cluster.policies)))
    if failed:
        key, why = sorted(failed.items())[0]
        raise LabError(f"nft refused the rules of {key}: {why.splitlines()[0] if why else 'unknown error'}")
    return ApplyResult(tuple(changed), sum(1 for r in compiled.values() if r.ruleset), len(compiled), compiled)


def show(name: str, key: str, live: bool = False) -> str:
    """The nft rules of one pod: as compiled (with comments), or as the kernel holds them."""
    preflight(name)
    with locked(name):
        return _show(name, key, live)


def _show(name: str, key: str, live: bool) -> str:
    names = LabNames(name)
    current = require_state(name)
    pod = current.pod(key)
    if pod is None:
        raise LabError(f"the lab has no pod {key!r}")
    if pod.host_network:
        return (f"# {comment_text(key)} is a hostNetwork pod: it lives in the node namespace and no policy "
                "applies to it\n")
    if live:
        return nft.run(names.pod_netns(pod.index), "list ruleset") or f"# {comment_text(key)}: no nftables rules\n"
    path = lab_state.lab_dir(name) / "rules" / f"{pod.index}.nft"
    if not path.exists():
        return f"# {comment_text(key)}: no policy isolates this pod, so it has no rules (everything is allowed)\n"
    return path.read_text()


@dataclass(frozen=True, slots=True)
class ProbeRun:
    results: tuple[probing.ProbeResult, ...]
    matrices: dict[tuple[Protocol, int], Matrix]
    notes: tuple[str, ...] = ()


def probe_cells(cells: list[tuple[Protocol, int]]) -> None:
    problem = probing.check_protocols(p for p, _ in cells)
    if problem:
        raise LabError(problem)


def probe(cells: list[tuple[Protocol, int]], *, name: str = DEFAULT_LAB_NAME, timeout: float = probing.MIN_TIMEOUT,
          sources: tuple[str, ...] = (), targets: tuple[str, ...] = (), progress: Progress | None = None,
          on_plan: Callable[[int], None] | None = None, protocols: tuple[Protocol, ...] = ()) -> ProbeRun:
    """Connect from every pod (or ``sources``) to every pod (or ``targets``) on each cell.

    Without ``cells``, each destination is probed on the ports it declares (of
    ``protocols`` when given), one matrix per declared port with its declaring pods
    as the columns.

    The results are trusted only if the dataplane was healthy (see :func:`check_health`):
    every pod involved reaches its node before and after, and the machine's neighbour
    tables refused no entry meanwhile. Otherwise LabError, never a matrix.
    """
    names = preflight(name)
    probe_cells(cells)
    with locked(name):
        return _probe(cells, names, timeout, sources, targets, progress, on_plan, protocols)


def _probe(cells: list[tuple[Protocol, int]], names: LabNames, timeout: float, sources: tuple[str, ...],
           targets: tuple[str, ...], progress: Progress | None, on_plan: Callable[[int], None] | None,
           protocols: tuple[Protocol, ...] = ()) -> ProbeRun:
    current = require_state(names.lab)
    for key in (*sources, *targets):
        if current.pod(key) is None:
            raise LabError(f"the lab has no pod {key!r}")
    src = [p for p in current.pods if not sources or p.key in sources]
    dst = [p for p in current.pods if not targets or p.key in targets]
    if cells:
        columns = {cell: dst for cell in cells}
        planned = probing.probes_for(src, dst, cells)
    else:
        columns = dict(probing.declared_cells(dst, protocols))
        if not columns:
            wanted = "/".join(protocols) + " " if protocols else ""
            raise LabError(f"no destination pod declares a {wanted}container port: give --port")
        cells = list(columns)
        probe_cells(cells)
        planned = [pr for cell, pods in columns.items() for pr in probing.probes_for(src, pods, [cell])]
    try:
        sized = neighbours.size()
    except neighbours.TooSmall as exc:
        raise LabError(str(exc)) from None
    involved = {p.key: p for p in (*src, *dst)}.values()
    check_health(names, involved, timeout)
    if on_plan:
        on_plan(len(planned))
    before = neighbours.overflows()
    results = probing.Prober(names, timeout, progress=progress).run(planned)
    _check_overflows(before, "while probing")
    check_health(names, involved, timeout)
    return ProbeRun(tuple(results), probing.matrices(results, current.pods, cells, src, columns), tuple(sized))


def check_health(names: LabNames, pods: Iterable[LabPod], timeout: float = probing.MIN_TIMEOUT) -> None:
    """Raise LabError unless every routed pod of ``pods`` reaches its node (health probes)."""
    checks = probing.health_probes(pods)
    before = neighbours.overflows()
    failed = [r for r in probing.Prober(names, timeout).run(checks) if not r.outcome.reached]
    _check_overflows(before, "", failed)
    if failed:
        first = min(failed, key=lambda r: (r.probe.src.index, r.probe.version)).probe
        count = len({r.probe.src.key for r in failed})
        raise LabError(f"the lab's dataplane is failing: {count} of {len({c.src.key for c in checks})} pods got "
                       f"no answer from their node (the first: {first.src.key!r} over IPv{first.version}), so "
                       "probes would report denials that no policy made")


def _check_overflows(before: dict[int, int], during: str, failed: list[probing.ProbeResult] | None = None) -> None:
    """Raise LabError when a neighbour table refused entries since ``before`` (or, with
    ``failed``, only when health probes failed as well: then the table is why)."""
    after = neighbours.overflows()
    full = [v for v in sorted(after) if v in before and after[v] > before[v]]
    if not full or (failed is not None and not failed):
        return
    version = full[0]
    limits = neighbours.read_limits(version)
    limit = f"={limits.gc_thresh3}" if limits else ""
    what = f"{after[version] - before[version]} times {during}".rstrip()
    raise LabError(f"the machine's IPv{version} neighbour table was full ({what}; "
                   f"{neighbours.sysctl(version, 'gc_thresh3')}{limit}), so probes would report denials that no "
                   "policy made: raise it, or run fewer lab pods at once")


class LabSession:
    """One lab from preflight to down, as one command works on it.

    Entering checks root, nftables and the name, and takes the lab's lock (waiting
    up to ``wait`` seconds; ``on_wait`` hears the holder's pid); leaving releases
    it. Every step in between (:meth:`up`, :meth:`apply`, :meth:`probe`,
    :meth:`down`) runs under that one lock, so no other command sees the lab half
    made. A ``one_shot`` session makes a lab that it removes again when it ends,
    however it ends, and never replaces a lab that ``lab up`` made (see :func:`up`).

    Example::

        with LabSession("pftest", one_shot=True) as lab:
            lab.up(cluster, settings, extra_ports=(80,))
            lab.apply(cluster, settings)
            run = lab.probe([(Protocol.TCP, 80)])
        expected = lab.connectivity(cluster, settings).matrix(Protocol.TCP, 80)
    """

    def __init__(self, name: str = DEFAULT_LAB_NAME, *, wait: float = lock.DEFAULT_WAIT,
                 on_wait: Callable[[int | None], None] | None = None, one_shot: bool = False) -> None:
        self.name = name
        self.one_shot = one_shot
        self.state: lab_state.LabState | None = None  # the lab this session made, once it is up
        self._wait = wait
        self._on_wait = on_wait
        self._stack = ExitStack()
        self._made = False  # up, and not yet down

    def __enter__(self) -> LabSession:
        preflight(self.name)
        self._stack.enter_context(locked(self.name, self._wait, self._on_wait))
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        with self._stack:
            if self.one_shot and self._made:
                self.down()

    def up(self, cluster: Cluster, settings: Settings, *, pod_cidr: str = DEFAULT_POD_CIDR,
           extra_ports: tuple[int, ...] = (), manifests: tuple[str, ...] = (), progress: Progress | None = None,
           on_plan: Callable[[int], None] | None = None) -> UpResult:
        """Create the lab for ``cluster`` (see :func:`up`)."""
        result = up(cluster, settings, name=self.name, pod_cidr=pod_cidr, extra_ports=extra_ports,
                    manifests=manifests, progress=progress, on_plan=on_plan, one_shot=self.one_shot)
        self.state, self._made = result.state, True
        return result

    def apply(self, cluster: Cluster, settings: Settings, *, progress: Progress | None = None,
              on_plan: Callable[[int], None] | None = None) -> ApplyResult:
        """Enforce ``cluster``'s NetworkPolicies (see :func:`apply`)."""
        return apply(cluster, settings, name=self.name, progress=progress, on_plan=on_plan)

    def probe(self, cells: list[tuple[Protocol, int]], *, timeout: float = probing.MIN_TIMEOUT,
              sources: tuple[str, ...] = (), targets: tuple[str, ...] = (), progress: Progress | None = None,
              on_plan: Callable[[int], None] | None = None, protocols: tuple[Protocol, ...] = ()) -> ProbeRun:
        """Probe pod pairs on ``cells`` (see :func:`probe`)."""
        return probe(cells, name=self.name, timeout=timeout, sources=sources, targets=targets,
                     progress=progress, on_plan=on_plan, protocols=protocols)

    def down(self) -> list[str]:
        """Remove the lab; return the namespaces removed."""
        removed = down(self.name)
        self._made = False
        return removed

    def connectivity(self, cluster: Cluster, settings: Settings) -> Connectivity:
        """The engine's answer for ``cluster`` on the lab's pod addresses, to hold the packets against.

        The lab is the one this session brought up (it may be down again by now),
        else the lab of this name that is up.
        """
        current = self.state or require_state(self.name)
        return Engine(with_lab_addresses(cluster, LabPlan(current.pods, current.pod_cidr)), settings).connectivity()
