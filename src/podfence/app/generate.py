"""The generate use cases: least-privilege policies from intent or observed traffic, proven.

:func:`from_intent` builds the policy set of an intent file, or of the intent that
observed flows imply (``flows``); with ``check`` it proves the loaded policies
against the intent without writing anything. The building blocks
(:func:`default_deny`, :func:`allow`, :func:`egress`) make one piece at a time.
Every generation ends with the proof. Files (``out``, ``write_intents``) are
written all or none; printed policies come back as text for the face to print.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Sequence, TextIO

from podfence.app.errors import EXIT_FINDINGS, EXIT_INTERNAL, Stop, stop_on_errors
from podfence.app.writing import check_folder, check_writable, write_file, write_files
from podfence.app.loading import load_cluster
from podfence.app.options import Listener, Options, Run, prepare
from podfence.flows import FlowRecord, Skip, observe
from podfence.generate import build, intent_from_dict, intent_to_dict, prove, resolve
from podfence.generate.blocks import (
    Block, allow_block, default_deny_block, default_deny_change, egress_block, stand_in_cluster,
)
from podfence.generate.build import GeneratedPolicy
from podfence.generate.from_flows import intent_from_flows
from podfence.generate.guardrails import GuardrailProof, guardrails, prove_guardrails, with_guardrails
from podfence.generate.proof import Proof, prove_change
from podfence.generate.resolve import Plan
from podfence.loader import codes, read_own_file
from podfence.loader.limits import Budget
from podfence.model import Cluster, Diagnostic, Direction, Settings, Source
from podfence.model.ports import PortSpec, parse_ports
from podfence.model.text import one_line, quoted
from podfence.model.words import plural
from podfence.render.conns import shortened
from podfence.render.generate import converted_yaml, flows_text, intents_yaml, policies_yaml
from podfence.sources import read_flows
from podfence.validate import validate_network_policy


@dataclass(frozen=True, slots=True)
class Generated:
    """The policies made, their YAML when it is to be printed (no ``out``), and the proof.

    ``change``: the proof compares before and after (a building block) rather than
    the whole intent. ``guardrails``: the proof of the intent's cluster-wide
    guardrails, when it has any.
    """

    policies: tuple[GeneratedPolicy, ...]
    printed: str | None
    proof: Proof
    change: bool = False
    guardrails: GuardrailProof | None = None

    @property
    def exact(self) -> bool:
        """True when every proof holds."""
        return self.proof.exact and (self.guardrails is None or self.guardrails.exact)


GUARDRAILS_FILE = "cluster-guardrails.yaml"


def check_places(out: str | None, force: bool, write_intents: str | None = None) -> None:
    """Stop, before any work, at a place podfence could not write to (exit 2)."""
    if out is not None:
        if not out:
            raise Stop("--out '': name a directory")
        check_folder(Path(out), "--out")
    if write_intents is not None:
        if not write_intents:
            raise Stop("--write-intents '': name a file")
        check_writable(Path(write_intents), force, "--write-intents")


def _check_generated(policies: Sequence[GeneratedPolicy], settings: Settings) -> None:
    """Every generated policy must pass API validation; anything else is a podfence bug."""
    for p in policies:
        problems = [d for d in validate_network_policy(p.manifest, namespace=p.namespace, settings=settings)
                    if d.is_error]
        if problems:
            raise Stop(f"podfence: internal error: generated {p.key} fails validation: {problems[0].one_line()} "
                       "(please report it)", code=EXIT_INTERNAL, marked=False)


def _emit(run: Run, policies: Sequence[GeneratedPolicy], out: str | None, force: bool,
          header: list[str], cluster_wide: str = "") -> str | None:
    """The policies' YAML to print, or (with ``out``) one file per namespace written under ``out``.

    ``cluster_wide`` (YAML of cluster-wide policies) follows the policies, or goes
    to its own file under ``out``.
    """
    if out is None:
        text = policies_yaml(list(policies), header)
        return text + ("---\n" if text and cluster_wide and policies else "") + cluster_wide
    by_namespace: dict[str, list[GeneratedPolicy]] = {}
    for p in policies:
        by_namespace.setdefault(p.namespace, []).append(p)
    texts = {f"{ns}.yaml": policies_yaml(ps, header) for ns, ps in sorted(by_namespace.items())}
    if cluster_wide:
        texts[GUARDRAILS_FILE] = cluster_wide
    directory = Path(out)
    stale = sorted(f.name for f in directory.glob("*.yaml") if f.name not in texts) if directory.is_dir() else []
    write_files(directory, texts, force)
    run.say(one_line(f"ok: wrote {plural(len(policies), 'policy', 'policies')} in {plural(len(texts), 'file')} "
                     f"under {directory}"))
    if stale:
        run.say(one_line(f"note: {directory} also holds {', '.join(stale)}, not written this time (remove them "
                         "if they are left from an earlier generation)"))
    return None


def read_flow_records(paths: list[str], budget: Budget | None = None,
                      stdin: TextIO | None = None) -> list[tuple[Source, FlowRecord | Skip]]:
    """Every line of every flow file, parsed; a file that cannot be read stops the run (exit 2)."""
    flows = read_flows(paths, budget, stdin)
    if flows.problem is not None:
        if flows.problem.code == codes.LIMIT:
            stop_on_errors([flows.problem])
        raise Stop(f"--from-flows {flows.problem.one_line()}")
    return list(flows.records)


def _prefix(value: str | None, flag: str, bits: int) -> int | None:
    if value is None or value == "auto":
        return None
    text = value.lstrip("/")
    if not re.fullmatch(r"[0-9]{1,3}", text) or not 0 <= int(text) <= bits:
        raise Stop(f"{flag} {quoted(value)}: a prefix length 0-{bits}, or auto")
    return int(text)


def _coverage_notes(run: Run, plan: Plan, cluster: Cluster, generating: bool,
                    policies: Sequence[GeneratedPolicy]) -> None:
    settings = run.settings
    if plan.covered:
        words = " and ".join(d.value for d in (Direction.INGRESS, Direction.EGRESS) if d in plan.deny)
        run.say(one_line(f"the intent covers {', '.join(plan.covered)}"
                         + (f": a default-deny ({words}) in each" if generating
                            else f" ({words} of every pod there)")))
    named = {p.key for g in plan.grants for p in (g.src, g.dst) if hasattr(p, "key")} | set(plan.described)
    silent = [p.key for p in cluster.pods if p.namespace in plan.covered and p.is_pod_endpoint(settings)
              and p.key not in named]
    if silent:
        gets = "DNS only" if plan.dns else "nothing"
        run.say(one_line(f"note: the intent names no traffic for {shortened(silent, 8)}: "
                         f"{'they get' if len(silent) > 1 else 'it gets'} {gets}"))
    if generating:
        generated = {p.key for p in policies}
        others = [p.key for p in cluster.policies if p.namespace in plan.covered and p.key not in generated]
        replaced = [p.key for p in cluster.policies if p.key in generated]
        if replaced:
            run.say(one_line(f"note: replaces the loaded {shortened(replaced, 8)} (same name)"))
        if others:
            run.say(one_line(f"note: {len(others)} other loaded polic{'ies' if len(others) > 1 else 'y'} in "
                             f"covered namespaces stay in force and take part in the proof: "
                             f"{shortened(others, 8)}"))


def from_intent(options: Options, listener: Listener | None = None, *, intents: str | None = None,
                flows: Sequence[str] = (), out: str | None = None, force: bool = False, check: bool = False,
                write_intents: str | None = None, cidr_prefix: str | None = None,
                cidr_prefix_v6: str | None = None, only_allowed: bool = False,
                stdin: TextIO | None = None) -> Generated:
    """Policies for an intent file or observed flows, with the proof (``check``: prove the loaded ones)."""
    if not intents and not flows:
        raise Stop("say what to generate from: --intents FILE or --from-flows FILE, or use a building block "
                   "(podfence generate default-deny | allow | egress --help)")
    if intents and flows:
        raise Stop("--intents and --from-flows exclude each other")
    if check and (out is not None or write_intents is not None):
        raise Stop("--check writes nothing: drop --out and --write-intents")
    if write_intents is not None and not flows:
        raise Stop("--write-intents needs --from-flows")
    check_places(out, force, write_intents)
    run = prepare(options, listener)
    cfg, settings = run.config, run.settings
    cluster = load_cluster(run).cluster
    place: Callable[[list[Diagnostic], str], Sequence[Diagnostic]]
    if intents:
        own = read_own_file(intents, budget=run.budget)
        stop_on_errors(own.problems)
        intent, found = intent_from_dict(own.data)
        stop_on_errors(own.place(found, "intents"))
        source, place = intents, own.place
    else:
        observed = observe(read_flow_records(list(flows), run.budget, stdin), cluster, settings,
                           only_allowed=only_allowed)
        implied = intent_from_flows(observed, settings, cfg.dns, prefix4=_prefix(cidr_prefix, "--cidr-prefix", 32),
                                    prefix6=_prefix(cidr_prefix_v6, "--cidr-prefix-v6", 128))
        for line in flows_text(observed, implied.foldings, implied.notes, list(flows)).splitlines():
            run.say(one_line(line))
        intent = implied.intent
        source = f"flows observed in {', '.join(flows)}"
        if write_intents is not None:
            text = intents_yaml(intent_to_dict(intent), implied.comments, [
                f"The intent implied by {source}.",
                "Review and edit it, then: podfence generate -f ... --intents THIS_FILE --out DIR",
            ])
            write_file(Path(write_intents), text, force, "--write-intents")
            run.say(one_line(f"ok: wrote the implied intent to {write_intents}"))
            source = write_intents

        def place(found: list[Diagnostic], label: str) -> tuple[Diagnostic, ...]:
            return tuple(d.located(object="implied intent") for d in found)

        if not intent.services:
            raise Stop("the flows imply no connection of a workload in the manifests: nothing to generate",
                       code=EXIT_FINDINGS)
    plan, found = resolve(intent, cluster, settings, cfg.dns, source)
    stop_on_errors(place(found, "intents"))
    plan = _shown(run, plan, options.shown_namespace)
    if check:
        if intent.guardrails:
            run.say("note: --check proves the NetworkPolicies only; the guardrails are proven when they are "
                    "generated")
        _coverage_notes(run, plan, cluster, False, [])
        return Generated((), None, prove(plan, cluster, settings))
    policies = build(plan, settings)
    _check_generated(policies, settings)
    _coverage_notes(run, plan, cluster, True, policies)
    header = [f"Generated by podfence from {source}.",
              "Edit the intent and regenerate; podfence proves these policies allow exactly the intent."]
    rails = guardrails(intent.guardrails, cfg.dns)
    printed = _emit(run, policies, out, force, header, converted_yaml(rails) if rails else "")
    governed = cluster.with_policies(p.policy for p in policies)
    rails_proof = (prove_guardrails(governed, with_guardrails(governed, rails), settings, cfg.dns, intent.guardrails)
                   if rails else None)
    return Generated(tuple(policies), printed, prove(plan, governed, settings), guardrails=rails_proof)


def _shown(run: Run, plan: Plan, namespace: str | None) -> Plan:
    """The plan for one namespace (``-n`` on a live cluster): its policies are written and its pods'
    traffic proven; the intent's other namespaces are left as they are. None: every namespace."""
    if namespace is None:
        return plan
    if namespace not in plan.covered:
        raise Stop(f"-n {namespace}: the intent covers no workload of namespace {namespace!r} (it covers "
                   f"{', '.join(plan.covered) or 'none'}); use -A for every namespace", code=EXIT_FINDINGS)
    run.say(one_line(f"note: -n {namespace}: only the policies of namespace {namespace} are generated and proven "
                     f"(the intent also covers {', '.join(ns for ns in plan.covered if ns != namespace) or 'no other'})"))
    return replace(plan, covered=(namespace,))


def default_deny(options: Options, namespace: str, listener: Listener | None = None, *, ingress: bool = False,
                 egress: bool = False, allow_dns: bool = False, out: str | None = None,
                 force: bool = False) -> Generated:
    """A default-deny policy for ``namespace`` (and DNS egress with ``allow_dns``), proven.

    Without manifests the proof runs on a stand-in cluster: a pod in the namespace,
    one outside, and the cluster DNS.
    """
    check_places(out, force)
    run = prepare(options, listener)
    cfg, settings = run.config, run.settings
    directions = frozenset(d for d, on in ((Direction.INGRESS, ingress), (Direction.EGRESS, egress)) if on) or \
        frozenset(Direction)
    if allow_dns and Direction.EGRESS not in directions:
        run.say("note: --allow-dns adds nothing when egress is not denied")
    dns = cfg.dns if allow_dns else None
    policies = default_deny_block(namespace, directions, dns, settings)
    _check_generated(policies, settings)
    if options.files or (options.live is not None and options.live.asked):
        cluster = load_cluster(run, namespace="default").cluster
    else:
        cluster = stand_in_cluster(namespace, cfg.dns)
        run.say(one_line(f"note: no manifests (-f): proven on a stand-in cluster (a pod in {namespace}, one "
                         "outside, the cluster DNS)"))
    printed = _emit(run, policies, out, force, ["Generated by podfence generate default-deny."])
    # Proven by comparing before and after: the namespace's pods lose what the
    # default-deny takes away (asked for); nothing else may change.
    change = default_deny_change(cluster, namespace, directions, dns, settings)
    return Generated(tuple(policies), printed,
                     prove_change(cluster, cluster.with_policies(p.policy for p in policies), settings, change.grants,
                                  change.subjects, isolate=directions), change=True)


def _ports(values: Sequence[str]) -> tuple[PortSpec, ...]:
    ports, problems = parse_ports(list(values), ("--port",))
    if problems:
        raise Stop(f"--port: {problems[0][1]}")
    return ports


def _block(run: Run, cluster: Cluster, made: tuple[Block | None, Sequence[Diagnostic]], out: str | None,
           force: bool, header: str, isolate: bool = False) -> Generated:
    """One building block, written or printed, and proven by comparing before and after.

    ``isolate``: connections the new policies take away from others (by isolating
    their pods) are reported, not a failed proof.
    """
    block, problems = made
    stop_on_errors(problems)
    assert block is not None
    policies = list(block.policies)
    _check_generated(policies, run.settings)
    printed = _emit(run, policies, out, force, [header])
    after = cluster.with_policies(p.policy for p in policies)
    return Generated(tuple(policies), printed,
                     prove_change(cluster, after, run.settings, block.grants, block.subjects,
                                  isolate=frozenset(Direction) if isolate else frozenset()), change=True)


def allow(options: Options, src: str, dst: str, ports: Sequence[str], listener: Listener | None = None, *,
          out: str | None = None, force: bool = False, isolate: bool = False) -> Generated:
    """Allow one workload to reach another: ingress on the destination, egress on the source if isolated."""
    check_places(out, force)
    parsed = _ports(ports)
    run = prepare(options, listener)
    cluster = load_cluster(run).cluster
    return _block(run, cluster, allow_block(cluster, run.settings, src, dst, parsed), out, force,
                  f"Generated by podfence generate allow --from {src} --to {dst}.", isolate)


def egress(options: Options, src: str, to_cidr: str, excepts: Sequence[str], ports: Sequence[str],
           listener: Listener | None = None, *, out: str | None = None, force: bool = False,
           isolate: bool = False) -> Generated:
    """Allow one workload to send to addresses outside the cluster on the given ports."""
    check_places(out, force)
    parsed = _ports(ports)
    run = prepare(options, listener)
    cluster = load_cluster(run).cluster
    return _block(run, cluster, egress_block(cluster, run.settings, src, to_cidr, tuple(excepts), parsed), out,
                  force, f"Generated by podfence generate egress --from {src} --to-cidr {to_cidr}.", isolate)


__all__ = ["Generated", "allow", "default_deny", "egress", "from_intent", "read_flow_records"]
