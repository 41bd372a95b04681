"""The rollout use cases: carry staged policies into enforcement without an outage.

:func:`check` replays observed flows (Hubble, Calico flow logs or the lab's
denial stream) against the enforced policies and against the promoted view
(every staged policy enforced), and returns what would break.
"""

from __future__ import annotations

from typing import Sequence, TextIO

from podfence.app.errors import Stop, stop_on_errors
from podfence.app.loading import load_cluster
from podfence.app.options import Listener, Options, choose, prepare
from podfence.flows import FlowRecord, Skip
from podfence.loader import codes
from podfence.model import Source
from podfence.rollout import RolloutCheck, check_flows
from podfence.sources import count_flows

FLOW_FORMATS = ("auto", "hubble", "calico", "lab")
# The lab's denial stream is Hubble-shaped: both are read by the Hubble reader.
_READER = {"hubble": "hubble", "lab": "hubble", "calico": "calico"}
_NAMES = {"hubble": "a Hubble flow", "lab": "a lab denial record", "calico": "a Calico flow log record"}

Counted = tuple[tuple[Source, FlowRecord | Skip, int], ...]


def _only(records: Counted, flow_format: str) -> Counted:
    """Records of another format than ``--flows-format`` become unmatched records, with the reason."""
    if flow_format == "auto":
        return records
    wanted = _READER[flow_format]
    other = Skip(f"not {_NAMES[flow_format]} (--flows-format {flow_format})", problem=True)
    return tuple((where, record if isinstance(record, Skip) or record.format == wanted else other, times)
                 for where, record, times in records)


def check(options: Options, flows: Sequence[str], flows_format: str = "auto", listener: Listener | None = None,
          stdin: TextIO | None = None) -> RolloutCheck:
    """What enforcing the staged policies would block (and allow) among the observed flows."""
    choose(flows_format, FLOW_FORMATS, "--flows-format")
    if not flows:
        raise Stop("no flows given: use --flows FILE (Hubble, Calico or lab records, one JSON object a line)")
    run = prepare(options, listener)
    if "-" in options.files and "-" in flows:
        raise Stop("-f - and --flows - both read standard input: give one of them a file")
    result = load_cluster(run)
    read = count_flows(list(flows), run.budget, stdin)
    if read.problem is not None:
        if read.problem.code == codes.LIMIT:
            stop_on_errors([read.problem])
        raise Stop(f"--flows {read.problem.one_line()}")
    records = _only(read.records, flows_format)
    with run.busy("replaying flows"):
        return check_flows(records, result.cluster, run.settings)


__all__ = ["FLOW_FORMATS", "check"]
