"""Plays the control plane and the kubelets for one mode: schedules the DaemonSet's agent pods and
one Kiada pod per node, keeps the Service endpoints in sync with pod readiness, rolls an agent pod
the way the DaemonSet's update strategy says."""

from __future__ import annotations

import ipaddress
import subprocess
import time
from dataclasses import dataclass, field
from typing import Callable

from cluster import SERVICE_CIDR, Cluster, Node, Pod, Service, probe_http, probe_tcp
from manifests import Mode, Workload, binary_for, container_spec, volumes_for

POD_NAMESPACE = "default"


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
            try:
                r = subprocess.run(["nsenter", "-t", str(pid), "-m", "-n", "-p", "-i", "-u",
                                    "--", *argv], capture_output=True, timeout=timeout + 2)
            except subprocess.TimeoutExpired:
                return False
            return r.returncode == 0

        return exec_probe

    def listening(pod: Pod) -> bool:
        return "msg=listening" in pod.log()

    return listening


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
    _seq: int = 0

    # ---- objects ------------------------------------------------------------------------------

    def start(self) -> "ModeDeployment":
        for i, svc in enumerate(self.mode.services):
            self._add_service(svc, i)
        for node in self.agent_nodes:
            self.agents[node.name] = self.start_agent(node)
        for node in self.agent_nodes:
            self.cluster.wait_ready(self.agents[node.name], probe_for(self.mode.agent))
        for node in self.cluster.nodes:
            self.start_kiada(node)
        return self

    def start_kiada(self, node: Node) -> Pod | None:
        """Starts Kiada on the node and waits until it is ready (or, on a node without an agent,
        where it is expected to stay unready, until it listens). A volume the kubelet cannot
        mount leaves the pod pending: returns None and says why in `pending`."""
        try:
            pod = self._start_pod(self.mode.kiada, node)
        except FileNotFoundError as e:
            self.pending[node.name] = f"FailedMount: {e}"
            return None
        self.pending.pop(node.name, None)
        self.kiadas[node.name] = pod
        if node in self.agent_nodes:
            self.cluster.wait_ready(pod, probe_for(self.mode.kiada))
        else:
            self.cluster.wait_ready(pod, probe_tcp(self.mode.kiada_port()), mark_ready=False)
        return pod

    def stop(self) -> None:
        self.cluster.delete_pods(list(self.kiadas.values()) + list(self.agents.values()))
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
        for node in self.cluster.nodes:
            self.start_kiada(node)
        return status

    # ---- pods ---------------------------------------------------------------------------------

    def _start_pod(self, w: Workload, node: Node,
                   extra_args: Callable[[Pod], list[str]] | None = None) -> Pod:
        self._seq += 1
        name = f"{w.name}-{node.name.rsplit('-', 1)[-1]}{self._seq:03d}"

        def containers(pod: Pod):
            host_dirs = volumes_for(w, node, self.cluster.pod_dir(pod.name))
            inits = [container_spec(w, c, pod, host_dirs)
                     for c in w.spec.get("initContainers", [])]
            extra = extra_args(pod) if extra_args else []
            return inits, container_spec(w, w.container, pod, host_dirs, extra)

        return self.cluster.add_pod(node, name, w.labels, containers,
                                    host_network=w.host_network,
                                    host_pid=bool(w.spec.get("hostPID")),
                                    host_ipc=bool(w.spec.get("hostIPC")), ports=w.ports)

    def start_agent(self, node: Node) -> Pod:
        return self._start_pod(self.mode.agent, node, self.agent_extra_args)

    def roll_agent(self, node: Node, timeout: float = 20.0) -> dict:
        """Replaces the node's agent pod as the DaemonSet controller does: with maxSurge > 0 the
        new pod becomes ready before the old one goes, otherwise the old one goes first (a
        hostPort cannot surge). Returns what happened, for the report."""
        old = self.agents[node.name]
        t0 = time.monotonic()
        if self.mode.agent.max_surge > 0 and not self.mode.agent.host_network and \
                not self.mode.host_ports():
            new = self.start_agent(node)
            self.cluster.wait_ready(new, probe_for(self.mode.agent), timeout)
            status = self.cluster.delete_pod(old)
        else:
            status = self.cluster.delete_pod(old)
            new = self.start_agent(node)
            self.cluster.wait_ready(new, probe_for(self.mode.agent), timeout)
        self.agents[node.name] = new
        return {"old_exit": status, "seconds": time.monotonic() - t0,
                "surge": self.mode.agent.max_surge > 0}

    def restart_agents(self, extra_args: Callable[[Pod], list[str]] | None) -> None:
        """Recreates every agent pod with extra arguments (e.g. access control)."""
        self.agent_extra_args = extra_args
        self.cluster.delete_pods([self.agents[n.name] for n in self.agent_nodes])
        for node in self.agent_nodes:
            self.agents[node.name] = self.start_agent(node)
        for node in self.agent_nodes:
            self.cluster.wait_ready(self.agents[node.name], probe_for(self.mode.agent))
