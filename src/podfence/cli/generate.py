"""podfence generate: least-privilege policies from intent or observed traffic, proven.

``podfence generate -f PATH --intents FILE [--out DIR]`` writes the policy set of an
intent file; ``--from-flows FILE...`` derives the intent from Hubble or Calico
flows (or the lab's denial stream) first; ``--check`` proves the loaded policies
against the intent without writing anything. The building blocks
``default-deny``, ``allow`` and ``egress`` print one piece at a time. Every
generation ends with the proof; exit 1 when it finds a difference.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from podfence.cli.common import (
    TIMEOUT, ContextName, Kubeconfig, Live, RequestTimeout,
    DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, EXIT_FINDINGS, EXIT_INTERNAL, AllowEmpty, ConfigPath, Filenames,
    MaxInputBytes, MaxObjects, Namespace, SettingValues, StrictCidr, check_folder, check_writable, choose,
    exit_on_errors, fail, input_budget, load_cluster, load_config, namespace_flag, settings_from, write, write_file,
    write_files,
)
from podfence.config import Config
from podfence.flows import FlowRecord, Skip, observe
from podfence.generate import build, intent_from_dict, intent_to_dict, prove, resolve
from podfence.generate.blocks import (
    allow_block, default_deny_block, default_deny_change, egress_block, stand_in_cluster,
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
from podfence.render.conns import shortened
from podfence.render.generate import (
    converted_yaml, flows_text, guardrail_proof_data, guardrail_proof_text, intents_yaml, policies_yaml, proof_json,
    proof_text,
)
from podfence.sources import read_flows
from podfence.validate import validate_network_policy

app = typer.Typer(
    help="Least-privilege NetworkPolicies from an intent file or observed traffic, proven by the engine.",
    add_completion=False,
    rich_markup_mode=None,
)

Out = Annotated[Optional[str], typer.Option("--out", metavar="DIR",
                                            help="Write one file per namespace under DIR instead of printing.")]
Force = Annotated[bool, typer.Option("--force", help="Overwrite files that exist.")]
Output = Annotated[str, typer.Option("-o", "--output", help="The proof report: text or json.")]
FromWorkload = Annotated[str, typer.Option("--from", metavar="NS/WORKLOAD", help="The source workload.")]
Destination = Annotated[str, typer.Option("--to", metavar="NS/WORKLOAD",
                                          help="The destination: a workload, svc/NS/NAME, or NS/* .")]
Ports = Annotated[list[str], typer.Option("--port", metavar="P[/PROTO]",
                                          help="Port: 8080, 53/UDP, 10000-10099, a name, or '*'. Repeatable.")]
PROOF_FORMATS = ("text", "json")


def note(message: str) -> None:
    sys.stderr.write(f"{one_line(message)}\n")


def check_places(out: str | None, force: bool, write_intents: str | None = None) -> None:
    """Refuse, before any work, a place podfence could not write to (exit 2)."""
    if out is not None:
        if not out:
            fail("--out '': name a directory")
        check_folder(Path(out), "--out")
    if write_intents is not None:
        if not write_intents:
            fail("--write-intents '': name a file")
        check_writable(Path(write_intents), force, "--write-intents")


def check_generated(policies: list[GeneratedPolicy], settings: Settings) -> None:
    """Every generated policy must pass API validation; anything else is a podfence bug."""
    for p in policies:
        problems = [d for d in validate_network_policy(p.manifest, namespace=p.namespace, settings=settings)
                    if d.is_error]
        if problems:
            note(f"podfence: internal error: generated {p.key} fails validation: {problems[0].one_line()} "
                 "(please report it)")
            raise typer.Exit(EXIT_INTERNAL)


def emit(policies: list[GeneratedPolicy], out: str | None, force: bool, header: list[str],
         cluster_wide: str = "") -> None:
    """Print the policies, or write one file per namespace under ``out``; ``cluster_wide`` (YAML of
    cluster-wide policies) follows them, or goes to its own file."""
    if out is None:
        text = policies_yaml(policies, header)
        write(text + ("---\n" if text and cluster_wide and policies else "") + cluster_wide)
        return
    by_namespace: dict[str, list[GeneratedPolicy]] = {}
    for p in policies:
        by_namespace.setdefault(p.namespace, []).append(p)
    files = {f"{ns}.yaml": policies_yaml(ps, header) for ns, ps in sorted(by_namespace.items())}
    if cluster_wide:
        files[GUARDRAILS_FILE] = cluster_wide
    directory = Path(out)
    stale = sorted(f.name for f in directory.glob("*.yaml") if f.name not in files) if directory.is_dir() else []
    write_files(directory, files, force)
    note(f"wrote {len(policies)} policies in {len(files)} files under {directory}")
    if stale:
        note(f"note: {directory} also holds {', '.join(stale)}, not written this time (remove them if they are "
             "left from an earlier generation)")


GUARDRAILS_FILE = "cluster-guardrails.yaml"


def report_with_guardrails(proof: Proof, rails: GuardrailProof | None, output: str, to_stdout: bool) -> None:
    """The NetworkPolicies' proof, then the guardrails' (when asked for); exit 1 unless both hold."""
    if rails is None:
        report(proof, output, to_stdout)
        return
    if output == "json":
        data = json.loads(proof_json(proof))
        data["guardrails"] = guardrail_proof_data(rails)
        text = json.dumps(data, indent=2) + "\n"
    else:
        text = proof_text(proof) + guardrail_proof_text(rails)
    if to_stdout:
        write(text)
    else:
        sys.stderr.write(text)
    if not proof.exact or not rails.exact:
        raise typer.Exit(EXIT_FINDINGS)


def report(proof: Proof, output: str, to_stdout: bool, change: bool = False) -> None:
    text = proof_json(proof) if output == "json" else proof_text(proof, change=change)
    if to_stdout:
        write(text)
    else:
        sys.stderr.write(text)
    if not proof.exact:
        raise typer.Exit(EXIT_FINDINGS)


def _settings(config: str | None, setting: list[str], strict_cidr: bool,
              budget: Budget | None = None) -> tuple[Config, Settings]:
    cfg = load_config(config, budget)
    return cfg, settings_from(setting, strict_cidr, cfg.settings)


def read_flow_records(paths: list[str], budget: Budget | None = None) -> list[tuple[Source, FlowRecord | Skip]]:
    """Every line of every flow file, parsed; a file that cannot be read ends the command (exit 2)."""
    flows = read_flows(paths, budget, sys.stdin)
    if flows.problem is not None:
        if flows.problem.code == codes.LIMIT:
            exit_on_errors([flows.problem])
        fail(f"--from-flows {flows.problem.one_line()}")
    return list(flows.records)


def _prefix(value: str | None, flag: str, bits: int) -> int | None:
    if value is None or value == "auto":
        return None
    text = value.lstrip("/")
    if not re.fullmatch(r"[0-9]{1,3}", text) or not 0 <= int(text) <= bits:
        fail(f"{flag} {quoted(value)}: a prefix length 0-{bits}, or auto")
    return int(text)


def listing(items: list[str], limit: int = 8) -> str:
    """``a, b, c`` or ``a, b and 12 more``."""
    return shortened(items, limit)


def _coverage_notes(plan: Plan, cluster: Cluster, settings: Settings, generating: bool,
                    policies: list[GeneratedPolicy]) -> None:
    if plan.covered:
        words = " and ".join(d.value for d in (Direction.INGRESS, Direction.EGRESS) if d in plan.deny)
        note(f"the intent covers {', '.join(plan.covered)}"
             + (f": a default-deny ({words}) in each" if generating else f" ({words} of every pod there)"))
    named = {p.key for g in plan.grants for p in (g.src, g.dst) if hasattr(p, "key")} | set(plan.described)
    silent = [p.key for p in cluster.pods if p.namespace in plan.covered and p.is_pod_endpoint(settings)
              and p.key not in named]
    if silent:
        gets = "DNS only" if plan.dns else "nothing"
        note(f"note: the intent names no traffic for {listing(silent)}: {'they get' if len(silent) > 1 else 'it gets'} "
             f"{gets}")
    if generating:
        generated = {p.key for p in policies}
        others = [p.key for p in cluster.policies if p.namespace in plan.covered and p.key not in generated]
        replaced = [p.key for p in cluster.policies if p.key in generated]
        if replaced:
            note(f"note: replaces the loaded {listing(replaced)} (same name)")
        if others:
            note(f"note: {len(others)} other loaded polic{'ies' if len(others) > 1 else 'y'} in covered namespaces "
                 f"stay in force and take part in the proof: {listing(others)}")


@app.callback(invoke_without_command=True)
def generate(
    ctx: typer.Context,
    filename: Filenames = [],  # noqa: B006
    intents: Annotated[Optional[str], typer.Option("--intents", metavar="FILE",
                                                   help="The intent file (README: Generate).")] = None,
    from_flows: Annotated[list[str], typer.Option(
        "--from-flows", metavar="FILE",
        help="Hubble (hubble observe -o json), Calico flow logs or the lab's denial stream; - for stdin. "
             "Repeatable.")] = [],  # noqa: B006
    out: Out = None,
    force: Force = False,
    check: Annotated[bool, typer.Option("--check", help="Prove the loaded policies (-f) against the intent; "
                                                        "write nothing.")] = False,
    write_intents: Annotated[Optional[str], typer.Option(
        "--write-intents", metavar="FILE", help="With --from-flows: write the implied intent file.")] = None,
    cidr_prefix: Annotated[Optional[str], typer.Option(
        "--cidr-prefix", metavar="N", help="Fold each observed IPv4 address into its /N (default auto: one /32 "
                                           "per address up to 4, else the smallest covering CIDR).")] = None,
    cidr_prefix_v6: Annotated[Optional[str], typer.Option(
        "--cidr-prefix-v6", metavar="N", help="The same for IPv6 addresses.")] = None,
    only_allowed: Annotated[bool, typer.Option("--only-allowed",
                                               help="Leave out flows that were denied when observed.")] = False,
    output: Output = "text",
    namespace: Namespace = "default",
    strict_cidr: StrictCidr = False,
    config: ConfigPath = None,
    setting: SettingValues = [],  # noqa: B006
    allow_empty: AllowEmpty = False,
    max_input_bytes: MaxInputBytes = DEFAULT_MAX_INPUT_BYTES,
    max_objects: MaxObjects = DEFAULT_MAX_OBJECTS,
    kubeconfig: Kubeconfig = None,
    context: ContextName = None,
    request_timeout: RequestTimeout = TIMEOUT,
) -> None:
    """Generate least-privilege policies from --intents or --from-flows, and prove them."""
    if ctx.invoked_subcommand is not None:
        if filename or intents or from_flows or out is not None or check or write_intents is not None \
                or kubeconfig is not None or context is not None:
            fail(f"options go after the building block: podfence generate {ctx.invoked_subcommand} -f ...")
        return
    choose(output, PROOF_FORMATS, "-o")
    if not intents and not from_flows:
        fail("say what to generate from: --intents FILE or --from-flows FILE, or use a building block "
             "(podfence generate default-deny | allow | egress --help)")
    if intents and from_flows:
        fail("--intents and --from-flows exclude each other")
    if check and (out is not None or write_intents is not None):
        fail("--check writes nothing: drop --out and --write-intents")
    if write_intents is not None and not from_flows:
        fail("--write-intents needs --from-flows")
    check_places(out, force, write_intents)
    budget = input_budget(max_input_bytes, max_objects)
    cfg, settings = _settings(config, setting, strict_cidr, budget)
    live = Live(kubeconfig, context, request_timeout)
    cluster = load_cluster(filename, namespace, settings, budget, allow_empty, live).cluster
    if intents:
        own = read_own_file(intents, budget=budget)
        exit_on_errors(own.problems)
        intent, found = intent_from_dict(own.data)
        exit_on_errors(own.place(found, "intents"))
        source, place = intents, own.place
    else:
        observed = observe(read_flow_records(from_flows, budget), cluster, settings, only_allowed=only_allowed)
        implied = intent_from_flows(observed, settings, cfg.dns, prefix4=_prefix(cidr_prefix, "--cidr-prefix", 32),
                                    prefix6=_prefix(cidr_prefix_v6, "--cidr-prefix-v6", 128))
        for line in flows_text(observed, implied.foldings, implied.notes, from_flows).splitlines():
            note(line)
        intent = implied.intent
        source = f"flows observed in {', '.join(from_flows)}"
        if write_intents is not None:
            text = intents_yaml(intent_to_dict(intent), implied.comments, [
                f"The intent implied by {source}.",
                "Review and edit it, then: podfence generate -f ... --intents THIS_FILE --out DIR",
            ])
            write_file(Path(write_intents), text, force, "--write-intents")
            note(f"wrote the implied intent to {write_intents}")
            source = write_intents

        def place(found: list[Diagnostic], label: str) -> tuple[Diagnostic, ...]:
            return tuple(d.located(object="implied intent") for d in found)

        if not intent.services:
            fail("the flows imply no connection of a workload in the manifests: nothing to generate", EXIT_FINDINGS)
    plan, found = resolve(intent, cluster, settings, cfg.dns, source)
    exit_on_errors(place(found, "intents"))
    if check:
        if intent.guardrails:
            note("note: --check proves the NetworkPolicies only; the guardrails are proven when they are generated")
        _coverage_notes(plan, cluster, settings, False, [])
        report(prove(plan, cluster, settings), output, to_stdout=True)
        return
    policies = build(plan, settings)
    check_generated(policies, settings)
    _coverage_notes(plan, cluster, settings, True, policies)
    header = [f"Generated by podfence from {source}.",
              "Edit the intent and regenerate; podfence proves these policies allow exactly the intent."]
    rails = guardrails(intent.guardrails, cfg.dns)
    emit(policies, out, force, header, converted_yaml(rails) if rails else "")
    governed = cluster.with_policies(p.policy for p in policies)
    rails_proof = (prove_guardrails(governed, with_guardrails(governed, rails), settings, cfg.dns,
                                    intent.guardrails) if rails else None)
    report_with_guardrails(prove(plan, governed, settings), rails_proof, output, to_stdout=out is not None)


@app.command("default-deny")
def default_deny(
    namespace: Annotated[str, typer.Option("-n", "--namespace", callback=namespace_flag,
                                           help="The namespace to isolate.")] = ...,  # type: ignore[assignment]
    ingress: Annotated[bool, typer.Option("--ingress", help="Deny ingress (default: both directions).")] = False,
    egress: Annotated[bool, typer.Option("--egress", help="Deny egress (default: both directions).")] = False,
    allow_dns: Annotated[bool, typer.Option("--allow-dns", help="Allow UDP and TCP 53 to the cluster DNS "
                                                                "(from the config's dns section).")] = False,
    filename: Filenames = [],  # noqa: B006
    out: Out = None,
    force: Force = False,
    output: Output = "text",
    config: ConfigPath = None,
    setting: SettingValues = [],  # noqa: B006
    allow_empty: AllowEmpty = False,
    max_input_bytes: MaxInputBytes = DEFAULT_MAX_INPUT_BYTES,
    max_objects: MaxObjects = DEFAULT_MAX_OBJECTS,
    kubeconfig: Kubeconfig = None,
    context: ContextName = None,
    request_timeout: RequestTimeout = TIMEOUT,
) -> None:
    """A default-deny policy for one namespace (and DNS egress with --allow-dns)."""
    choose(output, PROOF_FORMATS, "-o")
    check_places(out, force)
    budget = input_budget(max_input_bytes, max_objects)
    cfg, settings = _settings(config, setting, False, budget)
    directions = frozenset(d for d, on in ((Direction.INGRESS, ingress), (Direction.EGRESS, egress)) if on) or \
        frozenset(Direction)
    if allow_dns and Direction.EGRESS not in directions:
        note("note: --allow-dns adds nothing when egress is not denied")
    dns = cfg.dns if allow_dns else None
    policies = default_deny_block(namespace, directions, dns, settings)
    check_generated(policies, settings)
    live = Live(kubeconfig, context, request_timeout)
    if filename or live.asked:
        cluster = load_cluster(filename, "default", settings, budget, allow_empty, live).cluster
    else:
        cluster = stand_in_cluster(namespace, cfg.dns)
        note(f"note: no manifests (-f): proven on a stand-in cluster (a pod in {namespace}, one outside, "
             "the cluster DNS)")
    emit(policies, out, force, ["Generated by podfence generate default-deny."])
    # Proven by comparing before and after: the namespace's pods lose what the
    # default-deny takes away (asked for); nothing else may change.
    change = default_deny_change(cluster, namespace, directions, dns, settings)
    report(prove_change(cluster, cluster.with_policies(p.policy for p in policies), settings, change.grants,
                        change.subjects, isolate=directions), output, to_stdout=out is not None, change=True)


def _ports(values: list[str]) -> tuple[PortSpec, ...]:
    ports, problems = parse_ports(values, ("--port",))
    if problems:
        fail(f"--port: {problems[0][1]}")
    return ports


Isolate = Annotated[bool, typer.Option(
    "--isolate", help="Accept that the new policies isolate their pods: connections they take away from "
                      "others are then reported, not a failed proof.")]


def _block(cluster: Cluster, settings: Settings, made, out: str | None, force: bool,  # type: ignore[no-untyped-def]
           output: str, header: str, isolate: bool = False) -> None:
    block, problems = made
    exit_on_errors(problems)
    assert block is not None
    policies = list(block.policies)
    check_generated(policies, settings)
    emit(policies, out, force, [header])
    after = cluster.with_policies(p.policy for p in policies)
    report(prove_change(cluster, after, settings, block.grants, block.subjects,
                        isolate=frozenset(Direction) if isolate else frozenset()), output,
           to_stdout=out is not None, change=True)


@app.command("allow")
def allow(
    src: FromWorkload = ...,  # type: ignore[assignment]
    dst: Destination = ...,  # type: ignore[assignment]
    port: Ports = [],  # noqa: B006
    isolate: Isolate = False,
    filename: Filenames = [],  # noqa: B006
    namespace: Namespace = "default",
    out: Out = None,
    force: Force = False,
    output: Output = "text",
    strict_cidr: StrictCidr = False,
    config: ConfigPath = None,
    setting: SettingValues = [],  # noqa: B006
    allow_empty: AllowEmpty = False,
    max_input_bytes: MaxInputBytes = DEFAULT_MAX_INPUT_BYTES,
    max_objects: MaxObjects = DEFAULT_MAX_OBJECTS,
    kubeconfig: Kubeconfig = None,
    context: ContextName = None,
    request_timeout: RequestTimeout = TIMEOUT,
) -> None:
    """Allow one workload to reach another: ingress on the destination, egress on the source if isolated."""
    choose(output, PROOF_FORMATS, "-o")
    check_places(out, force)
    ports = _ports(port)
    budget = input_budget(max_input_bytes, max_objects)
    _, settings = _settings(config, setting, strict_cidr, budget)
    live = Live(kubeconfig, context, request_timeout)
    cluster = load_cluster(filename, namespace, settings, budget, allow_empty, live).cluster
    _block(cluster, settings, allow_block(cluster, settings, src, dst, ports), out, force, output,
           f"Generated by podfence generate allow --from {src} --to {dst}.", isolate)


@app.command("egress")
def egress(
    src: FromWorkload = ...,  # type: ignore[assignment]
    to_cidr: Annotated[str, typer.Option(
        "--to-cidr", metavar="CIDR", help="Destination addresses.")] = ...,  # type: ignore[assignment]
    except_: Annotated[list[str], typer.Option(
        "--except", metavar="CIDR", help="Addresses inside --to-cidr to leave out. Repeatable.")] = [],  # noqa: B006
    port: Ports = [],  # noqa: B006
    isolate: Isolate = False,
    filename: Filenames = [],  # noqa: B006
    namespace: Namespace = "default",
    out: Out = None,
    force: Force = False,
    output: Output = "text",
    strict_cidr: StrictCidr = False,
    config: ConfigPath = None,
    setting: SettingValues = [],  # noqa: B006
    allow_empty: AllowEmpty = False,
    max_input_bytes: MaxInputBytes = DEFAULT_MAX_INPUT_BYTES,
    max_objects: MaxObjects = DEFAULT_MAX_OBJECTS,
    kubeconfig: Kubeconfig = None,
    context: ContextName = None,
    request_timeout: RequestTimeout = TIMEOUT,
) -> None:
    """Allow one workload to send to addresses outside the cluster on the given ports."""
    choose(output, PROOF_FORMATS, "-o")
    check_places(out, force)
    ports = _ports(port)
    budget = input_budget(max_input_bytes, max_objects)
    _, settings = _settings(config, setting, strict_cidr, budget)
    live = Live(kubeconfig, context, request_timeout)
    cluster = load_cluster(filename, namespace, settings, budget, allow_empty, live).cluster
    _block(cluster, settings, egress_block(cluster, settings, src, to_cidr, tuple(except_), ports), out, force,
           output, f"Generated by podfence generate egress --from {src} --to-cidr {to_cidr}.", isolate)
