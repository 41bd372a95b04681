"""The one set of options every podfence use case takes, and what it resolves to.

:class:`Options` is what a person asked for (the manifests, the namespace for
objects that name none, the configuration file, ``--set`` changes, the limits of
the run); :func:`prepare` turns it into a :class:`Run`: the input budget, the
configuration (from the file named, else the nearest ``.podfence.yaml``) and the
evaluation settings (the config's, then ``--set``, then ``--strict-cidr``). Every
command, the lab's included, builds its settings here, so two commands given the
same options evaluate the same way.

A :class:`Listener` is how a use case talks to the person while it works: ``say``
takes one line (notes and warnings, on stderr for the command line), ``busy``
wraps a slow step (a spinner on a terminal). Both do nothing by default.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

from podfence.app.errors import Stop
from podfence.config import CONFIG_FILE, DEFAULT_CONFIG, Config, config_from_dict
from podfence.loader import read_own_file
from podfence.loader.limits import DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, Budget
from podfence.model import Diagnostic, Settings
from podfence.model.own_fields import NAMESPACE_RULE
from podfence.model.ports import PROTOCOL_WORDS, parse_protocol
from podfence.model.text import quoted
from podfence.model.ports import PortSpec, parse_port
from podfence.sets import Protocol
from podfence.sources.cluster import TIMEOUT
from podfence.validate import is_dns1123_label

DEFAULT_MAX_OUTPUT_BYTES = 1 << 30
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def _silent(line: str) -> None:
    return None


def _not_busy(message: str) -> AbstractContextManager[None]:
    return nullcontext()


@dataclass(frozen=True, slots=True)
class Listener:
    """How a use case reports while it works: one line at a time, and slow steps."""

    say: Callable[[str], None] = _silent
    busy: Callable[[str], AbstractContextManager[None]] = _not_busy


@dataclass(frozen=True, slots=True)
class Live:
    """Where a live cluster is read from: ``--kubeconfig``, ``--context``, ``--request-timeout``, ``-A``."""

    kubeconfig: str | None = None
    context: str | None = None
    timeout: float = TIMEOUT
    all_namespaces: bool = False

    @property
    def asked(self) -> bool:
        """True when a flag names the cluster (else only a missing ``-f`` makes the command read one)."""
        return self.kubeconfig is not None or self.context is not None


@dataclass(frozen=True, slots=True)
class Options:
    """What every command shares: its source, configuration, settings and limits.

    The source is the manifests of ``files``, the live cluster of ``live`` (read when
    a flag names it or when no file is given), or both: the files applied over the
    live objects. ``namespace_given`` is True when the namespace was asked for (not
    its default): on a live cluster it then narrows what is shown, as kubectl does.
    ``staged`` evaluates the promoted view (every staged policy enforced).
    ``select``/``ignore``/``preview`` choose lint rules (lint and audit); ``select``
    is None when not given (the config decides).
    """

    files: tuple[str, ...] = ()
    namespace: str = "default"
    config: str | None = None
    set_values: tuple[str, ...] = ()
    strict_cidr: bool = False
    allow_empty: bool = False
    max_input_bytes: int = DEFAULT_MAX_INPUT_BYTES
    max_objects: int = DEFAULT_MAX_OBJECTS
    max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    preview: bool | None = None
    live: Live | None = None
    namespace_given: bool = False
    staged: bool = False

    @property
    def reads_live(self) -> bool:
        """True when the run reads a live cluster (a flag names it, or there is no file)."""
        return self.live is not None and (self.live.asked or not self.files)

    @property
    def shown_namespace(self) -> str | None:
        """The one namespace to show: ``-n`` on a live cluster, as kubectl (``-A``: every one, None)."""
        if self.live is not None and self.reads_live and self.namespace_given and not self.live.all_namespaces:
            return self.namespace
        return None


@dataclass(frozen=True, slots=True)
class Run:
    """Options resolved for one run: its budget, configuration and settings."""

    options: Options
    budget: Budget
    config: Config
    settings: Settings
    listener: Listener = field(default_factory=Listener)

    def say(self, line: str) -> None:
        self.listener.say(line)

    def busy(self, message: str) -> AbstractContextManager[None]:
        return self.listener.busy(message)


def prepare(options: Options, listener: Listener | None = None,
            check: Callable[[Config], Iterable[Diagnostic]] | None = None) -> Run:
    """Budget, configuration and settings of a run; a problem in any of them stops it (exit 2).

    ``check`` looks further at a valid configuration (a use case's own view of it).
    """
    listener = listener or Listener()
    budget = Budget(max_input_bytes=options.max_input_bytes, max_objects=options.max_objects)
    config = load_config(options.config, budget, listener, check)
    settings = settings_from(options.set_values, options.strict_cidr, config.settings)
    return Run(options, budget, config, settings, listener)


def find_config(start: Path | None = None) -> Path | None:
    """The nearest .podfence.yaml in the current directory or one of its parents."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_FILE
        if candidate.is_file():
            return candidate
    return None


def load_config(path: str | None, budget: Budget | None = None, listener: Listener | None = None,
                check: Callable[[Config], Iterable[Diagnostic]] | None = None) -> Config:
    """The configuration from ``path`` or the nearest file; its warnings are said, its errors stop the run."""
    if path is None:
        found = find_config()
        if found is None:
            return DEFAULT_CONFIG
        path = str(found)
    own = read_own_file(path, budget=budget)
    problems = list(own.problems)
    config = DEFAULT_CONFIG
    if not problems:
        config, found_problems = config_from_dict(own.data)
        if check is not None and not any(d.is_error for d in found_problems):
            found_problems = [*found_problems, *check(config)]
        problems += own.place(found_problems, "podfence config")
    for d in problems:
        if not d.is_error and listener is not None:
            listener.say(f"{d.severity.value}: {d.one_line()}")
    errors = [d for d in problems if d.is_error]
    if errors:
        raise Stop(diagnostics=errors)
    return config


def settings_from(values: Sequence[str], strict_cidr: bool = False, base: Settings | None = None) -> Settings:
    """Settings from ``--set knob=value`` changes, on top of ``base`` (the config's)."""
    changes: dict[str, bool | str] = {}
    choices = Settings.choices()
    for item in values:
        knob, sep, raw = item.partition("=")
        knob = knob.strip().replace("-", "_")
        if sep and knob in choices:
            word = raw.strip().lower()
            if word not in choices[knob]:
                raise Stop(f"--set {quoted(item)}: value must be one of {', '.join(choices[knob])}")
            changes[knob] = word
            continue
        if not sep or knob not in Settings.switches():
            raise Stop(f"--set {quoted(item)}: expected KNOB=true|false with KNOB one of "
                       f"{', '.join(Settings.switches())}")
        word = raw.strip().lower()
        if word not in _TRUE | _FALSE:
            raise Stop(f"--set {quoted(item)}: value must be true or false")
        changes[knob] = word in _TRUE
    if strict_cidr:
        changes["strict_cidr_validation"] = True
    return (base or Settings()).with_values(**changes)


def check_namespace(value: str, flag: str = "-n") -> str:
    """A namespace given as an option must be a name Kubernetes would accept (exit 2 otherwise)."""
    if not is_dns1123_label(value):
        raise Stop(f"{flag} {quoted(value)}: not a namespace name ({NAMESPACE_RULE})")
    return value


def protocol_of(value: str, flag: str = "--protocol") -> Protocol:
    """A protocol option, read as podfence's own files read a protocol (any case)."""
    protocol = parse_protocol(value)
    if protocol is None:
        raise Stop(f"{flag} {quoted(value)}: must be {PROTOCOL_WORDS}")
    return protocol


def one_port(port: str, protocols: Sequence[str]) -> PortSpec:
    """``--port`` and ``--protocol`` of a command that judges one port, in podfence's one port syntax.

    ``--protocol`` given twice, or a protocol that ``--port N/PROTO`` contradicts,
    is a usage error rather than a silent choice.
    """
    chosen = list(dict.fromkeys(protocol_of(p) for p in protocols))
    if len(chosen) > 1:
        raise Stop(f"--protocol given as {', '.join(map(str, chosen))}: this command judges one protocol; "
                   "run it once per protocol")
    parsed = parse_port(port, chosen[0] if chosen else Protocol.TCP)
    if isinstance(parsed, str):
        raise Stop(f"--port: {parsed}")
    if parsed.every or parsed.end_port is not None:
        raise Stop(f"--port {quoted(port)}: this command judges one port; give a number, a port name or N/PROTO")
    if chosen and "/" in port and parsed.protocol is not chosen[0]:
        raise Stop(f"--port {quoted(port)} and --protocol {chosen[0]} disagree")
    return parsed


def context_names(kubeconfig: str | None) -> list[str] | str:
    """Every context of the kubeconfig, sorted (those it cannot use too); a one-line problem when unreadable."""
    from podfence.sources.kubeconfig import read_kubeconfig

    config = read_kubeconfig(kubeconfig)
    if not hasattr(config, "contexts"):
        return config.one_line()  # type: ignore[union-attr]
    return sorted({*config.contexts, *(config.problems or {})})  # type: ignore[union-attr]


def choose(value: str, choices: Sequence[str], flag: str) -> str:
    """``value`` when it is one of ``choices``; otherwise the run stops naming them."""
    if value not in choices:
        raise Stop(f"{flag} {quoted(value)}: choose one of {', '.join(choices)}")
    return value


__all__ = ["DEFAULT_MAX_INPUT_BYTES", "DEFAULT_MAX_OBJECTS", "DEFAULT_MAX_OUTPUT_BYTES", "TIMEOUT", "Listener",
           "Live", "Options", "Run", "check_namespace", "choose", "context_names", "find_config", "load_config", "one_port",
           "prepare", "protocol_of", "settings_from"]
