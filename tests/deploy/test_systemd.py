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
