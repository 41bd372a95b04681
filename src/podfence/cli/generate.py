"""podfence generate: least-privilege policies from intent or observed traffic, proven.

``podfence generate -f PATH --intents FILE [--out DIR]`` writes the policy set of an
intent file; ``--from-flows FILE...`` derives the intent from Hubble or Calico
flows (or the lab's denial stream) first; ``--check`` proves the loaded policies
against the intent without writing anything. The building blocks
``default-deny``, ``allow`` and ``egress`` print one piece at a time. Every
generation ends with the proof; exit 1 when it finds a difference.
"""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from podfence.app import generate as generating
from podfence.app.generate import Generated
from podfence.cli.common import (
    TIMEOUT, AllNamespaces, ContextName, Kubeconfig, RequestTimeout, DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, EXIT_FINDINGS, LISTENER, AllowEmpty, ConfigPath, Filenames,
    MaxInputBytes, MaxObjects, Namespace, SettingValues, StrictCidr, choose, fail, namespace_flag, options,
    output_option, write,
)
from podfence.render.generate import (
    FORMATS as PROOF_FORMATS, guardrail_proof_data, guardrail_proof_text, proof_data, proof_text,
)
from podfence.render.json_text import json_document

app = typer.Typer(
    help="Least-privilege NetworkPolicies from an intent file or observed traffic, proven by the engine.",
    add_completion=False,
    rich_markup_mode=None,
)

Out = Annotated[Optional[str], typer.Option("--out", metavar="DIR",
                                            help="Write one file per namespace under DIR instead of printing.")]
Force = Annotated[bool, typer.Option("--force", help="Overwrite files that exist.")]
FromWorkload = Annotated[str, typer.Option("--from", metavar="NS/WORKLOAD", help="The source workload.")]
Destination = Annotated[str, typer.Option("--to", metavar="NS/WORKLOAD",
                                          help="The destination: a workload, svc/NS/NAME, or NS/* .")]
Ports = Annotated[list[str], typer.Option("--port", metavar="P[/PROTO]",
                                          help="Port: 8080, 53/UDP, 10000-10099, a name, or '*'. Repeatable.")]
Output = output_option(PROOF_FORMATS, "The proof report")
Isolate = Annotated[bool, typer.Option(
    "--isolate", help="Accept that the new policies isolate their pods: connections they take away from "
                      "others are then reported, not a failed proof.")]


def report(made: Generated, output: str, to_stdout: bool) -> None:
    """The proof, on stdout (or stderr when the policies are printed there); exit 1 when it finds a difference."""
    if output == "json":
        data = proof_data(made.proof)
        if made.guardrails is not None:
            data["guardrails"] = guardrail_proof_data(made.guardrails)
        text = json_document(data)
    else:
        text = proof_text(made.proof, change=made.change)
        if made.guardrails is not None:
            text += guardrail_proof_text(made.guardrails)
    if made.printed is not None:
        write(made.printed)
    if to_stdout:
        write(text)
    else:
        sys.stderr.write(text)
    if not made.exact:
        raise typer.Exit(EXIT_FINDINGS)


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
    all_namespaces: AllNamespaces = False,
) -> None:
    """Generate least-privilege policies from --intents or --from-flows, and prove them."""
    if ctx.invoked_subcommand is not None:
        if filename or intents or from_flows or out is not None or check or write_intents is not None \
                or kubeconfig is not None or context is not None:
            fail(f"options go after the building block: podfence generate {ctx.invoked_subcommand} -f ...")
        return
    choose(output, PROOF_FORMATS, "-o")
    made = generating.from_intent(
        options(filename, namespace, config, setting, strict_cidr, allow_empty, max_input_bytes, max_objects,
                kubeconfig=kubeconfig, context=context, request_timeout=request_timeout,
                all_namespaces=all_namespaces),
        LISTENER, intents=intents, flows=from_flows, out=out, force=force, check=check, write_intents=write_intents,
        cidr_prefix=cidr_prefix, cidr_prefix_v6=cidr_prefix_v6, only_allowed=only_allowed, stdin=sys.stdin)
    report(made, output, to_stdout=check or out is not None)


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
    made = generating.default_deny(
        options(filename, "default", config, setting, False, allow_empty, max_input_bytes, max_objects,
                kubeconfig=kubeconfig, context=context, request_timeout=request_timeout), namespace,
        LISTENER, ingress=ingress, egress=egress, allow_dns=allow_dns, out=out, force=force)
    report(made, output, to_stdout=out is not None)


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
    made = generating.allow(
        options(filename, namespace, config, setting, strict_cidr, allow_empty, max_input_bytes, max_objects,
                kubeconfig=kubeconfig, context=context, request_timeout=request_timeout), src,
        dst, port, LISTENER, out=out, force=force, isolate=isolate)
    report(made, output, to_stdout=out is not None)


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
    made = generating.egress(
        options(filename, namespace, config, setting, strict_cidr, allow_empty, max_input_bytes, max_objects,
                kubeconfig=kubeconfig, context=context, request_timeout=request_timeout), src,
        to_cidr, except_, port, LISTENER, out=out, force=force, isolate=isolate)
    report(made, output, to_stdout=out is not None)