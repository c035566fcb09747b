"""Least privilege and access control of the real node-agent, checked two ways: what /v1/agent
says, and what the kernel says about the process (/proc/<pid>/status)."""
import json
import os
import shutil
import socket

import pytest

from conftest import binary, get

ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="starting the agent as root needs root")


def kernel_view(pid):
    """Uid, Gid, CapEff, CapPrm, CapBnd, NoNewPrivs of a process, as the kernel reports them."""
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.split()
    return fields


def start_agent(start, *args, prefix=()):
    agent = start([*prefix, binary("node-agent"), "--listen-address", "127.0.0.1:0", *args],
                  env={"NODE_NAME": "sec-node"})
    return agent, agent.listening()


def report(addr):
    status, _, body = get(addr, "/v1/agent")
    assert status == 200, body
    return json.loads(body)


def assert_no_capabilities(rep, status):
    for name in ("effective", "permitted", "inheritable", "ambient"):
        assert rep["capabilities"][name] == [], name
    assert rep["no_new_privs"] is True
    assert int(status["CapEff"][0], 16) == 0
    assert int(status["CapPrm"][0], 16) == 0
    assert int(status["CapInh"][0], 16) == 0
    assert status["NoNewPrivs"] == ["1"]


@needs_root
def test_root_becomes_nobody_with_nothing(start, tmp_path):
    agent, addr = start_agent(start, "--allow-cidr", "127.0.0.0/8", "--allow-cidr", "::1")
    rep = report(addr)
    status = kernel_view(agent.proc.pid)
    assert rep["uid"] == 65534 and rep["gid"] == 65534 and rep["groups"] == []
    assert rep["started_as"]["uid"] == 0 and rep["switched_user"] is True
    assert status["Uid"] == ["65534"] * 4 and status["Gid"] == ["65534"] * 4
    assert status["Groups"] == []
    assert_no_capabilities(rep, status)
    assert rep["capabilities"]["bounding"] == []
    assert int(status["CapBnd"][0], 16) == 0
    # The rest of the report describes this very agent.
    assert rep["listen"] == [f"{addr[0]}:{addr[1]}"]
    assert rep["roots"] == {"procfs": "/proc", "sysfs": "/sys"}
    assert rep["access"] == {"allow_cidr": ["127.0.0.0/8", "::1/128"], "default": "deny"}
    assert rep["version"] and rep["interval_seconds"] == 1
    assert set(rep["host_namespaces"]) == {"net", "pid", "ipc", "uts"}
    # This test and the agent share every namespace with whatever PID 1 this procfs shows, or the
    # agent could not tell: never a wrong "separate".
    assert set(rep["host_namespaces"].values()) <= {"shared", "unknown"}
    assert rep["host_namespaces"]["pid"] == "shared"  # decided from <procfs>/self
    line = agent.wait_for_line(r'msg="dropped privileges"')
    assert "uid_before=0" in line and "uid_after=65534" in line and "NET_BIND_SERVICE" in line


@needs_root
def test_allow_root_keeps_uid_zero_but_no_capabilities(start):
    agent, addr = start_agent(start, "--allow-root")
    rep = report(addr)
    status = kernel_view(agent.proc.pid)
    assert rep["uid"] == 0 and rep["switched_user"] is False
    assert status["Uid"] == ["0"] * 4
    assert_no_capabilities(rep, status)
    assert rep["capabilities"]["bounding"] == [] and int(status["CapBnd"][0], 16) == 0


@needs_root
def test_other_user_flag(start):
    agent, addr = start_agent(start, "--user", "4242")
    rep = report(addr)
    assert rep["uid"] == 4242 and rep["gid"] == 4242
    assert kernel_view(agent.proc.pid)["Uid"] == ["4242"] * 4


def test_an_ordinary_user_shows_no_effective_capabilities(start):
    prefix = ()
    if ROOT:
        setpriv = shutil.which("setpriv")
        assert setpriv, "setpriv (util-linux) is needed to start the agent as an ordinary user"
        prefix = (setpriv, "--reuid=65534", "--regid=65534", "--clear-groups")
    agent, addr = start_agent(start, prefix=prefix)
    rep = report(addr)
    status = kernel_view(agent.proc.pid)
    assert rep["switched_user"] is False
    assert rep["uid"] == rep["started_as"]["uid"] == int(status["Uid"][1])
    assert rep["uid"] != 0
    assert_no_capabilities(rep, status)


@needs_root
def test_root_without_setuid_capability_fails_clearly(start):
    setpriv = shutil.which("setpriv")
    assert setpriv
    # A container running as uid 0 with its capabilities dropped: the agent cannot switch user
    # and must say so instead of serving as root.
    agent = start([setpriv, "--inh-caps=-all", "--bounding-set=-setuid,-setgid", binary("node-agent"),
                   "--listen-address", "127.0.0.1:0"])
    assert agent.wait() == 1
    line = agent.wait_for_line(r"level=error")
    assert "CAP_SETUID" in line and "--allow-root" in line, line


def test_denied_client_gets_403_and_is_logged(start, tmp_path):
    sock = tmp_path / "agent.sock"
    agent = start([binary("node-agent"), "--listen-address", "127.0.0.1:0",
                   "--listen-address", f"unix://{sock}", "--allow-cidr", "10.0.0.0/8"],
                  env={"NODE_NAME": "sec-node"})
    addr = agent.listening()
    status, _, body = get(addr, "/v1/node")
    assert status == 403, body
    line = agent.wait_for_line(r'msg="client refused"')
    assert "client=127.0.0.1" in line
    # The unix socket is not subject to --allow-cidr (its file mode is the access control), so
    # the report is still readable there, and it lists both addresses.
    agent.wait_for_line(r"msg=listening address=unix://")
    rep = report(str(sock))
    assert rep["access"] == {"allow_cidr": ["10.0.0.0/8"], "default": "deny"}
    assert f"unix://{sock}" in rep["listen"]


@needs_root
def test_low_port_as_ordinary_user_keeps_net_bind_service_only_until_bound(start):
    setpriv = shutil.which("setpriv")
    assert setpriv
    # An ordinary user given NET_BIND_SERVICE (ambient, as a systemd unit's
    # AmbientCapabilities= would) binds a port below 1024, then holds nothing.
    for port in range(1000, 1024):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                break
    agent = start([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
                   "--inh-caps=+net_bind_service", "--ambient-caps=+net_bind_service",
                   binary("node-agent"), "--listen-address", f"127.0.0.1:{port}"],
                  env={"NODE_NAME": "sec-node"})
    addr = agent.listening()
    assert addr == ("127.0.0.1", port)
    rep = report(addr)
    status = kernel_view(agent.proc.pid)
    assert rep["uid"] == 65534 and rep["switched_user"] is False
    assert_no_capabilities(rep, status)
    line = agent.wait_for_line(r'msg="dropped privileges"')
    assert "caps_dropped=NET_BIND_SERVICE " in line, line
