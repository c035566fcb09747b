"""Plays the control plane and the kubelets for one mode: schedules the DaemonSet's agent pods and
one Kiada pod per node, probes readiness as the kubelet does (the endpoints follow), rolls an
agent pod the way the DaemonSet controller does for the update strategy, with the scheduler's
host-port rule deciding whether a surge pod can join the old one on its node."""

from __future__ import annotations

import ipaddress
import itertools
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import scheduler
from cluster import SERVICE_CIDR, Cluster, Node, Pod, Service, probe_http, probe_tcp
from manifests import Mode, Workload, binary_for, container_spec, volumes_for

POD_NAMESPACE = "default"
# The kubelet's PLEG relists containers every second; a readiness worker's first probe runs when
# the kubelet has seen the container running, i.e. at the next relist after it started.
PLEG_RELIST_S = 1.0
_pod_numbers = itertools.count(1)  # pod names stay unique across modes (their state dirs too)
_kubelet_start = time.monotonic()


def probe_for(w: Workload, extra_timeout: float = 0.0):
    """The container's readinessProbe as a callable; without one, "running and listening"."""
    rp = w.readiness() or {}
    timeout = float(rp.get("timeoutSeconds", 1)) + extra_timeout
    if "httpGet" in rp:
        return probe_http(rp["httpGet"].get("path", "/"), w.port(rp["httpGet"]["port"]), timeout)
    if "tcpSocket" in rp:
        return probe_tcp(w.port(rp["tcpSocket"]["port"]), timeout)
    if "exec" in rp:
        command = rp["exec"]["command"]

        def exec_probe(pod: Pod) -> bool:
            pid = pod.container_pid()
            if pid is None:
                return False
            argv = [str(binary_for({"name": command[0], "command": command}))] + command[1:]
            # The runtime execs the command with the container's environment and user.
            try:
                raw = Path(f"/proc/{pid}/environ").read_bytes()
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                return False
            env = dict(kv.split("=", 1) for kv in raw.decode(errors="replace").split("\0")
                       if "=" in kv)
            uid = next(line.split()[2] for line in status.splitlines() if line.startswith("Uid:"))
            gid = next(line.split()[2] for line in status.splitlines() if line.startswith("Gid:"))
            try:
                r = subprocess.run(["nsenter", "-t", str(pid), "-m", "-n", "-p", "-i", "-u",
                                    f"--setuid={uid}", f"--setgid={gid}", "--", *argv],
                                   capture_output=True, timeout=timeout + 2, env=env)
            except subprocess.TimeoutExpired:
                return False
            return r.returncode == 0

        return exec_probe

    def listening(pod: Pod) -> bool:
        return "msg=listening" in pod.log()

    return listening


class Prober:
    """The kubelet's readiness worker for one container: probes once when the container has
    started (the kubelet triggers a first run as soon as it sees the container running), then
    every periodSeconds; successThreshold successes in a row make the pod Ready,
    failureThreshold failures in a row make it unready. It keeps probing a terminating pod until
    its container exits, so an agent failing /readyz during its shutdown delay turns unready
    (its endpoint stops being "serving"). Without a readinessProbe the pod is Ready once its
    container runs."""

    def __init__(self, cluster: Cluster, pod: Pod, w: Workload):
        self.cluster, self.pod = cluster, pod
        self.spec = w.readiness()
        self.probe = probe_for(w)
        if self.spec is None:
            cluster.set_ready(pod, True)
            return
        threading.Thread(target=self._run, name=f"prober-{pod.name}", daemon=True).start()

    def _run(self) -> None:
        rp, pod = self.spec, self.pod
        period = float(rp.get("periodSeconds", 10))
        successes_needed = int(rp.get("successThreshold", 1))
        failures_needed = int(rp.get("failureThreshold", 3))
        # Running = the runtime has exec'd the container's program (podinit's set-up is done).
        while pod.container_pid() is None:
            if pod.stop_probing.wait(0.02) or pod.proc is None or pod.proc.poll() is not None:
                return
        since = time.monotonic() - _kubelet_start
        relist = PLEG_RELIST_S - since % PLEG_RELIST_S
        if pod.stop_probing.wait(max(relist, float(rp.get("initialDelaySeconds", 0)))):
            return
        successes = failures = 0
        while not pod.stop_probing.is_set() and pod.proc is not None and pod.proc.poll() is None:
            try:
                ok = self.probe(pod)
            except Exception:  # a probe that cannot run is a failed probe
                ok = False
            if ok:
                successes, failures = successes + 1, 0
                if successes >= successes_needed:
                    self.cluster.set_ready(pod, True)
            else:
                successes, failures = 0, failures + 1
                if failures >= failures_needed:
                    self.cluster.set_ready(pod, False)
            if pod.stop_probing.wait(period):
                break
        self.cluster.set_ready(pod, False)


@dataclass
class ModeDeployment:
    cluster: Cluster
    mode: Mode
    agent_nodes: list[Node]
    # Extra agent arguments, per pod (e.g. access control that names the node's own address).
    agent_extra_args: Callable[[Pod], list[str]] | None = None
    agents: dict[str, Pod] = field(default_factory=dict)  # node name -> agent pod
    kiadas: dict[str, Pod] = field(default_factory=dict)  # node name -> kiada pod
    pending: dict[str, str] = field(default_factory=dict)  # node name -> why Kiada can't start
    services: list[Service] = field(default_factory=list)

    # ---- objects ------------------------------------------------------------------------------

    def start(self) -> "ModeDeployment":
        for i, svc in enumerate(self.mode.services):
            self._add_service(svc, i)
        for node in self.agent_nodes:
            self.agents[node.name] = self.start_agent(node)
        for node in self.agent_nodes:
            self.cluster.wait_ready(self.agents[node.name])
        self.start_kiadas()
        return self

    def start_kiadas(self) -> None:
        """One Kiada per node, started together (as a Deployment's pods are)."""
        started = [self.start_kiada(node, wait=False) for node in self.cluster.nodes]
        for pod in started:
            if pod is not None:
                self._wait_kiada(pod, None)
        self.cluster.wait_endpoints_synced()

    def start_kiada(self, node: Node, env: dict[str, str] | None = None,
                    wait: bool = True) -> Pod | None:
        """Starts Kiada on the node (`env` overrides manifest values, as `kubectl set env`
        would) and waits until it is ready (or, on a node without an agent, where it is expected
        to stay unready, until it listens). A volume the kubelet cannot mount leaves the pod
        pending: returns None and says why in `pending`."""
        try:
            pod = self._start_pod(self.mode.kiada, node, env=env)
        except FileNotFoundError as e:
            self.pending[node.name] = f"FailedMount: {e}"
            return None
        self.pending.pop(node.name, None)
        self.kiadas[node.name] = pod
        if wait:
            self._wait_kiada(pod, env)
        return pod

    def _wait_kiada(self, pod: Pod, env: dict[str, str] | None) -> None:
        if pod.node in self.agent_nodes and not env:
            self.cluster.wait_ready(pod)
        else:
            self.cluster.wait_running(pod, probe_tcp(self.mode.kiada_port()))

    def stop(self) -> None:
        self.cluster.delete_pods(list(self.kiadas.values()) + list(self.agents.values()),
                                 hurry=True)
        self.kiadas.clear()
        self.agents.clear()
        self.cluster.remove_services()

    def _add_service(self, obj: dict, index: int) -> None:
        spec = obj["spec"]
        vip = spec.get("clusterIP")
        if not vip or vip == "None":
            vip = str(SERVICE_CIDR.network_address + 10 + index)
        if ipaddress.ip_address(vip) not in SERVICE_CIDR:
            raise ValueError(f"Service {obj['metadata']['name']}: clusterIP {vip} outside "
                             f"{SERVICE_CIDR}")
        port = spec["ports"][0]
        selector = spec.get("selector") or {}
        backends = [w for w in (self.mode.agent, self.mode.kiada)
                    if selector and all(w.labels.get(k) == v for k, v in selector.items())]
        if len(backends) != 1:
            raise ValueError(f"Service {obj['metadata']['name']}: selector {selector} matches "
                             f"{len(backends)} workloads")
        target = backends[0].port(port.get("targetPort", port["port"]))
        svc = Service(obj["metadata"]["name"], vip, port["port"], target, selector,
                      spec.get("internalTrafficPolicy", "Cluster"),
                      obj["metadata"].get("namespace", "default"))
        self.services.append(svc)
        self.cluster.add_service(svc)

    def set_internal_traffic_policy(self, policy: str) -> None:
        for svc in self.services:
            svc.internal_traffic_policy = policy
        self.cluster.sync_all_rules()

    def restart_kiadas(self) -> list[int | None]:
        """Recreates every Kiada pod (new pods, new connections to the agent); returns the old
        pods' exit statuses."""
        old = list(self.kiadas.values())
        status = self.cluster.delete_pods(old)
        self.kiadas.clear()
        self.start_kiadas()
        return status

    def replace_kiada(self, node: Node, env: dict[str, str] | None = None) -> Pod | None:
        """Recreates one node's Kiada pod, with `env` overrides (None: as the manifest says)."""
        self.cluster.delete_pods([self.kiadas.pop(node.name)])
        return self.start_kiada(node, env)

    # ---- pods ---------------------------------------------------------------------------------

    def _start_pod(self, w: Workload, node: Node,
                   extra_args: Callable[[Pod], list[str]] | None = None,
                   env: dict[str, str] | None = None) -> Pod:
        name = f"{w.name}-{node.name.rsplit('-', 1)[-1]}-{next(_pod_numbers):03d}"

        def containers(pod: Pod):
            host_dirs = volumes_for(w, node, self.cluster.pod_dir(pod.name))
            inits = [container_spec(w, c, pod, host_dirs)
                     for c in w.spec.get("initContainers", [])]
            extra = extra_args(pod) if extra_args else []
            return inits, container_spec(w, w.container, pod, host_dirs, extra, env)

        pod = self.cluster.add_pod(node, name, w.labels, containers,
                                   host_network=w.host_network,
                                   host_pid=bool(w.spec.get("hostPID")),
                                   host_ipc=bool(w.spec.get("hostIPC")), ports=w.ports,
                                   spec=w.spec)
        Prober(self.cluster, pod, w)
        return pod

    def start_agent(self, node: Node) -> Pod:
        return self._start_pod(self.mode.agent, node, self.agent_extra_args)

    def unschedulable(self, w: Workload, node: Node) -> list[str]:
        """The scheduler's verdict on one more pod of `w` on `node` (empty: it fits)."""
        return scheduler.conflicts(w.spec, [p.spec for p in self.cluster.api_pods
                                            if p.node is node])

    def roll_agent(self, node: Node, timeout: float = 30.0) -> dict:
        """Replaces the node's agent pod as the DaemonSet controller does. maxSurge > 0: the new
        pod is created next to the old one and, once Ready, the old one is deleted; if the
        scheduler refuses the surge pod (a host port the old pod holds) the rollout is stuck,
        as in a cluster, and the old pod stays. Otherwise the old pod is deleted first and the
        new one created once the old one is gone. Returns what happened, for the report:
        seconds until the node ran only the new, Ready pod."""
        old, w = self.agents[node.name], self.mode.agent
        t0 = time.monotonic()
        out = {"surge": w.max_surge > 0, "stuck": ""}
        if out["surge"]:
            why = self.unschedulable(w, node)
            if why:
                out["stuck"] = "surge pod Pending (scheduler, NodePorts): " + why[0]
                return out
            new = self.start_agent(node)
            try:
                self.cluster.wait_ready(new, timeout)
            except RuntimeError as e:
                # The controller would wait for it forever; the old pod keeps serving.
                out["stuck"] = "surge pod never Ready: " + str(e).splitlines()[0]
                out["new_log"] = new.log()[-2000:]
                self.cluster.delete_pods([new], hurry=True)
                return out
            out["new_ready_s"] = time.monotonic() - t0
            out["old_exit"] = self.cluster.delete_pod(old)
            out["old_gone_s"] = time.monotonic() - t0
        else:
            out["old_exit"] = self.cluster.delete_pod(old)
            out["old_gone_s"] = time.monotonic() - t0
            why = self.unschedulable(w, node)
            if why:
                out["stuck"] = "new pod Pending (scheduler, NodePorts): " + why[0]
                return out
            new = self.start_agent(node)
            self.cluster.wait_ready(new, timeout)
            out["new_ready_s"] = time.monotonic() - t0
        self.agents[node.name] = new
        out["seconds"] = time.monotonic() - t0
        return out

    def restart_agents(self, extra_args: Callable[[Pod], list[str]] | None) -> None:
        """Recreates every agent pod with extra arguments (e.g. access control)."""
        self.agent_extra_args = extra_args
        self.cluster.delete_pods([self.agents[n.name] for n in self.agent_nodes], hurry=True)
        for node in self.agent_nodes:
            self.agents[node.name] = self.start_agent(node)
        for node in self.agent_nodes:
            self.cluster.wait_ready(self.agents[node.name])
        self.cluster.wait_endpoints_synced()
