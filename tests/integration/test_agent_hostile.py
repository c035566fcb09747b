"""The agent against hostile or misconfigured host roots and flags (issue 13 items 1, 8, 16, 19)."""
import os
import shutil
import signal
import subprocess

import pytest

from conftest import SLOW, binary, get
from test_agent import fake_host, start_agent, wait_ready

ROOT = os.geteuid() == 0


def wait_status(addr, path, status, timeout=10):
    import time
    deadline = time.monotonic() + timeout * SLOW
    while get(addr, path)[0] != status:
        assert time.monotonic() < deadline, f"{path} never answered {status}"
        time.sleep(0.05)


def test_fifo_at_loadavg_before_start_is_refused_and_sigterm_exits(start, tmp_path):
    root = fake_host(tmp_path)
    (root / "proc" / "loadavg").unlink()
    os.mkfifo(root / "proc" / "loadavg")  # no writer: open() and read() would block forever
    agent, addr = start_agent(start, "--procfs", str(root / "proc"), "--sysfs", str(root / "sys"),
                              "--interval", "100ms")
    assert get(addr, "/healthz", timeout=5)[0] == 200
    status, _, body = get(addr, "/readyz", timeout=5)
    assert status == 503 and b"not a regular file" in body, body
    agent.signal(signal.SIGTERM)
    assert agent.wait(timeout=5) == 0


def test_fifo_swapped_in_while_running_is_refused_and_sigterm_exits(start, tmp_path):
    root = fake_host(tmp_path)
    agent, addr = start_agent(start, "--procfs", str(root / "proc"), "--sysfs", str(root / "sys"),
                              "--interval", "100ms")
    wait_ready(addr)
    loadavg = root / "proc" / "loadavg"
    loadavg.unlink()
    os.mkfifo(loadavg)
    wait_status(addr, "/readyz", 503)
    status, _, body = get(addr, "/")
    assert status == 503 and b"loadavg: not a regular file" in body, body
    assert get(addr, "/healthz")[0] == 200  # the sampler still makes progress
    agent.signal(signal.SIGTERM)
    assert agent.wait(timeout=5) == 0


def test_symlink_out_of_the_root_is_not_followed_nor_quoted(start, tmp_path):
    root = fake_host(tmp_path)
    secret = tmp_path / "secret"
    secret.write_text("TOPSECRET-0123456789 " * 4 + "\n")
    (root / "proc" / "loadavg").unlink()
    (root / "proc" / "loadavg").symlink_to(secret)
    agent, addr = start_agent(start, "--procfs", str(root / "proc"), "--sysfs", str(root / "sys"),
                              "--interval", "100ms")
    status, _, body = get(addr, "/", timeout=5)
    assert status == 503 and b"outside the root" in body, body
    for path in ("/", "/v1/node", "/metrics"):
        assert b"TOPSECRET" not in get(addr, path)[2], path
    assert not any("TOPSECRET" in line for line in agent.lines)


@pytest.mark.skipif(not ROOT, reason="dropping to another uid needs root")
def test_procfs_the_dropped_user_cannot_read_exits_1_naming_the_uid(start, tmp_path):
    root = fake_host(tmp_path)
    os.chmod(root / "proc", 0o700)  # root's only; the agent drops to 65534
    agent = start([binary("node-agent"), "--listen-address", "127.0.0.1:0", "--procfs",
                   str(root / "proc"), "--sysfs", str(root / "sys")])
    assert agent.wait(timeout=10) == 1
    line = agent.wait_for_line(r"level=error")
    assert "uid=65534" in line and str(root / "proc") in line and "Permission denied" in line, line


def test_masked_allow_cidr_is_warned_about(start):
    agent, addr = start_agent(start, "--allow-cidr", "127.0.0.5/8", "--allow-cidr", "::1")
    line = agent.wait_for_line(r"allow-cidr")
    assert "level=warn" in line and "127.0.0.5/8" in line and "127.0.0.0/8" in line, line
    assert "::1" not in line
    assert get(addr, "/healthz")[0] == 200  # still allowed: 127.0.0.1 is inside 127.0.0.0/8


def test_help_and_a_flag_error_use_one_style():
    out = subprocess.run([binary("node-agent"), "--help"], capture_output=True, text=True,
                         timeout=10)
    assert out.returncode == 0
    assert "Usage: node-agent [OPTIONS]" in out.stdout
    for artefact in ("Excludes", "INT in", "build/bin", "Needs:"):
        assert artefact not in out.stdout, artefact
    bad = subprocess.run([binary("node-agent"), "--threads", "lots"], capture_output=True,
                         text=True, timeout=10)
    assert bad.returncode == 2
    assert bad.stderr.startswith("node-agent: ") and "--threads" in bad.stderr, bad.stderr
    assert bad.stderr.endswith("Run 'node-agent --help' for usage.\n"), bad.stderr
