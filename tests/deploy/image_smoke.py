"""Runs the image's own binaries from its extracted file tree, the way a pod would, without a
container runtime: `unshare --net --mount` gives a private loopback-only network and mount table,
chroot gives the image's root, and uid/gid 65532 with no capabilities is the manifests' identity.

    unshare --net --mount python3 image_smoke.py ROOTFS

Checks, as JSON on stdout: the agent serves; the client resolves the Service-style name
`node-agent` through DNS (search domains as the kubelet writes them) from a static binary with no
NSS libraries; Kiada fetches node info through that name; and the unix-socket mode works end to
end (socket-dir helper with CAP_CHOWN only, agent on the socket, client connecting as 65532).
Every wait is a bounded poll; every process started here is stopped by PID."""

import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time

ROOT = sys.argv[1]
NODE = "image-node"
NAME = "node-agent.node-agent.svc.cluster.local."
# chroot(8) switches to 65532 after entering the root; that setuid away from 0 empties the
# effective and permitted capability sets, and no_new_privs stops anything from regaining them.
AS_AGENT = [shutil.which("setpriv"), "--no-new-privs", "--inh-caps=-all", shutil.which("chroot"),
            "--userspec=65532:65532", "--groups=65532"]


def dns_stub(sock):
    """Answers A queries for NAME with 127.0.0.1; NXDOMAIN for other names, empty for AAAA."""
    while True:
        try:
            data, addr = sock.recvfrom(512)
        except OSError:
            return
        qid = struct.unpack(">H", data[:2])[0]
        i, labels = 12, []
        while data[i]:
            labels.append(data[i + 1:i + 1 + data[i]].decode())
            i += 1 + data[i]
        qtype = struct.unpack(">H", data[i + 1:i + 3])[0]
        question = data[12:i + 5]
        known = ".".join(labels) + "." == NAME
        answer = b""
        if known and qtype == 1:
            answer = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 30, 4) + socket.inet_aton("127.0.0.1")
        flags = 0x8180 if known else 0x8183
        header = struct.pack(">HHHHHH", qid, flags, 1, 1 if answer else 0, 0, 0)
        sock.sendto(header + question + answer, addr)


def chroot(cmd, env=None):
    return AS_AGENT + [ROOT] + cmd, {"PATH": "/usr/local/bin", **(env or {})}


def run(cmd, **kw):
    argv, env = chroot(cmd, **kw)
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=20)


def start(cmd, **kw):
    argv, env = chroot(cmd, **kw)
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def poll(cmd, seconds=20):
    deadline = time.monotonic() + seconds
    while True:
        proc = run(cmd)
        if proc.returncode == 0 or time.monotonic() > deadline:
            return proc
        time.sleep(0.1)


def stop(proc):
    proc.terminate()
    try:
        return proc.communicate(timeout=10)[0]
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate()[0]


def main():
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    for src, dst in (("/proc", "host/proc"), ("/sys", "host/sys")):
        os.makedirs(os.path.join(ROOT, dst), exist_ok=True)
        subprocess.run(["mount", "--bind", "-o", "ro", src, os.path.join(ROOT, dst)], check=True)
    # What the kubelet writes into a pod in namespace node-agent.
    with open(os.path.join(ROOT, "etc/resolv.conf"), "w") as f:
        f.write("search node-agent.svc.cluster.local svc.cluster.local cluster.local\n"
                "nameserver 127.0.0.1\noptions ndots:5\n")
    with open(os.path.join(ROOT, "etc/hosts"), "w") as f:
        f.write("127.0.0.1 localhost\n")
    dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dns.bind(("127.0.0.1", 53))
    threading.Thread(target=dns_stub, args=(dns,), daemon=True).start()

    result = {}
    agent = start(["/usr/local/bin/node-agent", "--listen-address", "127.0.0.1:8080",
                   "--procfs", "/host/proc", "--sysfs", "/host/sys"], env={"NODE_NAME": NODE})
    kiada = None
    try:
        ready = poll(["/usr/local/bin/node-agent-client", "--url", "http://node-agent:8080",
                      "--get", "/readyz"])
        result["client_via_dns"] = {"rc": ready.returncode, "out": ready.stdout + ready.stderr}
        line = run(["/usr/local/bin/node-agent-client", "--url", "http://node-agent:8080",
                    "--get", "/"])
        result["agent_line"] = {"rc": line.returncode, "out": line.stdout + line.stderr}
        kiada = start(["/usr/local/bin/kiada", "--listen-port", "8081"],
                      env={"NODE_AGENT_URL": "http://node-agent:8080", "POD_NAME": "kiada-0",
                           "NODE_NAME": NODE, "POD_IP": "127.0.0.1", "NODE_IP": "127.0.0.1"})
        page = poll(["/usr/local/bin/node-agent-client", "--url", "http://127.0.0.1:8081",
                     "--get", "/text"])
        result["kiada_text"] = {"rc": page.returncode, "out": page.stdout + page.stderr}
    finally:
        if kiada:
            result["kiada_log"] = stop(kiada)[-2000:]
        result["agent_log"] = stop(agent)[-2000:]

    # unix-socket mode: the kubelet's root-owned hostPath directory, then the init container,
    # then the agent, then a client in group 65532.
    sock_dir = os.path.join(ROOT, "run/node-agent")
    os.makedirs(sock_dir, mode=0o755, exist_ok=True)
    os.chown(sock_dir, 0, 0)
    os.chmod(sock_dir, 0o755)
    # The image's helper binary, as uid 0 with CAP_CHOWN only (run on the path directly: chroot
    # itself would need CAP_SYS_CHROOT, which the init container does not have).
    helper = subprocess.run([shutil.which("setpriv"), "--bounding-set=-all,+chown", "--inh-caps=-all",
                             "--no-new-privs",
                             os.path.join(ROOT, "usr/local/bin/node-agent-socket-dir"),
                             "--uid=65532", "--gid=65532", "--mode=0750", sock_dir],
                            env={}, capture_output=True, text=True, timeout=20)
    st = os.stat(sock_dir)
    result["socket_dir"] = {"rc": helper.returncode, "out": helper.stdout + helper.stderr,
                            "owner": [st.st_uid, st.st_gid], "mode": oct(st.st_mode & 0o7777)}
    agent = start(["/usr/local/bin/node-agent", "--listen-address",
                   "unix:///run/node-agent/agent.sock", "--socket-mode", "0660",
                   "--procfs", "/host/proc", "--sysfs", "/host/sys"], env={"NODE_NAME": NODE})
    try:
        ready = poll(["/usr/local/bin/node-agent-client", "--url",
                      "unix:///run/node-agent/agent.sock", "--get", "/readyz"])
        result["unix_client"] = {"rc": ready.returncode, "out": ready.stdout + ready.stderr}
        path = os.path.join(sock_dir, "agent.sock")
        if os.path.exists(path):
            st = os.stat(path)
            result["unix_socket"] = {"owner": [st.st_uid, st.st_gid],
                                     "mode": oct(st.st_mode & 0o777)}
    finally:
        result["unix_agent_log"] = stop(agent)[-2000:]
    dns.close()
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
