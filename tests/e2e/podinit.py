#!/usr/bin/python3
"""Container set-up inside a pod's namespaces: what the container runtime does before exec.

Stage "mounts" runs in a fresh private mount namespace (already inside the pod's network
namespace): it bind-mounts the pod's volumes (hostPath directories, the host's /proc, ...) at their
mount paths and the pod's /etc/hosts, then re-execs itself under `unshare` for the PID/IPC/UTS
namespaces the pod spec asks for. Stage "exec" (PID 1 of the new PID namespace when there is one)
sets the hostname and execs the container's command as the container's user with only its
capabilities, via setpriv(1).

Usage: podinit.py mounts SPEC.json | podinit.py exec SPEC.json
"""

import json
import os
import socket
import subprocess
import sys


def run(*args):
    proc = subprocess.run(args, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"podinit: {' '.join(args)}: {proc.stderr.strip()}")


def stage_mounts(spec_path, spec):
    # Nothing done here may leak to the host: every mount becomes a slave (host events still
    # come in, ours never go out), as in a container runtime's mount namespace.
    run("mount", "--make-rslave", "/")
    for m in spec["mounts"]:
        if m.get("propagation") == "HostToContainer":
            # The host's tree below it, kept in step with the host's later mounts.
            run("mount", "--rbind", m["host_path"], m["path"])
            run("mount", "--make-rslave", m["path"])
        else:
            run("mount", "--bind", m["host_path"], m["path"])
            run("mount", "--make-rprivate", m["path"])
        if m.get("read_only"):
            run("mount", "-o", "remount,bind,ro", m["path"])
    if spec.get("hosts_file"):
        run("mount", "--bind", spec["hosts_file"], "/etc/hosts")
    flags = []
    if spec["new_pid_ns"]:
        # --mount-proc: the container sees only its own processes under /proc; the host's /proc
        # stays visible where the pod mounted it (hostPath), as in a real pod.
        flags += ["--pid", "--fork", "--mount-proc", "--kill-child=SIGKILL"]
    if spec["new_ipc_ns"]:
        flags.append("--ipc")
    if spec["new_uts_ns"]:
        flags.append("--uts")
    cmd = [sys.executable, __file__, "exec", spec_path]
    if flags:
        cmd = ["unshare", "--propagation", "slave", *flags, "--", *cmd]
    os.execvp(cmd[0], cmd)


def stage_exec(spec):
    if spec["new_uts_ns"]:
        socket.sethostname(spec["hostname"])
    argv = spec["argv"]
    user = spec.get("run_as_user")
    if user is not None:
        group = spec.get("run_as_group")
        group = user if group is None else group
        caps = spec.get("capabilities", [])
        # The bounding set caps what exec grants: root ends up with exactly the added
        # capabilities, any other user with none (no ambient set, as with runc/containerd).
        bounding = "-all" + "".join(f",+{c.lower()}" for c in caps)
        pre = ["setpriv", f"--reuid={user}", f"--regid={group}", "--clear-groups",
               "--inh-caps=-all", f"--bounding-set={bounding}"]
        if spec.get("no_new_privs"):
            pre.append("--no-new-privs")
        argv = pre + ["--"] + argv
    os.execvpe(argv[0], argv, spec["env"])


def main():
    stage, spec_path = sys.argv[1], sys.argv[2]
    with open(spec_path) as f:
        spec = json.load(f)
    if stage == "mounts":
        stage_mounts(spec_path, spec)
    elif stage == "exec":
        stage_exec(spec)
    else:
        sys.exit(f"podinit: unknown stage {stage}")


if __name__ == "__main__":
    main()
