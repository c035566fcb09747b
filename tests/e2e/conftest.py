"""Fixtures for the multi-node e2e suite: one namespace cluster per session, the locality table."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cluster import Cluster, sweep  # noqa: E402
from manifests import REPO, bin_dir  # noqa: E402
from report import rows, table  # noqa: E402

NODES = ["node-1", "node-2", "node-3", "node-4"]
AGENT_NODES = NODES[:3]  # node-4 runs Kiada but no agent pod
# kube-proxy programs endpoint changes this long after they happen (pod readiness, deletion):
# a deleted pod's SIGTERM and its endpoint's removal race as in a real cluster, where the
# EndpointSlice controller and every node's kube-proxy take from well under a second to several
# seconds. 1 s is the test value; NODEAGENT_E2E_ENDPOINT_LAG=0 is an optimistic network
# (the endpoint goes at the moment SIGTERM is sent).
ENDPOINT_LAG_S = float(os.environ.get("NODEAGENT_E2E_ENDPOINT_LAG", "1.0"))
OUTPUT = Path(os.environ.get("NODEAGENT_TEST_OUTPUT", REPO / "tests" / "output"))
TABLE_FILE = OUTPUT / "e2e-locality.md"

_started = time.monotonic()


@pytest.fixture(scope="session")
def cluster():
    if os.geteuid() != 0:
        pytest.skip("the e2e suite creates network namespaces: run it as root")
    for name in ("node-agent", "kiada"):
        path = bin_dir() / name
        if not path.exists():
            pytest.fail(f"{path} missing: build first (make build)")
        # The pods run as the manifests' unprivileged user (65532): every directory on the way
        # to the binaries must let it through.
        probe = subprocess.run(["setpriv", "--reuid=65532", "--regid=65532", "--clear-groups",
                                "test", "-x", str(path)])
        if probe.returncode != 0:
            pytest.fail(f"uid 65532 cannot execute {path}: check the directories' modes")
    swept = sweep()
    if swept:
        print(f"e2e: removed leftovers of earlier runs {swept}")
    c = Cluster(NODES, endpoint_lag=ENDPOINT_LAG_S)
    # SIGTERM (CI cancelling the job) becomes what Ctrl-C is: pytest stops and runs the
    # teardowns, which delete every namespace, rule and process (and a SIGKILLed run is swept by
    # the next one).
    previous = signal.getsignal(signal.SIGTERM)

    def on_term(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_term)
    try:
        c.create()
        yield c
    finally:
        c.destroy()
        signal.signal(signal.SIGTERM, previous)


def pytest_terminal_summary(terminalreporter):
    if not rows:
        return
    elapsed = time.monotonic() - _started
    text = (f"# e2e locality ({len(AGENT_NODES)} nodes with an agent, 1 without; endpoint lag "
            f"{ENDPOINT_LAG_S:g} s; run took {elapsed:.0f} s)\n\n" + table())
    OUTPUT.mkdir(parents=True, exist_ok=True)
    TABLE_FILE.write_text(text)
    terminalreporter.write_sep("=", "node-agent locality per mode")
    terminalreporter.write_line(text)
    terminalreporter.write_line(f"(written to {TABLE_FILE})")
