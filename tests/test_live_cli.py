"""podfence on a live cluster, through the console script, against the test API server."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
import yaml

from cli_support import podfence
from kubeapi import Fleet, User
from live_support import ROOT, manifests, reader

BAA = ROOT / "examples" / "baa"
POD = {"apiVersion": "v1", "kind": "Pod",
       "metadata": {"name": "debug", "namespace": "api", "labels": {"app": "debug"},
                    "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}", "team": "core"}},
       "spec": {"nodeName": "node-1", "containers": [{"name": "c", "image": "busybox",
                                                       "env": [{"name": "PASSWORD", "value": "hunter2"}]}]},
       "status": {"phase": "Running", "podIP": "10.1.0.9", "hostIP": "192.168.0.1"}}


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """Cluster "prod" holding examples/baa, and contexts for every way reading it can go wrong."""
    fleet = Fleet()
    prod = fleet.cluster("prod", {"reader": reader(), "nobody": User("nobody", ()), "admin": User("admin")})
    prod.seed(manifests(BAA))
    fleet.context("prod", "prod", "reader")
    fleet.context("nobody", "prod", "nobody")
    fleet.context("stranger", "prod", "not-a-token")
    fleet.context("with-pod", "with-pod", "admin")
    fleet.cluster("with-pod", {"admin": User("admin")}).seed([*manifests(BAA), POD])
    folder = tmp_path_factory.mktemp("live")
    config = fleet.kubeconfig(current="prod")
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    silent = socket.socket()  # accepts connections (the kernel's backlog) but never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    for name, port in (("down", closed.getsockname()[1]), ("silent", silent.getsockname()[1])):
        config["clusters"].append({"name": name, "cluster": {"server": f"https://127.0.0.1:{port}",
                                                             "certificate-authority-data": config["clusters"][0]
                                                             ["cluster"]["certificate-authority-data"]}})
        config["contexts"].append({"name": name, "context": {"cluster": name, "user": "prod-user"}})
    closed.close()
    path = folder / "kubeconfig"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    yield {"fleet": fleet, "prod": prod, "kubeconfig": str(path), "folder": folder}
    silent.close()
    fleet.stop()


def one_error_line(done) -> str:
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    return lines[-1]


# -- snapshot ----------------------------------------------------------------------------


def test_snapshot_gives_plain_manifests_with_kind_and_pod_status(live):
    done = podfence("snapshot", "--kubeconfig", live["kubeconfig"], "--context", "with-pod")
    assert done.returncode == 0, done.stderr
    assert "reading cluster 'with-pod' (context 'with-pod', https://127.0.0.1:" in done.stderr
    docs = list(yaml.safe_load_all(done.stdout))
    assert all(d["kind"] and d["apiVersion"] for d in docs)
    assert len(docs) == len(manifests(BAA)) + 1
    for doc in docs:
        assert not {"managedFields", "uid", "creationTimestamp", "resourceVersion", "generation"} & set(doc["metadata"])
    pod = next(d for d in docs if d["kind"] == "Pod")
    assert pod["status"] == POD["status"] and pod["metadata"]["annotations"] == {"team": "core"}
    assert "env" not in pod["spec"]["containers"][0] and "hunter2" not in done.stdout


@pytest.mark.parametrize("command", [["connectivity", "-o", "json"], ["matrix", "--port", "8080", "-o", "json"],
                                     ["audit", "-o", "json"]])
def test_snapshot_read_back_gives_the_results_of_the_manifests(live, tmp_path, command):
    done = podfence("snapshot", "--kubeconfig", live["kubeconfig"], "-o", str(tmp_path / "s.yaml"))
    assert done.returncode == 0, done.stderr
    from_files = podfence(*command, "-f", str(BAA))
    from_snapshot = podfence(*command, "-f", str(tmp_path / "s.yaml"))
    assert from_snapshot.returncode == from_files.returncode
    assert without_places(json.loads(from_snapshot.stdout)) == without_places(json.loads(from_files.stdout))


def without_places(value):
    """Findings name the file and line they were read at; a snapshot is another file. Findings
    are listed in the order of their places, so they are compared in a fixed order here."""
    if isinstance(value, dict):
        return {k: without_places(v) for k, v in value.items() if k not in ("file", "line")}
    if isinstance(value, list):
        items = [without_places(v) for v in value]
        if items and all(isinstance(v, dict) and "rule" in v for v in items):
            items.sort(key=lambda v: json.dumps(v, sort_keys=True))
        return items
    return value


def test_snapshot_never_overwrites_without_force(live, tmp_path):
    target = tmp_path / "cluster.yaml"
    target.write_text("mine\n")
    done = podfence("snapshot", "--kubeconfig", live["kubeconfig"], "-o", str(target))
    assert "exists (pass --force to overwrite)" in one_error_line(done)
    assert target.read_text() == "mine\n"
    done = podfence("snapshot", "--kubeconfig", live["kubeconfig"], "-o", str(target), "--force")
    assert done.returncode == 0 and target.read_text().startswith("---\napiVersion: v1\nkind: Namespace\n")


# -- errors, one line each, exit 2 -------------------------------------------------------


def test_refused_list_names_the_resource_and_says_forbidden(live):
    line = one_error_line(podfence("snapshot", "--kubeconfig", live["kubeconfig"], "--context", "nobody"))
    assert line.startswith("podfence snapshot: error: ")
    assert "cannot list namespaces at the cluster scope: forbidden" in line
    assert 'User "nobody" cannot list resource "namespaces"' in line


def test_rejected_credentials(live):
    line = one_error_line(podfence("snapshot", "--kubeconfig", live["kubeconfig"], "--context", "stranger"))
    assert "context 'stranger'" in line and "401 Unauthorized" in line and "credentials" in line


def test_unknown_context_lists_the_known_ones(live):
    line = one_error_line(podfence("snapshot", "--kubeconfig", live["kubeconfig"], "--context", "staging"))
    assert "--context 'staging': no such context" in line
    assert "known contexts: down, nobody, prod, silent, stranger, with-pod" in line


def test_unreachable_server_names_url_and_context(live):
    line = one_error_line(podfence("snapshot", "--kubeconfig", live["kubeconfig"], "--context", "down"))
    assert "context 'down' (https://127.0.0.1:" in line and "cannot reach the API server: connection refused" in line


def test_silent_server_times_out(live):
    line = one_error_line(podfence("snapshot", "--kubeconfig", live["kubeconfig"], "--context", "silent",
                                   "--request-timeout", "0.5"))
    assert "context 'silent' (https://127.0.0.1:" in line and "no answer within 0.5 s" in line


def test_bad_kubeconfig_names_file_line_and_field(tmp_path):
    config = tmp_path / "kubeconfig"
    config.write_text("apiVersion: v1\nkind: Config\ncurrent-context: a\ncontexts:\n- name: a\n  context:\n"
                      "    cluster: c\n    user: u\nclusters:\n- name: c\n  cluster: {}\n")
    line = one_error_line(podfence("snapshot", "--kubeconfig", str(config)))
    assert line == f"podfence snapshot: error: {config}:11: kubeconfig: clusters[0].cluster.server: required: " \
                   "the cluster's API server URL"
    config.write_text("contexts: [\n")
    line = one_error_line(podfence("snapshot", "--kubeconfig", str(config)))
    assert line.startswith(f"podfence snapshot: error: {config}:") and "kubeconfig" in line
    line = one_error_line(podfence("snapshot", "--kubeconfig", str(tmp_path / "missing")))
    assert str(tmp_path / "missing") in line


# -- every command reads live --------------------------------------------------------------

EXPLAIN = ["explain", "--from", "api/api-server", "--to", "data/postgres", "--port", "5432"]


@pytest.mark.parametrize("command", [
    ["connectivity", "-o", "json"], ["matrix", "--port", "8080", "-o", "json"], [*EXPLAIN, "-o", "json"],
    ["check", "-o", "json"], ["test", "--snapshot"], ["generate", "default-deny", "-n", "data", "-o", "json"],
])
def test_live_output_is_the_output_of_the_same_manifests(live, command):
    from_files = podfence(*command, "-f", str(BAA))
    from_cluster = podfence(*command, "--kubeconfig", live["kubeconfig"], "--context", "prod")
    assert from_cluster.returncode == from_files.returncode, from_cluster.stderr
    assert from_cluster.stdout == from_files.stdout and from_cluster.stdout
    assert "reading cluster 'prod' (context 'prod', https://127.0.0.1:" in from_cluster.stderr


@pytest.mark.parametrize("command", [["lint", "-o", "json"], ["audit", "-o", "json"]])
def test_live_findings_are_those_of_the_manifests_placed_at_cluster_objects(live, command):
    from_files = podfence(*command, "-f", str(BAA))
    from_cluster = podfence(*command, "--kubeconfig", live["kubeconfig"], "--context", "prod")
    assert from_cluster.returncode == from_files.returncode, from_cluster.stderr
    live_json = json.loads(from_cluster.stdout)
    assert without_places(live_json) == without_places(json.loads(from_files.stdout))
    findings = live_json["findings"] if "findings" in live_json else []
    for finding in findings:
        assert finding["file"].startswith("prod/") and finding["line"] is None


def test_without_f_a_command_reads_the_current_context(live):
    done = podfence("connectivity", "-o", "json", env={"KUBECONFIG": live["kubeconfig"]})
    assert done.returncode == 0, done.stderr
    assert done.stdout == podfence("connectivity", "-o", "json", "-f", str(BAA)).stdout
    assert "reading cluster 'prod' (context 'prod'" in done.stderr


def test_without_f_and_without_kubeconfig_says_to_give_manifests(tmp_path):
    done = podfence("connectivity", env={"KUBECONFIG": "", "HOME": str(tmp_path)})
    line = one_error_line(done)
    assert "no manifests given: use -f PATH" in line and "--kubeconfig FILE / --context NAME" in line
    assert f"{tmp_path}/.kube/config does not exist" in line


def test_context_and_files_give_the_cluster_after_kubectl_apply(live, tmp_path):
    change = tmp_path / "change.yaml"
    change.write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: postgres-ingress\n"
        "  namespace: data\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n---\n"
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: lock-auth\n"
        "spec:\n  podSelector: {}\n  policyTypes: [Ingress, Egress]\n")
    applied = podfence("connectivity", "-o", "json", "--kubeconfig", live["kubeconfig"], "--context", "prod",
                       "-f", str(change), "-n", "auth", "-A")
    both_files = podfence("connectivity", "-o", "json", "-f", str(BAA), "-f", str(change), "-n", "auth")
    assert applied.returncode == both_files.returncode == 0, applied.stderr
    assert applied.stdout == both_files.stdout
    assert applied.stdout != podfence("connectivity", "-o", "json", "-f", str(BAA)).stdout
    replaced = [line for line in applied.stderr.splitlines() if "replaces the one at" in line]
    assert len(replaced) == 1 and "prod/NetworkPolicy/data/postgres-ingress@" in replaced[0]


def test_files_over_a_context_use_the_contexts_namespace(live, tmp_path):
    config = yaml.safe_load(Path(live["kubeconfig"]).read_text())
    config["contexts"][0]["context"]["namespace"] = "kube-system"
    (tmp_path / "kubeconfig").write_text(yaml.safe_dump(config))
    (tmp_path / "deny.yaml").write_text("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n"
                                        "  name: deny\nspec:\n  podSelector: {}\n  policyTypes: [Ingress, Egress]\n")
    check = podfence("check", "-o", "json", "--kubeconfig", str(tmp_path / "kubeconfig"), "-f",
                     str(tmp_path / "deny.yaml"))
    assert check.returncode == 0, check.stderr
    matrix = podfence("matrix", "--port", "8080", "-o", "json", "--kubeconfig", str(tmp_path / "kubeconfig"),
                      "-f", str(tmp_path / "deny.yaml"))
    in_notify = podfence("matrix", "--port", "8080", "-o", "json", "-f", str(BAA), "-f",
                         str(tmp_path / "deny.yaml"), "-n", "kube-system")
    assert matrix.returncode == 0 and matrix.stdout == in_notify.stdout
    elsewhere = podfence("matrix", "--port", "8080", "-o", "json", "-f", str(BAA), "-f", str(tmp_path / "deny.yaml"))
    assert matrix.stdout != elsewhere.stdout


@pytest.mark.parametrize("command", [["connectivity"], ["lint"], ["audit"], ["check"], ["test", "--snapshot"],
                                     ["matrix", "--port", "80"], [*EXPLAIN], ["generate", "allow", "--from",
                                     "api/api-server", "--to", "data/postgres", "--port", "5432"]])
def test_every_command_stops_on_a_refused_list(live, command):
    line = one_error_line(podfence(*command, "--kubeconfig", live["kubeconfig"], "--context", "nobody"))
    assert "forbidden" in line and "namespaces" in line


# -- -n and -A on a live cluster: what is shown ----------------------------------------------


def live_run(live, *args: str):
    done = podfence(*args, "--kubeconfig", live["kubeconfig"], "--context", "prod")
    assert done.returncode in (0, 1), done.stderr
    return done


def test_namespace_restricts_connectivity_shown_not_read(live):
    everything = json.loads(live_run(live, "connectivity", "-o", "json").stdout)["connections"]
    in_data = json.loads(live_run(live, "connectivity", "-o", "json", "-n", "data").stdout)["connections"]
    touching = [e for e in everything if e["src"].startswith("data/") or e["dst"].startswith("data/")]
    assert in_data == touching and 0 < len(in_data) < len(everything)
    assert any(not e["src"].startswith("data/") for e in in_data)  # other namespaces' pods reaching data
    text = live_run(live, "connectivity", "-n", "data").stdout.splitlines()
    full = live_run(live, "connectivity").stdout.splitlines()
    assert text and set(text[:-1]) < set(full) and any("data/" in line for line in text)
    assert text[-1].startswith("Only what the 2 pods of namespace data send or receive, of 16 pods")
    assert not any(line.startswith("api/api-server (Deployment) -> auth/") for line in text)
    every = json.loads(live_run(live, "connectivity", "-o", "json", "-n", "data", "-A").stdout)["connections"]
    assert every == everything


def test_namespace_restricts_matrix_lint_and_audit(live):
    matrix = json.loads(live_run(live, "matrix", "--port", "8080", "-o", "json", "-n", "api").stdout)
    assert matrix["pods"] and all(p.startswith("api/") for p in matrix["pods"])
    findings = json.loads(live_run(live, "lint", "-o", "json", "-n", "data").stdout)["findings"]
    assert findings and all(f["object"].split(" ", 1)[1].startswith("data/") or f["object"] == "Namespace data"
                            for f in findings)
    audit = json.loads(live_run(live, "audit", "-o", "json", "-n", "billing").stdout)
    assert [n["name"] for n in audit["namespaces"]] == ["billing"]
    assert audit["score"] == audit["namespaces"][0]["score"]


def test_namespace_with_files_alone_keeps_its_meaning():
    plain = podfence("matrix", "--port", "8080", "-o", "json", "-f", str(BAA), "-n", "api")
    assert plain.returncode == 0
    assert plain.stdout == podfence("matrix", "--port", "8080", "-o", "json", "-f", str(BAA)).stdout


# -- several clusters ------------------------------------------------------------------------


def test_repeated_context_gives_one_json_entry_per_cluster(live):
    done = podfence("connectivity", "-o", "json", "--kubeconfig", live["kubeconfig"], "--context", "prod",
                    "--context", "with-pod")
    assert done.returncode == 0, done.stderr
    clusters = json.loads(done.stdout)["clusters"]
    assert list(clusters) == ["prod", "with-pod"]
    for name in clusters:
        alone = podfence("connectivity", "-o", "json", "--kubeconfig", live["kubeconfig"], "--context", name)
        assert clusters[name] == json.loads(alone.stdout)
    assert clusters["prod"] != clusters["with-pod"]  # with-pod also runs api/debug
    assert "reading cluster 'prod'" in done.stderr and "reading cluster 'with-pod'" in done.stderr


def test_repeated_context_gives_one_text_section_per_cluster(live):
    done = podfence("matrix", "--port", "8080", "--kubeconfig", live["kubeconfig"], "--context", "prod",
                    "--context", "with-pod")
    assert done.returncode == 0, done.stderr
    prod = podfence("matrix", "--port", "8080", "--kubeconfig", live["kubeconfig"], "--context", "prod").stdout
    with_pod = podfence("matrix", "--port", "8080", "--kubeconfig", live["kubeconfig"],
                        "--context", "with-pod").stdout
    assert done.stdout == f"== context prod ==\n{prod}\n== context with-pod ==\n{with_pod}"


def test_all_contexts_runs_every_one_and_exits_with_the_worst(live):
    done = podfence("lint", "-o", "json", "--kubeconfig", live["kubeconfig"], "--all-contexts",
                    "--request-timeout", "0.5")
    assert done.returncode == 2
    assert sorted(json.loads(done.stdout)["clusters"]) == ["prod", "with-pod"]
    errors = [line for line in done.stderr.splitlines() if line.startswith("podfence lint: error:")]
    assert len(errors) == 4 and all(any(f"context '{n}'" in e for e in errors)
                                    for n in ("nobody", "stranger", "down", "silent"))


def test_several_contexts_refused_where_outputs_cannot_be_put_together(live):
    line = one_error_line(podfence("snapshot", "--kubeconfig", live["kubeconfig"], "--context", "prod",
                                   "--context", "with-pod"))
    assert "several clusters at once" in line and "not with snapshot" in line
