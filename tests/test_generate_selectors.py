"""The smallest label set that picks one workload out of its namespace."""

from __future__ import annotations

from itertools import combinations

from hypothesis import given
from hypothesis import strategies as st

from podfence.generate.selectors import selectable_neighbours, smallest_selector, twins
from podfence.model import LabelSelector, Labels, Pod, Settings


def pod(name: str, **labels: str) -> Pod:
    return Pod("ns", name, Labels(labels))


def test_one_label_when_one_suffices_preferring_naming_labels() -> None:
    web = pod("web", tier="fe", app="web", team="shop")
    api = pod("api", tier="fe", app="api", team="shop")
    db = pod("db", tier="db", app="db", team="data")
    # tier=fe is shared, team=shop is shared; app=web is unique (and preferred over nothing else).
    assert smallest_selector(web, [api, db]) == Labels(app="web")
    # For db both app=db and tier=db and team=data are unique: app comes first.
    assert smallest_selector(db, [web, api]) == Labels(app="db")


def test_two_labels_when_each_alone_is_shared() -> None:
    a = pod("api-v1", app="api", version="v1")
    b = pod("api-v2", app="api", version="v2")
    c = pod("web-v1", app="web", version="v1")
    assert smallest_selector(a, [b, c]) == Labels(app="api", version="v1")


def test_labels_that_differ_per_replica_or_rollout_are_never_used() -> None:
    a = pod("a", app="shared", **{"pod-template-hash": "7d9c"})
    b = pod("b", app="shared", **{"pod-template-hash": "1234"})
    assert smallest_selector(a, [b]) is None
    assert twins(a, [b]) == [b]


def test_no_selector_when_a_neighbour_carries_every_label() -> None:
    small = pod("small", app="x")
    large = pod("large", app="x", role="extra")
    assert smallest_selector(small, [large]) is None and twins(small, [large]) == [large]
    assert smallest_selector(large, [small]) == Labels(role="extra")
    assert smallest_selector(pod("bare"), []) is None


def test_neighbours_are_selectable_pods_of_the_same_namespace() -> None:
    me = pod("me", app="me")
    others = [pod("x", app="x"), Pod("elsewhere", "y", Labels(app="me")),
              Pod("ns", "host", Labels(app="me"), host_network=True),
              Pod("ns", "done", Labels(app="me"), phase="Succeeded")]
    assert [p.key for p in selectable_neighbours(me, [me, *others], Settings())] == ["ns/x"]


LABELS = st.dictionaries(st.sampled_from(["app", "tier", "team", "version", "zone"]), st.sampled_from(["a", "b", "c"]),
                         max_size=5)


@given(st.lists(LABELS, min_size=1, max_size=8))
def test_the_choice_is_exact_and_smallest(label_sets: list[dict[str, str]]) -> None:
    pods = [pod(f"p{i}", **labels) for i, labels in enumerate(label_sets)]
    me, others = pods[0], pods[1:]
    chosen = smallest_selector(me, others)
    # Brute force over every subset of my labels, smallest first.
    items = sorted(me.labels.items())
    exact = [dict(c) for n in range(1, len(items) + 1) for c in combinations(items, n)
             if not any(all(o.labels.get(k) == v for k, v in c) for o in others)]
    if chosen is None:
        assert exact == []
        return
    selector = LabelSelector.of(chosen)
    assert selector.matches(me.labels)
    assert not any(selector.matches(o.labels) for o in others)
    assert len(chosen) == min(len(e) for e in exact)
