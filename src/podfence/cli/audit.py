"""podfence audit: a one-screen report per namespace, with a grade."""

from __future__ import annotations

from typing import Annotated

import typer

from podfence.app import lint as linting
from podfence.cli.common import (
    TIMEOUT, AllNamespaces, ContextName, Kubeconfig, RequestTimeout,
    DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, LISTENER, AllowEmpty, ConfigPath, Filenames, MaxInputBytes,
    MaxObjects, Namespace, SettingValues, StrictCidr, choose, options, output_option, write,
)
from podfence.cli.lint import Ignore, Preview, Select
from podfence.render.audit import FORMATS, audit_json, audit_md, audit_text

Output = output_option(FORMATS)


def audit(
    filename: Filenames = [],  # noqa: B006 - typer needs a literal default
    namespace: Namespace = "default",
    output: Output = "text",
    include_excluded: Annotated[bool, typer.Option(
        "--include-excluded", help="Grade the namespaces lint.exclude_namespaces leaves out (kube-system by default).",
    )] = False,
    strict_cidr: StrictCidr = False,
    config: ConfigPath = None,
    setting: SettingValues = [],  # noqa: B006
    select: Select = [],  # noqa: B006
    ignore: Ignore = [],  # noqa: B006
    preview: Preview = None,
    allow_empty: AllowEmpty = False,
    max_input_bytes: MaxInputBytes = DEFAULT_MAX_INPUT_BYTES,
    max_objects: MaxObjects = DEFAULT_MAX_OBJECTS,
    kubeconfig: Kubeconfig = None,
    context: ContextName = None,
    request_timeout: RequestTimeout = TIMEOUT,
    all_namespaces: AllNamespaces = False,
) -> None:
    """Report per namespace: isolation, who reaches it, what it reaches, sensitive exposure, findings, grade."""
    choose(output, FORMATS, "-o")
    report = linting.audit(options(filename, namespace, config, setting, strict_cidr, allow_empty, max_input_bytes,
                                   max_objects, select=select, ignore=ignore, preview=preview, kubeconfig=kubeconfig,
                                  context=context, request_timeout=request_timeout,
                                  all_namespaces=all_namespaces), LISTENER, include_excluded)
    write({"json": audit_json, "md": audit_md}.get(output, audit_text)(report))
