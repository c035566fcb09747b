"""Load and faults against the real node-agent on loopback (`make test-faults`).

Kept out of tests/integration because it is heavy (10,000 sockets, a million requests): the
normal suites also run under ASan/TSan, this one runs once on the release build. The load side
is tests/faults/load.cc (`node-agent-load`), which checks every response it receives; this file
arranges the faults and checks what the agent and the other clients saw.

Every wait is bounded; every process is stopped by PID at teardown.
"""
import http.client
import json
import os
import pathlib
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "integration"))
import conftest  # noqa: E402
from conftest import SLOW, binary, start  # noqa: E402,F401  (start is a fixture)

HELD = 10_000
REQUESTS = int(os.environ.get("NODEAGENT_FAULT_REQUESTS", "1000000"))
NODE = "fault-node"
SEED_PREFIX = f"{NODE} uptime: "


@pytest.fixture(scope="module", autouse=True)
def file_limit():
    """Room for 10,000 sockets in each process; children (agent, load client) inherit it."""
    need = HELD + 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (need, max(hard, need)))
        except (ValueError, OSError):
            pytest.fail(f"RLIMIT_NOFILE is {soft}/{hard}; this test needs {need} (run as root "
                        "or raise the hard limit)")
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def get(addr, path="/"):
    status, _, body = conftest.get(addr, path)
    return status, body.decode()


class Probe:
    """Counts the requests this file makes, so they can be matched with the agent's count."""

    def __init__(self, addr):
        self.addr = addr
        self.count = 0

    def get(self, path="/"):
        self.count += 1
        return get(self.addr, path)

    def wait_ready(self, timeout=10):
        deadline = time.monotonic() + timeout * SLOW
        while time.monotonic() < deadline:
            if self.get("/readyz")[0] == 200:
                return
            time.sleep(0.05)
        pytest.fail("agent never became ready")

    def poll(self, path, want_status, timeout=10):
        """Polls until `path` answers `want_status`; returns the body."""
        deadline = time.monotonic() + timeout * SLOW
        last = None
        while time.monotonic() < deadline:
            last = self.get(path)
            if last[0] == want_status:
                return last[1]
            time.sleep(0.05)
        pytest.fail(f"{path} never answered {want_status}; last answer {last}")


def start_agent(start, *args):
    agent = start([binary("node-agent"), "--listen-address", "127.0.0.1:0", "--log-level", "info",
                   *args], env={"NODE_NAME": NODE})
    return agent, agent.listening()


def run_load(*args, stdin=subprocess.DEVNULL, timeout=300):
    """Runs node-agent-load to completion; returns (exit status, summary dict, stdout lines)."""
    proc = subprocess.run([binary("node-agent-load"), *args], stdin=stdin, capture_output=True,
                          text=True, timeout=timeout * SLOW)
    lines = proc.stdout.strip().splitlines()
    assert lines, f"no output from node-agent-load; stderr: {proc.stderr}"
    return proc.returncode, json.loads(lines[-1]), lines


def metric(addr, name):
    status, body = get(addr, "/metrics")
    assert status == 200
    match = re.search(rf"^{re.escape(name)} (\S+)$", body, re.M)
    assert match, f"{name} missing from /metrics"
    return float(match.group(1))


def wait_metric(addr, name, at_least, timeout=10):
    """/metrics is rendered once per sample, so poll until it catches up."""
    deadline = time.monotonic() + timeout * SLOW
    while (value := metric(addr, name)) < at_least:
        assert time.monotonic() < deadline, f"{name} stayed at {value}, expected >= {at_least}"
        time.sleep(0.1)


def test_10000_connections_held_while_another_client_is_served(start):
    # Ten slots to spare above the held connections: the probe gets one, and the over-limit
    # check below fills the rest.
    agent, addr = start_agent(start, "--max-connections", str(HELD + 10))
    probe = Probe(addr)
    probe.wait_ready()
    holder = subprocess.Popen(
        [binary("node-agent-load"), "hold", "--port", str(addr[1]), "--connections", str(HELD),
         "--max-seconds", str(120 * SLOW)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = holder.stdout.readline().strip()
        assert first == f"holding {HELD}", f"holder said {first!r}; {holder.stderr.read()}"

        # The agent keeps answering a client that is not among the 10,000.
        for _ in range(50):
            status, body = probe.get("/")
            assert status == 200 and body.startswith(SEED_PREFIX), body
        wait_metric(addr, "nodeagent_http_connections_open", HELD)

        # Beyond --max-connections new connections are closed at once and the agent stays up.
        extras = []
        for _ in range(40):
            s = socket.create_connection(addr, timeout=5 * SLOW)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            extras.append(s)
        answered = refused = 0
        for s in extras:
            try:
                data = s.recv(4096)
            except (ConnectionResetError, socket.timeout):
                data = b""
            if data.startswith(b"HTTP/1.1 200"):
                answered += 1
            else:
                refused += 1
        # Closed only now: the agent may accept the later ones after reading the earlier ones,
        # and a slot freed meanwhile would let one more in.
        for s in extras:
            s.close()
        assert answered <= 10 and refused >= 30, (answered, refused)
        wait_metric(addr, "nodeagent_http_connections_rejected_total", refused)
        status, body = probe.get("/")
        assert status == 200 and body.startswith(SEED_PREFIX)

        # Every held connection still answers.
        holder.stdin.close()
        rc = holder.wait(timeout=120 * SLOW)
        summary = json.loads(holder.stdout.read().strip().splitlines()[-1])
        assert rc == 0, summary
        assert summary["first_answers"] == HELD and summary["last_answers"] == HELD, summary
        assert summary["errors"] == 0, summary
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


def test_slowloris_client_is_cut_off(start):
    agent, addr = start_agent(start)
    probe = Probe(addr)
    probe.wait_ready()
    request = b"GET / HTTP/1.1\r\nHost: node-agent\r\nUser-Agent: " + b"s" * 60 + b"\r\n\r\n"
    slow = socket.create_connection(addr, timeout=5 * SLOW)
    slow.setblocking(False)
    cut_after = None
    answer = b""
    started = time.monotonic()
    try:
        # One byte a second; the agent's read timeout (5 s for a whole header) must end it long
        # before the request is complete (80 bytes = 80 s).
        for i, byte in enumerate(request):
            try:
                chunk = slow.recv(4096)
                if chunk == b"":
                    cut_after = i
                    break
                answer += chunk
            except BlockingIOError:
                pass
            except ConnectionResetError:
                cut_after = i
                break
            try:
                slow.send(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                cut_after = i
                break
            # Meanwhile everybody else is served.
            status, body = probe.get("/")
            assert status == 200 and body.startswith(SEED_PREFIX)
            assert time.monotonic() - started < 30 * SLOW, "slow client still connected after 30 s"
            time.sleep(1)
    finally:
        slow.close()
    assert cut_after is not None and cut_after < len(request), "the slow client was never cut off"
    assert answer == b"" or answer.startswith(b"HTTP/1.1 408"), answer


def test_a_million_keepalive_requests_without_an_error(start):
    agent, addr = start_agent(start)
    Probe(addr).wait_ready()
    rc, summary, _ = run_load("requests", "--port", str(addr[1]), "--connections", "50",
                              "--requests", str(REQUESTS), "--expect", SEED_PREFIX,
                              "--max-seconds", str(240 * SLOW))
    print(f"\n{REQUESTS} keep-alive requests: {summary}")
    assert rc == 0, summary
    assert summary["ok"] == REQUESTS and summary["errors"] == 0, summary
    assert summary["closed_by_server"] == 0, summary


def test_proc_files_vanish_and_come_back(start, tmp_path):
    root = tmp_path / "host"
    proc = root / "proc"
    proc.mkdir(parents=True)
    for name in ("uptime", "loadavg", "stat", "meminfo"):
        shutil.copy(f"/proc/{name}", proc / name)
    (root / "sys").mkdir()
    agent, addr = start_agent(start, "--procfs", str(proc), "--sysfs", str(root / "sys"),
                              "--interval", "100ms")
    probe = Probe(addr)
    probe.wait_ready()

    # A client hammering / the whole time sees only 200 and 503, never a broken answer.
    seen = {}
    stop = threading.Event()
    failures = []

    def hammer():
        conn = http.client.HTTPConnection(*addr, timeout=5 * SLOW)
        try:
            while not stop.is_set():
                conn.request("GET", "/")
                resp = conn.getresponse()
                resp.read()
                seen[resp.status] = seen.get(resp.status, 0) + 1
        except Exception as e:  # noqa: BLE001 - any failure is the finding
            failures.append(repr(e))
        finally:
            conn.close()

    thread = threading.Thread(target=hammer)
    thread.start()
    try:
        for victim in ("loadavg", "uptime"):
            saved = (proc / victim).read_bytes()
            (proc / victim).unlink()
            body = probe.poll("/", 503)
            assert victim in body, body
            assert probe.get("/healthz")[0] == 200  # alive, just not ready
            assert probe.get("/readyz")[0] == 503
            (proc / victim).write_bytes(saved)
            assert probe.poll("/", 200).startswith(SEED_PREFIX)
            assert probe.poll("/readyz", 200)
        # A file that comes back truncated is a fault too, not a crash.
        saved = (proc / "loadavg").read_bytes()
        (proc / "loadavg").write_bytes(saved[:5])
        probe.poll("/", 503)
        (proc / "loadavg").write_bytes(saved)
        assert probe.poll("/", 200).startswith(SEED_PREFIX)
    finally:
        stop.set()
        thread.join(timeout=10 * SLOW)
    assert not failures, failures
    assert set(seen) <= {200, 503} and seen.get(200) and seen.get(503), seen


def test_sigterm_under_load_answers_every_request_it_read(start):
    agent, addr = start_agent(start)
    probe = Probe(addr)
    probe.wait_ready()
    load = subprocess.Popen(
        [binary("node-agent-load"), "drain", "--port", str(addr[1]), "--connections", "64",
         "--expect", SEED_PREFIX, "--max-seconds", str(60 * SLOW)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert load.stdout.readline().strip() == "running", load.stderr.read()
        agent.signal(signal.SIGTERM)
        rc = load.wait(timeout=60 * SLOW)
        summary = json.loads(load.stdout.read().strip().splitlines()[-1])
    finally:
        if load.poll() is None:
            load.kill()
            load.wait()
    assert agent.wait() == 0
    print(f"\nSIGTERM under load: {summary}")
    assert rc == 0, summary
    # No answer was cut short, and none was wrong.
    assert summary["partial"] == 0 and summary["errors"] == 0, summary
    assert summary["closed_by_server"] == 64, summary
    # Every request the agent read was answered in full: its count of requests read equals the
    # complete answers the clients got. Requests still in the socket when it stopped reading
    # were never read, and the load client saw their connection close with no answer started.
    stopped = agent.wait_for_line(r"msg=stopped")
    served = int(re.search(r"\brequests=(\d+)", stopped).group(1))
    assert served == summary["ok"] + probe.count, (stopped, summary, probe.count)
    forced = agent.wait_for_line(r'msg="http server stopped"')
    assert "forced_closes=0" in forced, forced
