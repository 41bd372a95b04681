"""podfence watch through the console script, against the test API server (and the real kubectl)."""

from __future__ import annotations

import copy
import json
import signal
import subprocess
import threading

import pytest
import yaml

from cli_support import podfence
from kubeapi import ApiServer, Fleet, User
from live_support import KUBECTL, READER_RULES, ROOT, manifests, reader
from watch_support import Watch

BAA = ROOT / "examples" / "baa"


def base() -> list[dict]:
    """examples/baa with namespace data left open (none of its policies), so that a policy there cuts."""
    return [d for d in manifests(BAA) if d["kind"] != "NetworkPolicy" or d["metadata"].get("namespace") != "data"]


READY = "Ctrl-C stops"
CUT = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
       "metadata": {"name": "cut-billing", "namespace": "data"},
       "spec": {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "postgres"}},
                "policyTypes": ["Ingress"]}}


@pytest.fixture
def live(tmp_path):
    """Cluster "prod" holding examples/baa; context "prod" reads it, "admin" may write."""
    fleet = Fleet()
    prod = fleet.cluster("prod", {"reader": reader(), "admin": User("admin"),
                                  "lister": User("lister", tuple({**r, "verbs": ["get", "list"]}
                                                                 for r in READER_RULES))})
    prod.seed(base())
    fleet.context("prod", "prod", "reader")
    fleet.context("admin", "prod", "admin")
    fleet.context("lister", "prod", "lister")
    config = fleet.write_kubeconfig(tmp_path / "kubeconfig", current="prod")
    yield {"fleet": fleet, "prod": prod, "kubeconfig": str(config), "folder": tmp_path}
    fleet.stop()


def started(live, *args: str) -> Watch:
    watch = Watch("--kubeconfig", live["kubeconfig"], "--context", "prod", *args)
    assert watch.wait_for_stderr(READY), watch.stderr()
    return watch


def put(live, *docs) -> None:
    live["prod"].seed(copy.deepcopy(list(docs)))


def delete(live, kind_plural: tuple[str, str, str], namespace: str, name: str) -> None:
    prod = live["prod"]
    prod.store.delete(prod.resource(*kind_plural), namespace, name)


def kubectl(live, *args: str) -> subprocess.CompletedProcess[str]:
    assert KUBECTL is not None
    return subprocess.run([KUBECTL, "--kubeconfig", live["kubeconfig"], "--context", "admin", *args],
                          capture_output=True, text=True, timeout=60)


def expected_changes(live, before: list[dict], after: list[dict]) -> list[dict]:
    """What ``podfence diff`` says between the same objects as files."""
    old, new = live["folder"] / "before.yaml", live["folder"] / "after.yaml"
    old.write_text(yaml.safe_dump_all(before))
    new.write_text(yaml.safe_dump_all(after))
    done = podfence("diff", str(old), str(new), "-o", "json")
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)["changes"]


def apply_and_delete(live, path):
    """Create the policy of ``path`` with the real kubectl when there is one (else through the API), then delete it."""
    if KUBECTL is not None:
        done = kubectl(live, "apply", "-f", str(path))
        assert done.returncode == 0, done.stderr
        yield
        done = kubectl(live, "delete", "-f", str(path))
        assert done.returncode == 0, done.stderr
    else:
        put(live, CUT)
        yield
        delete(live, ("networking.k8s.io", "v1", "networkpolicies"), "data", "cut-billing")
    yield


def test_a_policy_created_then_deleted_is_named_with_the_connections_it_changed(live):
    path = live["folder"] / "cut.yaml"
    path.write_text(yaml.safe_dump(CUT))
    removed = expected_changes(live, base(), [*base(), CUT])
    assert removed and all("removed" in c and "added" not in c for c in removed)
    steps = apply_and_delete(live, path)
    with started(live, "-o", "json") as watch:
        next(steps)
        line = watch.line(timeout=10)
        assert line is not None, watch.stderr()
        update = json.loads(line)
        assert set(update) == {"time", "cluster", "cause", "changes"}
        assert update["cluster"] == "prod" and update["time"].endswith("Z")
        assert update["cause"] == [{"kind": "NetworkPolicy", "namespace": "data", "name": "cut-billing",
                                    "event": "added"}]
        assert update["changes"] == removed
        next(steps)
        line = watch.line(timeout=10)
        assert line is not None, watch.stderr()
        update = json.loads(line)
        assert update["cause"] == [{"kind": "NetworkPolicy", "namespace": "data", "name": "cut-billing",
                                    "event": "deleted"}]
        assert update["changes"] == [{"src": c["src"], "dst": c["dst"], "added": c["removed"]} for c in removed]
        assert watch.stop() == 0
        assert "Traceback" not in watch.stderr()


def test_a_change_podfence_does_not_read_prints_nothing(live):
    heartbeat = {"apiVersion": "v1", "kind": "Pod",
                 "metadata": {"name": "probe", "namespace": "api", "labels": {"app": "probe"}},
                 "spec": {"containers": [{"name": "c", "image": "busybox"}]},
                 "status": {"phase": "Running", "podIP": "10.1.7.7",
                            "conditions": [{"type": "Ready", "status": "True"}]}}
    put(live, heartbeat)
    with started(live, "-o", "json") as watch:
        beat = copy.deepcopy(heartbeat)
        beat["status"]["conditions"] = [{"type": "Ready", "status": "False"}]
        put(live, beat)
        assert watch.line(timeout=1.5) is None
        put(live, CUT)
        update = json.loads(watch.line(timeout=10) or "{}")
        assert [c["name"] for c in update["cause"]] == ["cut-billing"], watch.stderr()


def test_relabels_and_new_pods_are_what_diff_says_of_the_same_objects(live):
    docs = base()
    namespace = next(d for d in docs if d["kind"] == "Namespace" and d["metadata"]["name"] == "billing")
    relabelled = copy.deepcopy(namespace)
    relabelled["metadata"]["labels"] = {**relabelled["metadata"].get("labels", {}), "team": "elsewhere"}
    relabelled["metadata"]["labels"] = {k: v for k, v in relabelled["metadata"]["labels"].items()
                                        if k != "kubernetes.io/metadata.name"}
    after = [relabelled if d is namespace else d for d in docs]
    wanted = expected_changes(live, docs, after)
    newcomer = {"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "debug", "namespace": "api", "labels": {"app": "debug"}},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]},
                "status": {"phase": "Running", "podIP": "10.1.9.9"}}
    with_pod = expected_changes(live, after, [*after, newcomer])
    assert with_pod
    with started(live, "-o", "json") as watch:
        put(live, relabelled)
        update = json.loads(watch.line(timeout=10) or "{}")
        assert update.get("cause") == [{"kind": "Namespace", "namespace": "", "name": "billing",
                                        "event": "modified"}], watch.stderr()
        assert update["changes"] == wanted
        put(live, newcomer)
        update = json.loads(watch.line(timeout=10) or "{}")
        assert update.get("cause") == [{"kind": "Pod", "namespace": "api", "name": "debug", "event": "added"}]
        assert update["changes"] == with_pod


def test_text_lines_name_the_policy_and_what_it_cut(live):
    with started(live) as watch:
        put(live, CUT)
        heading = watch.line(timeout=10)
        assert heading is not None and heading.endswith(" prod: NetworkPolicy data/cut-billing added\n")
        detail = watch.line(timeout=5)
        assert detail is not None and detail.startswith("  ") and "data/postgres" in detail and "removed" in detail
        assert watch.stop(signal.SIGTERM) == 0


def test_a_forgotten_version_is_read_again_and_changes_still_show(live):
    with started(live, "-o", "json") as watch:
        live["prod"].store.compact()
        put(live, CUT)
        update = json.loads(watch.line(timeout=10) or "{}")
        assert update.get("cause") == [{"kind": "NetworkPolicy", "namespace": "data", "name": "cut-billing",
                                        "event": "added"}], watch.stderr()
        assert update["changes"]
        assert watch.line(timeout=1.5) is None  # every other kind read again: nothing changed there


def test_a_refused_watch_is_one_line_and_exit_2(live):
    with Watch("--kubeconfig", live["kubeconfig"], "--context", "lister", "-o", "json") as watch:
        code = watch.proc.wait(timeout=30)
        lines = watch.stderr().strip().splitlines()
        assert code == 2 and "Traceback" not in watch.stderr()
        assert lines[-1].startswith("podfence watch: error: context 'lister'")
        assert "cannot watch" in lines[-1] and "forbidden" in lines[-1]


def test_a_lost_server_is_said_on_stderr_and_ctrl_c_still_stops_cleanly(live):
    with started(live, "-o", "json") as watch:
        live["prod"].stop()
        assert watch.wait_for_stderr("lost the connection to the API server"), watch.stderr()
        assert watch.stderr().count("lost the connection") == 1
        assert watch.proc.poll() is None
        assert watch.stop(signal.SIGINT) == 0
        assert "Traceback" not in watch.stderr()


def test_a_server_back_again_is_followed_from_where_the_watch_stood(live):
    prod = live["prod"]
    with started(live, "-o", "json") as watch:
        prod.stop()
        assert watch.wait_for_stderr("lost the connection to the API server"), watch.stderr()
        put(live, CUT)  # written while podfence could not see it
        back = ApiServer(prod.store, prod.users, live["fleet"]._server_context, prod.resources,
                         port=int(prod.url.rsplit(":", 1)[1])).start()
        try:
            update = json.loads(watch.line(timeout=30) or "{}")
            assert update.get("cause") == [{"kind": "NetworkPolicy", "namespace": "data", "name": "cut-billing",
                                            "event": "added"}], watch.stderr()
            assert watch.wait_for_stderr("connected again")
            assert watch.stop() == 0
        finally:
            back.stop()


def test_unknown_context_and_bad_output_are_usage_errors(live):
    done = podfence("watch", "--kubeconfig", live["kubeconfig"], "--context", "nowhere")
    assert done.returncode == 2 and "no such context" in done.stderr and "Traceback" not in done.stderr
    done = podfence("watch", "--kubeconfig", live["kubeconfig"], "-o", "yaml")
    assert done.returncode == 2 and "-o 'yaml': choose one of text, json" in done.stderr


def test_changes_close_together_are_one_update(live):
    second = copy.deepcopy(CUT)
    second["metadata"]["name"] = "cut-billing-too"
    with started(live, "-o", "json", "--debounce", "1") as watch:
        put(live, CUT, second)
        update = json.loads(watch.line(timeout=10) or "{}")
        assert [c["name"] for c in update.get("cause", [])] == ["cut-billing", "cut-billing-too"], watch.stderr()
        assert update["changes"] == expected_changes(live, base(), [*base(), CUT, second])



@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_while_the_first_read_is_under_way_ends_the_watch_cleanly(live, sig):
    """The server holds every list until released: the watch is stopped while it first reads the cluster."""
    reached, release = threading.Event(), threading.Event()

    def hold(resource, query) -> None:
        reached.set()
        release.wait(60)  # a bound on the hold, not a measurement

    live["prod"].before_list = hold
    with Watch("--kubeconfig", live["kubeconfig"], "--context", "prod") as watch:
        try:
            assert reached.wait(60), watch.stderr()
            assert watch.proc.poll() is None
            code = watch.stop(sig)
        finally:
            release.set()
        assert code == 0, watch.stderr()
        assert "Traceback" not in watch.stderr() and READY not in watch.stderr()
        assert watch.line(timeout=1) is None  # nothing on stdout
