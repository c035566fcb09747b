"""The scheduler's host-port rule (the NodePorts filter plugin), as pure functions of pod specs.

A pod fits a node only if none of the host ports it claims is already claimed there by another
pod, terminating pods included (they are still bound to the node until their object is gone).
A claim is (hostIP, protocol, hostPort); two claims collide when protocol and port are equal and
either hostIP is the wildcard 0.0.0.0 or both are the same address. The API server defaults a
hostNetwork pod's ports: every containerPort without a hostPort gets hostPort = containerPort, so
a hostNetwork pod claims each port it declares. A port declared with hostPort 0 (or none) on the
pod network claims nothing.

Used by the e2e harness (can the DaemonSet's surge pod start next to the old one?) and by
tests/deploy/test_manifests.py (does each overlay's update strategy fit its pods?).
"""

from __future__ import annotations

WILDCARD = "0.0.0.0"

HostPort = tuple[str, str, int]  # (hostIP, protocol, hostPort)


def host_ports(pod_spec: dict) -> list[HostPort]:
    """The host ports a pod (its template's spec) claims on its node, after API defaulting."""
    claims = []
    host_network = bool(pod_spec.get("hostNetwork"))
    for c in pod_spec.get("initContainers", []) + pod_spec.get("containers", []):
        for p in c.get("ports", []) or []:
            port = p.get("hostPort") or (p["containerPort"] if host_network else 0)
            if port:
                claims.append((p.get("hostIP") or WILDCARD, p.get("protocol") or "TCP", port))
    return claims


def collide(a: HostPort, b: HostPort) -> bool:
    (ip_a, proto_a, port_a), (ip_b, proto_b, port_b) = a, b
    return (proto_a == proto_b and port_a == port_b
            and (ip_a == WILDCARD or ip_b == WILDCARD or ip_a == ip_b))


def conflicts(new_pod: dict, pods_on_node: list[dict]) -> list[str]:
    """Why `new_pod` (a pod spec) cannot join `pods_on_node` (their specs): one line per
    colliding claim, empty when it fits."""
    taken = [(claim, i) for i, spec in enumerate(pods_on_node) for claim in host_ports(spec)]
    out = []
    for want in host_ports(new_pod):
        for have, i in taken:
            if collide(want, have):
                out.append(f"host port {want[1]} {want[0]}:{want[2]} already claimed by "
                           f"pod #{i} on the node ({have[1]} {have[0]}:{have[2]})")
    return out
