"""Fault injection on the host roots (issue 13 item 1): a FIFO where the agent expects a procfs
file, before start and swapped in under a running agent, and SIGTERM while it is there. Before
the fix the agent never served (FIFO before start), or its sampler hung with /healthz still 200
and SIGTERM joined the blocked thread forever (FIFO swapped in)."""
import os
import pathlib
import signal
import sys
import threading
import time

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "integration"))
import conftest  # noqa: E402
from conftest import SLOW, get, start  # noqa: E402,F401  (start is a fixture)
from test_agent import fake_host, start_agent, wait_ready  # noqa: E402

# SIGTERM must end the agent within its drain budget (2 s) plus the sampler's (2 s).
EXIT_BUDGET = 5


def sigterm_and_time(agent):
    began = time.monotonic()
    agent.signal(signal.SIGTERM)
    rc = agent.wait(timeout=EXIT_BUDGET)
    return rc, time.monotonic() - began


@pytest.mark.parametrize("when", ["before_start", "while_running"])
def test_fifo_in_procfs(start, tmp_path, when):
    root = fake_host(tmp_path)
    loadavg = root / "proc" / "loadavg"
    if when == "before_start":
        loadavg.unlink()
        os.mkfifo(loadavg)
    agent, addr = start_agent(start, "--procfs", str(root / "proc"), "--sysfs",
                              str(root / "sys"), "--interval", "100ms")
    if when == "while_running":
        wait_ready(addr)
        loadavg.unlink()
        os.mkfifo(loadavg)
    # Several intervals with the FIFO in place: the sampler keeps going and says why.
    deadline = time.monotonic() + 10 * SLOW
    while True:
        status, _, body = get(addr, "/readyz", timeout=5)
        if status == 503 and b"not a regular file" in body:
            break
        assert time.monotonic() < deadline, body
        time.sleep(0.05)
    samples = [get(addr, "/v1/node", timeout=5) for _ in range(3)]
    assert all(s == 503 for s, _, _ in samples)
    assert get(addr, "/healthz", timeout=5)[0] == 200
    # A writer that opens the FIFO now must not be what unblocks anything: nobody reads it.
    opened = threading.Event()

    def writer():
        try:
            fd = os.open(loadavg, os.O_WRONLY | os.O_NONBLOCK)
            os.close(fd)
            opened.set()
        except OSError:  # ENXIO: no reader has the FIFO open, which is the point
            pass

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    t.join(timeout=5)
    assert not opened.is_set(), "the agent holds the FIFO open for reading"
    rc, _ = sigterm_and_time(agent)
    assert rc == 0, agent.lines[-20:]
    assert any("not a regular file" in line for line in agent.lines)
