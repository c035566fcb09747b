"""Renders every overlay in deploy/kubernetes with the pinned kubectl/kustomize, validates it
against the Kubernetes schema offline, and checks that each mode is consistent and hardened."""

import os
import re
import shutil
import sys
from urllib.parse import urlsplit

import pytest

from conftest import KUSTOMIZE_ROOT, MODES, REPO, project_version

# The scheduler's host-port rule, shared with the e2e harness (which applies it to pods).
sys.path.insert(0, str(REPO / "tests" / "e2e"))
import scheduler  # noqa: E402

NAMESPACE = "node-agent"
AGENT_UID = 65532
HOST_PORT = 11559
# The only capabilities any container may add back, per mode and container (docs/modes.md).
ALLOWED_CAPS = {("unix-socket", "socket-dir"): ["CHOWN"]}
# Containers allowed to run as uid 0 (one-shot, capability-limited; docs/modes.md).
ROOT_INIT_CONTAINERS = {("unix-socket", "socket-dir")}
# After the shutdown delay the agent drains open connections for at most this long
# (ServerOptions::drain_timeout in src/http/server.h).
AGENT_DRAIN_S = 2
# The endpoint race: kube-proxy keeps sending new connections to a deleted pod until it has seen
# the pod turn terminating, typically within a second or two; the delay must outlast that.
MIN_SHUTDOWN_DELAY_S = 2


# ---------------------------------------------------------------------------------------------
# Helpers over rendered objects


def find(objects, kind, name=None):
    found = [o for o in objects if o["kind"] == kind and (name is None or
                                                          o["metadata"]["name"] == name)]
    return found


def one(objects, kind, name):
    found = find(objects, kind, name)
    assert len(found) == 1, f"expected exactly one {kind}/{name}, found {len(found)}"
    return found[0]


def container(pod_spec, name):
    found = [c for c in pod_spec.get("containers", []) if c["name"] == name]
    assert len(found) == 1, f"container {name} missing"
    return found[0]


def flag(args, name):
    """Value of --name=value or --name value in an argument list (None when absent)."""
    for i, a in enumerate(args):
        if a.startswith(f"--{name}="):
            return a.split("=", 1)[1]
        if a == f"--{name}" and i + 1 < len(args):
            return args[i + 1]
    return None


def listen(args):
    """Parses --listen-address: ("tcp", host, port) or ("unix", path, None)."""
    addr = flag(args, "listen-address")
    assert addr, f"--listen-address missing from {args}"
    if addr.startswith("unix://"):
        return "unix", addr[len("unix://"):], None
    m = re.fullmatch(r"(\[[^\]]*\]|[^:\[\]]*):(\d+)", addr)
    assert m, f"unparsable --listen-address {addr}"
    return "tcp", m.group(1), int(m.group(2))


def port_number(c, port):
    """Resolves a probe/Service port (number or name) against a container's ports."""
    if isinstance(port, int):
        return port
    named = [p["containerPort"] for p in c.get("ports", []) if p.get("name") == port]
    assert named, f"port name {port!r} not declared by container {c['name']}"
    return named[0]


def duration_s(text):
    """Go-style duration (what the agent's duration flags take) -> seconds."""
    units = {"ms": 1e-3, "s": 1, "m": 60, "h": 3600}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text)
    assert parts and "".join(n + u for n, u in parts) == text, f"bad duration {text!r}"
    return sum(float(n) * units[u] for n, u in parts)


def quantity(q):
    """Kubernetes quantity -> float (cores or bytes); enough for the suffixes we use."""
    q = str(q)
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 1e3, "M": 1e6, "G": 1e9}
    for suffix in sorted(units, key=len, reverse=True):
        if q.endswith(suffix):
            return float(q[: -len(suffix)]) * units[suffix]
    return float(q)


def env_of(c):
    return {e["name"]: e for e in c.get("env", [])}


def field_ref(c, name):
    e = env_of(c).get(name)
    return e and e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")


def all_containers(pod_spec):
    return [(c, False) for c in pod_spec.get("containers", [])] + \
           [(c, True) for c in pod_spec.get("initContainers", [])]


def hostpath_of_mount(pod_spec, c, mount_path):
    for m in c.get("volumeMounts", []):
        if m["mountPath"] == mount_path:
            vol = [v for v in pod_spec.get("volumes", []) if v["name"] == m["name"]]
            assert vol, f"volume {m['name']} not defined"
            return vol[0].get("hostPath", {}).get("path"), m
    return None, None


def mount_containing(pod_spec, c, path):
    """(hostPath of the volume, mount) whose mountPath contains `path`."""
    best = None
    for m in c.get("volumeMounts", []):
        mp = m["mountPath"].rstrip("/")
        if path == mp or path.startswith(mp + "/"):
            if best is None or len(mp) > len(best["mountPath"]):
                best = m
    if best is None:
        return None, None
    vol = [v for v in pod_spec.get("volumes", []) if v["name"] == best["name"]][0]
    host = vol.get("hostPath", {}).get("path")
    rel = path[len(best["mountPath"].rstrip("/")):]
    return (host + rel if host else None), best


# ---------------------------------------------------------------------------------------------
# Schema


def test_all_four_overlays_exist():
    found = sorted(p.name for p in (KUSTOMIZE_ROOT / "overlays").iterdir() if p.is_dir())
    assert found == sorted(MODES)


@pytest.mark.parametrize("mode", MODES)
def test_overlay_validates_against_kubernetes_schema(rendered, mode):
    r = rendered[mode]
    assert r["errors"] == []
    kinds = sorted(o["kind"] for o in r["objects"])
    expected = ["DaemonSet", "Deployment", "Namespace", "PriorityClass", "Service",
                "ServiceAccount", "ServiceAccount"]
    if mode == "local-service":
        expected.append("Service")
    assert kinds == sorted(expected)


def test_validator_rejects_unknown_fields_wrong_types_and_kinds(rendered, validate, tmp_path):
    """The validator must fail on the mistakes it exists to catch (not assert nothing)."""
    text = rendered["host-port"]["yaml"]
    bad = {
        "typo": text.replace("readOnlyRootFilesystem: true", "readOnlyRootFileSystem: true", 1),
        "type": text.replace("hostPort: 11559", "hostPort: \"11559\"", 1),
        "kind": text + "---\napiVersion: v1\nkind: Servise\nmetadata:\n  name: x\n",
        "missing": text.replace("      containers:\n", "      containerz:\n", 1),
    }
    assert all(bad[k] != text for k in bad)
    result = validate(bad, tmp_path)
    assert any("readOnlyRootFileSystem" in e for e in result["typo"]["errors"])
    assert any("hostPort" in e for e in result["type"]["errors"])
    assert any("Servise" in e for e in result["kind"]["errors"])
    assert any("containers" in e for e in result["missing"]["errors"])


# ---------------------------------------------------------------------------------------------
# Consistency and hardening, per mode


@pytest.mark.parametrize("mode", MODES)
def test_namespaces_and_service_accounts(rendered, mode):
    objs = rendered[mode]["objects"]
    for o in objs:
        if o["kind"] in ("Namespace", "PriorityClass"):
            assert "namespace" not in o["metadata"]
        else:
            assert o["metadata"].get("namespace") == NAMESPACE, o["metadata"]
    one(objs, "Namespace", NAMESPACE)
    for name in ("node-agent", "kiada"):
        assert one(objs, "ServiceAccount", name)["automountServiceAccountToken"] is False


@pytest.mark.parametrize("mode", MODES)
def test_selectors_match_pod_labels(rendered, mode):
    objs = rendered[mode]["objects"]
    workloads = find(objs, "DaemonSet") + find(objs, "Deployment")
    for w in workloads:
        labels = w["spec"]["template"]["metadata"]["labels"]
        sel = w["spec"]["selector"]["matchLabels"]
        assert sel.items() <= labels.items(), w["metadata"]["name"]
    for svc in find(objs, "Service"):
        sel = svc["spec"]["selector"]
        matched = [w for w in workloads
                   if sel.items() <= w["spec"]["template"]["metadata"]["labels"].items()]
        assert len(matched) == 1, f"Service {svc['metadata']['name']} selects {len(matched)}"


@pytest.mark.parametrize("mode", MODES)
def test_pods_are_hardened(rendered, mode):
    objs = rendered[mode]["objects"]
    for w in find(objs, "DaemonSet") + find(objs, "Deployment"):
        spec = w["spec"]["template"]["spec"]
        psc = spec["securityContext"]
        assert psc["runAsNonRoot"] is True
        assert psc["runAsUser"] == AGENT_UID and psc["runAsGroup"] == AGENT_UID
        assert psc["seccompProfile"]["type"] == "RuntimeDefault"
        assert spec["automountServiceAccountToken"] is False
        assert not spec.get("hostPID") and not spec.get("hostIPC")
        assert spec.get("hostNetwork", False) == (mode == "host-network"
                                                  and w["kind"] == "DaemonSet")
        for c, init in all_containers(spec):
            sc = c["securityContext"]
            key = (mode, c["name"])
            assert sc["allowPrivilegeEscalation"] is False, key
            assert sc.get("privileged", False) is False, key
            assert sc["readOnlyRootFilesystem"] is True, key
            assert sc["capabilities"]["drop"] == ["ALL"], key
            assert sc["capabilities"].get("add", []) == ALLOWED_CAPS.get(key, []), key
            assert sc.get("seccompProfile", psc["seccompProfile"])["type"] == "RuntimeDefault"
            if init and key in ROOT_INIT_CONTAINERS:
                assert sc["runAsUser"] == 0 and sc["runAsNonRoot"] is False
                # It mounts only the socket directory, never the host's /proc or /sys.
                assert len(c["volumeMounts"]) == 1
            else:
                assert sc["runAsNonRoot"] is True, key
                assert sc.get("runAsUser", psc["runAsUser"]) != 0, key
            for m in c.get("volumeMounts", []):
                vol = [v for v in spec["volumes"] if v["name"] == m["name"]][0]
                if vol.get("hostPath", {}).get("path") in ("/proc", "/sys", "/"):
                    assert m.get("readOnly") is True, (key, m)


@pytest.mark.parametrize("mode", MODES)
def test_agent_reads_the_host_root_read_only_with_later_mounts(rendered, mode):
    """--rootfs points at the node's / mounted read-only, with HostToContainer propagation so
    that mounts made on the node after the pod started are statted too."""
    for w in find(rendered[mode]["objects"], "DaemonSet"):
        spec = w["spec"]["template"]["spec"]
        agent = [c for c in spec["containers"] if c["name"] == "node-agent"][0]
        root_args = [a for a in agent["args"] if a.startswith("--rootfs=")]
        assert len(root_args) == 1, agent["args"]
        host, mount = hostpath_of_mount(spec, agent, root_args[0].split("=", 1)[1])
        assert host == "/", mode
        assert mount["readOnly"] is True
        assert mount["mountPropagation"] == "HostToContainer"


@pytest.mark.parametrize("mode", MODES)
def test_resources_requests_and_limits(rendered, mode):
    for w in find(rendered[mode]["objects"], "DaemonSet") + \
            find(rendered[mode]["objects"], "Deployment"):
        for c, _ in all_containers(w["spec"]["template"]["spec"]):
            res = c["resources"]
            for kind in ("cpu", "memory"):
                req, lim = quantity(res["requests"][kind]), quantity(res["limits"][kind])
                assert 0 < req <= lim, (c["name"], kind)
            # The agent's measured footprint is single-digit MiB; a limit far above that would
            # hide a leak, one below it would OOM-kill a healthy agent.
            if c["name"] == "node-agent":
                assert 8 * 2**20 < quantity(res["limits"]["memory"]) <= 128 * 2**20


@pytest.mark.parametrize("mode", MODES)
def test_priority_class_present_and_referenced(rendered, mode):
    objs = rendered[mode]["objects"]
    ds = one(objs, "DaemonSet", "node-agent")
    pc = one(objs, "PriorityClass", ds["spec"]["template"]["spec"]["priorityClassName"])
    # Above every ordinary workload, below the built-in system classes.
    assert 0 < pc["value"] <= 1_000_000_000
    assert pc["globalDefault"] is False
    assert pc["preemptionPolicy"] == "PreemptLowerPriority"


@pytest.mark.parametrize("mode", MODES)
def test_agent_runs_on_every_node(rendered, mode):
    spec = one(rendered[mode]["objects"], "DaemonSet", "node-agent")["spec"]["template"]["spec"]
    assert {"operator": "Exists"} in spec["tolerations"]
    assert "nodeSelector" not in spec and "affinity" not in spec


@pytest.mark.parametrize("mode", MODES)
def test_agent_reads_the_hosts_proc_and_sys_and_knows_its_node(rendered, mode):
    spec = one(rendered[mode]["objects"], "DaemonSet", "node-agent")["spec"]["template"]["spec"]
    agent = container(spec, "node-agent")
    assert field_ref(agent, "NODE_NAME") == "spec.nodeName"
    for fl, host in (("procfs", "/proc"), ("sysfs", "/sys")):
        path = flag(agent["args"], fl)
        assert path, f"--{fl} missing"
        assert hostpath_of_mount(spec, agent, path)[0] == host


@pytest.mark.parametrize("mode", MODES)
def test_update_strategy_fits_the_mode(rendered, mode):
    """Surge (the new pod ready before the old one goes) wherever the scheduler lets two agent
    pods share a node; replace in place only where a host port forbids it (host-port)."""
    ds = one(rendered[mode]["objects"], "DaemonSet", "node-agent")
    strategy = ds["spec"]["updateStrategy"]
    assert strategy["type"] == "RollingUpdate"
    surge = strategy["rollingUpdate"]["maxSurge"]
    unavailable = strategy["rollingUpdate"]["maxUnavailable"]
    spec = ds["spec"]["template"]["spec"]
    clash = scheduler.conflicts(spec, [spec])
    if clash:
        # The surge pod would stay Pending next to the old one: the rollout would hang.
        assert (surge, unavailable) == (0, 1), clash
        assert mode == "host-port", f"only host-port needs to give up the surge: {clash}"
    else:
        assert (surge, unavailable) == (1, 0)


@pytest.mark.parametrize("mode", MODES)
def test_shutdown_delay_grace_period_and_probes_fit(rendered, mode):
    """After SIGTERM the agent answers for --shutdown-delay (while kube-proxy and the clients
    catch up), then drains: the grace period must cover both, and where a Service follows the
    agent's readiness the kubelet must see it fail before the listener closes."""
    objs = rendered[mode]["objects"]
    spec = one(objs, "DaemonSet", "node-agent")["spec"]["template"]["spec"]
    agent = container(spec, "node-agent")
    text = flag(agent["args"], "shutdown-delay")
    assert text, "--shutdown-delay missing"
    delay = duration_s(text)
    assert delay >= MIN_SHUTDOWN_DELAY_S
    assert spec["terminationGracePeriodSeconds"] >= delay + AGENT_DRAIN_S + 1
    assert "lifecycle" not in agent, "the delay is the agent's; a preStop sleep would double it"
    rp = agent["readinessProbe"]
    period, failures = rp.get("periodSeconds", 10), rp.get("failureThreshold", 3)
    assert rp.get("timeoutSeconds", 1) < period
    selected = [svc for svc in find(objs, "Service")
                if svc["spec"]["selector"].items() <= spec_labels(objs).items()]
    if selected:
        # kube-proxy falls back to serving terminating endpoints when a node has no ready one.
        assert period * failures <= delay, "unready only after the listener has closed"
    # A surge waits for the new pod's readiness: a slow probe makes every node's update slow.
    assert period <= 5


def spec_labels(objs):
    ds = one(objs, "DaemonSet", "node-agent")
    return ds["spec"]["template"]["metadata"]["labels"]


@pytest.mark.parametrize("pod,others,collides", [
    # hostNetwork: the API server defaults each containerPort's hostPort to it.
    ({"hostNetwork": True, "containers": [{"ports": [{"containerPort": 11559}]}]},
     [{"hostNetwork": True, "containers": [{"ports": [{"containerPort": 11559}]}]}], True),
    ({"hostNetwork": True, "containers": [{}]}, [{"hostNetwork": True, "containers": [{}]}],
     False),
    ({"containers": [{"ports": [{"containerPort": 8080, "hostPort": 11559}]}]},
     [{"hostNetwork": True, "containers": [{"ports": [{"containerPort": 11559}]}]}], True),
    ({"containers": [{"ports": [{"containerPort": 8080}]}]},
     [{"containers": [{"ports": [{"containerPort": 8080}]}]}], False),
    ({"containers": [{"ports": [{"containerPort": 8, "hostPort": 9, "protocol": "UDP"}]}]},
     [{"containers": [{"ports": [{"containerPort": 8, "hostPort": 9}]}]}], False),
    ({"containers": [{"ports": [{"containerPort": 8, "hostPort": 9, "hostIP": "10.0.0.1"}]}]},
     [{"containers": [{"ports": [{"containerPort": 8, "hostPort": 9, "hostIP": "10.0.0.2"}]}]}],
     False),
    ({"containers": [{"ports": [{"containerPort": 8, "hostPort": 9, "hostIP": "10.0.0.1"}]}]},
     [{"containers": [{"ports": [{"containerPort": 8, "hostPort": 9}]}]}], True),
    ({"initContainers": [{"ports": [{"containerPort": 8, "hostPort": 9}]}], "containers": [{}]},
     [{"containers": [{"ports": [{"containerPort": 8, "hostPort": 9}]}]}], True),
])
def test_scheduler_host_port_rule(pod, others, collides):
    assert bool(scheduler.conflicts(pod, others)) == collides


@pytest.mark.parametrize("mode", MODES)
def test_listen_address_ports_probes_and_client_url_agree(rendered, mode):
    objs = rendered[mode]["objects"]
    ds_spec = one(objs, "DaemonSet", "node-agent")["spec"]["template"]["spec"]
    agent = container(ds_spec, "node-agent")
    scheme, host, port = listen(agent["args"])
    kiada_spec = one(objs, "Deployment", "kiada")["spec"]["template"]["spec"]
    kiada = container(kiada_spec, "kiada")
    url = env_of(kiada)["NODE_AGENT_URL"]["value"]

    if scheme == "tcp":
        assert mode != "unix-socket"
        assert host == "", "listen on every address of the pod (or node) network"
        # Unprivileged port: no NET_BIND_SERVICE.
        assert port >= 1024
        if ds_spec.get("hostNetwork"):
            # A declared port would become a hostPort and keep the surge pod Pending.
            assert "ports" not in agent
        else:
            assert [p["containerPort"] for p in agent["ports"]] == [port]
            assert agent["ports"][0]["name"] == "http"
        for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
            get = agent[probe]["httpGet"]
            assert get["path"] == path
            assert port_number(agent, get["port"]) == port
    else:
        assert mode == "unix-socket"
        assert "ports" not in agent
        assert flag(agent["args"], "socket-mode") == "0660"
        for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
            cmd = agent[probe]["exec"]["command"]
            assert cmd[0] == "/usr/local/bin/node-agent-client"
            assert flag(cmd, "url") == f"unix://{host}"
            assert flag(cmd, "get") == path

    target = urlsplit(url)
    if mode == "local-service":
        assert url == "http://node-agent"
        svc = one(objs, "Service", "node-agent")
        assert svc["spec"]["internalTrafficPolicy"] == "Local"
        assert svc["spec"].get("type", "ClusterIP") == "ClusterIP"
        (sp,) = svc["spec"]["ports"]
        assert sp["port"] == (target.port or 80)
        assert port_number(agent, sp["targetPort"]) == port
        assert all("hostPort" not in p for p in agent["ports"])
    elif mode in ("host-port", "host-network"):
        assert url == f"http://$(NODE_IP):{HOST_PORT}"
        published = port if ds_spec.get("hostNetwork") else agent["ports"][0].get("hostPort")
        assert published == HOST_PORT
        if mode == "host-network":
            assert ds_spec["hostNetwork"] is True and port == HOST_PORT
            assert ds_spec["dnsPolicy"] == "ClusterFirstWithHostNet"
        assert not find(objs, "Service", "node-agent")
    else:
        assert url == f"unix://{host}"
        agent_host_path, agent_mount = mount_containing(ds_spec, agent, host)
        kiada_host_path, kiada_mount = mount_containing(kiada_spec, kiada, host)
        assert agent_host_path and agent_host_path == kiada_host_path
        assert not agent_mount.get("readOnly") and kiada_mount["readOnly"] is True
        # The init container prepares exactly the directory the agent's socket lives in.
        (init,) = ds_spec["initContainers"]
        init_dir = init["args"][-1]
        assert mount_containing(ds_spec, init, init_dir)[0] == agent_host_path.rsplit("/", 1)[0]
        assert flag(init["args"], "uid") == str(AGENT_UID)
        # Kiada's group may traverse the 0750 directory and connect to the 0660 socket.
        assert kiada_spec["securityContext"]["runAsGroup"] == int(flag(init["args"], "gid"))
        assert not find(objs, "Service", "node-agent")


@pytest.mark.parametrize("mode", MODES)
def test_kiada_gets_downward_api_env_in_dependency_order(rendered, mode):
    kiada_spec = one(rendered[mode]["objects"], "Deployment", "kiada")["spec"]["template"]["spec"]
    kiada = container(kiada_spec, "kiada")
    assert field_ref(kiada, "POD_NAME") == "metadata.name"
    assert field_ref(kiada, "POD_IP") == "status.podIP"
    assert field_ref(kiada, "NODE_NAME") == "spec.nodeName"
    assert field_ref(kiada, "NODE_IP") == "status.hostIP"
    # Kubernetes expands $(VAR) only from variables defined earlier in the list.
    for w in find(rendered[mode]["objects"], "DaemonSet") + \
            find(rendered[mode]["objects"], "Deployment"):
        for c, _ in all_containers(w["spec"]["template"]["spec"]):
            seen = set()
            for e in c.get("env", []):
                for ref in re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", e.get("value", "")):
                    assert ref in seen, f"{c['name']}: {e['name']} uses $({ref}) before it is set"
                seen.add(e["name"])
    # Kiada's own port, probe and Service agree.
    port = int(flag(kiada["args"], "listen-port"))
    assert [p["containerPort"] for p in kiada["ports"]] == [port]
    assert port_number(kiada, kiada["readinessProbe"]["httpGet"]["port"]) == port
    assert kiada["readinessProbe"]["httpGet"]["path"] == "/healthz/ready"
    svc = one(rendered[mode]["objects"], "Service", "kiada")
    assert port_number(kiada, svc["spec"]["ports"][0]["targetPort"]) == port


@pytest.mark.parametrize("mode", MODES)
def test_one_image_at_the_project_version(rendered, mode):
    images = {c["image"] for w in find(rendered[mode]["objects"], "DaemonSet") +
              find(rendered[mode]["objects"], "Deployment")
              for c, _ in all_containers(w["spec"]["template"]["spec"])}
    assert images == {f"localhost/node-agent:{project_version()}"}
    for w in find(rendered[mode]["objects"], "DaemonSet") + \
            find(rendered[mode]["objects"], "Deployment"):
        for c, _ in all_containers(w["spec"]["template"]["spec"]):
            assert c["imagePullPolicy"] == "IfNotPresent"
            if w["kind"] == "Deployment" or _:
                # Non-default programs of the image are named explicitly.
                assert c["command"][0].startswith("/usr/local/bin/")


# ---------------------------------------------------------------------------------------------
# What users do on top: their registry, and the system-node-critical switch


def user_overlay(tmp_path, mode, extra):
    d = tmp_path / "my-cluster"
    d.mkdir(parents=True)
    rel = os.path.relpath(KUSTOMIZE_ROOT, d)
    (d / "kustomization.yaml").write_text(
        f"resources:\n  - {rel}/overlays/{mode}\n" + extra.replace("ROOT", rel))
    return d


@pytest.mark.parametrize("mode", MODES)
def test_users_overlay_sets_their_registry_everywhere(render, tmp_path, mode):
    d = user_overlay(tmp_path, mode, "images:\n  - name: localhost/node-agent\n"
                     "    newName: registry.example.com/team/node-agent\n    newTag: 1.2.3\n")
    text = render(d)
    images = set(re.findall(r"image: (\S+)", text))
    assert images == {"registry.example.com/team/node-agent:1.2.3"}


def test_system_node_critical_component(render, validate, tmp_path):
    texts = {}
    for mode in MODES:
        d = user_overlay(tmp_path / mode, mode,
                         "components:\n  - ROOT/components/system-node-critical\n")
        texts[mode] = render(d)
    for mode, result in validate(texts, tmp_path).items():
        assert result["errors"] == [], mode
        assert not find(result["objects"], "PriorityClass")
        ds = one(result["objects"], "DaemonSet", "node-agent")
        assert ds["spec"]["template"]["spec"]["priorityClassName"] == "system-node-critical"


def test_priority_switch_in_base_covers_every_mode(render, tmp_path):
    """The documented one-place switch: uncomment `components:` in base/kustomization.yaml."""
    copy = tmp_path / "kubernetes"
    shutil.copytree(KUSTOMIZE_ROOT, copy)
    base = copy / "base" / "kustomization.yaml"
    text = base.read_text()
    switched = text.replace("# components:\n#   - ../components/system-node-critical",
                            "components:\n  - ../components/system-node-critical")
    assert switched != text, "the commented switch is missing from base/kustomization.yaml"
    base.write_text(switched)
    for mode in MODES:
        out = render(copy / "overlays" / mode)
        assert "priorityClassName: system-node-critical" in out
        assert "kind: PriorityClass" not in out
