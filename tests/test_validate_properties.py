"""Property tests: validation never crashes, and what it accepts is safe to load."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from podfence.model import NetworkPolicy, Settings, Severity
from podfence.sets import parse_cidr
from podfence.validate import is_strict_subset, validate_network_policy

STRICT = Settings(strict_cidr_validation=True)

# --- documents that are mostly right and sometimes wrong in any place -------------------

junk = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(allow_nan=False),
              st.text(max_size=4)),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def rarely(good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any], one_in: int = 15) -> st.SearchStrategy[Any]:
    """``good`` most of the time, ``bad`` about once in ``one_in`` draws."""
    return st.integers(1, one_in).flatmap(lambda i: bad if i == 1 else good)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly ``strategy``, sometimes ``null``, sometimes anything at all."""
    return rarely(strategy, st.one_of(st.none(), junk))


def obj(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    extra = rarely(st.just({}), st.dictionaries(st.sampled_from(["extra", "Ports", "podselector"]), junk, max_size=1))
    return st.builds(lambda known, more: {**known, **more},
                     st.fixed_dictionaries({}, optional={k: maybe(v) for k, v in fields.items()}), extra)


label_keys = rarely(st.sampled_from(["app", "example.com/tier", "kubernetes.io/metadata.name"]),
                    st.sampled_from(["a b", "-x", "", "a/b/c", "/x", "Example.com/x"]), 6)
label_values = rarely(st.sampled_from(["web", "", "v1.0"]),
                      st.one_of(st.sampled_from(["a b", "x" * 64]), st.none(), st.floats(0, 2), st.booleans()), 6)
label_map = st.dictionaries(st.one_of(label_keys, st.integers(0, 3)), label_values, max_size=3)
requirement = obj(key=label_keys,
                  operator=rarely(st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist"]),
                                  st.sampled_from(["Gt", "in", ""]), 6),
                  values=st.lists(label_values, max_size=3))
selector = obj(matchLabels=label_map, matchExpressions=st.lists(maybe(requirement), max_size=2))
cidrs = rarely(st.sampled_from(["10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "fd00::/8", "fd00::/64", "0.0.0.0/0",
                                 "::/0", "10.0.0.5/8", "010.0.0.0/8", "::ffff:10.0.0.0/104", "::ffff:10.1.0.0/112"]),
               st.sampled_from(["10.0.0.0/08", "2001:DB8::/32", "10.0.0.1", "x", "", "10.0.0.0/33"]), 6)
ip_block = obj(cidr=cidrs, except_=st.lists(maybe(cidrs), max_size=3))
peer = obj(podSelector=selector, namespaceSelector=selector, ipBlock=ip_block)
port = obj(protocol=rarely(st.sampled_from(["TCP", "UDP", "SCTP"]), st.sampled_from(["tcp", "ICMP", ""]), 6),
           port=rarely(st.one_of(st.integers(1, 65_535), st.sampled_from(["http", "dns-tcp"])),
                       st.one_of(st.sampled_from([0, 65_536, 2**31 - 1, 2**31, "HTTP", "80", "a--b", ""]))),
           endPort=st.integers(1, 65_535) | st.sampled_from([0, 70_000]))
ingress_rule = obj(ports=st.lists(maybe(port), max_size=2), from_=st.lists(maybe(peer), max_size=2))
egress_rule = obj(ports=st.lists(maybe(port), max_size=2), to=st.lists(maybe(peer), max_size=2))
spec = obj(podSelector=selector, ingress=st.lists(maybe(ingress_rule), max_size=2),
           egress=st.lists(maybe(egress_rule), max_size=2),
           policyTypes=rarely(st.lists(st.sampled_from(["Ingress", "Egress"]), max_size=2),
                              st.lists(st.sampled_from(["Ingress", "Egress", "ingress"]), max_size=3), 6))
metadata = st.builds(lambda rest, name: {**rest, "name": name},
                     obj(generateName=st.sampled_from(["web-", "Web-"]), namespace=st.sampled_from(["default", "a"]),
                         labels=label_map, annotations=label_map),
                     rarely(st.sampled_from(["web", "a.b"]), st.sampled_from(["Bad_Name", "", None])))
documents = rarely(st.fixed_dictionaries({"apiVersion": st.just("networking.k8s.io/v1"),
                                          "kind": st.just("NetworkPolicy"), "metadata": metadata},
                                         optional={"spec": maybe(spec)}), junk, 20)


def _rename(value: Any) -> Any:
    """Python keywords cannot be keyword arguments: ``from_`` and ``except_`` stand for them."""
    if isinstance(value, dict):
        return {{"from_": "from", "except_": "except"}.get(k, k): _rename(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rename(v) for v in value]
    return value


CODE = re.compile(r"(V([1-9]|1[0-9]|2[0-7])|S[1-3])")


@settings(max_examples=400)
@given(documents.map(_rename), st.sampled_from(["default", "", "Bad"]), st.booleans())
def test_validation_never_crashes_and_accepted_documents_load(doc: Any, namespace: str, strict: bool) -> None:
    diags = validate_network_policy(doc, namespace=namespace, settings=Settings(strict_cidr_validation=strict))
    for d in diags:
        assert CODE.fullmatch(d.code), d
        assert d.message
        assert all(isinstance(seg, (str, int)) for seg in d.field)
    if not any(d.severity is Severity.ERROR for d in diags):
        _assert_well_typed(NetworkPolicy.from_dict(doc, namespace=namespace))


def _assert_well_typed(loaded: NetworkPolicy) -> None:
    """What the engine relies on after validation: every value has its declared type."""
    assert isinstance(loaded.name, str) and loaded.name
    assert set(loaded.policy_types) <= {"Ingress", "Egress"}
    selectors = [loaded.pod_selector]
    for rule in loaded.ingress + loaded.egress:
        for p in rule.ports:
            assert p.protocol in ("TCP", "UDP", "SCTP")
            assert p.port is None or isinstance(p.port, str) or 1 <= p.port <= 65_535
            assert p.end_port is None or (isinstance(p.port, int) and p.port <= p.end_port <= 65_535)
            p.numeric()
        for q in rule.peers:
            if q.ip_block is not None:
                assert q.pod_selector is None and q.namespace_selector is None
            selectors += [s for s in (q.pod_selector, q.namespace_selector) if s is not None]
    for sel in selectors:
        for key, value in sel.match_labels:
            assert isinstance(key, str) and isinstance(value, str)
        for req in sel.match_expressions:
            assert isinstance(req.key, str) and all(isinstance(v, str) for v in req.values)
        sel.matches({"app": "web"})


@settings(max_examples=200)
@given(documents.map(_rename))
def test_validation_is_deterministic_and_does_not_modify_the_document(doc: Any) -> None:
    before = repr(doc)
    first = validate_network_policy(doc, namespace="default")
    assert repr(doc) == before
    assert validate_network_policy(doc, namespace="default") == first


# --- CIDRs ---------------------------------------------------------------------------------

v4_networks = st.builds(lambda a, p: ipaddress.ip_network((a, p), strict=False),
                        st.integers(0, 2**32 - 1), st.integers(0, 32))
v6_networks = st.builds(lambda a, p: ipaddress.ip_network((a, p), strict=False),
                        st.integers(0, 2**128 - 1), st.integers(0, 128))
networks = st.one_of(v4_networks, v6_networks)


def _is_mapped(net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    return isinstance(net, ipaddress.IPv6Network) and net.network_address.ipv4_mapped is not None


def _block(cidr: str, *excepts: str) -> dict[str, Any]:
    return {"metadata": {"name": "p"},
            "spec": {"egress": [{"to": [{"ipBlock": {"cidr": cidr, "except": list(excepts)}}]}]}}


@given(networks)
def test_cidrs_written_by_python_pass_strict_validation(net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> None:
    assume(not _is_mapped(net))
    assert validate_network_policy(_block(str(net)), namespace="default", settings=STRICT) == []


@given(st.data(), networks)
def test_strict_subset_agrees_with_ipaddress(data: st.DataObject,
                                             outer: ipaddress.IPv4Network | ipaddress.IPv6Network) -> None:
    assume(not _is_mapped(outer))
    # Half the time pick a subnet of the outer network, so both answers occur.
    if data.draw(st.booleans()) and outer.prefixlen < outer.max_prefixlen:
        new_prefix = data.draw(st.integers(outer.prefixlen, outer.max_prefixlen))
        offset = data.draw(st.integers(0, 2 ** (new_prefix - outer.prefixlen) - 1))
        inner = ipaddress.ip_network((int(outer.network_address) + (offset << (outer.max_prefixlen - new_prefix)),
                                      new_prefix))
    else:
        inner = data.draw(networks)
    assume(not _is_mapped(inner))
    expected = inner.version == outer.version and inner.subnet_of(outer) and inner.prefixlen > outer.prefixlen  # type: ignore[arg-type]
    parsed_outer, parsed_inner = parse_cidr(str(outer)), parse_cidr(str(inner))
    assert parsed_outer is not None and parsed_inner is not None
    assert is_strict_subset(parsed_inner, parsed_outer) == expected
    codes = [d.code for d in validate_network_policy(_block(str(outer), str(inner)), namespace="default")]
    assert ("V25" in codes) == (not expected)
