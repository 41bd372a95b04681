"""podfence generate: least-privilege NetworkPolicies from intent or observed traffic, proven.

The pipeline, each step pure:

1. :func:`intent_from_dict` reads an intent file (or :mod:`podfence.generate.from_flows`
   derives one from observed flows);
2. :func:`resolve` checks it against the cluster and turns it into a :class:`Plan`
   of grants with label selectors;
3. :func:`build` writes the plan as NetworkPolicy manifests with comments;
4. :func:`prove` computes the connectivity of cluster plus policies with the engine
   (``cluster.with_policies(p.policy for p in generated)``) and compares it with the
   intent.
"""

from podfence.generate.build import GeneratedPolicy, build
from podfence.generate.intents import Intent, intent_from_dict, intent_to_dict
from podfence.generate.proof import Difference, Proof, prove
from podfence.generate.resolve import Grant, Plan, resolve

__all__ = [
    "Difference", "GeneratedPolicy", "Grant", "Intent", "Plan", "Proof", "build", "intent_from_dict",
    "intent_to_dict", "prove", "resolve",
]
