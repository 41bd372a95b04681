"""Progressive rollout of staged policies: the two views and what observed traffic would meet.

:class:`StagedViews` holds the *now* view (enforced policies) and the *promoted*
view (every staged policy enforced) of one cluster, and compares one connection
in both (:meth:`StagedViews.compare`); :func:`check_flows` replays observed
flows against both views. Nothing here reads files.
"""

from podfence.rollout.check import FlowChange, RolloutCheck, check_flows
from podfence.rollout.plan import (
    CRITICALITY, CRITICALITY_LABEL, PolicyStep, RolloutPlan, Stage, plan_rollout, policy_steps,
)
from podfence.rollout.views import Comparison, StagedViews

__all__ = ["CRITICALITY", "CRITICALITY_LABEL", "Comparison", "FlowChange", "PolicyStep", "RolloutCheck",
           "RolloutPlan", "Stage", "StagedViews", "check_flows", "plan_rollout", "policy_steps"]
