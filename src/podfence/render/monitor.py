"""The monitor's terminal view: the denied pairs of the last minute and the policy to look at."""

from __future__ import annotations

from typing import Any

from podfence.monitor.window import Pair, Totals
from podfence.render.escape import printable


def monitor_view(top: list[tuple[Pair, int]], totals: Totals, where: str) -> Any:
    """A rich table of ``top`` (most denied first), with the run's totals as its caption."""
    from rich.table import Table

    table = Table(title=f"podfence monitor: denied in the last minute (metrics on {printable(where)})",
                  caption=f"{totals.records} records, {totals.denied} denied, {totals.would_deny} would be denied "
                          f"by staged policies, {totals.invalid} unreadable", expand=False)
    for column, justify in (("count", "right"), ("verdict", "left"), ("from", "left"), ("to", "left"),
                            ("connection", "left"), ("side", "left"), ("policy to look at", "left")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for (verdict, src, dst, connection, direction, policy), n in top:
        word = "DENIED" if verdict == "dropped" else "would deny"
        table.add_row(str(n), word, printable(src), printable(dst), printable(connection), direction,
                      printable(policy) or "(not named)")
    return table
