"""The real node-agent binary on loopback: formats, routes, errors, signals."""
import gzip
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import jsonschema
import pytest

from conftest import REPO, SLOW, binary, get, raw_request

SEED_LINE = re.compile(
    r"^(?P<node>\S+) uptime: (?:\d+h)?(?:\d+m)?\d+s, "
    r"load average: \d+\.\d\d, \d+\.\d\d, \d+\.\d\d, active/total threads: \d+/\d+\n$")


def start_agent(start, *args, node="test-node", env=None):
    full_env = {"NODE_NAME": node} if node is not None else {}
    full_env.update(env or {})
    agent = start([binary("node-agent"), "--listen-address", "127.0.0.1:0", *args], env=full_env)
    return agent, agent.listening()


def wait_ready(addr, timeout=10):
    deadline = time.monotonic() + timeout * SLOW
    while time.monotonic() < deadline:
        if get(addr, "/readyz")[0] == 200:
            return
        time.sleep(0.05)
    pytest.fail("agent never became ready")


def fake_host(tmp_path, uptime="21490.99 40000.00\n", loadavg="1.62 1.83 2.25 2/3479 12345\n"):
    """A procfs root with a known uptime and loadavg plus this machine's other files."""
    proc = tmp_path / "proc"
    proc.mkdir()
    (proc / "uptime").write_text(uptime)
    (proc / "loadavg").write_text(loadavg)
    for name in ("stat", "meminfo"):
        (proc / name).write_text(pathlib.Path("/proc", name).read_text())
    (tmp_path / "sys").mkdir()
    return tmp_path


@pytest.fixture
def agent(start):
    agent, addr = start_agent(start, "--interval", "200ms")
    wait_ready(addr)
    return addr


def test_root_answers_the_seed_line(agent):
    status, headers, body = get(agent, "/")
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain")
    match = SEED_LINE.match(body.decode())
    assert match, body
    assert match["node"] == "test-node"


def test_seed_line_is_exact_for_a_known_host(start, tmp_path):
    root = fake_host(tmp_path)
    agent, addr = start_agent(start, "--procfs", str(root / "proc"), "--sysfs", str(root / "sys"),
                              node="kind-worker")
    wait_ready(addr)
    assert get(addr, "/")[2] == (b"kind-worker uptime: 5h58m10s, load average: 1.62, 1.83, 2.25, "
                                 b"active/total threads: 2/3479\n")


def test_node_name_falls_back_to_the_hostname(start):
    agent, addr = start_agent(start, node=None)
    wait_ready(addr)
    assert SEED_LINE.match(get(addr, "/")[2].decode())["node"] == socket.gethostname()


def test_v1_node_validates_against_the_documented_schema(agent):
    schema = json.loads((REPO / "docs" / "node.schema.json").read_text())
    status, headers, body = get(agent, "/v1/node")
    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    doc = json.loads(body)
    jsonschema.validate(doc, schema)
    assert doc["node"] == "test-node"


def test_root_serves_json_when_accept_prefers_it(agent):
    for accept in ("application/json", "application/json, text/plain;q=0.5"):
        status, headers, body = get(agent, "/", {"Accept": accept})
        assert headers["Content-Type"].startswith("application/json"), accept
        assert json.loads(body)["node"] == "test-node"
    for accept in ("*/*", "text/plain", "text/html,application/xhtml+xml,*/*;q=0.8",
                   "application/json;q=0.5, text/plain"):
        assert get(agent, "/", {"Accept": accept})[1]["Content-Type"].startswith("text/plain")


def test_watch_streams_server_sent_events(agent):
    sock = socket.create_connection(agent, timeout=10 * SLOW)
    with sock:
        sock.sendall(b"GET /v1/node/watch HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while data.count(b"\n\n") < 3:  # the headers, then two events
            chunk = sock.recv(65536)
            assert chunk, data
            data += chunk
    head, _, stream = data.partition(b"\r\n\r\n")
    assert b"200" in head.split(b"\r\n")[0]
    assert b"content-type: text/event-stream" in head.lower()
    events = [e for e in stream.split(b"\n\n") if b"data:" in e]
    assert len(events) >= 2
    samples = [json.loads(next(l for l in e.split(b"\n") if l.startswith(b"data:"))[5:])
               for e in events[:2]]
    assert all(s["node"] == "test-node" for s in samples)


def test_every_answer_names_the_node(agent):
    for path in ("/", "/v1/node", "/metrics", "/healthz", "/readyz", "/v1/agent", "/nope"):
        status, headers, _ = get(agent, path)
        assert headers.get("Node-Name") == "test-node", (path, status, headers)
    answer = raw_request(agent, b"this is not http\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400"), answer
    assert b"\r\nNode-Name: test-node\r\n" in answer.partition(b"\r\n\r\n")[0], answer


def test_watch_starts_with_retry_and_names_the_node(agent):
    with socket.create_connection(agent, timeout=10 * SLOW) as sock:
        sock.sendall(b"GET /v1/node/watch HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while b"\r\n\r\nretry: " not in data or not data.endswith(b"\n\n"):
            chunk = sock.recv(65536)
            assert chunk, data
            data += chunk
    head, _, stream = data.partition(b"\r\n\r\n")
    assert b"\r\nNode-Name: test-node" in head
    assert re.match(rb"retry: \d+\n\n", stream), stream


def test_metrics_pass_promtool(agent):
    status, headers, body = get(agent, "/metrics")
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = body.decode()
    for name in ("node_load1", "node_boot_time_seconds", "node_cpu_seconds_total",
                 "node_memory_MemAvailable_bytes", "node_procs_running", "node_intr_total",
                 "node_uname_info", "nodeagent_http_requests_total",
                 "process_resident_memory_bytes"):
        assert re.search(rf"^{name}[{{ ]", text, re.M), name
    # One node_memory_* family per line of /proc/meminfo, as node_exporter has.
    with open("/proc/meminfo") as f:
        lines = len(f.read().splitlines())
    assert len(re.findall(r"^# TYPE node_memory_", text, re.M)) == lines
    assert re.search(r'^node_uname_info\{.*nodename="test-node"', text, re.M), "nodename is the node"
    promtool = shutil.which("promtool")
    assert promtool, "promtool missing: scripts/setup.sh test installs the prometheus package"
    check = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True)
    # 0: clean; 3: lint findings only. The only finding allowed is the camelCase of
    # node_exporter's own meminfo names, which dashboards depend on.
    assert check.returncode in (0, 3), check.stdout + check.stderr
    findings = (check.stdout + check.stderr).decode().splitlines()
    camel = re.compile(r"^node_memory_\w+ metric names should be written in 'snake_case' not 'camelCase'$")
    assert [f for f in findings if not camel.match(f)] == [], findings


def test_metrics_are_gzipped_for_clients_that_ask(agent):
    status, headers, plain = get(agent, "/metrics")
    assert status == 200 and "Content-Encoding" not in headers
    assert headers["Vary"] == "Accept-Encoding"
    status, headers, body = get(agent, "/metrics", headers={"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert headers["Vary"] == "Accept-Encoding"
    assert int(headers["Content-Length"]) == len(body)
    text = gzip.decompress(body).decode()
    # Another sample may have been taken in between: the same families, not the same values.
    families = lambda t: re.findall(r"^# TYPE (\S+)", t, re.M)
    assert families(text) == families(plain.decode())
    assert len(body) * 4 < len(plain), (len(body), len(plain))


def test_prometheus_scrapes_the_agent(agent, start, tmp_path):
    with socket.socket() as s:  # Prometheus cannot report a port 0 choice; take a free one.
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (tmp_path / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        f"  - job_name: node-agent\n    static_configs: [{{targets: ['127.0.0.1:{agent[1]}']}}]\n")
    prometheus = start([shutil.which("prometheus"), f"--config.file={tmp_path}/prometheus.yml",
                        f"--storage.tsdb.path={tmp_path}/data", f"--web.listen-address=127.0.0.1:{port}"])
    prometheus.wait_for_line(r"Server is ready to receive web requests", timeout=60)
    deadline = time.monotonic() + 60 * SLOW
    result = []
    while time.monotonic() < deadline and not result:
        try:
            _, _, body = get(("127.0.0.1", port), '/api/v1/query?query=node_load1{job="node-agent"}')
            result = json.loads(body)["data"]["result"]
        except (OSError, KeyError, ValueError):
            pass
        time.sleep(0.2)
    assert result, "Prometheus never returned node_load1 scraped from the agent"
    assert float(result[0]["value"][1]) >= 0


def test_health_and_readiness(agent):
    assert get(agent, "/healthz")[0] == 200
    assert get(agent, "/readyz")[0] == 200


@pytest.mark.parametrize("method,path,status", [
    ("GET", "/nope", 404),
    ("GET", "/v1/node/extra", 404),
    ("POST", "/", 405),
    ("DELETE", "/v1/node", 405),
    ("PUT", "/metrics", 405),
])
def test_route_errors(agent, method, path, status):
    code, headers, _ = get(agent, path, method=method)
    assert code == status
    if status == 405:
        assert headers["Allow"] == "GET, HEAD"


def test_head_has_headers_and_no_body(agent):
    answer = raw_request(agent, b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert body == b""


def test_malformed_request_is_400(agent):
    answer = raw_request(agent, b"this is not http\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400")


def test_oversized_headers_are_431(agent):
    request = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n"
    assert raw_request(agent, request).startswith(b"HTTP/1.1 431")


def start_on_fake_host(start, tmp_path):
    """An agent sampling a fake host every 100 ms, ready -> (agent, addr, its /proc/loadavg)."""
    root = fake_host(tmp_path)
    agent, addr = start_agent(start, "--procfs", str(root / "proc"), "--sysfs", str(root / "sys"),
                              "--interval", "100ms")
    wait_ready(addr)
    return agent, addr, root / "proc" / "loadavg"


def test_unreadable_proc_gives_503_then_recovers(start, tmp_path):
    agent, addr, loadavg = start_on_fake_host(start, tmp_path)
    saved = loadavg.read_text()
    loadavg.unlink()
    deadline = time.monotonic() + 10 * SLOW
    while get(addr, "/readyz")[0] != 503:
        assert time.monotonic() < deadline, "readyz never failed after loadavg vanished"
        time.sleep(0.05)
    status, headers, body = get(addr, "/")
    assert status == 503 and headers["Content-Type"].startswith("text/plain")
    assert b"loadavg" in body and body.count(b"\n") == 1, body
    # JSON clients get the document: what was read, null where the source failed, and why.
    for path, accept in (("/v1/node", "*/*"), ("/", "application/json")):
        status, headers, body = get(addr, path, {"Accept": accept})
        assert status == 503 and headers["Content-Type"] == "application/json", path
        doc = json.loads(body)
        assert doc["load"] is None and doc["uptime_seconds"] == 21490.99, doc
        assert any("loadavg" in e for e in doc["errors"]), doc
    assert get(addr, "/healthz")[0] == 200  # alive, just not ready
    agent.wait_for_line(r"level=(warn|error).*loadavg")
    loadavg.write_text(saved)
    wait_ready(addr)
    assert get(addr, "/")[0] == 200


def test_an_open_stream_reports_an_outage_instead_of_going_silent(start, tmp_path):
    _, addr, loadavg = start_on_fake_host(start, tmp_path)
    with socket.create_connection(addr, timeout=10 * SLOW) as sock:
        sock.sendall(b"GET /v1/node/watch HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while b"event: node" not in data:
            chunk = sock.recv(65536)
            assert chunk, data
            data += chunk
        loadavg.unlink()
        while True:  # events keep coming; one of them says what is missing
            chunk = sock.recv(65536)
            assert chunk, data
            data += chunk
            complete = data[:data.rfind(b"\n\n")]  # a chunk may end inside an event
            docs = [json.loads(line[6:]) for line in complete.split(b"\n")
                    if line.startswith(b"data: {")]
            if any(d["load"] is None for d in docs):
                break
    broken = next(d for d in docs if d["load"] is None)
    assert broken["uptime_seconds"] == 21490.99
    assert any("loadavg" in e for e in broken["errors"]), broken


def test_missing_procfs_root_fails_at_start(start, tmp_path):
    agent = start([binary("node-agent"), "--listen-address", "127.0.0.1:0",
                   "--procfs", str(tmp_path / "absent")])
    assert agent.wait() == 1
    assert any(str(tmp_path / "absent") in line for line in agent.lines)


@pytest.mark.parametrize("args,flag", [
    (["--interval", "1x"], "--interval"),
    (["--interval", "10"], "--interval"),
    (["--listen-address", "nowhere"], "--listen-address"),
    (["--listen-address", ":99999"], "--listen-address"),
    (["--log-level", "loud"], "--log-level"),
    (["--allow-cidr", "10.0.0.0/33"], "--allow-cidr"),
    (["--socket-mode", "999"], "--socket-mode"),
    (["--bogus"], "--bogus"),
])
def test_bad_flags_exit_2_naming_the_flag(args, flag):
    result = subprocess.run([binary("node-agent"), *args], capture_output=True, text=True, timeout=10)
    assert result.returncode == 2, result
    assert flag in result.stderr, result.stderr


def test_help_explains_every_flag():
    result = subprocess.run([binary("node-agent"), "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    for flag in ("--listen-address", "--procfs", "--sysfs", "--interval", "--log-level",
                 "--allow-cidr", "--socket-mode", "--user", "--allow-root"):
        assert flag in result.stdout


def test_port_in_use_fails_with_the_address(start):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        agent = start([binary("node-agent"), "--listen-address", f"127.0.0.1:{port}"])
        assert agent.wait() == 1
        assert any(f"127.0.0.1:{port}" in line and "level=error" in line for line in agent.lines)


def test_sigterm_exits_0_and_closes_streams(start):
    agent, addr = start_agent(start, "--interval", "200ms")
    wait_ready(addr)
    sock = socket.create_connection(addr, timeout=10 * SLOW)
    with sock:
        sock.sendall(b"GET /v1/node/watch HTTP/1.1\r\nHost: x\r\n\r\n")
        first = sock.recv(65536)
        assert b"200" in first.split(b"\r\n")[0]
        agent.signal(signal.SIGTERM)
        assert agent.wait(timeout=3) == 0  # the drain bound is 2 s
        rest = b""
        while True:  # the stream ends with a clean close, not a reset
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
    assert any("msg=stopped" in line for line in agent.lines)


def test_shutdown_delay_keeps_answering_while_not_ready(start):
    agent, addr = start_agent(start, "--interval", "200ms", "--shutdown-delay", "1s")
    wait_ready(addr)
    agent.signal(signal.SIGTERM)
    agent.wait_for_line(r"msg=\"?http server closing")
    # Within the delay: new connections are still accepted and answered; only /readyz fails.
    status, headers, body = get(addr, "/readyz")
    assert (status, body) == (503, b"shutting down\n"), (status, body)
    assert headers.get("Connection") == "close"
    assert get(addr, "/")[0] == 200
    assert get(addr, "/healthz")[0] == 200
    assert agent.proc.poll() is None
    assert agent.wait(timeout=5) == 0  # 1 s delay plus the drain
    assert any("msg=stopped" in line for line in agent.lines)


def test_second_sigterm_skips_the_shutdown_delay(start):
    agent, addr = start_agent(start, "--interval", "200ms", "--shutdown-delay", "10m")
    wait_ready(addr)
    agent.signal(signal.SIGTERM)
    agent.wait_for_line(r"msg=\"?http server closing")
    assert get(addr, "/readyz")[0] == 503
    agent.signal(signal.SIGTERM)
    assert agent.wait(timeout=5) == 0
    assert any("skipping the rest of the shutdown delay" in line for line in agent.lines)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to start as root")
def test_root_started_agent_gives_its_socket_to_the_run_user(start):
    import grp
    run_dir = pathlib.Path(tempfile.mkdtemp(prefix="na-sock-"))
    try:
        os.chmod(run_dir, 0o755)
        os.chown(run_dir, 65534, 65534)  # the run user must be able to remove its socket
        sock = run_dir / "agent.sock"
        group = grp.getgrgid(0).gr_name
        agent = start([binary("node-agent"), "--listen-address", f"unix://{sock}",
                       "--user", "65534", "--socket-group", group], env={"NODE_NAME": "n1"})
        assert agent.listening() == str(sock)
        st = sock.lstat()
        assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (65534, 0, 0o660)
        wait_ready(str(sock))
        agent.signal(signal.SIGTERM)
        assert agent.wait() == 0
        assert not sock.exists(), "the run user could not remove its own socket"
        assert not any("cannot remove" in line for line in agent.lines)
        assert sorted(p.name for p in run_dir.iterdir()) == []
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


def test_socket_group_must_exist():
    result = subprocess.run([binary("node-agent"), "--socket-group", "no-such-group-here"],
                            capture_output=True, text=True, timeout=10)
    assert result.returncode == 2
    assert "--socket-group" in result.stderr and "no-such-group-here" in result.stderr


def test_refusals_of_the_server_itself_are_counted_with_their_code(agent):
    raw_request(agent, b"this is not http\r\n\r\n")
    raw_request(agent, b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
    # /metrics is rendered once per sample: poll until a sample taken after the refusals.
    deadline = time.monotonic() + 10 * SLOW
    while True:
        _, _, metrics = get(agent, "/metrics")
        if b'route="none",code="431"' in metrics or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert re.search(rb'^nodeagent_http_requests_total\{route="none",code="400"\} [1-9]', metrics,
                     re.M), metrics
    assert re.search(rb'^nodeagent_http_requests_total\{route="none",code="431"\} [1-9]', metrics,
                     re.M)
    assert re.search(rb"^nodeagent_http_streams_dropped_total 0$", metrics, re.M)


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("prlimit"),
                    reason="needs root (the limit then binds the run user) and prlimit")
def test_thread_creation_failure_exits_1_with_a_message(start):
    agent = start(["prlimit", "--nproc=8", binary("node-agent"), "--threads", "16",
                   "--listen-address", "127.0.0.1:0"], env={"NODE_NAME": "n1"})
    assert agent.wait() == 1  # not 134 (an uncaught std::system_error)
    line = agent.wait_for_line(r"level=error")
    assert "cannot start threads" in line and "--threads" in line, line


def test_debug_log_has_one_line_per_request(start):
    agent, addr = start_agent(start, "--interval", "200ms", "--log-level", "debug")
    wait_ready(addr)
    get(addr, "/nope")
    line = agent.wait_for_line(r"msg=request .*path=/nope")
    for field in ("method=GET", "status=404", "bytes=", "duration_ms=", "peer=127.0.0.1:"):
        assert field in line, line
