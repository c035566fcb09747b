"""deploy/systemd/node-agent.service: loads cleanly and stays hardened (systemd-analyze)."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO

UNIT = REPO / "deploy" / "systemd" / "node-agent.service"
BIN = Path(os.environ.get("NODEAGENT_BIN", REPO / "build" / "bin"))

pytestmark = pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                                reason="systemd-analyze not installed")


def settings():
    out = {}
    for line in UNIT.read_text().splitlines():
        m = re.match(r"^([A-Za-z]+)=(.*)$", line)
        if m:
            out.setdefault(m.group(1), []).append(m.group(2))
    return out


def test_unit_is_hardened_as_documented():
    s = settings()
    for key, want in {"DynamicUser": "yes", "NoNewPrivileges": "yes", "ProtectSystem": "strict",
                      "ProtectHome": "yes", "PrivateTmp": "yes", "CapabilityBoundingSet": "",
                      "AmbientCapabilities": "",
                      "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX"}.items():
        assert s[key] == [want], key
    assert "@system-service" in s["SystemCallFilter"]
    assert "MemoryMax" in s
    # Port >= 1024: no capability needed.
    port = int(re.search(r"--listen-address \S*:(\d+)", s["ExecStart"][0]).group(1))
    assert port >= 1024


@pytest.fixture
def unit_copy(tmp_path):
    """The unit with ExecStart pointing at the built agent (verify checks the binary exists)."""
    agent = BIN / "node-agent"
    if not agent.exists():
        pytest.fail(f"{agent} missing: build first (make build)")
    path = tmp_path / "node-agent.service"
    path.write_text(UNIT.read_text().replace("/usr/local/bin/node-agent ", f"{agent} "))
    return path


def test_systemd_analyze_verify(unit_copy):
    proc = subprocess.run(["systemd-analyze", "verify", str(unit_copy)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0 and proc.stderr.strip() == "", proc.stderr


def test_exposure_level_is_low(unit_copy):
    proc = subprocess.run(["systemd-analyze", "security", "--offline=yes", str(unit_copy)],
                          capture_output=True, text=True, timeout=60)
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", proc.stdout)
    assert m, proc.stdout + proc.stderr
    # 0 = fully locked down, 10 = unprotected; systemd calls < 2 "OK".
    assert float(m.group(1)) < 2.0


def exec_flag(name, default=None):
    m = re.search(rf"{name} (\S+)", settings()["ExecStart"][0])
    return m.group(1) if m else default


def test_listens_on_loopback_by_default():
    assert exec_flag("--listen-address") == "127.0.0.1:11559"


def test_limits_fit_the_flags():
    s = settings()
    # The agent's default --max-connections is 10000: the unit must set a lower one or more fds.
    max_connections = int(exec_flag("--max-connections", "10000"))
    nofile = int(s["LimitNOFILE"][0].split(":")[0])
    assert nofile >= max_connections + 64, (nofile, max_connections)
    # The unit pins --threads (the default depends on the cores) so TasksMax provably holds.
    threads = exec_flag("--threads")
    assert threads is not None and int(threads) > 0
    # main, signal waiter, sampler (+ one abandoned at shutdown) and the event loops.
    assert int(s["TasksMax"][0]) >= int(threads) + 4


def test_documentation_is_installed_by_the_documented_steps():
    doc = settings()["Documentation"][0]
    assert doc.startswith("file://"), doc
    path = Path(doc[len("file://"):])
    install = [line for line in UNIT.read_text().splitlines()
               if line.startswith("#") and "install" in line and str(path.parent) in line]
    assert install, f"no install step puts {path} in place"
    assert path.name in install[0] or "README.md" in install[0]
    assert (REPO / path.name).exists()


def test_make_run_listens_on_loopback_by_default():
    out = subprocess.run(["make", "-n", "run"], cwd=REPO, capture_output=True, text=True,
                         timeout=60)
    assert "node-agent --listen-address 127.0.0.1:11559" in out.stdout, out.stdout
