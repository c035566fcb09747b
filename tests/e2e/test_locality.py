"""Every access mode, deployed from the shipped manifests onto a namespace cluster, keeps Kiada on
its own node's agent (see cluster.py for the network, kubelet.py for the pods)."""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from cluster import POD_CIDR
from conftest import AGENT_NODES
from kubelet import ModeDeployment
from manifests import bin_dir, load_mode
from netns import Reply, http_get, http_loop, tcp_connect
from report import record

MODES = ["local-service", "host-port", "host-network", "unix-socket"]
REQUESTS_PER_NODE = 300
KIADA_PATH = "/text"
# Kiada's agent client times out after 1 s (client library default); its page must still answer
# within that plus 100 ms. The bound here adds slack for a loaded 2-core CI machine.
NO_AGENT_BOUND_S = 3.0

SERVED_BY = re.compile(
    r'Request processed by Kiada 0\.9 running in pod "([^"]*)" on node "([^"]*)"\.')
NODE_INFO = re.compile(r"^Node info: (.*)$", re.M)
AGENT_LINE = re.compile(r"^(\S+) uptime: ")


def classify(reply: Reply, kiada_node: str) -> tuple[str, str]:
    """-> (outcome, detail); outcome is local | foreign | refused (Kiada's client refused an
    answer from another node: `Node info: ERROR: wrong node ...`) | error (Kiada reported
    another agent error) | kiada-failed (no proper Kiada page at all)."""
    if reply.status != 200:
        return "kiada-failed", reply.error or f"HTTP {reply.status}"
    served = SERVED_BY.search(reply.body)
    info = NODE_INFO.search(reply.body)
    if not served or not info:
        return "kiada-failed", f"unexpected page: {reply.body[:200]!r}"
    if served.group(2) != kiada_node:
        return "kiada-failed", f"Kiada says node {served.group(2)!r}, runs on {kiada_node!r}"
    line = info.group(1)
    if line.startswith("ERROR: wrong node"):
        return "refused", line
    if line.startswith("ERROR:"):
        return "error", line
    agent = AGENT_LINE.match(line)
    if not agent:
        return "kiada-failed", f"unparsable Node info: {line!r}"
    return ("local", line) if agent.group(1) == kiada_node else ("foreign", agent.group(1))


@dataclass
class Tally:
    counts: Counter
    details: list[str]  # the first few non-local outcomes
    seconds: list[float]  # every page's latency
    kinds: Counter  # non-local outcomes by kind and detail (numbers masked), for the report

    def top(self) -> str:
        return "; ".join(f"{n}x {k}" for k, n in self.kinds.most_common(2))


def tally(replies: list[Reply], kiada_node: str) -> Tally:
    t = Tally(Counter(), [], [r.seconds for r in replies], Counter())
    for r in replies:
        outcome, detail = classify(r, kiada_node)
        t.counts[outcome] += 1
        if outcome != "local":
            if len(t.details) < 5:
                t.details.append(f"{outcome}: {detail}")
            t.kinds[f"{outcome}: " + re.sub(r"\d+", "N", detail)[:90]] += 1
    return t


def load(dep: ModeDeployment, nodes: list[str], per_node: int = REQUESTS_PER_NODE):
    """`per_node` requests to each listed node's Kiada, all nodes at once -> {node: Tally}."""
    port = dep.mode.kiada_port()

    def one(node_name):
        pod = dep.kiadas[node_name]
        return node_name, http_get(pod.node.ns, pod.ip, port, KIADA_PATH, timeout=5.0,
                                   count=per_node)

    with ThreadPoolExecutor(len(nodes)) as pool:
        results = dict(pool.map(one, nodes))
    return {n: tally(r, n) for n, r in results.items()}


def summarize(per_node: dict[str, Tally]) -> Tally:
    total = Tally(Counter(), [], [], Counter())
    for t in per_node.values():
        total.counts += t.counts
        total.details += t.details
        total.seconds += t.seconds
        total.kinds += t.kinds
    return total


@pytest.fixture(scope="module", params=MODES)
def dep(request, cluster):
    mode = load_mode(request.param)
    d = ModeDeployment(cluster, mode, [cluster.node(n) for n in AGENT_NODES])
    try:
        d.start()
        yield d
    finally:
        d.stop()


def test_every_request_is_served_by_the_local_agent(dep):
    per_node = load(dep, AGENT_NODES)
    total = summarize(per_node)
    record(dep.mode.overlay, "steady state", total.counts, latencies=total.seconds)
    for node, t in per_node.items():
        assert t.counts["local"] == REQUESTS_PER_NODE, f"{node}: {dict(t.counts)} {t.details}"


def test_kiada_sees_its_downward_api_values(dep, cluster):
    for node_name in AGENT_NODES:
        pod, node = dep.kiadas[node_name], cluster.node(node_name)
        body = http_get(pod.node.ns, pod.ip, dep.mode.kiada_port(), KIADA_PATH)[0].body
        assert f'running in pod "{pod.name}" on node "{node_name}"' in body, body
        assert f"Pod hostname: {pod.name}; Pod IP: {pod.ip}; Node IP: {node.ip};" in body, body


def _ns_id(pid: int | str, kind: str) -> str:
    return os.readlink(f"/proc/{pid}/ns/{kind}")


def _status(pid: int, field: str) -> str:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return line.split(":", 1)[1].strip()
    return ""


def test_pods_get_the_namespaces_and_user_their_spec_asks_for(dep, cluster):
    for w, pods in ((dep.mode.agent, dep.agents), (dep.mode.kiada, dep.kiadas)):
        spec, sc = w.spec, w.spec.get("securityContext") or {}
        for pod in pods.values():
            pid = pod.container_pid()
            assert pid, f"{pod.name}: no container process"
            host_network = bool(spec.get("hostNetwork"))
            want_own = {"pid": not spec.get("hostPID"), "ipc": not spec.get("hostIPC"),
                        "uts": not host_network, "mnt": True}
            for kind, own in want_own.items():
                same = _ns_id(pid, kind) == _ns_id("self", kind)
                assert same != own, f"{pod.name}: {kind} namespace shared={same}"
            net = os.stat(f"/proc/{pid}/ns/net").st_ino
            assert net == os.stat(f"/run/netns/{pod.ns}").st_ino, f"{pod.name}: wrong netns"
            assert (pod.ns == pod.node.ns) == host_network
            uid = _status(pid, "Uid").split()
            if "runAsUser" in sc:
                assert uid[1] == str(sc["runAsUser"]), f"{pod.name}: euid {uid}"
            if uid[1] != "0":
                assert int(_status(pid, "CapEff"), 16) == 0, f"{pod.name}: has capabilities"


def test_node_without_agent_gets_an_error_in_time(dep, cluster):
    node = next(n.name for n in cluster.nodes if n.name not in AGENT_NODES)
    if node in dep.pending:
        # unix-socket: Kiada mounts the socket directory as a hostPath of type Directory, so on a
        # node where no agent ever ran the kubelet cannot mount it and the pod stays pending.
        assert "FailedMount" in dep.pending[node], dep.pending[node]
        record(dep.mode.overlay, f"{node} (agent never ran)", Counter(),
               "Kiada pod stays pending: " + dep.pending[node].split(":")[0] +
               " (hostPath type Directory)")
        # A node where the agent ran once (the directory exists) but is gone now.
        for v in dep.mode.agent.spec.get("volumes", []):
            if v.get("hostPath", {}).get("type") == "DirectoryOrCreate":
                (cluster.node(node).host_dir / v["hostPath"]["path"].lstrip("/")).mkdir(
                    parents=True, exist_ok=True)
        assert dep.start_kiada(cluster.node(node)) is not None, dep.pending.get(node)
        node_case = f"{node} (agent gone, directory left)"
    else:
        node_case = f"{node} (no agent pod)"
    pod = dep.kiadas[node]
    replies = http_get(pod.node.ns, pod.ip, dep.mode.kiada_port(), KIADA_PATH, timeout=10.0,
                       count=5)
    t = tally(replies, node)
    slowest = max(r.seconds for r in replies)
    record(dep.mode.overlay, node_case, t.counts,
           f"Kiada answered `Node info: ERROR: ...` within {slowest:.2f} s", t.seconds)
    assert t.counts["error"] == len(replies), f"{dict(t.counts)} {t.details}"
    assert slowest < NO_AGENT_BOUND_S, f"slowest answer took {slowest:.2f} s"


def agent_tcp_port(dep: ModeDeployment) -> int | None:
    """The node port a client outside the pod network uses, if the mode exposes one."""
    if dep.mode.host_ports():
        return dep.mode.host_ports()[0]
    if dep.mode.agent.host_network:
        return dep.mode.agent_tcp_port()
    return None


def candidate_ports(dep: ModeDeployment) -> set[int]:
    ports = {p["containerPort"] for p in dep.mode.agent.ports} | {11559, 80}
    for svc in dep.services:
        ports |= {svc.port, svc.target_port}
    return ports


def test_client_outside_the_cluster(dep, cluster):
    port = agent_tcp_port(dep)
    for node_name in AGENT_NODES:
        node, agent = cluster.node(node_name), dep.agents[node_name]
        if port is not None:
            r = http_get(cluster.external, node.ip, port, "/", timeout=3.0)[0]
            assert r.status == 200 and r.body.startswith(f"{node_name} uptime: "), r
            continue
        for p in candidate_ports(dep):
            assert tcp_connect(cluster.external, node.ip, p) != "connected", (node.ip, p)
            if not agent.host_network:
                assert tcp_connect(cluster.external, agent.ip, p) != "connected", (agent.ip, p)
        for svc in dep.services:
            assert tcp_connect(cluster.external, svc.vip, svc.port) != "connected", svc


def test_unix_socket_mode_has_no_tcp_listener(dep):
    if dep.mode.overlay != "unix-socket":
        pytest.skip("only the unix-socket mode promises no TCP exposure")
    for agent in dep.agents.values():
        out = subprocess.run(["ip", "netns", "exec", agent.ns, "ss", "-Hltn"],
                             capture_output=True, text=True, check=True).stdout
        listeners = [line.split()[3] for line in out.splitlines() if line.strip()]
        exposed = [a for a in listeners if not a.startswith(("127.", "[::1]"))]
        assert not exposed, f"{agent.name} listens on {exposed}"


def test_rolling_restart_under_load(dep, cluster):
    """One Kiada under load while its node's agent is replaced as the DaemonSet's strategy
    says, with kube-proxy lagging behind (cluster.endpoint_lag): no error, no foreign page."""
    node = cluster.node(AGENT_NODES[0])
    kiada = dep.kiadas[node.name]
    replies: list[Reply] = []
    stop = threading.Event()
    loader = threading.Thread(target=http_loop, args=(
        kiada.node.ns, kiada.ip, dep.mode.kiada_port(), KIADA_PATH, stop, 500_000, 90.0, replies))
    loader.start()
    try:
        _wait_for(lambda: len(replies) >= 50, 20, "load before the rollout")
        t0 = time.monotonic()
        roll = dep.roll_agent(node)
        t1 = time.monotonic()
        after = len(replies)
        # The count bound is far above what a rollout's few seconds produce (an idle 2-core
        # machine does about 5,000 requests per second): the loader must still run after the roll.
        assert loader.is_alive(), f"the load loop ended during the rollout ({after} requests)"
        _wait_for(lambda: len(replies) >= after + 50, 20, "load after the rollout")
    finally:
        stop.set()
        loader.join()
    t = tally(replies, node.name)
    during = [r.seconds for r in replies if t0 <= r.started <= t1]
    late = tally(replies[after:], node.name)
    if roll["stuck"]:
        how = "rollout STUCK: " + roll["stuck"]
    else:
        how = ("surge: new pod Ready after {new_ready_s:.1f} s, old pod gone after "
               "{old_gone_s:.1f} s" if roll["surge"] else
               "delete, then create: old pod gone after {old_gone_s:.1f} s, new pod Ready "
               "after {new_ready_s:.1f} s").format(**roll)
        how += f"; old agent exit {roll['old_exit']}"
    bad = [r.started - t0 for r in replies if classify(r, node.name)[0] != "local"]
    if bad:
        how += f"; errors from +{min(bad):.2f} s to +{max(bad):.2f} s: {t.top()}"
    record(dep.mode.overlay, f"rollout of {node.name}'s agent under load", t.counts, how,
           during, roll.get("seconds"))
    assert not roll["stuck"], f"{roll['stuck']}\n{roll.get('new_log', '')}"
    assert t.counts["foreign"] == 0, t.details
    assert t.counts["kiada-failed"] == 0, t.details
    assert late.counts["local"] > 0, "no local answer after the rollout"
    assert roll["old_exit"] == 0, "the old agent did not exit cleanly on SIGTERM"
    assert t.counts["local"] == len(replies), f"{dict(t.counts)}: {t.top()}"


def test_kiada_stops_on_sigterm_as_pid_1(dep):
    """Pod deletion: the kubelet sends SIGTERM to the container's PID 1 and SIGKILLs it after the
    grace period. The kernel drops signals a PID-namespace init has no handler for, so a thread
    that leaves SIGTERM unblocked (and not in sigwait) makes the signal vanish."""
    if dep.mode.overlay != MODES[0]:
        pytest.skip("checked once, in the first mode")
    status = dep.restart_kiadas()
    assert status == [0] * len(status), f"exit statuses {status} (-9: needed SIGKILL)"


def test_cluster_policy_contrast(dep, cluster):
    """The same Service with internalTrafficPolicy: Cluster spreads requests over all agents."""
    if not any(s.internal_traffic_policy == "Local" for s in dep.services):
        pytest.skip("this mode has no Local Service to contrast")
    dep.set_internal_traffic_policy("Cluster")
    try:
        # Conntrack keeps an established connection on the endpoint it was DNATed to, and Kiada
        # reuses its connection to the agent: new Kiada pods, so that the new policy decides.
        dep.restart_kiadas()
        per_node = load(dep, [n.name for n in cluster.nodes])
    finally:
        dep.set_internal_traffic_policy("Local")
        dep.restart_kiadas()
    total = summarize(per_node)
    record(dep.mode.overlay, "contrast: internalTrafficPolicy Cluster", total.counts,
           "all 4 nodes' Kiada, fresh pods; only the policy changed. Kiada keeps one "
           "keep-alive connection, so each pod sticks to one randomly picked agent; an answer "
           "from another node is refused (`Node info: ERROR: wrong node ...`)", total.seconds)
    assert total.counts["foreign"] == 0, total.details
    # The contrast still spreads: without the check these would be foreign pages.
    assert total.counts["refused"] > 0, dict(total.counts)
    no_agent = next(n.name for n in cluster.nodes if n.name not in AGENT_NODES)
    t = per_node[no_agent]
    assert t.counts["refused"] == REQUESTS_PER_NODE, f"{no_agent}: {dict(t.counts)} {t.details}"


def test_misrouted_agent_url_is_refused(dep, cluster):
    """A Kiada whose NODE_AGENT_URL names another node's agent (a copy-pasted URL, a wrong
    Downward API field) gets no page with that node's data: its client refuses the answers."""
    if dep.mode.overlay != "host-port":
        pytest.skip("checked once, in host-port (any node's agent is reachable there)")
    node, other = cluster.node(AGENT_NODES[0]), cluster.node(AGENT_NODES[1])
    url = f"http://{other.ip}:{dep.mode.host_ports()[0]}"
    dep.replace_kiada(node, {"NODE_AGENT_URL": url})
    try:
        t = load(dep, [node.name])[node.name]
    finally:
        dep.replace_kiada(node)
    record(dep.mode.overlay, f"misrouted: {node.name}'s Kiada with NODE_AGENT_URL={url} "
           f"({other.name}'s agent)", t.counts, "every answer refused, none shown", t.seconds)
    assert t.counts["foreign"] == 0, t.details
    assert t.counts["refused"] == REQUESTS_PER_NODE, f"{dict(t.counts)} {t.details}"
    assert f'"{other.name}"' in t.details[0] and f'"{node.name}"' in t.details[0], t.details


def agent_has_flag(flag: str) -> bool:
    out = subprocess.run([str(bin_dir() / "node-agent"), "--help"], capture_output=True,
                         text=True, timeout=10)
    return flag in out.stdout + out.stderr


def test_access_control_refuses_outsiders(dep, cluster):
    port = agent_tcp_port(dep)
    if port is None:
        pytest.skip("no node port in this mode: nothing outside the pod network reaches it")
    if not agent_has_flag("--allow-cidr"):
        pytest.fail("node-agent has no --allow-cidr flag (hardening issue)")
    if "--allow-cidr" in " ".join(dep.mode.agent.container.get("args", [])):
        what, extra = "from the manifest", None
    elif dep.mode.agent.host_network:
        # The kubelet probes a hostNetwork pod from the node itself (source: the node's IP).
        what = f"--allow-cidr {POD_CIDR} --allow-cidr <node IP>/32"

        def extra(pod):
            return ["--allow-cidr", str(POD_CIDR), "--allow-cidr", f"{pod.node.ip}/32"]
    else:
        what = f"--allow-cidr {POD_CIDR}"

        def extra(pod):
            return ["--allow-cidr", str(POD_CIDR)]

    dep.restart_agents(extra)
    try:
        for node_name in AGENT_NODES:
            r = http_get(cluster.external, cluster.node(node_name).ip, port, "/", timeout=3.0)[0]
            assert r.status == 403 or (r.status is None and "refused" not in r.error), r
        per_node = load(dep, AGENT_NODES)
    finally:
        dep.restart_agents(None)
    total = summarize(per_node)
    record(dep.mode.overlay, f"access control on ({what})", total.counts,
           "outside client refused (403)", total.seconds)
    for node, t in per_node.items():
        assert t.counts["local"] == REQUESTS_PER_NODE, f"{node}: {dict(t.counts)} {t.details}"


def _wait_for(cond, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _devices_in(ns: str) -> set[str]:
    """Interfaces of a network namespace as its own /proc/net/dev lists them, lo left out."""
    out = subprocess.run(["ip", "netns", "exec", ns, "cat", "/proc/net/dev"], capture_output=True,
                         text=True, check=True).stdout
    names = {line.split(":", 1)[0].strip() for line in out.splitlines()[2:] if ":" in line}
    return names - {"lo"}


def _metric_devices(text: str, family: str) -> set[str]:
    return set(re.findall(rf'^{family}{{device="([^"]+)"}} ', text, re.M))


def test_network_metrics_describe_the_node_not_the_pod(dep, cluster):
    """node_network_* are the node's interfaces in every TCP mode, also when the agent runs in
    the pod network: it reads its node's PID 1's net/dev through the host procfs, not its own
    (node_exporter and OpenTelemetry's hostmetrics report the pod's veth there)."""
    port = dep.mode.agent_tcp_port()
    if port is None:
        pytest.skip("unix-socket mode: same code path as local-service, which is checked")
    for node_name in AGENT_NODES:
        node, agent = cluster.node(node_name), dep.agents[node_name]
        r = http_get(node.ns, agent.ip, port, "/metrics", timeout=3.0)[0]
        assert r.status == 200, r
        reported = _metric_devices(r.body, "node_network_receive_bytes_total")
        assert reported == _devices_in(node.ns), (node_name, reported)
        if not agent.host_network:
            # The pod's own eth0 is not the node's: the node has its LAN eth0 and one veth per
            # pod, the agent's among them.
            assert reported != _devices_in(agent.ns), reported
            assert any(d.startswith("veth") for d in reported), reported
        assert _metric_devices(r.body, "node_network_transmit_bytes_total") == reported


def test_a_mount_made_on_the_node_later_is_reported(dep, cluster):
    """The host root is mounted with HostToContainer propagation: a filesystem mounted on the node
    after the agent started (a new volume, an NFS share) is statted too."""
    if dep.mode.overlay != "local-service":
        pytest.skip("checked once, in local-service (the mount is the same in every mode)")
    node, agent = cluster.node(AGENT_NODES[0]), dep.agents[AGENT_NODES[0]]
    port = dep.mode.agent_tcp_port()
    target = cluster.state / "late-volume"
    target.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "late-volume", str(target)],
                   check=True)
    try:
        want = (f'node_filesystem_size_bytes{{device="late-volume",fstype="tmpfs",'
                f'mountpoint="{target}"}} 3145728')
        body = ""

        def reported():
            nonlocal body
            body = http_get(node.ns, agent.ip, port, "/metrics", timeout=3.0)[0].body or ""
            return want in body.splitlines()

        try:
            _wait_for(reported, 10, "the new mount in /metrics")
        except TimeoutError:
            lines = [line for line in body.splitlines() if "node_filesystem_size" in line]
            pytest.fail(f"{want!r} not served; filesystem lines: {lines}")
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)
